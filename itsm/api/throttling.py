"""Rate limits: DRF's throttles reading their rates from the settings at each request (so a changed setting applies
at once), and one more rate per API token. A throttled request is a 429 with `Retry-After` (whole seconds) and
`{"detail", "code": "throttled", "retry_after"}` (`itsm.api.errors`)."""

from rest_framework import throttling
from rest_framework.settings import api_settings

from itsm.models import ApiToken


class CurrentRatesMixin:
    """The rate of `scope` from the current settings (DRF binds them once, at import); no rate, no limit."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(CurrentRatesMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(CurrentRatesMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(CurrentRatesMixin, throttling.ScopedRateThrottle):
    pass


class TokenRateThrottle(CurrentRatesMixin, throttling.SimpleRateThrottle):
    """Each API token on its own (`token` rate), on top of its owner's `user` rate."""

    scope = 'token'

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {'scope': self.scope, 'ident': request.auth.pk}
