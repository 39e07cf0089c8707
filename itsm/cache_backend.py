"""Django's Redis cache, keeping one client per connection pool.

Django's client builds a new `redis.Redis` for every cache call; each one sets up its table of about 170 reply
handlers before it sends anything (a fifth of a millisecond, several times per API request: the rate limits, the
priority matrix, the token's last use). A `redis.Redis` takes a connection from its pool for each command, so one
per pool serves every thread, and the pool itself notices a fork.

`incr` is one round trip (a server-side script) instead of Django's two (EXISTS, then INCRBY), and atomic with the
check. `count_window` is the rate limits' whole read of one client on an API request, also one round trip: count
this period's request (creating the counter with its expiry) and read the previous period's count.
"""

from django.core.cache.backends import redis

# Django's `incr` contract: a missing key is an error (nil), never a new counter without an expiry.
INCREMENT_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""

# KEYS: this period's counter, the previous period's; ARGV: the counter's lifetime in seconds. Returns both counts.
COUNT_WINDOW = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return {current, redis.call('GET', KEYS[2]) or false}
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

    def _script(self, client, source: str):
        script = self._scripts.get((id(client), source))
        if script is None:
            script = self._scripts[(id(client), source)] = client.register_script(source)
        return script

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        value = self._script(client, INCREMENT_EXISTING)(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def count_window(self, key, previous_key, timeout: int) -> tuple[int, int]:
        client = self.get_client(key, write=True)
        current, previous = self._script(client, COUNT_WINDOW)(keys=[key, previous_key], args=[int(timeout)])
        # Django's serializer stores an int as its digits: the previous counter reads back as one.
        return int(current), int(previous) if previous is not None else 0


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def count_window(self, key, previous_key, timeout: int, version=None) -> tuple[int, int]:
        """Add one to counter `key` (created with `timeout` seconds to live when missing) and read counter
        `previous_key` (0 when missing), in one round trip: (this count, the previous one)."""
        return self._cache.count_window(
            self.make_and_validate_key(key, version=version),
            self.make_and_validate_key(previous_key, version=version),
            timeout,
        )
