"""Scaling out with Docker Compose: the web and worker services can run as many replicas as wanted behind the
`balancer` (nginx, docker/nginx.conf); beat stays single."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCALED = ('web', 'worker')


@pytest.fixture(scope='module')
def compose():
    return yaml.safe_load((ROOT / 'docker-compose.yml').read_text())


@pytest.fixture(scope='module')
def nginx_conf():
    return (ROOT / 'docker' / 'nginx.conf').read_text()


@pytest.mark.parametrize('name', SCALED)
def test_scaled_services_claim_no_fixed_name_or_host_port(compose, name):
    service = compose['services'][name]
    assert 'container_name' not in service
    assert 'ports' not in service, f'{name} would bind the same host port once per replica'


def test_the_balancer_publishes_the_desk_and_waits_for_a_healthy_web(compose):
    balancer = compose['services']['balancer']
    assert balancer['image'].startswith('nginx:')
    assert './docker/nginx.conf:/etc/nginx/nginx.conf:ro' in balancer['volumes']
    assert balancer['ports'] == ['${WEB_BIND:-127.0.0.1}:${WEB_PORT:-8000}:8080']
    assert balancer['depends_on']['web']['condition'] == 'service_healthy'
    assert 'container_name' not in balancer


def test_the_balancer_resolves_every_web_replica_at_request_time(nginx_conf):
    # Docker's DNS answers with every replica; a variable in proxy_pass makes nginx ask again as replicas come and go.
    assert re.search(r'resolver 127\.0\.0\.11 valid=\d+s', nginx_conf)
    assert 'set $web http://web:8000;' in nginx_conf and 'proxy_pass $web;' in nginx_conf
    assert re.search(r'listen 8080;', nginx_conf)
    # The client's scheme and address survive the extra hop.
    assert 'proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;' in nginx_conf
    assert 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;' in nginx_conf


def test_client_addresses_count_both_proxies(compose):
    environment = compose['services']['web']['environment']
    assert environment['TRUSTED_PROXY_COUNT'] == '${TRUSTED_PROXY_COUNT:-2}'


def test_replicas_share_the_media_volume_and_redis(compose):
    for name in SCALED:
        service = compose['services'][name]
        assert 'media:/app/var/media' in service['volumes']
        assert service['environment']['REDIS_URL'] == 'redis://redis:6379/0'
    assert 'media' in compose['volumes']


def test_beat_is_a_single_replica(compose):
    beat = compose['services']['beat']
    assert beat.get('deploy', {}).get('replicas', 1) == 1
    assert 'DatabaseScheduler' in ' '.join(beat['command'])
