"""Request middleware of the desk."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from . import replica
from .timezones import zone_of
from .views.errors import bad_request

NUL = '\x00'


class RefuseNulMiddleware:
    """Refuses a request whose address, query or form fields hold a NUL character, with a 400 that says so.

    No text column can store NUL (PostgreSQL refuses it in any string), so a search, a filter or a lookup given one
    would otherwise fail at the database. One check here instead of one in every view that reads a parameter. JSON
    bodies are checked by the API's parser, multipart forms and uploaded files by what reads them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = [request.path, *request.GET.keys(), *(v for _, values in request.GET.lists() for v in values)]
        # Multipart bodies are left to the forms that read them (their text fields refuse NUL): parsing one here
        # would consume the stream that the idempotency check hashes.
        if request.method == 'POST' and request.content_type == 'application/x-www-form-urlencoded':
            fields += [*request.POST.keys(), *(v for _, values in request.POST.lists() for v in values)]
        if any(NUL in field for field in fields):
            return bad_request(
                request, 'The request holds a NUL character (%00), which no search or field can take.', 'nul_character'
            )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Sends `CONTENT_SECURITY_POLICY` with every answer that has none: scripts, styles, images, fonts and requests
    only from the desk itself, no inline script or style, no eval, no framing. Pages need no exception: behaviour
    lives in static files, sizes computed on the server come as `data-pc-style` (applied by pitcrew.js), and JSON for
    charts rides in `json_script` data blocks, which are never executed. Django's admin keeps inline styles of its
    own, so its pages alone allow them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and 'Content-Security-Policy' not in response:
            if request.path.startswith('/admin/'):
                policy = policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
            response['Content-Security-Policy'] = policy
        return response


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


class ReplicaReadsMiddleware:
    """Lets the read replica serve a GET (or HEAD, OPTIONS) to a view named in `REPLICA_READ_VIEWS`: a namespace
    (`api`: every endpoint in it) or one view (`reports:overview`). Marking the views here, in one list, keeps the
    apps' views unaware of the replica; what may still go to the primary within such a request is `itsm.replica`'s
    rule. After a client's write (any other method), its reads stay on the primary for `REPLICA_PIN_SECONDS`, so the
    page it is sent to next shows what it just did; the mark is kept in the shared cache under a digest of the
    session cookie or the `Authorization` header, so every web process honours it. A request whose replica
    connection failed midway (an error answer) is answered again from the primary. Does nothing without a replica.
    """

    SAFE_METHODS = ('GET', 'HEAD', 'OPTIONS')
    PIN_KEY = 'replica-pin:{}'

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica.configured():
            return self.get_response(request)
        try:
            response = self.get_response(request)
        finally:
            token = request.__dict__.pop('_replica_scope', None)
            if token is not None:
                replica.leave_scope(token)
        if token is not None and response.status_code >= 500 and replica.failed_during_use():
            # The replica failed under a safe request, which only read: answer it again from the primary.
            request._replica_retry = True
            response = self.get_response(request)
        if request.method not in self.SAFE_METHODS and settings.REPLICA_PIN_SECONDS > 0:
            keys = self.pin_keys(request)
            if keys:
                cache.set_many(dict.fromkeys(keys, 1), timeout=settings.REPLICA_PIN_SECONDS)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Returns nothing: the view runs as it would, only where its reads go changes.
        eligible = replica.configured() and request.method in self.SAFE_METHODS
        retried = hasattr(request, '_replica_retry')
        if eligible and not retried and self.reads_from_replica(request.resolver_match) and not self.pinned(request):
            request._replica_scope = replica.enter_scope()

    @staticmethod
    def reads_from_replica(match) -> bool:
        if match is None or not match.view_name:
            return False
        return any(
            match.view_name == entry or match.view_name.startswith(f'{entry}:') for entry in settings.REPLICA_READ_VIEWS
        )

    def pin_keys(self, request) -> list[str]:
        credentials = [request.COOKIES.get(settings.SESSION_COOKIE_NAME), request.META.get('HTTP_AUTHORIZATION')]
        return [self.PIN_KEY.format(hashlib.sha256(c.encode()).hexdigest()[:40]) for c in credentials if c]

    def pinned(self, request) -> bool:
        keys = self.pin_keys(request)
        return bool(keys and settings.REPLICA_PIN_SECONDS > 0 and cache.get_many(keys))
