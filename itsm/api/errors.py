"""One error format for the whole API: `{"detail", "code"}`, or `{field: [messages]}` for invalid input."""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from itsm.errors import ApplicationError

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    if isinstance(exc, ApplicationError):
        headers = getattr(exc, 'headers', None)
        return Response({'detail': exc.detail, 'code': exc.code, **exc.extra}, status=exc.status_code, headers=headers)
    if isinstance(exc, exceptions.Throttled):
        # Whole seconds, at least one: clients sleep that long and retry.
        retry_after = max(1, math.ceil(exc.wait)) if exc.wait is not None else 1
        detail = f'Too many requests: try again in {retry_after} second{"s" if retry_after != 1 else ""}.'
        return Response(
            {'detail': detail, 'code': 'throttled', 'retry_after': retry_after},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={'Retry-After': str(retry_after)},
        )
    if isinstance(exc, ProtectedError | RestrictedError):
        names = sorted(
            {str(obj) for obj in list(exc.protected_objects if hasattr(exc, 'protected_objects') else [])[:5]}
        )
        detail = 'It is still referenced by other records' + (f': {", ".join(names)}.' if names else '.')
        return Response({'detail': detail, 'code': 'protected'}, status=status.HTTP_409_CONFLICT)

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception('Unhandled API error', exc_info=exc)
        return Response({'detail': 'Internal server error.', 'code': 'server_error'}, status=500)
    if isinstance(response.data, dict) and 'detail' in response.data and 'code' not in response.data:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        response.data['code'] = codes if isinstance(codes, str) else 'error'
    return response


def api_not_found(request, exception=None):
    return JsonResponse({'detail': 'Not found.', 'code': 'not_found'}, status=404)


def api_server_error(request):
    return JsonResponse({'detail': 'Internal server error.', 'code': 'server_error'}, status=500)
