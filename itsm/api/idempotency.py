"""`Idempotency-Key` on API POSTs: a retried request gets the first answer instead of running twice.

A POST to any `/api/` endpoint with `Idempotency-Key: <at most 255 characters>` claims the key for the person who
sends it (whatever token or session they use) before the view runs:

- a new key: one row is inserted (a unique constraint on person and key, committed at once), the view runs, and
  its answer (status, body, `Content-Type`, `Location`, `ETag`) is stored on the row;
- the same key, method, path and body again within `IDEMPOTENCY_KEY_HOURS`: the stored answer, with
  `Idempotent-Replayed: true`, and the view does not run;
- the same key with another method, path or body: 422 `idempotency_key_reused`;
- the same key while the first request still runs: 409 `idempotency_key_in_use` (the loser of two parallel
  inserts finds the winner's row without an answer);
- an answer of 5xx, or 429 (throttled: the view did not run), is not stored: the key can be retried.

Why a middleware rather than a hook in the API base classes: the answer to replay must be the rendered response
of any endpoint, the generic viewsets, the record actions and the plain `APIView`s of every app alike, and the
middleware sees each of them without any app doing anything. It runs after Django's session authentication and
authenticates the request with the view's own DRF authenticators (the token result is kept on the request, so the
view does not query again). A request nobody is authenticated for (the monitoring receivers authenticate by their
own integration token) is passed through untouched: there is nobody to scope the key to. Rows older than the window
are deleted whenever a key is claimed (one DELETE on the `created_at` index), before the key is looked up, so an
expired answer is never replayed and the table holds about one window of keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from itsm.models import IdempotencyKey

HEADER = 'Idempotency-Key'
MAX_KEY_LENGTH = 255
STORED_HEADERS = ('Content-Type', 'Location', 'ETag')
# A claim without an answer this old was left by a process that died: the key can be used again.
ABANDONED_AFTER = dt.timedelta(minutes=5)
_CLAIM = '_idempotency_claim'


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({'detail': detail, 'code': code}, status=status)


def request_hash(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def purge_expired(now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    return IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()[0]


def replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status)
    for name, value in row.headers.items():
        response[name] = value
    response['Idempotent-Replayed'] = 'true'
    return response


def claim(user, key: str, digest: str) -> IdempotencyKey | HttpResponse:
    """The new row claiming `key` for `user`, or the answer to give instead of running the view."""
    now = timezone.now()
    purge_expired(now)
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(user=user, key=key, request_hash=digest, created_at=now)
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # purged between the insert and the read: claim it again
        if existing.request_hash != digest:
            return _error(
                422,
                'idempotency_key_reused',
                f'Idempotency-Key "{key}" was used for another request (a different method, path or body); '
                'use a new key for a new request.',
            )
        if existing.status is not None:
            return replay(existing)
        taken = IdempotencyKey.objects.filter(
            pk=existing.pk, status__isnull=True, created_at__lt=now - ABANDONED_AFTER
        ).update(created_at=now)
        if taken:
            existing.created_at = now
            return existing
        return _error(
            409,
            'idempotency_key_in_use',
            f'A request with Idempotency-Key "{key}" is still being processed; retry once it has finished.',
        )
    return _error(409, 'idempotency_key_in_use', f'Idempotency-Key "{key}" could not be claimed; retry.')


def finish(row: IdempotencyKey, response) -> None:
    """Store `response` as the key's answer, or give the key up when the answer must not be replayed."""
    if response.status_code >= 500 or response.status_code == 429 or response.streaming:
        IdempotencyKey.objects.filter(pk=row.pk).delete()
        return
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    IdempotencyKey.objects.filter(pk=row.pk).update(
        status=response.status_code, headers=headers, body=bytes(response.content)
    )


def _authenticated_user(request, view_func):
    """The person the view's own authenticators find, or None (nobody, or credentials the view will refuse)."""
    view_class = view_func.cls
    classes = view_func.initkwargs.get('authentication_classes', view_class.authentication_classes)
    if not classes:
        return None
    drf_request = Request(request, authenticators=[cls() for cls in classes], parser_context={'view': view_class})
    try:
        user = drf_request.user
    except exceptions.APIException:
        return None
    return user if user is not None and user.is_authenticated else None


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        row = getattr(request, _CLAIM, None)
        if row is not None:
            finish(row, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != 'POST' or HEADER not in request.headers or not hasattr(view_func, 'cls'):
            return None
        key = request.headers[HEADER].strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return _error(
                400, 'invalid_idempotency_key', f'{HEADER} must have between 1 and {MAX_KEY_LENGTH} characters.'
            )
        user = _authenticated_user(request, view_func)
        if user is None:
            return None
        try:
            digest = request_hash(request)
        except RequestDataTooBig:
            return _error(
                413,
                'too_large',
                f'A request with {HEADER} may have at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes of body.',
            )
        outcome = claim(user, key, digest)
        if isinstance(outcome, HttpResponse):
            return outcome
        setattr(request, _CLAIM, outcome)
        return None
