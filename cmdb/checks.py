"""The change control point: edits to production CIs need an approved change reference.

Off unless `settings.CMDB_REQUIRE_CHANGE_FOR_PRODUCTION` is on. Whether a reference is an approved change is
asked of the function named by `settings.CMDB_CHANGE_VALIDATOR` (`validator(reference, *, ci) -> bool`; `ci` has
no primary key yet when it is being created); with the changes app installed the settings point it at
`changes.cmdb_control.change_covers`. Without it a well-formed reference (CHG0000123) passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string

from .models import ConfigurationItem

DEFAULT_VALIDATOR = 'cmdb.checks.is_change_reference'
CHANGE_REFERENCE = re.compile(r'CHG\d{7}')
_suspended: ContextVar[str] = ContextVar('cmdb_change_control_suspended', default='')


@contextmanager
def suspended(reason: str) -> Iterator[None]:
    """Lift the check for the block: only for loading a CMDB that does not exist yet (demo data)."""
    token = _suspended.set(reason)
    try:
        yield
    finally:
        _suspended.reset(token)


def is_change_reference(reference: str, *, ci: ConfigurationItem | None = None) -> bool:
    """Stand-in validator: the reference has the shape of a change number."""
    return bool(CHANGE_REFERENCE.fullmatch(reference or ''))


def change_validator() -> Callable[..., bool]:
    return import_string(getattr(settings, 'CMDB_CHANGE_VALIDATOR', DEFAULT_VALIDATOR))


def change_required(ci: ConfigurationItem, *, in_production: bool | None = None) -> bool:
    """Whether editing `ci` needs a change reference (`in_production` overrides the CI's own environment)."""
    production = ci.in_production if in_production is None else in_production
    return bool(settings.CMDB_REQUIRE_CHANGE_FOR_PRODUCTION) and production and not _suspended.get()


def ci_require_change(
    ci: ConfigurationItem, change_reference: str = '', *, action: str = 'edit', in_production: bool | None = None
) -> str:
    """Refuse an edit of a production CI without an approved change: ValidationError on `change_reference` (400).

    Returns the accepted reference, or '' when the edit needs none. Services call it before writing; pass
    `in_production=True` when the edit moves a CI into or out of production.
    """
    if not change_required(ci, in_production=in_production):
        return ''
    reference = (change_reference or '').strip().upper()
    if not reference:
        raise ValidationError(
            {
                'change_reference': f'{ci.number or ci.name} is in production: to {action} it, give the approved '
                'change that covers it (change_reference, e.g. CHG0000123).'
            },
            code='change_required',
        )
    if not change_validator()(reference, ci=ci):
        raise ValidationError(
            {'change_reference': f'{reference} is not an approved change for {ci.number or ci.name}.'},
            code='change_not_approved',
        )
    return reference
