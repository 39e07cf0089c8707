"""Django's Redis cache, keeping one client per connection pool.

Django's client builds a new `redis.Redis` for every cache call; each one sets up its table of about 170 reply
handlers before it sends anything (a fifth of a millisecond, several times per API request: the rate limits, the
priority matrix, the token's last use). A `redis.Redis` takes a connection from its pool for each command, so one
per pool serves every thread, and the pool itself notices a fork.

`incr` is one round trip (a server-side script) instead of Django's two (EXISTS, then INCRBY), and atomic with the
check: the rate limits increment a counter on every API request.
"""

from django.core.cache.backends import redis

# Django's `incr` contract: a missing key is an error (nil), never a new counter without an expiry.
INCREMENT_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class ReusingRedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._scripts = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(INCREMENT_EXISTING)
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
