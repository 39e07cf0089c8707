"""API authentication by `itsm.ApiToken` (`Authorization: Bearer pc_…`, or the older `Token pc_…` keyword).

The scope of a token is checked here, as part of authenticating, rather than in a permission class: every view
that authenticates by token then enforces it, whatever `permission_classes` it declares (the token exchange
and the monitoring receivers declare their own and authenticate otherwise). Answers:

- unknown key: 401 `authentication_failed`; expired: 401 `token_expired`; revoked: 401 `token_revoked`;
- a read-only token on POST/PUT/PATCH/DELETE: 403 `token_read_only`;
- a token limited to some apps on another app's endpoint: 403 `token_scope`.

The app of an endpoint is the top package of its view's module (`incidents.api.views.TicketViewSet` belongs to
`incidents`; the people, groups and tokens endpoints to `itsm`). Endpoints outside the project's apps (the OpenAPI
schema and its documentation) are open to every token.

Authenticating costs one query (the token and its owner, by the unique hash of the key), plus one write at most
once a minute per token to note when it was last used. The result is kept on the request, so authenticating the
same request twice (the idempotency middleware does, before the view) queries once.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from itsm import tokens
from itsm.models import ApiToken
from itsm.roles import PROJECT_APPS

KEYWORDS = ('bearer', 'token')
SAFE_METHODS = ('GET', 'HEAD', 'OPTIONS')
_CACHE_ATTRIBUTE = '_api_token_authentication'


def endpoint_app(view) -> str | None:
    """The project app an endpoint (a view or its class) belongs to: its module's top package, or None."""
    label = (view if isinstance(view, type) else type(view)).__module__.split('.', 1)[0]
    return label if label in PROJECT_APPS else None


def check_scope(token: ApiToken, method: str, view) -> None:
    """Refuse (403) what the token's scope does not cover."""
    if token.read_only and method.upper() not in SAFE_METHODS:
        raise exceptions.PermissionDenied(
            f'Token {token.prefix} is read-only: it cannot {method.upper()}.', code='token_read_only'
        )
    app = endpoint_app(view) if view is not None else None
    if token.apps and app is not None and app not in token.apps:
        raise exceptions.PermissionDenied(
            f'Token {token.prefix} reaches only {", ".join(token.apps)}; this endpoint belongs to {app}.',
            code='token_scope',
        )


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>` (or `Token <key>`) with an active `ApiToken`: user and token as auth."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower().decode(errors='replace') not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed('Give the token after the keyword: "Authorization: Bearer <token>".')
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed('The token contains invalid characters.') from None
        token = self._token(request, key)
        if token is None:
            raise exceptions.AuthenticationFailed('Invalid token.')
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                f'Token {token.prefix} was revoked on {token.revoked_at.isoformat(timespec="minutes")}.',
                code='token_revoked',
            )
        if token.is_expired:
            raise exceptions.AuthenticationFailed(
                f'Token {token.prefix} expired on {token.expires_at.isoformat(timespec="minutes")}.',
                code='token_expired',
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's owner is inactive.", code='user_inactive')
        tokens.token_touch(token)
        check_scope(token, request.method, (getattr(request, 'parser_context', None) or {}).get('view'))
        return token.user, token

    def _token(self, request, key: str) -> ApiToken | None:
        django_request = getattr(request, '_request', request)
        cached = getattr(django_request, _CACHE_ATTRIBUTE, None)
        if cached is not None and cached[0] == key:
            return cached[1]
        token = tokens.token_for_key(key)
        setattr(django_request, _CACHE_ATTRIBUTE, (key, token))
        return token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI schema's description of token authentication."""

    target_class = 'itsm.api.auth.ApiTokenAuthentication'
    name = 'apiToken'

    def get_security_definition(self, auto_schema):
        return {
            'type': 'http',
            'scheme': 'bearer',
            'description': 'An API token (`pc_…`) from the API tokens page or `POST /api/v1/auth/token/`.',
        }
