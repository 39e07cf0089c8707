"""Suite-wide fixtures and the rules for tests that need a real server.

Tests marked `postgres` run only when DATABASE_URL points at PostgreSQL and tests marked `redis` only when
REDIS_URL is set: CI runs the suite twice (embedded defaults, then PostgreSQL and Redis), so each runs once.
They are deselected (not skipped) in the other run.
"""

import os

import pytest
from django.conf import settings

pytest_plugins = ['tests.browser', 'tests.number_sequences']


def pytest_collection_modifyitems(config, items):
    unavailable = set()
    if not settings.IS_POSTGRES:
        unavailable.add('postgres')
    if not settings.REDIS_URL:
        unavailable.add('redis')
    if not unavailable:
        return
    selected, deselected = [], []
    for item in items:
        (deselected if unavailable & {m.name for m in item.iter_markers()} else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / 'media'


@pytest.fixture(autouse=True)
def _clear_cache():
    """The cache and the process's snapshots (`itsm.snapshots`) outlive a test's rolled-back transaction: start
    each test with nothing cached, so what a test reads does not depend on the tests before it."""
    from django.core.cache import cache

    from itsm import snapshots

    cache.clear()
    snapshots.forget_all()
    yield
    cache.clear()
    snapshots.forget_all()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


os.environ.setdefault('DJANGO_ALLOW_ASYNC_UNSAFE', 'true')
