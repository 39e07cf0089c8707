"""The post-incident review (domain §6 close-out records): the outage, the root cause, how well the response process
was followed, the long-term action items tracked to done, and the problem record opened for the root cause.

Who writes a review: the major incident's incident manager, tech lead, communications lead, service owner or business
owner, and any incident manager or problem manager (a system job, with no person, may too). Review events are
recorded on the major incident's timeline, so its history tells the whole story from detection to the last action.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from itsm import audit, hooks, notify
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.models import TimelineEntry, User

from .choices import MajorIncidentState, ProcessRating
from .models import ActionItem, MajorIncident, MajorIncidentChild, PostIncidentReview

__all__ = [
    'REVIEWER_ROLES',
    'action_item_add',
    'action_item_done',
    'action_item_reopen',
    'action_item_update',
    'action_items_due',
    'is_overdue',
    'may_write_review',
    'review_open_problem',
    'review_start',
    'review_timeline',
    'review_update',
    'send_overdue_action_item_reminders',
    'today',
]

REVIEWER_ROLES = (Role.INCIDENT_MANAGER, Role.PROBLEM_MANAGER, Role.ADMINISTRATOR)
TEAM_FIELDS = ('incident_manager_id', 'tech_lead_id', 'communications_lead_id', 'service_owner_id', 'business_owner_id')
# The review is written once the service is restored: in review, or after the closure (follow-up of action items).
REVIEWABLE_STATES = (MajorIncidentState.REVIEW, MajorIncidentState.CLOSED)
REVIEW_FIELDS = {
    'outage_started_at',
    'outage_ended_at',
    'summary',
    'root_cause',
    'what_went_well',
    'what_went_badly',
    'process_rating',
    'process_notes',
}
ACTION_ITEM_FIELDS = {'description', 'owner', 'due_date', 'notes'}
OVERDUE_EVENT = 'action_item_overdue'
OVERDUE_TEMPLATE = 'major_incidents/actionitem_overdue_email.txt'
REMINDED_ON = 'overdue_reminder'  # timeline data key: the desk day an overdue item's owner was reminded


def today() -> dt.date:
    """Today in the desk's time zone (action items fall due by the desk's calendar, not the server's)."""
    from reports.slices import local_zone

    return timezone.localdate(timezone=local_zone())


# --------------------------------------------------------------------------------------------- who
def may_write_review(major: MajorIncident, user) -> bool:
    """Whether `user` writes the review of `major` and works its action items (None, a system job, may)."""
    if user is None:
        return True
    if not user.is_authenticated:
        return False
    return user.has_role(*REVIEWER_ROLES) or user.pk in {getattr(major, name) for name in TEAM_FIELDS}


def _require_writer(major: MajorIncident, actor: Actor) -> None:
    if not may_write_review(major, actor.user):
        raise NotAllowed(
            f'Only the response team and owners of {major.number}, incident managers and problem managers can '
            'write its post-incident review.'
        )


def _note(major: MajorIncident, *, actor: Actor, message: str, data: dict[str, Any]) -> None:
    audit.record(major, actor=actor, kind=TimelineKind.WORK_NOTE, message=message, data={'review': True, **data})


# --------------------------------------------------------------------------------------------- the review
@transaction.atomic
def review_start(*, major: MajorIncident, actor: Actor) -> PostIncidentReview:
    """The review of `major`, started now if it has none: prefilled with the outage as measured (start of the
    outage, the moment the service was restored) and an empty root cause. Refused (409) while the outage runs."""
    _require_writer(major, actor)
    major = MajorIncident.objects.select_for_update().get(pk=major.pk)  # two reviewers starting at once: one review
    existing = PostIncidentReview.objects.filter(major_incident=major).first()
    if existing is not None:
        return existing
    if major.state not in REVIEWABLE_STATES:
        raise Conflict(
            f'{major.number} is in {major.get_state_display().lower()}: the review starts once the service is '
            'restored.',
            code='not_restored',
        )
    review = PostIncidentReview.objects.create(
        major_incident=major,
        outage_started_at=major.outage_started_at,
        outage_ended_at=major.restored_at,
        author=actor.user,
    )
    audit.record_created(review, actor=actor, message='Post-incident review started', public=False)
    _note(major, actor=actor, message='Post-incident review started', data={'action': 'review_started'})
    hooks.emit(hooks.CHANGED, major, actor=actor)
    return review


def _validate_review(review: PostIncidentReview) -> None:
    errors = {}
    if review.outage_ended_at and review.outage_started_at and review.outage_ended_at <= review.outage_started_at:
        errors['outage_ended_at'] = 'The outage ends after it starts.'
    if review.process_rating is not None and review.process_rating not in ProcessRating.values:
        errors['process_rating'] = 'Rate how well the process was followed from 1 to 5.'
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def review_update(*, review: PostIncidentReview, actor: Actor, **fields: Any) -> PostIncidentReview:
    """Edit the review: the outage's start and end, summary, root cause, what went well and badly, the process
    rating (1–5) and its notes. The changes are on the review's history; the major incident's says it was edited."""
    major = review.major_incident
    _require_writer(major, actor)
    unknown = set(fields) - REVIEW_FIELDS
    if unknown:
        raise ValidationError({name: 'This field is not part of a review.' for name in sorted(unknown)})
    review = PostIncidentReview.objects.select_for_update().get(pk=review.pk)
    before = audit.snapshot(review)
    for name, value in fields.items():
        setattr(review, name, '' if value is None and name not in ('outage_ended_at', 'process_rating') else value)
    if not review.outage_started_at:
        raise ValidationError({'outage_started_at': 'Say when the outage started.'})
    _validate_review(review)
    review.full_clean(exclude=['major_incident', 'problem', 'author'])
    if review.root_cause.strip() and review.completed_at is None:
        review.completed_at = timezone.now()
    review.save()
    entry = audit.record_changes(review, before, actor=actor, message='Post-incident review edited')
    if entry is not None:
        labels = ', '.join(change['label'] for change in entry.changes)
        _note(major, actor=actor, message=f'Post-incident review edited: {labels}', data={'action': 'review_edited'})
        hooks.emit(hooks.CHANGED, major, actor=actor)
    return review


def review_timeline(major: MajorIncident) -> list[TimelineEntry]:
    """Every timeline entry of `major` and of its child incidents, in time order; each entry carries `record_number`
    and `record_kind` saying whose it is. Three queries whatever the number of children (staff-only entries
    included: reviewers are staff)."""
    from incidents.models import Ticket

    children = list(
        MajorIncidentChild.objects.filter(major_incident=major).values_list('incident_id', 'incident__number')
    )
    numbers = {incident_id: number for incident_id, number in children}
    major_type = ContentType.objects.get_for_model(MajorIncident)
    ticket_type = ContentType.objects.get_for_model(Ticket)
    condition = Q(content_type=major_type, object_id=major.pk)
    if numbers:
        condition |= Q(content_type=ticket_type, object_id__in=list(numbers))
    entries = list(TimelineEntry.objects.filter(condition).select_related('actor').order_by('at', 'id'))
    states = {
        major_type.pk: dict(MajorIncidentState.choices),
        ticket_type.pk: dict(Ticket._meta.get_field('state').choices),
    }
    for entry in entries:
        if entry.content_type_id == major_type.pk:
            entry.record_number, entry.record_kind = major.number, 'major incident'
        else:
            entry.record_number, entry.record_kind = numbers[entry.object_id], 'child incident'
        # A state change says which states, in words (its message is often empty).
        entry.states_text = ''
        if entry.kind == TimelineKind.TRANSITION and entry.data.get('to'):
            labels = states[entry.content_type_id]
            source, target = entry.data.get('from'), entry.data['to']
            entry.states_text = f'{labels.get(source, source)} → {labels.get(target, target)}'
    return entries


# --------------------------------------------------------------------------------------------- action items
def is_overdue(item: ActionItem, *, on: dt.date | None = None) -> bool:
    """Open and due before today (in the desk's time zone)."""
    return item.done_at is None and item.due_date < (on or today())


def action_items_due(*, on: dt.date | None = None) -> QuerySet[ActionItem]:
    """Open action items due before `on` (today), oldest first."""
    return ActionItem.objects.filter(done_at__isnull=True, due_date__lt=on or today())


def _check_owner(owner) -> None:
    if owner is None:
        raise ValidationError({'owner': 'Name who owns this action.'})
    if not isinstance(owner, User) or not owner.is_active or owner.is_requester_only:
        raise ValidationError({'owner': 'The owner must be an active member of staff.'})


def _check_description(description: str) -> None:
    if not (description or '').strip():
        raise ValidationError({'description': 'Say in a line what is to be done.'})


@transaction.atomic
def action_item_add(
    *, review: PostIncidentReview, actor: Actor, description: str, owner, due_date: dt.date, notes: str = ''
) -> ActionItem:
    """A long-term action from the review, owned by a member of staff and due on a day not yet past."""
    major = review.major_incident
    _require_writer(major, actor)
    _check_description(description)
    _check_owner(owner)
    if due_date is None:
        raise ValidationError({'due_date': 'Say when it is due.'})
    if due_date < today():
        raise ValidationError({'due_date': 'The due date cannot be in the past.'})
    item = ActionItem(review=review, description=description.strip(), owner=owner, due_date=due_date, notes=notes)
    item.full_clean(exclude=['review', 'owner', 'done_by'])
    item.save()
    audit.record_created(item, actor=actor, message='Action item added', public=False)
    _note(
        major,
        actor=actor,
        message=f'Action item added: {item.description} (owner {owner}, due {audit.format_moment(due_date)})',
        data={'action': 'action_item_added', 'action_item': item.pk},
    )
    return item


@transaction.atomic
def action_item_update(*, item: ActionItem, actor: Actor, **fields: Any) -> ActionItem:
    """Edit an action item: its description, owner, due date and notes (a due date moved into the past is
    refused; one already past may stay)."""
    item = ActionItem.objects.select_for_update(of=('self',)).select_related('review__major_incident').get(pk=item.pk)
    major = item.review.major_incident
    _require_writer(major, actor)
    unknown = set(fields) - ACTION_ITEM_FIELDS
    if unknown:
        raise ValidationError({name: 'This field is not part of an action item.' for name in sorted(unknown)})
    if 'description' in fields:
        _check_description(fields['description'])
        fields['description'] = fields['description'].strip()
    if 'owner' in fields:
        _check_owner(fields['owner'])
    if 'due_date' in fields:
        if fields['due_date'] is None:
            raise ValidationError({'due_date': 'Say when it is due.'})
        if fields['due_date'] != item.due_date and fields['due_date'] < today():
            raise ValidationError({'due_date': 'The due date cannot be moved into the past.'})
    before = audit.snapshot(item)
    for name, value in fields.items():
        setattr(item, name, value if value is not None else '')
    item.full_clean(exclude=['review', 'owner', 'done_by'])
    item.save()
    entry = audit.record_changes(item, before, actor=actor, message='Action item edited')
    if entry is not None:
        _note(
            major,
            actor=actor,
            message=f'Action item edited: {item.description}',
            data={'action': 'action_item_edited', 'action_item': item.pk},
        )
    return item


@transaction.atomic
def action_item_done(*, item: ActionItem, actor: Actor, note: str = '') -> ActionItem:
    """Mark an action item done (409 if it is done already)."""
    item = ActionItem.objects.select_for_update(of=('self',)).select_related('review__major_incident').get(pk=item.pk)
    major = item.review.major_incident
    _require_writer(major, actor)
    if item.done_at is not None:
        raise Conflict(f'"{item.description}" is already done.', code='already_done')
    before = audit.snapshot(item)
    item.done_at = timezone.now()
    item.done_by = actor.user
    item.save(update_fields=['done_at', 'done_by', 'updated_at'])
    audit.record_changes(item, before, actor=actor, message=note or 'Action item done')
    message = f'Action item done: {item.description}' + (f' ({note})' if note else '')
    _note(major, actor=actor, message=message, data={'action': 'action_item_done', 'action_item': item.pk})
    return item


@transaction.atomic
def action_item_reopen(*, item: ActionItem, actor: Actor, reason: str) -> ActionItem:
    """Reopen a done action item, saying why (400 without a reason, 409 if it is open)."""
    item = ActionItem.objects.select_for_update(of=('self',)).select_related('review__major_incident').get(pk=item.pk)
    major = item.review.major_incident
    _require_writer(major, actor)
    if not (reason or '').strip():
        raise ValidationError({'reason': 'Say why the action is reopened.'})
    if item.done_at is None:
        raise Conflict(f'"{item.description}" is still open.', code='not_done')
    before = audit.snapshot(item)
    item.done_at = None
    item.done_by = None
    item.save(update_fields=['done_at', 'done_by', 'updated_at'])
    audit.record_changes(item, before, actor=actor, message=f'Reopened: {reason.strip()}')
    _note(
        major,
        actor=actor,
        message=f'Action item reopened: {item.description} ({reason.strip()})',
        data={'action': 'action_item_reopened', 'action_item': item.pk},
    )
    return item


# --------------------------------------------------------------------------------------------- the problem
@transaction.atomic
def review_open_problem(*, review: PostIncidentReview, actor: Actor):
    """Open a problem record for the review's root cause (domain §6: a major incident normally leads to one).

    Its short description is the major incident's, its symptoms and description come from the review, its services
    and CIs from the major incident; the child incidents not yet on a problem are linked to it. Refused (400)
    without a root cause and (409) while the review's problem is still open."""
    from problems.incident_links import link_incident
    from problems.models import ProblemIncident
    from problems.services import problem_create

    review = (
        PostIncidentReview.objects.select_for_update(of=('self',))
        .select_related('major_incident', 'problem')
        .get(pk=review.pk)
    )
    major = review.major_incident
    _require_writer(major, actor)
    if review.problem is not None and not review.problem.is_final:
        raise Conflict(
            f'{review.problem.number} is already open for the root cause of {major.number}.',
            code='problem_open',
            extra={'problem': review.problem.number},
        )
    if not review.root_cause.strip():
        raise ValidationError({'root_cause': 'Record the root cause in the review before opening a problem for it.'})
    description = '\n\n'.join(
        part
        for part in (
            f'Opened from the post-incident review of {major.number}.',
            review.summary.strip(),
            f'Root cause: {review.root_cause.strip()}',
        )
        if part
    )
    problem = problem_create(
        actor=actor,
        short_description=major.short_description,
        description=description,
        symptoms=review.summary.strip() or major.description,
        services=list(major.services.all()),
        cis=list(major.cis.all()),
    )
    children = (
        MajorIncidentChild.objects.filter(major_incident=major)
        .exclude(incident__in=ProblemIncident.objects.values('incident'))
        .select_related('incident')
    )
    for child in children:
        link_incident(problem=problem, incident=child.incident, actor=actor)
    review.problem = problem
    review.save(update_fields=['problem', 'updated_at'])
    audit.record(
        major,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Problem {problem.number} opened for the root cause',
        data={'problem': problem.number},
    )
    audit.record(
        problem,
        actor=actor,
        kind=TimelineKind.LINK,
        message=f'Opened from the post-incident review of major incident {major.number}',
        data={'major_incident': major.number},
    )
    return problem


# --------------------------------------------------------------------------------------------- reminders
def review_path(major: MajorIncident) -> str:
    from django.urls import reverse

    return reverse('major_incidents:review', args=[major.number])


def send_overdue_action_item_reminders(*, on: dt.date | None = None) -> int:
    """Remind the owner of every overdue action item, once per item per desk day however many runs overlap; returns
    how many reminders this run sent. The claim is an entry on the item's own timeline, written under the item's
    row lock, so a second run that day finds it and sends nothing."""
    on = on or today()
    sent = 0
    for pk in list(action_items_due(on=on).values_list('pk', flat=True)):
        with transaction.atomic():
            item = (
                ActionItem.objects.select_for_update(of=('self',))
                .select_related('owner', 'review__major_incident')
                .filter(pk=pk, done_at__isnull=True)
                .first()
            )
            if item is None:
                continue  # done since the list was read
            claims = TimelineEntry.objects.for_object(item).filter(
                kind=TimelineKind.NOTIFICATION, **{f'data__{REMINDED_ON}': on.isoformat()}
            )
            if claims.exists():
                continue
            major = item.review.major_incident
            days = (on - item.due_date).days
            audit.record(
                item,
                actor=Actor.system(),
                kind=TimelineKind.NOTIFICATION,
                message=f'{item.owner} reminded: {days} day{"s" if days != 1 else ""} overdue',
                data={REMINDED_ON: on.isoformat()},
            )
            notify.notify(
                major,
                OVERDUE_EVENT,
                [],
                label='Action item overdue',
                people=[item.owner],
                extra={
                    'description': item.description,
                    'due': audit.format_moment(item.due_date),
                    'days': days,
                    'review_url': notify.site_url(review_path(major)),
                },
            )
            sent += 1
    return sent


@shared_task(name='major_incidents.review.overdue_action_item_reminders_task')
def overdue_action_item_reminders_task() -> int:
    """The beat's entry point (a thin wrapper): reminders of overdue action items."""
    return send_overdue_action_item_reminders()


def register() -> None:
    """The reminder's text (called by MajorIncidentsConfig.ready)."""
    notify.register_event_template(OVERDUE_EVENT, OVERDUE_TEMPLATE)
