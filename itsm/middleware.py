"""Request middleware of the desk."""

from __future__ import annotations

from django.utils import timezone

from .timezones import zone_of


class TimeZoneMiddleware:
    """Shows every time of a request in the signed-in person's time zone (`User.time_zone`), the desk's otherwise.

    Pages, forms (datetime inputs are read and filled in that zone) and templates follow the active zone. It reads
    the person the authentication middleware already loads, so it costs no query of its own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with timezone.override(zone_of(getattr(request, 'user', None))):
            return self.get_response(request)
