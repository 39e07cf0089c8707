"""Settings come from the environment: each case starts a fresh interpreter with exactly the variables it sets."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
from itsm.celery import app
print(json.dumps({
    'debug': settings.DEBUG,
    'engine': settings.DATABASES['default']['ENGINE'],
    'database': {k: settings.DATABASES['default'][k] for k in ('NAME', 'USER', 'HOST', 'PORT')},
    'health_checks': settings.DATABASES['default'].get('CONN_HEALTH_CHECKS', False),
    'conn_max_age': settings.DATABASES['default'].get('CONN_MAX_AGE'),
    'is_postgres': settings.IS_POSTGRES,
    'cache': settings.CACHES['default'],
    'broker': app.conf.broker_url,
    'result_backend': app.conf.result_backend,
}, default=str))
"""


def run(args: list[str], tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """Run with a minimal environment: only what a shell needs plus the given variables."""
    env = {key: os.environ[key] for key in ('PATH', 'HOME', 'LANG', 'TMPDIR') if key in os.environ}
    env.update(DJANGO_SETTINGS_MODULE='itsm.settings', VAR_DIR=str(tmp_path / 'var'), **variables)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def production(**variables: str) -> dict[str, str]:
    return {
        'DEBUG': 'false',
        'SECRET_KEY': secrets.token_urlsafe(45),  # 60 characters
        'ALLOWED_HOSTS': 'pitcrew.example.com',
        **variables,
    }


def print_settings(tmp_path: Path, **variables: str) -> dict:
    result = run(['-c', PRINT_SETTINGS], tmp_path, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_deploy_check_passes_in_production(tmp_path):
    environment = production()
    assert len(environment['SECRET_KEY']) == 60
    result = run(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'], tmp_path, **environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'System check identified no issues (0 silenced).' in result.stdout


def test_deploy_check_reports_an_insecure_setup(tmp_path):
    """The check above is meaningful: switching off TLS is reported."""
    result = run(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'], tmp_path, **production(HTTPS='false'))
    assert result.returncode != 0
    assert 'security.W008' in result.stdout + result.stderr  # SECURE_SSL_REDIRECT


def test_production_refuses_to_start_without_secret_key(tmp_path):
    environment = production()
    del environment['SECRET_KEY']
    result = run(['manage.py', 'check'], tmp_path, **environment)
    assert result.returncode != 0
    assert 'ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off.' in result.stderr


def test_manage_py_in_an_unconfigured_checkout_runs_in_development_mode(tmp_path):
    environment = production()
    del environment['SECRET_KEY'], environment['DEBUG']
    result = run(['manage.py', 'makemigrations', '--check', '--dry-run'], tmp_path, **environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'No changes detected' in result.stdout


def test_debug_runs_without_secret_key(tmp_path):
    result = run(['manage.py', 'check'], tmp_path, DEBUG='true')
    assert result.returncode == 0, result.stderr


def test_embedded_defaults(tmp_path):
    values = print_settings(tmp_path, **production())
    assert values['debug'] is False
    assert values['engine'] == 'django.db.backends.sqlite3'
    assert values['database']['NAME'] == str(tmp_path / 'var' / 'pitcrew.sqlite3')
    assert values['is_postgres'] is False
    assert values['cache']['BACKEND'] == 'django.core.cache.backends.locmem.LocMemCache'
    assert values['broker'] == 'filesystem://localhost/'
    assert values['result_backend'] == f'file://{tmp_path / "var" / "broker" / "results"}'


def test_database_url_selects_postgresql(tmp_path):
    values = print_settings(
        tmp_path, **production(DATABASE_URL='postgres://pitcrew:s3cret@db.internal:6543/servicedesk')
    )
    assert values['engine'] == 'django.db.backends.postgresql'
    assert values['database'] == {'NAME': 'servicedesk', 'USER': 'pitcrew', 'HOST': 'db.internal', 'PORT': 6543}
    assert values['health_checks'] is True
    assert values['conn_max_age'] == 60  # one persistent connection per worker process
    assert values['is_postgres'] is True
    # The database alone does not change the broker.
    assert values['broker'] == 'filesystem://localhost/'


def test_the_development_server_keeps_no_connection_per_thread(tmp_path):
    # runserver serves each request in a new thread: persistent connections would pile up until PostgreSQL refuses.
    url = 'postgres://pitcrew@db.internal:6543/servicedesk'
    assert print_settings(tmp_path, DEBUG='true', DATABASE_URL=url)['conn_max_age'] == 0
    assert print_settings(tmp_path, DEBUG='true', DATABASE_URL=url, DB_CONN_MAX_AGE='30')['conn_max_age'] == 30


def test_redis_url_selects_redis_for_cache_and_broker(tmp_path):
    url = 'redis://cache.internal:6380/2'
    values = print_settings(tmp_path, **production(REDIS_URL=url))
    assert values['cache'] == {'BACKEND': 'itsm.cache_backend.RedisCache', 'LOCATION': url}
    assert values['broker'] == url
    assert values['result_backend'] == url
    assert values['engine'] == 'django.db.backends.sqlite3'


@pytest.mark.parametrize(('value', 'expected'), [('true', True), ('1', True), ('false', False), ('', False)])
def test_debug_flag(tmp_path, value, expected):
    assert print_settings(tmp_path, **production(DEBUG=value))['debug'] is expected
