"""The Redis cache backend (`itsm.cache_backend`): one client per pool, and an increment of one round trip that keeps
Django's contract (a missing key is an error and stays missing; a counter keeps its expiry)."""

import uuid

import pytest
from django.conf import settings

from itsm.cache_backend import RedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def cache():
    backend = RedisCache(settings.REDIS_URL, {'KEY_PREFIX': f'test-{uuid.uuid4().hex}'})
    yield backend
    backend.close()


def test_every_call_uses_the_same_client(cache):
    client = cache._cache.get_client('a')
    assert cache._cache.get_client('b', write=True) is client


def test_a_missing_key_is_not_incremented_into_being(cache):
    with pytest.raises(ValueError, match='not found'):
        cache.incr('counter')
    assert cache.get('counter') is None
    assert cache.add('counter', 1, 60)


def test_a_counter_counts_and_keeps_its_expiry(cache):
    cache.add('counter', 1, 60)
    assert cache.incr('counter') == 2
    assert cache.incr('counter', 5) == 7
    assert cache.decr('counter') == 6
    assert cache.get('counter') == 6
    client = cache._cache.get_client('counter')
    assert 0 < client.ttl(cache.make_key('counter')) <= 60


def test_an_increment_is_one_command(cache, monkeypatch):
    cache.add('counter', 1, 60)
    cache.incr('counter')  # the script is loaded on first use
    client = cache._cache.get_client('counter', write=True)
    sent = []
    original = client.execute_command
    monkeypatch.setattr(client, 'execute_command', lambda *args, **kw: sent.append(args[0]) or original(*args, **kw))
    assert cache.incr('counter') == 3
    assert sent == ['EVALSHA']


def test_a_window_count_creates_the_counter_with_its_expiry_and_reads_the_previous_one(cache):
    assert cache.count_window('rate:11', 'rate:10', 120) == (1, 0)  # neither existed
    client = cache._cache.get_client('rate:11')
    assert 0 < client.ttl(cache.make_key('rate:11')) <= 120
    assert cache.get('rate:10') is None  # reading the previous one made nothing
    assert cache.count_window('rate:11', 'rate:10', 120) == (2, 0)
    assert cache.get('rate:11') == 2  # a plain counter to Django's cache too

    cache.set('rate:11', 7, 120)
    assert cache.count_window('rate:12', 'rate:11', 120) == (1, 7)
    assert cache.incr('rate:12') == 2  # and the new counter counts on through Django's `incr`


def test_a_window_count_is_one_command(cache, monkeypatch):
    cache.count_window('rate:1', 'rate:0', 60)  # the script is loaded on first use
    client = cache._cache.get_client('rate:1', write=True)
    sent = []
    original = client.execute_command
    monkeypatch.setattr(client, 'execute_command', lambda *args, **kw: sent.append(args[0]) or original(*args, **kw))
    assert cache.count_window('rate:1', 'rate:0', 60) == (2, 0)
    assert sent == ['EVALSHA']
