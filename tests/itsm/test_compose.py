"""The production deployment files: docker-compose.yml, Dockerfile and what they reference."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ('web', 'worker', 'beat')
# Read by gunicorn, not by the settings.
SERVER_VARIABLES = {'WEB_CONCURRENCY', 'FORWARDED_ALLOW_IPS'}
CDN_PATTERN = re.compile(r'cdn|unpkg\.com|jsdelivr|googleapis|cloudflare', re.IGNORECASE)


@pytest.fixture(scope='module')
def compose():
    return yaml.safe_load((ROOT / 'docker-compose.yml').read_text())


@pytest.fixture(scope='module')
def dockerfile():
    return (ROOT / 'Dockerfile').read_text()


def command_of(service: dict) -> str:
    command = service.get('command', '')
    return ' '.join(command) if isinstance(command, list) else command


def settings_variables() -> set[str]:
    source = (ROOT / 'itsm' / 'settings.py').read_text()
    return set(re.findall(r"(?:environ\.get|env_bool|env_int|env_list)\(\s*'([A-Z_]+)'", source))


def test_services(compose):
    assert {'web', 'worker', 'beat', 'postgres', 'redis'} <= set(compose['services'])


@pytest.mark.parametrize('name', APP_SERVICES)
def test_app_services_build_the_project_image(compose, name):
    service = compose['services'][name]
    build = service['build']
    context = build if isinstance(build, str) else build.get('context', '.')
    assert (ROOT / context / 'Dockerfile').is_file()
    assert service['image'] == compose['services']['web']['image']


@pytest.mark.parametrize(
    ('name', 'expected'),
    [
        ('web', r'^gunicorn itsm\.wsgi\b'),
        ('worker', r'^celery -A itsm worker\b'),
        ('beat', r'^celery -A itsm beat\b.*--scheduler[= ]django_celery_beat\.schedulers:DatabaseScheduler'),
    ],
)
def test_commands(compose, name, expected):
    assert re.search(expected, command_of(compose['services'][name])), command_of(compose['services'][name])


@pytest.mark.parametrize('name', APP_SERVICES)
def test_app_environment(compose, name):
    environment = compose['services'][name]['environment']
    assert environment['DEBUG'] == 'false'
    # A missing secret must stop `docker compose up`, not start an instance with an empty key.
    assert environment['SECRET_KEY'] == '${SECRET_KEY:?set SECRET_KEY}'
    assert environment['DATABASE_URL'].startswith('postgres://')
    assert '@postgres:5432/' in environment['DATABASE_URL']
    assert environment['REDIS_URL'] == 'redis://redis:6379/0'
    for variable in ('ALLOWED_HOSTS', 'TIME_ZONE', 'BEHIND_PROXY', 'EMAIL_HOST', 'EMAIL_PORT', 'DEFAULT_FROM_EMAIL'):
        assert variable in environment, variable


@pytest.mark.parametrize('name', APP_SERVICES)
def test_app_environment_names_are_read_by_the_settings(compose, name):
    unknown = set(compose['services'][name]['environment']) - settings_variables() - SERVER_VARIABLES
    assert not unknown, f'{name} sets variables the settings never read: {sorted(unknown)}'


def test_postgres(compose):
    postgres = compose['services']['postgres']
    assert postgres['image'].startswith('postgres:16')
    assert 'pg_isready' in ' '.join(postgres['healthcheck']['test'])
    volume = postgres['volumes'][0].split(':')
    assert volume[1] == '/var/lib/postgresql/data'
    assert volume[0] in compose['volumes'], 'PostgreSQL data must live in a named volume'
    database_url = compose['services']['web']['environment']['DATABASE_URL']
    assert postgres['environment']['POSTGRES_PASSWORD'] in database_url


def test_redis(compose):
    redis = compose['services']['redis']
    assert redis['image'].startswith('redis:7')
    assert redis['healthcheck']['test'][-2:] == ['redis-cli', 'ping']


def test_web_health_check(compose):
    test = compose['services']['web']['healthcheck']['test']
    script = ROOT / test[-1]
    assert test[:2] == ['CMD', 'python'] and script.is_file()
    assert "'/health/'" in script.read_text()


@pytest.mark.parametrize('name', APP_SERVICES)
def test_start_order(compose, name):
    depends_on = compose['services'][name]['depends_on']
    assert depends_on['postgres']['condition'] == 'service_healthy'
    assert depends_on['redis']['condition'] == 'service_healthy'
    assert depends_on['migrate']['condition'] == 'service_completed_successfully'


def test_migrations_run_once_before_the_app(compose):
    migrate = compose['services']['migrate']
    assert command_of(migrate) == 'python manage.py migrate --noinput'
    assert migrate['restart'] == 'no'
    assert migrate['depends_on']['postgres']['condition'] == 'service_healthy'


def test_dockerfile_installs_the_pinned_requirements(dockerfile):
    assert re.search(r'^COPY requirements\.lock', dockerfile, re.MULTILINE)
    assert re.search(r'^RUN pip install .*-r requirements\.lock', dockerfile, re.MULTILINE)


def test_dockerfile_builds_the_front_end_and_static_files(dockerfile):
    assert re.search(r'^FROM node:20-slim AS assets', dockerfile, re.MULTILINE)
    assert 'npm ci' in dockerfile
    assert re.search(r'^FROM python:3\.11-slim', dockerfile, re.MULTILINE)
    collectstatic = next(line for line in dockerfile.splitlines() if 'SECRET_KEY=' in line)
    assert 'STATIC_MANIFEST=true' in collectstatic and 'DEBUG=false' in collectstatic
    assert re.search(r'^CMD \["gunicorn", "itsm\.wsgi"', dockerfile, re.MULTILINE)


def test_dockerfile_runs_as_an_unprivileged_user(dockerfile):
    users = re.findall(r'^USER (\S+)', dockerfile, re.MULTILINE)
    assert users and users[-1] not in ('root', '0')


def test_nothing_is_downloaded_outside_the_package_managers(dockerfile):
    """No CDN, no curl: front-end files come from npm (package-lock.json), Python packages from requirements.lock."""
    instructions = '\n'.join(line for line in dockerfile.splitlines() if not line.lstrip().startswith('#'))
    assert not CDN_PATTERN.search(instructions)
    assert not re.search(r'https?://|\b(curl|wget)\b', instructions)
    assert not re.search(r'^ADD ', instructions, re.MULTILINE)


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((ROOT / '.dockerignore').read_text().split())
    assert {'.git', '.venv', 'node_modules', 'var', '.env'} <= ignored
