"""Business rules of on-call: schedules, layers, overrides and policies (audited writes), and paging.

Paging. A P0/P1 incident, a major incident or an incident opened by a monitoring alert whose group has an on-call
schedule pages level 1 of the group's escalation policy (who is on call, by default) once: the kit's hooks call
`consider` on every create, change and transition, and a unique constraint per record and level makes a second
call a no-op. The page goes out after commit through the notification kit (e-mail, the inbox) and as an
`oncall.page` webhook event, with a signed, expiring acknowledge link. The `oncall-escalate` sweep pages the next
level of every page left unacknowledged for its level's minutes; acknowledging (link, page or API) stops it.

Every writer of a record's paging first locks that record's first page (the sweep with SKIP LOCKED, so
overlapping sweeps leave a record being handled to whoever holds it): an escalation and an acknowledgement never
both win, and each escalation is sent once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from itsm import audit, notify, timezones
from itsm.audit import Actor
from itsm.choices import Channel, Role, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.models import SupportGroup, User

from . import rotation
from .choices import Handoff, LevelTarget, PageState
from .models import EscalationPolicy, OnCallOverride, OnCallSchedule, Page, RotationLayer, default_levels, new_feed_key

ACK_SALT = 'oncall.page.acknowledge'
FEED_SALT = 'oncall.schedule.feed'
MANAGING_ROLES = (Role.ADMINISTRATOR, Role.INCIDENT_MANAGER)


# ------------------------------------------------------------------------------------------------ who may
def can_manage(user, group: SupportGroup | None) -> bool:
    """Administrators and incident managers manage every group's on-call; a group manager their own groups."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or user.has_role(*MANAGING_ROLES):
        return True
    return group is not None and group.manager_id == user.pk


def _require_group_manager(actor: Actor, obj) -> None:
    """A new schedule or policy names its group first: who may create it depends on that group."""
    if obj.group_id is None:
        raise ValidationError({'group': 'Choose a support group.'})
    _require_manager(actor, obj.group)


def _require_manager(actor: Actor, group: SupportGroup | None) -> None:
    if actor.user is None:
        return  # system jobs and demo data
    if not can_manage(actor.user, group):
        raise NotAllowed(f'Only the manager of {group}, incident managers and administrators may change its on-call.')


def _created(obj, actor: Actor) -> None:
    audit.record_created(obj, actor=actor, public=False)


def _changed(obj, before: dict, actor: Actor) -> None:
    audit.record_changes(obj, before, actor=actor)


def _deleted(obj, actor: Actor) -> None:
    audit.record(obj, actor=actor, kind=TimelineKind.DELETED, message=f'{obj} deleted')


def _set(obj, fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({name: 'This field cannot be set here.' for name in unknown})
    for name, value in fields.items():
        setattr(obj, name, value)


def _update(queryset, pk: int, *, actor: Actor, fields: dict[str, Any], allowed: tuple[str, ...], check, clean):
    """Change one on-call object under a row lock: `check(obj)` (may this person?) runs on the stored object and
    again on the changed one, so moving it to another group or person needs the right there too; then `clean(obj)`,
    the save and the timeline entry."""
    obj = queryset.select_for_update(of=('self',)).get(pk=pk)
    check(obj)
    before = audit.snapshot(obj)
    _set(obj, fields, allowed)
    check(obj)
    clean(obj)
    obj.save()
    _changed(obj, before, actor)
    return obj


def _delete(obj, *, actor: Actor, check) -> None:
    check(obj)
    _deleted(obj, actor)
    obj.delete()


# ------------------------------------------------------------------------------------------------ schedules
SCHEDULE_FIELDS = ('group', 'name', 'time_zone', 'description')


def _clean_schedule(schedule: OnCallSchedule) -> None:
    if schedule.time_zone not in timezones.all_zones():
        raise ValidationError({'time_zone': f'"{schedule.time_zone}" is not a time zone (e.g. Europe/London).'})
    schedule.full_clean(validate_constraints=False)
    clash = OnCallSchedule.objects.filter(group_id=schedule.group_id, name__iexact=schedule.name)
    if clash.exclude(pk=schedule.pk).exists():
        raise ValidationError({'name': f'{schedule.group} already has a schedule called "{schedule.name}".'})


@transaction.atomic
def schedule_create(*, actor: Actor, **fields: Any) -> OnCallSchedule:
    schedule = OnCallSchedule()
    fields.setdefault('time_zone', settings.TIME_ZONE)
    _set(schedule, fields, SCHEDULE_FIELDS)
    _require_group_manager(actor, schedule)
    _clean_schedule(schedule)
    schedule.save()
    _created(schedule, actor)
    return schedule


@transaction.atomic
def schedule_update(*, schedule: OnCallSchedule, actor: Actor, **fields: Any) -> OnCallSchedule:
    return _update(
        OnCallSchedule.objects.select_related('group'),
        schedule.pk,
        actor=actor,
        fields=fields,
        allowed=SCHEDULE_FIELDS,
        check=lambda obj: _require_manager(actor, obj.group),
        clean=_clean_schedule,
    )


@transaction.atomic
def schedule_delete(*, schedule: OnCallSchedule, actor: Actor) -> None:
    _delete(schedule, actor=actor, check=lambda obj: _require_manager(actor, obj.group))


@transaction.atomic
def schedule_rotate_feed(*, schedule: OnCallSchedule, actor: Actor) -> OnCallSchedule:
    """A new calendar feed address; the old one stops working at once."""
    schedule = OnCallSchedule.objects.select_for_update().get(pk=schedule.pk)
    _require_manager(actor, schedule.group)
    schedule.feed_key = new_feed_key()
    schedule.save(update_fields=['feed_key', 'updated_at'])
    audit.record(schedule, actor=actor, kind=TimelineKind.FIELD_CHANGE, message='Calendar feed address replaced')
    return schedule


def feed_token(schedule: OnCallSchedule) -> str:
    return signing.dumps({'s': schedule.pk, 'k': schedule.feed_key}, salt=FEED_SALT, compress=True)


def schedule_from_feed_token(token: str) -> OnCallSchedule | None:
    """The schedule a feed token names, while its key is current; None for anything else."""
    try:
        data = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    schedule = OnCallSchedule.objects.select_related('group').filter(pk=data.get('s')).first()
    if schedule is None or schedule.feed_key != data.get('k'):
        return None
    return schedule


# ------------------------------------------------------------------------------------------------ layers
LAYER_FIELDS = (
    'schedule',
    'name',
    'position',
    'members',
    'handoff',
    'handoff_time',
    'handoff_weekday',
    'rotation_start',
    'restrict_days',
    'restrict_from',
    'restrict_to',
)


def _member_ids(value) -> list[int]:
    if not isinstance(value, list) or not value:
        raise ValidationError({'members': 'Give the people who take turns, in order (at least one).'})
    try:
        ids = [int(v) for v in value]
    except (TypeError, ValueError):
        raise ValidationError({'members': 'Members are people ids.'}) from None
    known = set(User.objects.filter(pk__in=ids, is_active=True).values_list('pk', flat=True))
    missing = [str(i) for i in ids if i not in known]
    if missing:
        raise ValidationError({'members': f'No active person with id {", ".join(missing)}.'})
    return ids


def _clean_layer(layer: RotationLayer) -> None:
    errors: dict[str, str] = {}
    try:
        layer.members = _member_ids(layer.members)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    days = layer.restrict_days or []
    if not isinstance(days, list) or any(
        not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days
    ):
        errors['restrict_days'] = 'Weekdays are numbers from 0 (Monday) to 6 (Sunday).'
    else:
        layer.restrict_days = sorted(set(days))
    if (layer.restrict_from is None) != (layer.restrict_to is None):
        errors['restrict_to'] = 'Give both ends of the covered hours, or neither.'
    elif layer.restrict_from is not None and layer.restrict_from >= layer.restrict_to:
        errors['restrict_to'] = 'The covered hours must end after they start on the same day.'
    if layer.handoff not in Handoff.values:
        errors['handoff'] = f'Choose {" or ".join(Handoff.values)}.'
    if errors:
        raise ValidationError(errors)
    layer.full_clean(validate_constraints=False)
    clash = RotationLayer.objects.filter(schedule_id=layer.schedule_id, position=layer.position).exclude(pk=layer.pk)
    if clash.exists():
        raise ValidationError({'position': f'The schedule already has a layer at position {layer.position}.'})


@transaction.atomic
def layer_create(*, actor: Actor, **fields: Any) -> RotationLayer:
    layer = RotationLayer()
    _set(layer, fields, LAYER_FIELDS)
    if layer.schedule_id is None:
        raise ValidationError({'schedule': 'Choose a schedule.'})
    _require_manager(actor, layer.schedule.group)
    _clean_layer(layer)
    layer.save()
    _created(layer, actor)
    return layer


@transaction.atomic
def layer_update(*, layer: RotationLayer, actor: Actor, **fields: Any) -> RotationLayer:
    return _update(
        RotationLayer.objects.select_related('schedule__group'),
        layer.pk,
        actor=actor,
        fields=fields,
        allowed=LAYER_FIELDS,
        check=lambda obj: _require_manager(actor, obj.schedule.group),
        clean=_clean_layer,
    )


@transaction.atomic
def layer_delete(*, layer: RotationLayer, actor: Actor) -> None:
    _delete(layer, actor=actor, check=lambda obj: _require_manager(actor, obj.schedule.group))


# ------------------------------------------------------------------------------------------------ overrides
OVERRIDE_FIELDS = ('schedule', 'person', 'start', 'end', 'note')


def _check_override_right(actor: Actor, override: OnCallOverride) -> None:
    """Managers of the group set anyone's overrides; other people who may add overrides only their own."""
    if actor.user is None or can_manage(actor.user, override.schedule.group):
        return
    if override.person_id != actor.user.pk:
        raise NotAllowed('You may only put yourself on call; the group manager covers other people.')


def _clean_override(override: OnCallOverride) -> None:
    override.full_clean()
    if override.end <= override.start:
        raise ValidationError({'end': 'The override must end after it starts.'})
    if not override.person.is_active:
        raise ValidationError({'person': f'{override.person} is not active.'})


@transaction.atomic
def override_create(*, actor: Actor, **fields: Any) -> OnCallOverride:
    override = OnCallOverride()
    _set(override, fields, OVERRIDE_FIELDS)
    if override.schedule_id is None:
        raise ValidationError({'schedule': 'Choose a schedule.'})
    if override.person_id is None and actor.user is not None:
        override.person = actor.user
    _check_override_right(actor, override)
    _clean_override(override)
    override.save()
    _created(override, actor)
    return override


@transaction.atomic
def override_update(*, override: OnCallOverride, actor: Actor, **fields: Any) -> OnCallOverride:
    return _update(
        OnCallOverride.objects.select_related('schedule__group'),
        override.pk,
        actor=actor,
        fields=fields,
        allowed=OVERRIDE_FIELDS,
        check=lambda obj: _check_override_right(actor, obj),
        clean=_clean_override,
    )


@transaction.atomic
def override_delete(*, override: OnCallOverride, actor: Actor) -> None:
    _delete(override, actor=actor, check=lambda obj: _check_override_right(actor, obj))


# ------------------------------------------------------------------------------------------------ policies
POLICY_FIELDS = ('group', 'name', 'levels', 'active')


def clean_levels(levels, group: SupportGroup | None) -> list[dict]:
    """Levels as stored: [{'notify', 'minutes'?, 'schedule'?, 'person'?}], every level but the last waiting at
    least one minute; refusals name the level."""
    if not isinstance(levels, list) or not levels:
        raise ValidationError({'levels': 'Give at least one level, e.g. [{"notify": "schedule", "minutes": 15}].'})
    if len(levels) > 10:
        raise ValidationError({'levels': 'At most 10 levels.'})
    cleaned = []
    for number, level in enumerate(levels, start=1):
        where = f'Level {number}'
        if not isinstance(level, dict) or level.get('notify') not in LevelTarget.values:
            raise ValidationError({'levels': f'{where}: "notify" must be one of {", ".join(LevelTarget.values)}.'})
        item: dict[str, Any] = {'notify': level['notify']}
        minutes = level.get('minutes')
        if number < len(levels) or minutes is not None:
            if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 24 * 60:
                raise ValidationError({'levels': f'{where}: "minutes" must be a whole number from 1 to 1440.'})
            item['minutes'] = minutes
        if level['notify'] == LevelTarget.PERSON:
            person = level.get('person')
            if not isinstance(person, int) or not User.objects.filter(pk=person, is_active=True).exists():
                raise ValidationError({'levels': f'{where}: "person" must be the id of an active person.'})
            item['person'] = person
        if level['notify'] == LevelTarget.SCHEDULE and level.get('schedule') is not None:
            schedule = level.get('schedule')
            if not isinstance(schedule, int) or not OnCallSchedule.objects.filter(pk=schedule, group=group).exists():
                raise ValidationError({'levels': f'{where}: "schedule" must be the id of a schedule of {group}.'})
            item['schedule'] = schedule
        cleaned.append(item)
    return cleaned


def _clean_policy(policy: EscalationPolicy) -> None:
    policy.levels = clean_levels(policy.levels, policy.group if policy.group_id else None)
    policy.full_clean(validate_unique=False)
    if EscalationPolicy.objects.filter(group_id=policy.group_id).exclude(pk=policy.pk).exists():
        raise ValidationError({'group': f'{policy.group} already has an escalation policy.'})


@transaction.atomic
def policy_create(*, actor: Actor, **fields: Any) -> EscalationPolicy:
    policy = EscalationPolicy()
    _set(policy, fields, POLICY_FIELDS)
    _require_group_manager(actor, policy)
    _clean_policy(policy)
    policy.save()
    _created(policy, actor)
    return policy


@transaction.atomic
def policy_update(*, policy: EscalationPolicy, actor: Actor, **fields: Any) -> EscalationPolicy:
    return _update(
        EscalationPolicy.objects.select_related('group'),
        policy.pk,
        actor=actor,
        fields=fields,
        allowed=POLICY_FIELDS,
        check=lambda obj: _require_manager(actor, obj.group),
        clean=_clean_policy,
    )


@transaction.atomic
def policy_delete(*, policy: EscalationPolicy, actor: Actor) -> None:
    _delete(policy, actor=actor, check=lambda obj: _require_manager(actor, obj.group))


# ------------------------------------------------------------------------------------------------ rotation
def zone_of(schedule: OnCallSchedule):
    return timezones.zone_named(schedule.time_zone)


def as_layer(row: RotationLayer) -> rotation.Layer:
    return rotation.Layer(
        members=tuple(row.members or ()),
        handoff=row.handoff,
        handoff_time=row.handoff_time,
        handoff_weekday=row.handoff_weekday,
        start=row.rotation_start,
        days=frozenset(row.restrict_days or ()),
        from_time=row.restrict_from,
        to_time=row.restrict_to,
        name=row.name,
    )


def rotation_of(schedule: OnCallSchedule, start: dt.datetime, end: dt.datetime):
    """(layers, overrides) of `schedule` for the window [start, end), in the rotation module's terms; two
    queries (the layers and overrides prefetched on `schedule` are used when present)."""
    cache = getattr(schedule, '_prefetched_objects_cache', {})
    rows = cache['layers'] if 'layers' in cache else schedule.layers.all()
    layers = [as_layer(row) for row in sorted(rows, key=lambda r: (r.position, r.pk))]
    overrides_rows = cache['overrides'] if 'overrides' in cache else schedule.overrides.all()
    overrides = [
        rotation.Override(o.person_id, o.start, o.end)
        for o in sorted(overrides_rows, key=lambda o: (o.created_at, o.pk))
        if o.end > start and o.start < end
    ]
    return layers, overrides


def on_call_at(schedule: OnCallSchedule, at: dt.datetime | None = None) -> int | None:
    """The id of the person on call on `schedule` at `at` (now), or None."""
    at = at or timezone.now()
    layers, overrides = rotation_of(schedule, at, at + dt.timedelta(seconds=1))
    return rotation.who_at(layers, overrides, at, zone_of(schedule))[0]


def shifts_of(schedule: OnCallSchedule, start: dt.datetime, end: dt.datetime) -> list[rotation.Shift]:
    layers, overrides = rotation_of(schedule, start, end)
    return rotation.shifts(layers, overrides, start, end, zone_of(schedule))


# ------------------------------------------------------------------------------------------------ paging
def paging_reason(record) -> str:
    """Why `record` pages its group's on-call person ('' when it does not)."""
    opts = record._meta
    if not getattr(record, 'is_open', False):
        return ''
    if opts.app_label == 'major_incidents' and opts.model_name == 'majorincident':
        return 'Major incident declared'
    if opts.app_label == 'incidents' and getattr(record, 'kind', '') == 'incident':
        if getattr(record, 'channel', '') == 'monitoring':
            return 'Incident opened by a monitoring alert'
        if getattr(record, 'priority', None) in settings.ONCALL_PAGE_PRIORITIES:
            return f'P{record.priority} incident'
    return ''


def paging_group(record) -> SupportGroup | None:
    """The group whose on-call is paged: the record's group (a major incident's source incident's otherwise)."""
    if record.assignment_group_id:
        return record.assignment_group
    source = getattr(record, 'source_incident', None)
    if source is not None and source.assignment_group_id:
        return source.assignment_group
    return None


def _record_filter(record) -> dict[str, Any]:
    return {'content_type': ContentType.objects.get_for_model(record), 'object_id': record.pk}


def consider(record, *, actor: Actor | None = None, **kwargs) -> Page | None:
    """The hooks' subscriber: page `record`'s on-call now if it qualifies and was never paged."""
    reason = paging_reason(record)
    if not reason:
        return None
    group = paging_group(record)
    if group is None or not OnCallSchedule.objects.filter(group=group).exists():
        return None
    if Page.objects.filter(**_record_filter(record)).exists():
        return None
    return page_record(record, group=group, reason=reason)


def levels_for(group: SupportGroup) -> list[dict]:
    policy = EscalationPolicy.objects.filter(group=group, active=True).first()
    return policy.levels if policy is not None else default_levels()


def _resolve(level: dict, group: SupportGroup, now: dt.datetime) -> tuple[User | None, OnCallSchedule | None]:
    """Who a level notifies at `now`, and through which schedule."""
    if level['notify'] == LevelTarget.PERSON:
        return User.objects.filter(pk=level.get('person'), is_active=True).first(), None
    if level['notify'] == LevelTarget.MANAGER:
        manager = group.manager
        return (manager if manager is not None and manager.is_active else None), None
    schedules = OnCallSchedule.objects.filter(group=group).prefetch_related('layers', 'overrides')
    if level.get('schedule'):
        schedules = schedules.filter(pk=level['schedule'])
    for schedule in schedules.order_by('name', 'pk'):
        person_id = on_call_at(schedule, now)
        person = User.objects.filter(pk=person_id, is_active=True).first() if person_id else None
        if person is not None:
            return person, schedule
    return None, None


def _page_from(record, *, group, levels, first: int, reason: str, now: dt.datetime) -> Page | None:
    """Page the first level from `first` (1-based) that reaches somebody; None when none does."""
    for number in range(first, len(levels) + 1):
        level = levels[number - 1]
        person, schedule = _resolve(level, group, now)
        if person is None:
            continue
        minutes = level.get('minutes') if number < len(levels) else None
        try:
            with transaction.atomic():
                page = Page.objects.create(
                    **_record_filter(record),
                    record_number=record.number,
                    record_title=str(getattr(record, 'short_description', ''))[:300],
                    group=group,
                    schedule=schedule,
                    level=number,
                    target=level['notify'],
                    recipient=person,
                    reason=reason[:200],
                    sent_at=now,
                    escalate_at=now + dt.timedelta(minutes=minutes) if minutes else None,
                )
        except IntegrityError:
            return None  # somebody paged this level of this record first
        # Robust: the record has committed; a broker that cannot take the page is logged (the escalation sweep still
        # wakes the next level), never the request's failure.
        transaction.on_commit(lambda pk=page.pk: _send_task().delay(pk), robust=True)
        return page
    return None


def page_record(record, *, group: SupportGroup, reason: str, now: dt.datetime | None = None) -> Page | None:
    """Page level 1 of `group`'s escalation for `record` (the first level that reaches somebody)."""
    now = now or timezone.now()
    page = _page_from(record, group=group, levels=levels_for(group), first=1, reason=reason, now=now)
    if page is None:
        audit.record(
            record,
            actor=Actor.system(),
            kind=TimelineKind.NOTIFICATION,
            message=f'{reason}: nobody of {group} could be paged (no one on call and no manager).',
            data={'event': 'oncall.page', 'paged': False},
        )
    return page


def _send_task():
    from .tasks import send_page_task

    return send_page_task


def ack_token(page: Page) -> str:
    return signing.TimestampSigner(salt=ACK_SALT).sign_object({'p': page.pk, 'r': page.recipient_id})


def ack_url(page: Page) -> str:
    return notify.site_url(reverse('oncall:acknowledge', args=[ack_token(page)]))


class LinkRefused(Exception):
    """An acknowledge link that is forged, altered or expired; `reason` says which, for the page shown."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def page_from_token(token: str) -> Page:
    try:
        data = signing.TimestampSigner(salt=ACK_SALT).unsign_object(
            token, max_age=dt.timedelta(hours=settings.ONCALL_ACK_LINK_HOURS)
        )
    except signing.SignatureExpired:
        raise LinkRefused('expired') from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise LinkRefused('invalid') from None
    if not isinstance(data, dict):
        raise LinkRefused('invalid')
    page = Page.objects.select_related('recipient', 'acknowledged_by', 'group').filter(pk=data.get('p')).first()
    if page is None or page.recipient_id != data.get('r'):
        raise LinkRefused('invalid')
    return page


def page_data(page: Page) -> dict[str, Any]:
    return {
        'id': page.pk,
        'level': page.level,
        'target': page.target,
        'recipient': page.recipient.username if page.recipient_id else None,
        'group': str(page.group) if page.group_id else None,
        'reason': page.reason,
        'state': page.state,
        'sent_at': page.sent_at.isoformat(),
        'acknowledged_at': page.acknowledged_at.isoformat() if page.acknowledged_at else None,
        'acknowledged_by': page.acknowledged_by.username if page.acknowledged_by_id else None,
    }


def _webhook(record, event_type: str, page: Page, actor: Actor) -> None:
    from webhooks.services import enqueue_event

    enqueue_event(record, event_type, actor=actor, details={'page': page_data(page)})


@transaction.atomic
def send_page(*, page_id: int) -> notify.Message | None:
    """The worker's half: e-mail (and every other channel of the kit) with the acknowledge link, the timeline
    entry, and the `oncall.page` webhook event. Nothing for a page acknowledged or stopped in the meantime."""
    page = Page.objects.select_related('recipient', 'group', 'schedule').filter(pk=page_id).first()
    if page is None or page.recipient is None or page.state in (PageState.ACKNOWLEDGED, PageState.STOPPED):
        return None
    record = page.record
    if record is None:
        return None
    person = page.recipient
    on_call = f'on call for {page.group}' if page.target == LevelTarget.SCHEDULE else page.get_target_display()
    message = notify.deliver(
        record,
        'page',
        [person.email] if person.email else [],
        label=f'On-call page, level {page.level}',
        extra={notify.PEOPLE_KEY: [person.pk]},
        template='oncall/email/page.txt',
        context={'page': page, 'ack_url': ack_url(page), 'hours': settings.ONCALL_ACK_LINK_HOURS},
        data={'event': 'oncall.page', 'page': page.pk, 'level': page.level},
        mandatory=True,  # a page wakes the person it is for, whatever mail they turned off
        summary=f'Paged {person.get_full_name() or person} ({on_call}, level {page.level}): {page.reason}',
        key=f'oncall-page-{page.pk}',  # a task run again after a lost worker sends the page (and its event) once
    )
    if message is not None:
        _webhook(record, 'oncall.page', page, Actor.system())
    return message


def _lock_paging(content_type_id: int, object_id: int, *, skip_locked: bool) -> bool:
    """Lock the record's first page (the paging's lock); False when another transaction holds it and
    `skip_locked`."""
    first = (
        Page.objects.filter(content_type_id=content_type_id, object_id=object_id)
        .order_by('level')
        .values_list('pk', flat=True)
        .first()
    )
    if first is None:
        return False
    locked = Page.objects.select_for_update(skip_locked=skip_locked).filter(pk=first).values_list('pk', flat=True)
    return bool(list(locked))


def escalate_due(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """The `oncall-escalate` sweep: page the next level of every page unacknowledged past its minutes. Safe to
    run in parallel: each escalation happens once. Returns how many pages escalated."""
    now = now or timezone.now()
    due = list(
        Page.objects.filter(state=PageState.OPEN, escalate_at__lte=now)
        .order_by('escalate_at', 'pk')
        .values_list('pk', 'content_type_id', 'object_id')[:limit]
    )
    return sum(1 for pk, ct, obj in due if _escalate(pk, ct, obj, now))


@transaction.atomic
def _escalate(page_id: int, content_type_id: int, object_id: int, now: dt.datetime) -> bool:
    if not _lock_paging(content_type_id, object_id, skip_locked=True):
        return False  # another sweep (or an acknowledgement) is handling this record
    page = Page.objects.select_for_update(of=('self',)).select_related('group', 'recipient').get(pk=page_id)
    if page.state != PageState.OPEN or page.escalate_at is None or page.escalate_at > now:
        return False
    siblings = Page.objects.filter(content_type_id=content_type_id, object_id=object_id)
    if siblings.filter(state=PageState.ACKNOWLEDGED).exists():
        return False
    record = page.record
    if record is None or not getattr(record, 'is_open', True) or page.group is None:
        # Resolved, closed or gone since it was paged: nobody more is woken for it.
        page.state, page.escalate_at = PageState.STOPPED, None
        page.save(update_fields=['state', 'escalate_at'])
        return False
    page.state, page.escalated_at = PageState.ESCALATED, now
    page.save(update_fields=['state', 'escalated_at'])
    waited = int((now - page.sent_at).total_seconds() // 60)
    levels = levels_for(page.group)
    following = _page_from(record, group=page.group, levels=levels, first=page.level + 1, reason=page.reason, now=now)
    if following is not None:
        target = following.recipient.get_full_name() or following.recipient
        text = f'On-call page to {page.recipient} not acknowledged in {waited} min: escalated to level '
        text += f'{following.level} ({target})'
    else:
        text = f'On-call page to {page.recipient} not acknowledged in {waited} min, and no further level to page'
    audit.record(
        record,
        actor=Actor.system(),
        kind=TimelineKind.NOTIFICATION,
        message=text,
        data={'event': 'oncall.escalated', 'page': page.pk, 'next_page': following.pk if following else None},
    )
    _webhook(record, 'oncall.escalated', page, Actor.system())
    return True


def _may_acknowledge(actor: Actor, page: Page, via: str) -> None:
    if via == 'link' or actor.user is None:
        return  # the signed link is the paged person's proof
    if actor.user.pk == page.recipient_id or can_manage(actor.user, page.group):
        return
    raise NotAllowed('Only the person paged, the group manager and incident managers may acknowledge this page.')


@transaction.atomic
def page_acknowledge(*, page: Page, actor: Actor, via: str = 'ui', now: dt.datetime | None = None) -> Page:
    """Acknowledge `page`: its record's escalation stops. A second acknowledgement is refused with who
    acknowledged and when (409)."""
    now = now or timezone.now()
    _may_acknowledge(actor, page, via)
    _lock_paging(page.content_type_id, page.object_id, skip_locked=False)
    pages = list(
        Page.objects.select_for_update()
        .filter(content_type_id=page.content_type_id, object_id=page.object_id)
        .order_by('level')
    )
    done = next((p for p in pages if p.state == PageState.ACKNOWLEDGED), None)
    if done is not None:
        who = User.objects.filter(pk=done.acknowledged_by_id).first()
        with timezone.override(timezones.zone_of(actor.user)):
            when = timezones.format_datetime(done.acknowledged_at)
        raise Conflict(
            f'Already acknowledged by {who.get_full_name() or who if who else "someone"} at {when}.',
            code='already_acknowledged',
            extra={'acknowledged_by': who.username if who else None, 'acknowledged_at': done.acknowledged_at},
        )
    page = next(p for p in pages if p.pk == page.pk)
    by = actor.user or page.recipient
    page.state, page.acknowledged_at, page.acknowledged_by, page.acknowledged_via = (
        PageState.ACKNOWLEDGED,
        now,
        by,
        via,
    )
    page.escalate_at = None
    page.save(update_fields=['state', 'acknowledged_at', 'acknowledged_by', 'acknowledged_via', 'escalate_at'])
    for other in pages:
        if other.pk != page.pk and other.state == PageState.OPEN:
            other.state, other.escalate_at = PageState.STOPPED, None
            other.save(update_fields=['state', 'escalate_at'])
    record = page.record
    if record is not None:
        channel = Channel.EMAIL if via == 'link' else actor.channel
        audit.record(
            record,
            actor=Actor(user=by, channel=channel),
            kind=TimelineKind.NOTIFICATION,
            message=f'On-call page (level {page.level}) acknowledged by {by.get_full_name() or by}: escalation stopped',
            data={'event': 'oncall.acknowledged', 'page': page.pk},
            at=now,
        )
        _webhook(record, 'oncall.acknowledged', page, Actor(user=by, channel=channel))
    return page
