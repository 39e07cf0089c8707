"""Rate limits: DRF's throttles reading their rates from the settings at each request (so a changed setting applies
at once), and one more rate per API token. A throttled request is a 429 with `Retry-After` (whole seconds) and
`{"detail", "code": "throttled", "retry_after"}` (`itsm.api.errors`).

Each client's requests are counted in fixed windows of the rate's period (`WindowCounter`) rather than kept as a
list of times, as DRF does: the list is read and written whole on every request (thousands of floats at the user
rate) and two workers writing it at once drop each other's requests. A counter is incremented atomically in the
shared cache, so no request is lost whatever the number of web processes.
"""

import contextlib
import math

from rest_framework import throttling
from rest_framework.settings import api_settings

from itsm.counters import count_window
from itsm.models import ApiToken


class CurrentRatesMixin:
    """The rate of `scope` from the current settings (DRF binds them once, at import); no rate, no limit."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class WindowCounter(throttling.SimpleRateThrottle):
    """A sliding-window estimate from two counters: this period's requests, plus the previous period's weighted by
    the share of it that still lies within one period back. It follows DRF's sliding log closely (it assumes the
    previous period's requests were spread evenly) at two small cache entries per client. A refused request is
    taken off again, so a client that keeps knocking is let in as soon as its earlier requests age out. A throttle
    class puts it after DRF's own (`ScopedRateThrottle` picks its rate before counting)."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window, self.elapsed = divmod(self.timer(), self.duration)
        current = f'{self.key}:{int(window)}'
        # The counter outlives its own period by one: it is the next period's `previous`.
        self.current, self.previous = count_window(
            self.cache, current, f'{self.key}:{int(window) - 1}', 2 * self.duration
        )
        # The previous period's requests, assumed spread evenly, count for the share still within one period back.
        if self.previous * (1 - self.elapsed / self.duration) + self.current > self.num_requests:
            with contextlib.suppress(ValueError):  # expired in between: nothing left to take off
                self.cache.decr(current)
            self.current -= 1
            return self.throttle_failure()
        return True

    def wait(self) -> float:
        """Seconds until one more request fits: the previous period's weight falling within this one, or, when this
        period alone is full, this period's count weighing less within the next; never more than one period."""
        room = self.num_requests - 1  # what the others may weigh for one more request to fit
        if room < 0:  # a rate of none: no wait is long enough, ask again in a period
            return float(self.duration)
        if self.current <= room:  # refused, so the previous period's weight is above the room left (> 0)
            wait = self.duration * (1 - (room - self.current) / self.previous) - self.elapsed
        else:
            wait = self.duration - self.elapsed + self.duration * (1 - room / self.current)
        return min(float(self.duration), max(0.0, math.ceil(wait * 1000) / 1000))


class AnonRateThrottle(CurrentRatesMixin, throttling.AnonRateThrottle, WindowCounter):
    pass


class UserRateThrottle(CurrentRatesMixin, throttling.UserRateThrottle, WindowCounter):
    pass


class ScopedRateThrottle(CurrentRatesMixin, throttling.ScopedRateThrottle, WindowCounter):
    pass


class TokenRateThrottle(CurrentRatesMixin, WindowCounter):
    """Each API token on its own (`token` rate), on top of its owner's `user` rate."""

    scope = 'token'

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {'scope': self.scope, 'ident': request.auth.pk}
