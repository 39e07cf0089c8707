"""Logging helpers: what the console shows of requests that were refused."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A refused request (4xx: forbidden, not found, bad input) is one line, not a traceback: the exception is how
    Django answered, not a fault. Server errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, 'status_code', None)
        if status is not None and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
