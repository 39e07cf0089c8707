"""Change advisory boards (domain §8): which board authorises a change, CAB definitions, meetings and their agendas,
members' votes and the approval policies that turn votes into an authorisation.

- **Routing** is data: `CabRule` rows, the first active one (lowest position) whose conditions match a change names
  its route (a CAB, the emergency CAB, or no CAB). `route_for(change)` answers it; the change's assessment stores the
  answer and writes each skip on the timeline with the rule's name.
- **Votes**: `cast_vote` records a member's approve / reject / abstain (a rejection needs its reason). Members of a
  regular CAB vote in one of its meetings where the change is on the agenda; emergency CAB members may vote outside
  meetings. Segregation of duties: nobody votes on a change they requested or own (`may_vote` says why not).
- **Policies** (`tally`): *all* (every voting member approves; an abstention counts against), *any* (one approval),
  *majority* (more than half the voting members approve), *N of M* (`required_approvals` approvals). The voting
  members are the board's active members other than the change's requester and owner. When the policy is met the
  authorisation is recorded (`authorized_at`, and "Authorised by CAB X: 3 of 5 approved" on the timeline) and the
  change can be scheduled (`authorization_met`); when it can no longer be met the change managers are told, and may
  reject the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from itsm import audit, hooks
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.workflow import lock

from .choices import ApprovalPolicy, CabKind, CabRoute, ChangeState, ChangeType, MeetingStatus, Vote
from .models import AgendaItem, Cab, CabMeeting, CabRule, CabVote, Change

MANAGER_ROLES = (Role.CHANGE_MANAGER, Role.ADMINISTRATOR)
PRODUCTION = 'production'


def is_change_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.has_role(*MANAGER_ROLES))


def _require_manager(actor: Actor, what: str) -> None:
    if actor.user is not None and not is_change_manager(actor.user):
        raise NotAllowed(f'Only a change manager can {what}.')


# ------------------------------------------------------------------------------------------------ routing
@dataclass(frozen=True)
class Route:
    """Who authorises a change: the route, the board (None when skipped) and the rule that chose it (None when no
    rule matched and the built-in default applied)."""

    route: str
    cab: Cab | None
    rule: CabRule | None

    @property
    def skips(self) -> bool:
        return self.route == CabRoute.SKIP

    def describe(self) -> str:
        why = f'rule "{self.rule.name}"' if self.rule else 'no CAB rule matched: the default route'
        if self.skips:
            return f'No CAB needed ({why}).'
        board = self.cab.name if self.cab else 'no active board'
        return f'Routed to {board} ({why}).'


def outside_production(change: Change) -> bool:
    """Whether every CI and service of the change is outside production (a change naming none is not)."""
    environments = [ci.environment for ci in change.cis.all()] + [s.environment for s in change.services.all()]
    return bool(environments) and all(env != PRODUCTION for env in environments)


def rule_matches(rule: CabRule, change: Change, *, outside: bool) -> bool:
    if rule.change_type and rule.change_type != change.change_type:
        return False
    return rule.outside_production is None or rule.outside_production == outside


def default_cab(kind: str) -> Cab | None:
    return Cab.objects.filter(active=True, kind=kind).order_by('name').first()


def route_for(change: Change) -> Route:
    """The route of the first active CAB rule (by position) matching `change`. Without a match: standard changes
    skip, emergency changes go to the emergency CAB, the rest to a CAB. A rule routing to a board without naming
    one takes the first active board of that kind."""
    outside = outside_production(change)
    rules = CabRule.objects.filter(active=True).select_related('cab')
    rule = next((r for r in rules if rule_matches(r, change, outside=outside)), None)
    if rule is not None:
        route = rule.route
    elif change.change_type == ChangeType.STANDARD:
        route = CabRoute.SKIP
    elif change.change_type == ChangeType.EMERGENCY:
        route = CabRoute.EMERGENCY_CAB
    else:
        route = CabRoute.CAB
    if route == CabRoute.SKIP:
        return Route(route, None, rule)
    kind = CabKind.EMERGENCY if route == CabRoute.EMERGENCY_CAB else CabKind.REGULAR
    cab = rule.cab if rule is not None and rule.cab is not None and rule.cab.active else default_cab(kind)
    return Route(route, cab, rule)


# ------------------------------------------------------------------------------------------------ CABs
def validate_cab(cab: Cab, members: list) -> None:
    errors: dict[str, str] = {}
    if cab.policy == ApprovalPolicy.N_OF_M:
        if not cab.required_approvals:
            errors['required_approvals'] = 'Say how many approvals authorise a change ("N of the members").'
        elif cab.required_approvals > len(members):
            errors['required_approvals'] = (
                f'{cab.required_approvals} approvals cannot be reached with {len(members)} member'
                f'{"" if len(members) == 1 else "s"}.'
            )
    elif cab.required_approvals:
        errors['required_approvals'] = 'Only the "N of the members" policy counts a number of approvals.'
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cab_create(
    *,
    actor: Actor,
    name: str,
    kind: str = CabKind.REGULAR,
    policy: str = ApprovalPolicy.MAJORITY,
    required_approvals: int | None = None,
    members: Iterable = (),
    active: bool = True,
) -> Cab:
    _require_manager(actor, 'define CABs')
    members = list(members or ())
    cab = Cab(name=(name or '').strip(), kind=kind, policy=policy, required_approvals=required_approvals, active=active)
    validate_cab(cab, members)
    cab.full_clean()
    cab.save()
    cab.members.set(members)
    audit.record_created(cab, actor=actor)
    return cab


CAB_FIELDS = ('name', 'kind', 'policy', 'required_approvals', 'members', 'active')


@transaction.atomic
def cab_update(*, cab: Cab, actor: Actor, **fields: Any) -> Cab:
    _require_manager(actor, 'change CABs')
    unknown = set(fields) - set(CAB_FIELDS)
    if unknown:
        raise ValidationError({name: 'This field cannot be changed here.' for name in sorted(unknown)})
    cab = lock(cab)
    before = audit.snapshot(cab)
    members = list(fields.pop('members')) if 'members' in fields else list(cab.members.all())
    for name, value in fields.items():
        setattr(cab, name, value.strip() if name == 'name' and isinstance(value, str) else value)
    validate_cab(cab, members)
    cab.full_clean()
    cab.save()
    cab.members.set(members)
    audit.record_changes(cab, before, actor=actor)
    return cab


@transaction.atomic
def cab_delete(*, cab: Cab, actor: Actor) -> None:
    _require_manager(actor, 'delete CABs')
    if cab.changes.exists() or cab.votes.exists() or cab.meetings.exists() or cab.rules.exists():
        raise Conflict(
            f'{cab} has changes, meetings, votes or rules: deactivate it instead, so their history keeps it.',
            code='cab_in_use',
        )
    audit.record(cab, actor=actor, kind=TimelineKind.DELETED, message=f'{cab} deleted', data=audit.snapshot(cab))
    cab.delete()


# ------------------------------------------------------------------------------------------------ CAB rules
RULE_FIELDS = ('position', 'name', 'change_type', 'outside_production', 'route', 'cab', 'active')


def _validate_rule(rule: CabRule) -> None:
    errors: dict[str, str] = {}
    if rule.route == CabRoute.SKIP and rule.cab_id:
        errors['cab'] = 'A rule that skips the CAB names no board.'
    if rule.cab_id and rule.route == CabRoute.EMERGENCY_CAB and rule.cab.kind != CabKind.EMERGENCY:
        errors['cab'] = f'{rule.cab} is not an emergency CAB.'
    if rule.cab_id and rule.route == CabRoute.CAB and rule.cab.kind != CabKind.REGULAR:
        errors['cab'] = f'{rule.cab} is an emergency CAB: route to the emergency CAB instead.'
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cab_rule_create(*, actor: Actor, **fields: Any) -> CabRule:
    _require_manager(actor, 'write CAB rules')
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: 'Not a field of a CAB rule.' for name in sorted(unknown)})
    rule = CabRule(**fields)
    rule.full_clean()
    _validate_rule(rule)
    rule.save()
    audit.record_created(rule, actor=actor)
    return rule


@transaction.atomic
def cab_rule_update(*, rule: CabRule, actor: Actor, **fields: Any) -> CabRule:
    _require_manager(actor, 'change CAB rules')
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: 'Not a field of a CAB rule.' for name in sorted(unknown)})
    rule = lock(rule)
    before = audit.snapshot(rule)
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.full_clean()
    _validate_rule(rule)
    rule.save()
    audit.record_changes(rule, before, actor=actor)
    return rule


@transaction.atomic
def cab_rule_delete(*, rule: CabRule, actor: Actor) -> None:
    _require_manager(actor, 'delete CAB rules')
    audit.record(rule, actor=actor, kind=TimelineKind.DELETED, message=f'{rule} deleted', data=audit.snapshot(rule))
    rule.delete()


# The defaults of a new desk (demo data, `seed_cab_rules`): the board decides, in this order.
DEFAULT_RULES = (
    (10, 'Standard changes skip', {'change_type': ChangeType.STANDARD}, CabRoute.SKIP),
    (20, 'Outside production skips', {'outside_production': True}, CabRoute.SKIP),
    (30, 'Emergency → emergency CAB', {'change_type': ChangeType.EMERGENCY}, CabRoute.EMERGENCY_CAB),
    (100, '→ CAB', {}, CabRoute.CAB),
)


@transaction.atomic
def seed_default_rules(*, actor: Actor, cab: Cab | None = None, emergency_cab: Cab | None = None) -> list[CabRule]:
    """Create the default rules that do not exist yet (by name)."""
    existing = set(CabRule.objects.values_list('name', flat=True))
    made = []
    for position, name, conditions, route in DEFAULT_RULES:
        if name in existing:
            continue
        board = {CabRoute.CAB: cab, CabRoute.EMERGENCY_CAB: emergency_cab}.get(route)
        made.append(cab_rule_create(actor=actor, position=position, name=name, route=route, cab=board, **conditions))
    return made


# ------------------------------------------------------------------------------------------------ tallies
@dataclass(frozen=True)
class Tally:
    """Where a change's votes stand against its board's policy."""

    cab: Cab | None
    voters: int  # members who may vote on this change
    approvals: int
    rejections: int
    abstentions: int
    needed: int  # approvals the policy needs
    met: bool
    impossible: bool

    @property
    def pending(self) -> int:
        return self.voters - self.approvals - self.rejections - self.abstentions

    @property
    def summary(self) -> str:
        return f'{self.approvals} of {self.voters} approved'

    @property
    def needs(self) -> str:
        """What the policy needs, in words."""
        if self.cab is None:
            return 'No CAB'
        policy = self.cab.policy
        if policy == ApprovalPolicy.ALL:
            return f'All {self.voters} voting members approve (abstentions count against)'
        if policy == ApprovalPolicy.ANY:
            return 'One approval'
        if policy == ApprovalPolicy.MAJORITY:
            return f'{self.needed} of {self.voters} (a majority) approve'
        return f'{self.needed} of {self.voters} approve'


def needed_approvals(cab: Cab, voters: int) -> int:
    if cab.policy == ApprovalPolicy.ALL:
        return voters
    if cab.policy == ApprovalPolicy.ANY:
        return 1
    if cab.policy == ApprovalPolicy.MAJORITY:
        return voters // 2 + 1
    return cab.required_approvals or 1


def tally(change: Change, *, cab: Cab | None = None, members=None, votes=None) -> Tally:
    """Count the votes of `change` on `cab` (default: its board). `members` (active members of the board) and
    `votes` (the change's votes) may come prefetched, so an agenda costs no query per change."""
    cab = cab if cab is not None else change.cab
    if cab is None:
        return Tally(None, 0, 0, 0, 0, 0, False, True)
    if members is None:
        members = [m for m in cab.members.all() if m.is_active]
    if votes is None:
        votes = list(change.votes.all())
    excluded = {change.requester_id, change.owner_id} - {None}
    voters = {m.pk for m in members if m.pk not in excluded}
    counted = [v for v in votes if v.cab_id == cab.pk and v.voter_id in voters]
    approvals = sum(1 for v in counted if v.vote == Vote.APPROVE)
    rejections = sum(1 for v in counted if v.vote == Vote.REJECT)
    abstentions = sum(1 for v in counted if v.vote == Vote.ABSTAIN)
    needed = needed_approvals(cab, len(voters))
    pending = len(voters) - len(counted)
    met = bool(voters) and approvals >= needed
    impossible = not met and (not voters or approvals + pending < needed)
    return Tally(cab, len(voters), approvals, rejections, abstentions, needed, met, impossible)


def authorization_met(change: Change) -> bool:
    """Whether `change` may be scheduled as far as the CAB is concerned: its route skips the CAB, its authorisation
    is recorded, or its board's votes meet the policy now."""
    if change.cab_route == CabRoute.SKIP:
        return True
    if change.authorized_at is not None:
        return True
    return change.cab_id is not None and tally(change).met


# ------------------------------------------------------------------------------------------------ votes
def may_vote(change: Change, user, *, member_ids: set[int] | None = None) -> str | None:
    """Why `user` may not vote on `change` now, or None when they may. `member_ids` (the board's members) may come
    prefetched, so an agenda asks no query per change."""
    if user is None or not user.is_authenticated:
        return 'Sign in to vote.'
    if change.state != ChangeState.AUTHORIZATION:
        return f'{change.number} is not awaiting authorisation.'
    if change.cab_id is None:
        return f'{change.number} is routed to no CAB.'
    if user.pk == change.requester_id:
        return f'You requested {change.number}: segregation of duties keeps you from voting on it.'
    if user.pk == change.owner_id:
        return f'You own {change.number}: segregation of duties keeps you from voting on it.'
    if member_ids is None:
        member_ids = set(change.cab.members.filter(pk=user.pk).values_list('pk', flat=True))
    if not user.is_active or user.pk not in member_ids:
        return f'You are not a member of {change.cab}, which authorises {change.number}.'
    return None


def _check_meeting(change: Change, meeting: CabMeeting | None) -> None:
    if meeting is None:
        if change.cab.kind != CabKind.EMERGENCY:
            raise Conflict(
                f'{change.cab} votes in its meetings: vote on {change.number} from a meeting whose agenda has it.',
                code='vote_in_meeting',
            )
        return
    if meeting.cab_id != change.cab_id:
        raise ValidationError({'meeting': f'This meeting is of {meeting.cab}, not of {change.cab}.'})
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict('This meeting is cancelled.', code='meeting_cancelled')
    if not meeting.agenda.filter(change=change).exists():
        raise Conflict(f'{change.number} is not on the agenda of this meeting.', code='not_on_agenda')


@transaction.atomic
def cast_vote(*, change: Change, actor: Actor, vote: str, comment: str = '', meeting: CabMeeting | None = None):
    """Record `actor`'s vote on `change` (a new vote replaces their earlier one), then see where the policy stands:
    met, the authorisation is recorded; impossible, the change managers are told."""
    change = lock(change)
    if actor.user is None:
        raise NotAllowed('A vote is cast by a member of the board.')
    if change.state != ChangeState.AUTHORIZATION or change.cab_id is None:
        raise Conflict(may_vote(change, actor.user), code='not_awaiting_authorisation')
    refusal = may_vote(change, actor.user)
    if refusal:
        raise NotAllowed(refusal, code='may_not_vote')
    if vote not in Vote.values:
        raise ValidationError({'vote': f'Vote {", ".join(Vote.labels).lower()}.'})
    comment = (comment or '').strip()
    if vote == Vote.REJECT and not comment:
        raise ValidationError({'comment': 'Say why you reject the change.'})
    if meeting is not None:
        meeting = CabMeeting.objects.select_related('cab').get(pk=meeting.pk)
    _check_meeting(change, meeting)
    if change.authorized_at is not None:
        raise Conflict(f'{change.number} is already authorised.', code='already_authorised')
    row = CabVote.objects.filter(change=change, voter=actor.user).first()
    created = row is None
    before = audit.snapshot(row) if row is not None else None
    row = row or CabVote(change=change, voter=actor.user)
    row.cab, row.vote, row.comment, row.meeting = change.cab, vote, comment, meeting
    row.save()
    if created:
        audit.record_created(row, actor=actor)
    else:
        audit.record_changes(row, before, actor=actor)
    label = Vote(vote).label.lower()
    where = f' in the meeting of {meeting.starts_at:%Y-%m-%d}' if meeting else ''
    audit.record(
        change,
        actor=actor,
        kind=TimelineKind.WORK_NOTE,
        message=f'{actor.user} voted {label}{where}' + (f': {comment}' if comment else '.'),
        data={
            'cab_vote': vote,
            'cab': change.cab.name,
            'meeting': meeting.pk if meeting else None,
            'again': not created,
        },
    )
    _settle(change, actor)
    return row


def _settle(change: Change, actor: Actor) -> Tally:
    counted = tally(change)
    if counted.met:
        before = audit.snapshot(change)
        change.authorized_at = timezone.now()
        change.save(update_fields=['authorized_at', 'updated_at'])
        audit.record(
            change,
            actor=actor,
            kind=TimelineKind.FIELD_CHANGE,
            message=f'Authorised by {counted.cab}: {counted.summary}.',
            changes=audit.diff(change, before, audit.snapshot(change)),
            data={'cab': counted.cab.name, 'approvals': counted.approvals, 'voters': counted.voters},
        )
        hooks.emit(hooks.CHANGED, change, actor=actor)
    elif counted.impossible and counted.voters:
        message = (
            f'{counted.cab} can no longer authorise {change.number} ({counted.summary}, '
            f'{counted.rejections} rejected, {counted.abstentions} abstained; needed: {counted.needs.lower()}): '
            'a change manager may reject it.'
        )
        audit.record(change, actor=actor, kind=TimelineKind.WORK_NOTE, message=message, data={'cab_blocked': True})
        from itsm.models import User
        from itsm.notify import notify

        managers = User.objects.filter(is_active=True, groups__name=Role.CHANGE_MANAGER).distinct()
        notify(
            change,
            'cab_cannot_authorise',
            (),
            label=f'{counted.cab} can no longer authorise',
            extra={'summary': counted.summary, 'needs': counted.needs},
            people=list(managers),
            actor=actor.user,
        )
    return counted


# ------------------------------------------------------------------------------------------------ meetings
MEETING_FIELDS = ('cab', 'starts_at', 'ends_at', 'window_start', 'window_end', 'status', 'location', 'minutes')


def _validate_meeting(meeting: CabMeeting) -> None:
    errors: dict[str, str] = {}
    if meeting.starts_at and meeting.ends_at and meeting.ends_at <= meeting.starts_at:
        errors['ends_at'] = 'The meeting ends after it starts.'
    if meeting.window_start and meeting.window_end and meeting.window_end <= meeting.window_start:
        errors['window_end'] = 'The agenda window ends after it starts.'
    if errors:
        raise ValidationError(errors)


def default_window(starts_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Changes planned from the meeting until a week after it."""
    return starts_at, starts_at + dt.timedelta(days=7)


@transaction.atomic
def meeting_create(
    *,
    actor: Actor,
    cab: Cab,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
    location: str = '',
    minutes: str = '',
    status: str = MeetingStatus.PLANNED,
) -> CabMeeting:
    """Plan a meeting of `cab` and build its agenda."""
    _require_manager(actor, 'plan CAB meetings')
    if starts_at is None:
        raise ValidationError({'starts_at': 'Say when the meeting starts.'})
    start, end = default_window(starts_at)
    meeting = CabMeeting(
        cab=cab,
        starts_at=starts_at,
        ends_at=ends_at or starts_at + dt.timedelta(hours=1),
        window_start=window_start or start,
        window_end=window_end or end,
        location=location,
        minutes=minutes,
        status=status,
    )
    _validate_meeting(meeting)
    meeting.full_clean()
    meeting.save()
    audit.record_created(meeting, actor=actor)
    build_agenda(meeting=meeting, actor=actor, record=False)
    return meeting


@transaction.atomic
def meeting_update(*, meeting: CabMeeting, actor: Actor, **fields: Any) -> CabMeeting:
    _require_manager(actor, 'change CAB meetings')
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise ValidationError({name: 'Not a field of a meeting.' for name in sorted(unknown)})
    meeting = lock(meeting)
    if 'cab' in fields and fields['cab'] != meeting.cab and meeting.votes.exists():
        raise ValidationError({'cab': 'Votes were cast in this meeting: it stays with its board.'})
    before = audit.snapshot(meeting)
    for name, value in fields.items():
        setattr(meeting, name, value)
    _validate_meeting(meeting)
    meeting.full_clean()
    meeting.save()
    audit.record_changes(meeting, before, actor=actor)
    return meeting


@transaction.atomic
def meeting_delete(*, meeting: CabMeeting, actor: Actor) -> None:
    _require_manager(actor, 'delete CAB meetings')
    if meeting.votes.exists():
        raise Conflict('Votes were cast in this meeting: cancel it instead.', code='meeting_has_votes')
    audit.record(
        meeting, actor=actor, kind=TimelineKind.DELETED, message=f'{meeting} deleted', data=audit.snapshot(meeting)
    )
    meeting.delete()


def awaiting(meeting: CabMeeting):
    """The changes awaiting authorisation by the meeting's board, planned to start in its window."""
    return Change.objects.filter(
        state=ChangeState.AUTHORIZATION,
        cab_id=meeting.cab_id,
        planned_start__gte=meeting.window_start,
        planned_start__lt=meeting.window_end,
    )


@transaction.atomic
def build_agenda(*, meeting: CabMeeting, actor: Actor, record: bool = True) -> list[AgendaItem]:
    """Set the agenda to the changes awaiting the board's authorisation planned in the window, by planned start.
    Changes voted on in this meeting stay on it (their votes are the minutes)."""
    _require_manager(actor, 'build agendas')
    meeting = lock(meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict('This meeting is cancelled.', code='meeting_cancelled')
    voted = set(meeting.votes.values_list('change_id', flat=True))
    wanted = set(awaiting(meeting).values_list('pk', flat=True)) | voted
    before = set(meeting.agenda.values_list('change_id', flat=True))
    meeting.agenda.exclude(change_id__in=wanted).delete()
    changes = Change.objects.filter(pk__in=wanted).order_by('planned_start', 'number')
    items = {item.change_id: item for item in meeting.agenda.all()}
    for index, change in enumerate(changes, start=1):
        item = items.get(change.pk) or AgendaItem(meeting=meeting, change=change)
        if item.pk is None or item.position != index * 10:
            item.position = index * 10
            item.save()
    if record:
        added, removed = len(wanted - before), len(before - wanted)
        audit.record(
            meeting,
            actor=actor,
            kind=TimelineKind.FIELD_CHANGE,
            message=f'Agenda built: {len(wanted)} change{"" if len(wanted) == 1 else "s"} '
            f'({added} added, {removed} removed).',
            data={'agenda': sorted(changes.values_list('number', flat=True))},
        )
    return list(meeting.agenda.select_related('change'))


@transaction.atomic
def agenda_item_delete(*, item: AgendaItem, actor: Actor) -> None:
    """Take a change off a meeting's agenda (not once it was voted on there)."""
    _require_manager(actor, 'change agendas')
    if item.meeting.votes.filter(change_id=item.change_id).exists():
        raise Conflict('The change was voted on in this meeting: it stays on the agenda.', code='voted_on')
    audit.record(
        item.meeting,
        actor=actor,
        kind=TimelineKind.FIELD_CHANGE,
        message=f'{item.change.number} taken off the agenda.',
        data={'removed': item.change.number},
    )
    item.delete()


def register() -> None:
    """Called once by the app's `ready()`: the change page shows the CAB panel (route, votes, what the policy needs,
    and the emergency CAB's vote form)."""
    from itsm.views.records import register_panel

    from .views.cab import votes_panel

    register_panel(Change, 'changes/_votes_panel.html', votes_panel)


# ------------------------------------------------------------------------------------------------ demo data
DEMO_BOARDS = (
    ('Change advisory board', CabKind.REGULAR, ApprovalPolicy.MAJORITY, ('change.manager', 'cab', 'service.owner')),
    ('Emergency CAB', CabKind.EMERGENCY, ApprovalPolicy.ANY, ('change.manager', 'cab')),
)


def load_demo(log=print) -> None:
    """The demo desk's boards (a CAB deciding by majority, an emergency CAB where one approval is enough) and the
    default CAB rules. Idempotent: boards are looked up by name, rules by name."""
    from itsm.models import User

    system = Actor.system()
    boards = {}
    for name, kind, policy, usernames in DEMO_BOARDS:
        board = Cab.objects.filter(name=name).first()
        if board is None:
            members = list(User.objects.filter(username__in=usernames))
            board = cab_create(actor=system, name=name, kind=kind, policy=policy, members=members)
            log(f'changes: {name} with {len(members)} members')
        boards[kind] = board
    made = seed_default_rules(actor=system, cab=boards[CabKind.REGULAR], emergency_cab=boards[CabKind.EMERGENCY])
    if made:
        log(f'changes: {len(made)} CAB rules ({", ".join(rule.name for rule in made)})')
