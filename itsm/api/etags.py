"""ETags of process records, and the `If-Match` / `If-None-Match` preconditions of the record endpoints.

A record's ETag is strong and derived from what it stores: its model, id, `updated_at`, and the id of the newest
entry of its timeline that people wrote (transitions, field changes, comments, work notes, files, links). So it
changes with every write, including comments and notes that do not touch the record's row, and never with a read.
Entries the desk writes by itself (notifications sent, SLA warnings and breaches) leave it alone, so a client's
ETag does not go stale because an e-mail went out.

Computing it costs one query (the newest timeline id, on the `(content_type, object_id, …)` index).

`If-Match` is compared in the transaction of the write, after the record's row is locked (`RecordViewSet`): a
concurrent write either committed before (and the comparison fails) or waits for this one.
"""

from __future__ import annotations

import hashlib

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils.http import parse_etags

from itsm.choices import TimelineKind
from itsm.errors import ApplicationError
from itsm.models import TimelineEntry

# Written by the desk itself, not by anyone changing the record.
UNVERSIONED_KINDS = (
    TimelineKind.NOTIFICATION,
    TimelineKind.SLA_WARNING,
    TimelineKind.SLA_BREACH,
    TimelineKind.SLA_RETARGET,
)


class PreconditionFailed(ApplicationError):
    status_code = 412
    default_code = 'precondition_failed'

    def __init__(self, current: str):
        super().__init__(
            'The record changed since you read it: read it again (its current ETag is given) and retry.',
            extra={'etag': current},
        )
        self.headers = {'ETag': current}


def etag_for(model, pk: int, updated_at) -> str:
    content_type = ContentType.objects.get_for_model(model)
    newest = (
        TimelineEntry.objects.filter(content_type=content_type, object_id=pk)
        .exclude(kind__in=UNVERSIONED_KINDS)
        .aggregate(newest=Max('id'))['newest']
    )
    stamp = updated_at.isoformat() if updated_at else ''
    digest = hashlib.sha256(f'{model._meta.label}:{pk}:{stamp}:{newest or 0}'.encode()).hexdigest()
    return f'"{digest[:32]}"'


def etag_of(record) -> str:
    return etag_for(type(record), record.pk, record.updated_at)


def _tags(header: str) -> list[str]:
    return parse_etags(header) if header else []


def if_match_fails(header: str | None, current: str) -> bool:
    """True when an `If-Match` header is given and names neither `*` nor the current ETag (strong comparison)."""
    if not header:
        return False
    tags = _tags(header)
    return '*' not in tags and current not in tags


def if_none_match_hits(header: str | None, current: str) -> bool:
    """True when `If-None-Match` names the current ETag or `*` (weak comparison: `W/` prefixes are ignored)."""
    if not header:
        return False
    tags = [tag.removeprefix('W/') for tag in _tags(header)]
    return '*' in tags or current in tags
