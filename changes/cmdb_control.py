"""The CMDB under change control (domain §8: additions, changes and deletions of CIs in scope go through change
management; §9: the CAB answers for the CMDB's integrity).

With `CMDB_REQUIRE_CHANGE_FOR_PRODUCTION` on, `cmdb.checks.ci_require_change` asks the validator named by
`CMDB_CHANGE_VALIDATOR` whether a change reference covers a write to a production CI; the settings point it at
`change_covers` below whenever this app is installed.

- Editing, retiring or deleting a CI (it has a primary key): the reference must name a change in implementation
  that lists the CI among its configuration items or its services.
- Creating a CI (it has no primary key yet, so no change can list it): any change in implementation is accepted.
  Its number, like an edit's, is kept with the CI's "created" entry (`change_reference`), so the CI's history says
  which change brought it in and links it.

A change in any other state (drafted, authorised but not started, in review, closed...) covers nothing.
"""

from __future__ import annotations

from cmdb.models import ConfigurationItem

from .choices import ChangeState
from .models import Change


def change_covers(reference: str, *, ci: ConfigurationItem | None = None) -> bool:
    """Whether `reference` names a change in implementation that covers a write to `ci` (see the module)."""
    change = Change.objects.filter(number=(reference or '').strip().upper(), state=ChangeState.IMPLEMENTATION).first()
    if change is None:
        return False
    if ci is None or ci.pk is None:
        return True
    return change.cis.filter(pk=ci.pk).exists() or change.services.filter(pk=ci.pk).exists()
