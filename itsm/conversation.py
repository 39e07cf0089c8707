"""Talking about any process record: customer-visible comments, internal work notes and attachments.

Comments and work notes are timeline entries; files are `itsm.Attachment` rows on the record. Who may write is
the record's rule (`ProcessRecord.may_work` for staff, `is_party` for its requesters); a public comment calls the
`commented` hooks, so each app decides whom to tell.
"""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import audit, hooks
from .audit import Actor
from .choices import TimelineKind
from .errors import NotAllowed
from .models import Attachment, TimelineEntry

ALLOWED_ATTACHMENT_TYPES = {
    'application/pdf',
    'image/png',
    'image/jpeg',
    'image/gif',
    'image/webp',
    'text/plain',
    'text/csv',
    'application/zip',
    'application/json',
    'message/rfc822',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.oasis.opendocument.text',
    'application/vnd.oasis.opendocument.spreadsheet',
}


@transaction.atomic
def comment(record, *, actor: Actor, body: str, internal: bool = False) -> TimelineEntry:
    """Add a customer-visible comment, or an internal work note (staff only; never shown to requesters)."""
    body = (body or '').strip()
    if not body:
        raise ValidationError({'body': 'Write something first.'})
    staff = actor.user is None or record.may_work(actor.user)
    if internal and not staff:
        raise NotAllowed('Only service desk staff can write work notes.')
    if not internal and not (staff or record.is_party(actor.user)):
        raise NotAllowed(f'You cannot comment on {record.number}.')
    entry = audit.record(
        record,
        actor=actor,
        kind=TimelineKind.WORK_NOTE if internal else TimelineKind.COMMENT,
        message=body,
        public=not internal,
    )
    if not internal:
        type(record)._default_manager.filter(pk=record.pk).update(updated_at=timezone.now())
        hooks.emit(hooks.COMMENTED, record, actor=actor, entry=entry)
    else:
        hooks.emit(hooks.NOTED, record, actor=actor, entry=entry)
    return entry


@transaction.atomic
def attach(record, *, actor: Actor, upload, public: bool = True) -> Attachment:
    """Store a file on a record, within the size limit and the allowed types. Requesters' files are public."""
    staff = actor.user is not None and record.may_work(actor.user)
    if not (staff or record.is_party(actor.user)):
        raise NotAllowed(f'You cannot add files to {record.number}.')
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise ValidationError({'file': f'{upload.name} is larger than the {limit} MB limit.'})
    mime_type = mimetypes.guess_type(upload.name)[0] or 'application/octet-stream'
    if mime_type not in ALLOWED_ATTACHMENT_TYPES:
        raise ValidationError({'file': f'Files of type {mime_type} are not accepted.'})
    attachment = Attachment(
        record=record,
        file=upload,
        filename=upload.name[:200],
        mime_type=mime_type,
        size=upload.size,
        uploaded_by=actor.user,
        public=public or not staff,
    )
    attachment.save()
    audit.record(
        record,
        actor=actor,
        kind=TimelineKind.ATTACHMENT,
        message=f'Attached {attachment.filename}',
        data={'attachment': attachment.pk, 'size': attachment.size},
        public=attachment.public,
    )
    return attachment
