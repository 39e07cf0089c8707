"""Counters in the shared cache (Redis when `REDIS_URL` is set): the sign-in guard's attempts and the API's rate
limits count through `count_up`, so each increment is atomic whatever the number of web processes."""


def count_up(cache, key: str, timeout: int) -> int:
    """Add one to the counter `key`, created with `timeout` (seconds) when missing; the new count. An existing
    counter is one increment (one round trip on Redis); 1 means this call created it."""
    try:
        return cache.incr(key)
    except ValueError:
        if cache.add(key, 1, timeout):
            return 1
        return cache.incr(key)  # another process created it in between


def count_window(cache, key: str, previous_key: str, timeout: int) -> tuple[int, int]:
    """Add one to the counter `key` (as `count_up`) and read the counter `previous_key` (0 when missing): the count
    of this period and of the one before, for a rate limit. One round trip on the Redis cache, two elsewhere."""
    counting = getattr(cache, 'count_window', None)
    if counting is not None:
        return counting(key, previous_key, timeout)
    previous = cache.get(previous_key, 0)
    return count_up(cache, key, timeout), previous
