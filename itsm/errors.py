"""Application errors: raised by services, turned into 4xx answers by the API and into messages by the UI."""


class ApplicationError(Exception):
    """A request that the rules refuse. `code` is stable for API clients; `detail` is for people."""

    status_code = 400
    default_code = 'invalid'

    def __init__(self, detail: str, *, code: str | None = None, extra: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.extra = extra or {}


class InvalidTransition(ApplicationError):
    status_code = 409
    default_code = 'invalid_transition'


class Conflict(ApplicationError):
    status_code = 409
    default_code = 'conflict'


class NotAllowed(ApplicationError):
    status_code = 403
    default_code = 'permission_denied'
