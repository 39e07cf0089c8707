"""Tickets with their whole lives: lifecycle steps, history, SLA and OLA clocks, pauses, warnings and breaches.

Each ticket gets a story — opened, assigned (to a service desk or straight to the service's group), perhaps
handed on or escalated, accepted, perhaps put on hold, commented on, completed, perhaps reopened, closed by the
caller or automatically — with delays drawn per priority. Only the steps that lie before `now` happen, so the
tickets of the last days are still open in every state. From the steps that happened the generator writes what
the services would have written: the ticket row (milestones, counters, current group and assignee), one
timeline entry per step (`itsm.workflow` transitions with their field changes, comments and work notes), and
the clocks `sla.services` keeps — response and resolution from opening, OLA accept and resolve per stint with
a group that has an OLA, stopped on acceptance, completion or hand-over, paused while Pending, run again after a
reopen — with their pauses, each warning and breach claimed once (`ClockEvent`) and announced in the timeline as
the sweep does. Clocks still running have their next check in the future, so nothing is left for the sweep.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from incidents.choices import TICKET_WORKFLOW, PendingReason, ResolutionCode, TicketChannel, TicketState
from incidents.models import Ticket
from incidents.priority import matrix
from itsm.audit import audited_fields
from itsm.choices import Attention, Impact, TicketKind, Tier, Urgency
from itsm.errors import InvalidTransition
from itsm.fields import default_label
from itsm.models import TimelineEntry
from itsm.numbering import format_number
from sla import business_time
from sla.choices import BREACH_PERCENT, ClockKind
from sla.models import ClockEvent, ClockPause, SlaClock, format_minutes

from .estate import Estate
from .reference import CATEGORIES, DESKS, Agreement, Desk, Team
from .writer import TIMESTAMPS, Table

HOUR, DAY = 3600, 86400
CASE_SHARE = 0.15
PRIORITIES = ((0, 0.005), (1, 0.04), (2, 0.15), (3, 0.55), (4, 0.255))
CHANNELS = (('portal', 0.4), ('email', 0.3), ('phone', 0.2), ('monitoring', 0.07), ('api', 0.02), ('walk_in', 0.01))
# Median minutes from opening to assignment, from assignment to acceptance (at a service desk, elsewhere) and
# of work once accepted (a service desk fixes what it can quickly, or hands the ticket on).
ASSIGN_MEDIAN = {0: 2, 1: 4, 2: 8, 3: 15, 4: 30}
DESK_ACCEPT_MEDIAN = {0: 2, 1: 3, 2: 5, 3: 10, 4: 20}
ACCEPT_MEDIAN = {0: 5, 1: 10, 2: 20, 3: 35, 4: 60}
WORK_MEDIAN = {0: 120, 1: 300, 2: 720, 3: 1440, 4: 2880}
DESK_WORK_MEDIAN, HAND_ON_MEDIAN = 40, 20
# Shares of tickets put on hold (for about a day), on a long hold (a vendor, a part, a change: about two weeks),
# reopened by the caller, and closed by the caller rather than automatically.
PENDING_SHARE, LONG_HOLD_SHARE, REOPEN_SHARE, CONFIRM_SHARE = 0.12, 0.05, 0.04, 0.35
LONG_HOLDS = (
    (PendingReason.VENDOR, 0.4),
    (PendingReason.PART, 0.3),
    (PendingReason.CHANGE, 0.2),
    (PendingReason.PROBLEM, 0.1),
)
RESOLUTIONS = {
    'incident': (
        (ResolutionCode.SOLVED_PERMANENTLY, 0.45),
        # No "known error": that code needs a known error applied to the ticket, and the generated desk has none.
        (ResolutionCode.SOLVED_WORKAROUND, 0.22),
        (ResolutionCode.SOLVED_REMOTELY, 0.15),
        (ResolutionCode.USER_ERROR, 0.05),
        (ResolutionCode.NOT_REPRODUCIBLE, 0.05),
        (ResolutionCode.DUPLICATE, 0.04),
        (ResolutionCode.SOLVED_BY_CHANGE, 0.02),
        (ResolutionCode.CANCELLED, 0.02),
    ),
    'case': (
        (ResolutionCode.REQUEST_FULFILLED, 0.6),
        (ResolutionCode.SOLVED_REMOTELY, 0.2),
        (ResolutionCode.USER_ERROR, 0.1),
        (ResolutionCode.CANCELLED, 0.1),
    ),
}
PENDING = (
    (PendingReason.CUSTOMER, 0.45),
    (PendingReason.VENDOR, 0.25),
    (PendingReason.PART, 0.1),
    (PendingReason.CHANGE, 0.1),
    (PendingReason.PROBLEM, 0.05),
    (PendingReason.EVENT, 0.05),
)
SUMMARIES = {
    'Hardware': (
        'Laptop does not start',
        'Screen flickers',
        'Docking station not detected',
        'Printer jams',
        'Battery drains within an hour',
        'Keyboard keys stuck',
    ),
    'Software': (
        'Application crashes on start',
        'Cannot save documents',
        'Error after the latest update',
        'Licence expired message',
        'Report export fails',
        'Slow response when searching',
    ),
    'Network': (
        'VPN drops every few minutes',
        'No Wi-Fi on the third floor',
        'Site link down',
        'Very slow network in the branch',
        'Cannot reach the intranet',
        'Firewall blocks supplier portal',
    ),
    'Email': (
        'Mails stuck in the outbox',
        'Calendar invitations not arriving',
        'Mailbox full',
        'Shared mailbox not visible',
        'Phishing mail received',
    ),
    'Access': (
        'Account locked',
        'Password reset needed',
        'No access to the shared drive',
        'MFA token lost',
        'New starter needs accounts',
    ),
    'Database': ('Queries time out', 'Backup job failed', 'Replication lag alarm', 'Tablespace almost full'),
    'Server': ('Server not responding', 'Disk space alarm', 'High CPU load', 'Patch installation failed'),
    'Storage': ('File share not reachable', 'Quota exceeded', 'Restore of a deleted folder'),
    'Security': ('Malware alert on workstation', 'Suspicious login reported', 'Vulnerability scan finding'),
    'Telephony': ('Desk phone has no dial tone', 'Softphone drops calls', 'Conference room system offline'),
}
MONITORING_SUMMARIES = (
    'Availability check failed',
    'Response time above threshold',
    'Error rate above threshold',
    'Certificate expires in 7 days',
    'Disk usage above 90 %',
    'Service restarted unexpectedly',
)
AGENT_COMMENTS = (
    'We are looking into it and will update you shortly.',
    'Could you try again and tell us whether it works now?',
    'A technician will contact you today.',
    'We have applied a fix; please check on your side.',
)
CALLER_COMMENTS = (
    'Any update on this?',
    'It happened again this morning.',
    'Thanks, I will try that.',
    'Still not working for me.',
)
WORK_NOTES = (
    'Checked the logs: errors since the last deployment.',
    'Reproduced on a test machine.',
    'Vendor case opened.',
    'Restarted the service, monitoring for now.',
    'Related to a known problem, linked the workaround.',
)
NOTES = (
    'Restarted the service and verified with the caller.',
    'Applied the documented workaround.',
    'Replaced the faulty part.',
    'Reset the configuration to the standard.',
    'Fixed permissions.',
)
REJECTIONS = ('The problem came back this morning.', 'Still not working.', 'Only partly fixed.')
ESCALATIONS = ('Needs {group}.', 'Beyond first-line scope: handing to {group}.', 'Root cause lies with {group}.')
RESOLUTION_LABELS = dict(ResolutionCode.choices)
PENDING_LABELS = dict(PendingReason.choices)
CHANNEL_LABELS = dict(TicketChannel.choices)
KIND_LABELS = dict(TicketKind.choices)
TIMELINE_CHANNEL = {
    'portal': 'ui',
    'email': 'email',
    'phone': 'ui',
    'walk_in': 'ui',
    'monitoring': 'monitoring',
    'api': 'api',
}
CLOCK_LABELS = dict(ClockKind.choices)

TICKET_TABLE = Table(
    Ticket,
    [
        'id',
        'created_at',
        'updated_at',
        'number',
        'kind',
        'short_description',
        'description',
        'state',
        'caller_id',
        'opened_by_id',
        'channel',
        'category_id',
        'subcategory_id',
        'symptom',
        'service_id',
        'ci_id',
        'impact',
        'urgency',
        'priority',
        'assignment_group_id',
        'assignee_id',
        'pending_reason',
        'pending_note',
        'pending_until',
        'resolution_code',
        'resolution_notes',
        'reassignment_count',
        'reopen_count',
        'opened_at',
        'assigned_at',
        'accepted_at',
        'completed_at',
        'closed_at',
        'attention',
        'attention_since',
    ],
)
CLOCK_TABLE = Table(
    SlaClock,
    [
        'id',
        'created_at',
        'updated_at',
        'content_type_id',
        'object_id',
        'kind',
        'name',
        'sla_id',
        'ola_id',
        'support_group_id',
        'calendar_id',
        'target_minutes',
        'warning_percents',
        'pause_states',
        'state',
        'started_at',
        'elapsed',
        'run_started_at',
        'due_at',
        'next_check_at',
        'next_percent',
        'warned_at',
        'breached_at',
        'stopped_at',
        'stop_reason',
    ],
)
PAUSE_TABLE = Table(ClockPause, ['id', 'clock_id', 'started_at', 'ended_at', 'ticket_state', 'reason'])
EVENT_TABLE = Table(
    ClockEvent,
    ['id', 'clock_id', 'percent', 'kind', 'crossed_at', 'at', 'claim', 'superseded', 'notified_at', 'recipients'],
)
TIMELINE_TABLE = Table(
    TimelineEntry,
    ['id', 'content_type_id', 'object_id', 'kind', 'actor_id', 'channel', 'at', 'message', 'changes', 'data', 'public'],
)
TABLES = (TICKET_TABLE, CLOCK_TABLE, PAUSE_TABLE, EVENT_TABLE, TIMELINE_TABLE)


@functools.lru_cache(maxsize=4096)
def _j(value) -> str:
    """JSON text of a value (the generator repeats the same few hundred strings, hence the cache)."""
    return json.dumps(value, ensure_ascii=False)


_iso = TIMESTAMPS.json
_minutes_text = functools.lru_cache(maxsize=256)(format_minutes)


class Calendar:
    """Business time on an agreement's calendar in whole seconds; plain arithmetic around the clock."""

    def __init__(self, calendar):
        self.model, self.id, self.name = calendar, calendar.pk, calendar.name
        self.always = calendar.schedule().always_open

    def between(self, start: int, end: int) -> int:
        if self.always:
            return end - start
        return int(business_time.business_seconds_between(self.model, _dt(start), _dt(end)))

    def add(self, start: int, seconds: int) -> int:
        if self.always or seconds <= 0:
            return start + max(seconds, 0)
        moment = business_time.add_business_time(self.model, _dt(start), seconds)
        return math.ceil(moment.timestamp())


def _dt(seconds: int):
    return TIMESTAMPS.value(seconds)


@dataclass
class Ids:
    """The next primary key of each table (ids are assigned here so rows can point at each other)."""

    ticket: int
    clock: int
    pause: int
    event: int
    timeline: int


@dataclass
class Stint:
    """A spell of the ticket with one group: from assignment to hand-over, or to the end."""

    team: Team
    start: int
    accepted: int | None = None
    end: int | None = None  # hand-over time


class Tickets:
    """Writes `count` tickets opened between `start` and `now` (and their clocks, pauses, events, history)."""

    def __init__(
        self,
        desk: Desk,
        *,
        ids: Ids,
        numbers: dict[str, int],
        now: int,
        days: int,
        count: int,
        rng: random.Random,
        ticket_type_id: int,
    ):
        """Reads what it needs from the database (priority matrix, calendars); `start` then takes the estate and
        the writer, after which it touches the database no more."""
        self.desk, self.ids, self.numbers, self.now, self.rng = desk, ids, numbers, now, rng
        self.count, self.start_at = count, now - days * DAY
        self.ticket_type = ticket_type_id
        self.caller_weights = _cumulative([1 / (1 + i) ** 0.5 for i in range(len(desk.callers))])
        agreements = [*desk.slas.values(), *(t.ola for t in desk.teams.values() if t.ola)]
        self.calendars = {a.calendar.pk: Calendar(a.calendar) for a in agreements}
        self.teams = desk.teams
        self.team_keys = list(desk.teams)
        self.team_names = {t.id: _j(t.name) for t in desk.teams.values()}
        self.names = {pk: _j(name) for pk, name in desk.names.items()}
        self.auto_close = settings.INCIDENT_AUTO_CLOSE_DAYS * DAY
        self.hours = self._hours(days)
        self.cells = priority_cells()
        self.category_of_group = self._categories()
        # A change is stored as [field, before, after], with the label fourth when it is not the field's own
        # (`itsm.fields.FieldChangesField`): the suffix to write after the values.
        self.label_suffix = {
            f.name: '' if str(f.verbose_name) == default_label(f.name) else f', {_j(str(f.verbose_name))}'
            for f in audited_fields(Ticket)
        }
        self.created_fields = [f.name for f in audited_fields(Ticket)]
        self.zone = timezone.get_current_timezone()
        self.totals = dict.fromkeys(('tickets', 'clocks', 'pauses', 'events', 'timeline'), 0)
        self.write: Callable[[Table, tuple], None] = _unstarted

    def start(self, estate: Estate, *, write: Callable[[Table, tuple], None]) -> None:
        """The services (and their CIs) tickets are about, and where rows go."""
        self.services, self.service_names = estate.services, estate.service_names
        self.service_homes, self.service_cis, self.ci_names = estate.service_homes, estate.service_cis, estate.ci_names
        # Some services are much busier than others (Zipf-like weights), as are some callers.
        self.service_weights = _cumulative([1 / (1 + i) ** 0.8 for i in range(len(self.services))])
        self.write = write

    # --------------------------------------------------------------------------------------------- set-up
    def _hours(self, days: int) -> list[float]:
        """Cumulative share of tickets opened by each hour of the period: busy weekdays, quiet nights."""
        hour_weight = [
            0.15,
            0.1,
            0.1,
            0.1,
            0.15,
            0.3,
            0.6,
            1.2,
            2.0,
            2.4,
            2.3,
            2.1,
            1.6,
            2.0,
            2.2,
            2.0,
            1.7,
            1.2,
            0.8,
            0.6,
            0.5,
            0.4,
            0.3,
            0.2,
        ]
        weights = []
        for hour in range(days * 24):
            moment = self.start_at + hour * HOUR
            weekday = (moment // DAY + 3) % 7  # 1970-01-01 was a Thursday
            weights.append(hour_weight[moment // HOUR % 24] * (0.35 if weekday >= 5 else 1.0))
        return _cumulative(weights)

    def _categories(self) -> dict[str, list[str]]:
        by_group: dict[str, list[str]] = {}
        for name, _subs, groups in CATEGORIES:
            for key in groups:
                by_group.setdefault(key, []).append(name)
        return by_group

    def calendar(self, agreement: Agreement) -> Calendar:
        return self.calendars[agreement.calendar.pk]

    # --------------------------------------------------------------------------------------------- helpers
    def _opened(self, index: int) -> int:
        """Opening times follow the hourly profile and rise with the index (numbers grow with time)."""
        share = (index + self.rng.random()) / self.count
        hour = min(bisect.bisect_left(self.hours, share), len(self.hours) - 1)
        return self.start_at + hour * HOUR + self.rng.randrange(HOUR)

    def _minutes(self, median: float, sigma: float = 1.0) -> int:
        """A log-normal delay in seconds (at least half a minute) around `median` minutes."""
        return max(30, int(median * 60 * math.exp(self.rng.gauss(0, sigma))))

    def _entry(
        self,
        ticket: int,
        kind: str,
        actor: int | None,
        channel: str,
        at: int,
        message: str = '',
        changes: str = '[]',
        data: str = '{}',
        public: bool = False,
    ) -> None:
        self.write(
            TIMELINE_TABLE,
            (
                self.ids.timeline,
                self.ticket_type,
                ticket,
                kind,
                actor,
                channel,
                at,
                message,
                changes,
                data,
                public,
            ),
        )
        self.ids.timeline += 1
        self.totals['timeline'] += 1

    def _change(self, field: str, before: str, after: str) -> str:
        return f'["{field}", {before}, {after}{self.label_suffix[field]}]'

    # --------------------------------------------------------------------------------------------- one ticket
    def generate(self, progress=None) -> None:
        for index in range(self.count):
            self.ticket(index)
            if progress is not None:
                progress.advance()

    def backlog(self, count: int, opened: int) -> None:
        """`count` tickets opened in the minute from `opened` on that nobody has touched yet."""
        for index in range(count):
            self.ticket(index, opened=opened + index % 60, worked=False)

    def ticket(self, index: int, *, opened: int | None = None, worked: bool = True) -> None:
        rng, now = self.rng, self.now
        pk = self.ids.ticket
        self.ids.ticket += 1
        self.totals['tickets'] += 1
        if opened is None:
            opened = self._opened(index)
        channel = _pick(rng, CHANNELS)
        kind = 'incident' if channel == 'monitoring' or rng.random() >= CASE_SHARE else 'case'
        service = self.services[bisect.bisect_left(self.service_weights, rng.random() * self.service_weights[-1])]
        home = self.teams[self.service_homes[service]]
        priority = _pick(rng, PRIORITIES)
        if kind == 'case':
            priority = max(priority, 2)
        impact, urgency = rng.choice(self.cells[priority])
        tops = self.category_of_group.get(home.key) or ['Software']
        top = rng.choice(tops)
        category, subs = self.desk.categories[top]
        subcategory = rng.choice(subs) if rng.random() < 0.8 else None
        if rng.random() < 0.1:
            category = subcategory = None
        if channel in ('monitoring', 'api'):
            caller = opened_by = self.desk.integration
            summary = f'{rng.choice(MONITORING_SUMMARIES)}: {self.service_names[service]}'
        else:
            caller = self.desk.callers[bisect.bisect_left(self.caller_weights, rng.random() * self.caller_weights[-1])]
            opened_by = caller
            summary = rng.choice(SUMMARIES[top])
        deps = self.service_cis.get(service)
        ci = rng.choice(deps) if deps and rng.random() < 0.4 else None
        prefix = 'INC' if kind == 'incident' else 'CS'
        number = format_number(prefix, self.numbers[prefix])
        self.numbers[prefix] += 1
        work_factor = 1.5 if kind == 'case' else 1.0

        # ---- the path through the groups, and when each step happens
        first_desk = channel not in ('monitoring', 'api') and rng.random() < 0.7
        if first_desk:
            desk_team = self.teams[DESKS[0] if rng.random() < 0.6 else DESKS[1]]
            path = [desk_team] if rng.random() < 0.5 else [desk_team, home]
        elif rng.random() < 0.12:
            path = [self.teams[rng.choice(self.team_keys)], home]
        else:
            path = [home]
        if len(path) > 1 and path[0] is path[1]:
            path = path[1:]
        if path[-1].escalation and rng.random() < 0.1:
            path.append(self.teams[path[-1].escalation])
        if channel in ('phone', 'walk_in'):
            opened_by = rng.choice(path[0].members)
        steps: list[tuple] = []  # (time, action, actor, extra)
        t = opened + (rng.randrange(0, 60) if channel == 'monitoring' else self._minutes(ASSIGN_MEDIAN[priority], 0.9))
        # Monitoring events are routed on arrival by the system: the integration that raises them may open
        # tickets but not assign them (assigning is staff work in `incidents.actions`).
        assigner = None if channel == 'monitoring' else rng.choice(path[0].members)
        steps.append((t, 'assign', assigner, path[0]))
        for position, team in enumerate(path):
            last = position == len(path) - 1
            desk = team.tier == Tier.L1
            median = (DESK_ACCEPT_MEDIAN if desk else ACCEPT_MEDIAN)[priority] * (1 if position == 0 else 0.6)
            if not last and rng.random() < 0.35:  # handed on before anyone accepted
                t += self._minutes(median, 0.7)
                steps.append((t, 'reassign', rng.choice(team.members), path[position + 1]))
                continue
            t += self._minutes(median, 0.7)
            agent = rng.choice(team.members)
            steps.append((t, 'accept', agent, team))
            if not last:
                t += self._minutes(HAND_ON_MEDIAN * (1 if desk else 3) * work_factor, 0.8)
                steps.append((t, 'escalate', agent, path[position + 1]))
                continue
            work = self._minutes((DESK_WORK_MEDIAN if desk else WORK_MEDIAN[priority]) * work_factor, 1.0)
            if rng.random() < 0.5:
                steps.append((t + rng.randrange(work), 'comment', agent, None))
            if rng.random() < 0.3:
                steps.append((t + rng.randrange(work), 'caller_comment', caller, None))
            if rng.random() < 0.35:
                steps.append((t + rng.randrange(work), 'work_note', agent, None))
            hold = rng.random()
            if hold < PENDING_SHARE + LONG_HOLD_SHARE:
                long_hold = hold < LONG_HOLD_SHARE
                held = t + int(work * rng.uniform(0.2, 0.6))
                steps.append((held, 'pend', agent, _pick(rng, LONG_HOLDS if long_hold else PENDING)))
                t = held + self._minutes(14 * 24 * 60 if long_hold else 24 * 60, 0.8 if long_hold else 1.0)
                steps.append((t, 'resume', agent, None))
                work = int(work * 0.5)
            t += work
            steps.append((t, 'complete', agent, _pick(rng, RESOLUTIONS[kind])))
            if rng.random() < REOPEN_SHARE:
                t += min(self._minutes(6 * 60), self.auto_close - HOUR)
                steps.append((t, 'reject', caller, None))
                t += self._minutes(3 * 60)
                steps.append((t, 'complete', agent, _pick(rng, RESOLUTIONS[kind])))
            if rng.random() < CONFIRM_SHARE:
                steps.append((t + min(self._minutes(5 * 60, 1.2), self.auto_close - HOUR), 'confirm', caller, None))
            else:
                steps.append((t + self.auto_close, 'auto_close', None, None))
        steps.sort(key=lambda step: step[0])
        if not worked:
            steps = []

        # ---- the ticket as it stands now, and its history
        state = str(TicketState.NEW)
        row = {
            'attention': ('', None),
            'group': None,
            'assignee': None,
            'assigned': None,
            'accepted': None,
            'completed': None,
            'closed': None,
            'pending': ('', '', None),
            'resolution': ('', ''),
            'reassignments': 0,
            'reopens': 0,
            'updated': opened,
        }
        segments = [(opened, state, '')]  # (since, state, pause reason)
        stints: list[Stint] = []
        completions: list[int] = []
        created = self._created(
            pk,
            kind,
            summary,
            caller,
            opened_by,
            channel,
            category,
            subcategory,
            service,
            ci,
            impact,
            urgency,
            priority,
            opened,
        )
        self._entry(
            pk,
            'created',
            opened_by if channel != 'monitoring' else self.desk.integration,
            TIMELINE_CHANNEL[channel],
            opened,
            f'{KIND_LABELS[kind]} opened via {CHANNEL_LABELS[channel]}',
            created,
            public=True,
        )
        deferred_retargets = []
        for at, action, actor, extra in steps:
            if at > now:
                break
            before = state
            # Each step is a transition of the ticket lifecycle (a hand-over before acceptance is an assignment);
            # its target state comes from the declaration, and a step the current state does not allow fails.
            name = 'assign' if action == 'reassign' else action
            if name in TICKET_WORKFLOW.transitions:
                state = _lifecycle_target(state, name)
            changes: list[str] = []
            message, data, public = '', '', True
            if action in ('assign', 'reassign', 'escalate'):
                team = extra
                changes.append(
                    self._change(
                        'assignment_group', self.team_names.get(row['group'], 'null'), self.team_names[team.id]
                    )
                )
                if row['assignee'] is not None:
                    changes.append(self._change('assignee', self.names[row['assignee']], 'null'))
                if action != 'assign':
                    row['reassignments'] += 1
                    changes.append(
                        self._change('reassignment_count', str(row['reassignments'] - 1), str(row['reassignments']))
                    )
                if row['assigned'] is None:
                    row['assigned'] = at
                    changes.append(self._change('assigned_at', 'null', _iso(at)))
                if stints:
                    stints[-1].end = at
                stints.append(Stint(team, at))
                row['group'], row['assignee'] = team.id, None
                public = False
                if action == 'escalate':
                    message = rng.choice(ESCALATIONS).format(group=team.name)
                    data = f', "reason": {_j(message)}'
            elif action == 'accept':
                changes.append(self._change('assignee', 'null', self.names[actor]))
                if row['accepted'] is None:
                    row['accepted'] = at
                    changes.append(self._change('accepted_at', 'null', _iso(at)))
                row['assignee'] = actor
                stints[-1].accepted = at
                message = f'Accepted by {self.desk.names[actor]}'
            elif action == 'pend':
                reason = extra
                note = 'Waiting for an answer.' if reason == PendingReason.CUSTOMER else 'Waiting on a third party.'
                until = at + 5 * DAY if rng.random() < 0.5 else None
                row['pending'] = (reason, note, until)
                changes += [
                    self._change('pending_reason', '""', _j(str(reason))),
                    self._change('pending_note', '""', _j(note)),
                ]
                if until:
                    changes.append(self._change('pending_until', 'null', _iso(until)))
                message = note
            elif action == 'resume':
                reason, note, until = row['pending']
                changes += [
                    self._change('pending_reason', _j(str(reason)), '""'),
                    self._change('pending_note', _j(note), '""'),
                ]
                if until:
                    changes.append(self._change('pending_until', _iso(until), 'null'))
                row['pending'] = ('', '', None)
            elif action == 'complete':
                code, notes = str(extra), rng.choice(NOTES)
                row['resolution'], row['completed'] = (code, notes), at
                completions.append(at)
                changes += [
                    self._change('resolution_code', '""', _j(code)),
                    self._change('resolution_notes', '""', _j(notes)),
                    self._change('completed_at', 'null', _iso(at)),
                ]
                message = notes
            elif action == 'reject':
                code, notes = row['resolution']
                row['reopens'] += 1
                changes += [
                    self._change('resolution_code', _j(code), '""'),
                    self._change('resolution_notes', _j(notes), '""'),
                    self._change('reopen_count', str(row['reopens'] - 1), str(row['reopens'])),
                    self._change('completed_at', _iso(row['completed']), 'null'),
                ]
                if row['attention'][0] != Attention.REOPENED:  # a reopening marks it for the desk, once
                    changes += [
                        self._change('attention', _j(row['attention'][0]), _j(str(Attention.REOPENED))),
                        self._change('attention_since', 'null', _iso(at)),
                    ]
                    row['attention'] = (str(Attention.REOPENED), at)
                reason = rng.choice(REJECTIONS)
                row['resolution'], row['completed'] = ('', ''), None
                message = f'Resolution rejected: {reason}'
                data = f', "reason": {_j(reason)}'
            elif action in ('confirm', 'auto_close'):
                row['closed'] = at
                changes.append(self._change('closed_at', 'null', _iso(at)))
                if action == 'confirm':
                    message = 'Resolution confirmed'
                else:
                    days = settings.INCIDENT_AUTO_CLOSE_DAYS
                    message = f'Closed automatically after {days} days without an answer from the caller.'
            else:  # comments and work notes
                text = {'comment': AGENT_COMMENTS, 'caller_comment': CALLER_COMMENTS, 'work_note': WORK_NOTES}
                internal = action == 'work_note'
                self._entry(
                    pk,
                    'work_note' if internal else 'comment',
                    actor,
                    'ui',
                    at,
                    rng.choice(text[action]),
                    public=not internal,
                )
                if not internal:
                    row['updated'] = at
                continue
            row['updated'] = at
            channel_of_step = 'system' if actor is None else ('monitoring' if actor == self.desk.integration else 'ui')
            self._entry(
                pk,
                'transition',
                actor,
                channel_of_step,
                at,
                message,
                '[' + ', '.join(changes) + ']',
                f'{{"action": "{name}", "from": "{before}", "to": "{state}"{data}}}',
                public,
            )
            if state != segments[-1][1]:
                pause_reason = PENDING_LABELS.get(row['pending'][0], '')  # a pending reason only while Pending
                segments.append((at, state, pause_reason))
            if action in ('reassign', 'escalate'):
                deferred_retargets.append((at, actor, len(stints) - 2))

        finished = state in TICKET_WORKFLOW.finished_states
        self.write(
            TICKET_TABLE,
            (
                pk,
                opened,
                row['updated'],
                number,
                kind,
                summary,
                '',
                state,
                caller,
                opened_by,
                channel,
                category,
                subcategory,
                '',
                service,
                ci,
                impact,
                urgency,
                priority,
                row['group'],
                row['assignee'],
                row['pending'][0],
                row['pending'][1],
                row['pending'][2],
                row['resolution'][0] if finished else '',
                row['resolution'][1] if finished else '',
                row['reassignments'],
                row['reopens'],
                opened,
                row['assigned'],
                row['accepted'],
                row['completed'] if finished else None,
                row['closed'],
                row['attention'][0],
                row['attention'][1],
            ),
        )
        self._clocks(pk, kind, priority, opened, row, segments, stints, completions, state, deferred_retargets)

    def _created(
        self,
        pk,
        kind,
        summary,
        caller,
        opened_by,
        channel,
        category,
        subcategory,
        service,
        ci,
        impact,
        urgency,
        priority,
        opened,
    ) -> str:
        cats = self.desk.category_names
        values = {
            'kind': _j(kind),
            'short_description': _j(summary),
            'state': _j(str(TicketState.NEW)),
            'caller': self.names[caller],
            'opened_by': self.names[opened_by],
            'channel': _j(channel),
            'category': _j(cats[category]) if category else None,
            'subcategory': _j(f'{cats[category]} › {cats[subcategory]}') if subcategory else None,
            'service': _j(self.service_names[service]),
            'ci': _j(self.ci_names[ci]) if ci is not None else None,
            'impact': _j(impact),
            'urgency': _j(urgency),
            'priority': str(priority),
            'reassignment_count': '0',
            'reopen_count': '0',
            'knowledge_used': 'false',
            'security_incident': 'false',
            'opened_at': _iso(opened),
        }
        parts = [
            f'["{name}", null, {values[name]}{self.label_suffix[name]}]'
            for name in self.created_fields
            if values.get(name) is not None
        ]
        return '[' + ', '.join(parts) + ']'

    # --------------------------------------------------------------------------------------------- clocks
    def _clocks(self, pk, kind, priority, opened, row, segments, stints, completions, state, retargets) -> None:
        finished = state in ('completed', 'closed')
        sla = self.desk.slas.get((kind, priority))
        made: dict[int, dict] = {}  # stint index → the OLA clocks that stint started
        if sla is not None:
            accepted = row['accepted']
            self._clock(pk, 'response', sla, None, opened, accepted, 'accepted', segments, reopens=False)
            end = completions[-1] if finished else None
            self._clock(pk, 'resolution', sla, None, opened, end, 'completed', segments, reopens=True)
        for index, stint in enumerate(stints):
            ola = stint.team.ola
            if ola is None:
                continue
            handed = stint.end is not None
            accept_end = stint.accepted if stint.accepted is not None else stint.end
            accept_reason = 'accepted' if stint.accepted is not None else 'handoff'
            made[index] = {
                'accept': self._clock(pk, 'ola_accept', ola, stint, stint.start, accept_end, accept_reason, segments),
                'resolve': self._clock(
                    pk,
                    'ola_resolve',
                    ola,
                    stint,
                    stint.start,
                    stint.end if handed else (completions[-1] if finished else None),
                    'handoff' if handed else 'completed',
                    segments,
                    reopens=not handed,
                ),
            }
        for at, actor, index in retargets:
            handed = made.get(index)
            if not handed:
                continue  # the previous group had no OLA: nothing stopped, nothing to say
            started = made.get(index + 1)
            lines = [f'{c["name"]} stopped on hand-over ({c["state"]})' for c in handed.values() if c['stopped'] == at]
            if not lines:
                continue
            started_lines = [f'{c["name"]} started ({c["target"]}, {c["calendar"]})' for c in (started or {}).values()]
            summaries = [c['summary'] for c in handed.values() if c['stopped'] == at]
            new = [c['summary_open'] for c in (started or {}).values()]
            data = (
                f'{{"retargeted": [], "dropped": [], "handed_over": [{", ".join(summaries)}], '
                f'"started": [{", ".join(new)}], "priority": {priority}, '
                f'"group": {self.team_names[stints[index + 1].team.id]}}}'
            )
            self._entry(
                pk, 'sla_retarget', actor, 'ui', at, 'SLA re-targeted: ' + '; '.join(lines + started_lines), '[]', data
            )

    def _clock(
        self, ticket, kind, agreement: Agreement, stint, start, stop, stop_reason, segments, reopens: bool = False
    ) -> dict:
        """One clock from `start` to `stop` (None: still open), pausing in the agreement's pause states and, for
        clocks a reopen runs again, while the ticket waited Completed. Writes the clock, its pauses and events."""
        rng, now = self.rng, self.now
        calendar = self.calendar(agreement)
        target = agreement.targets[kind]
        percents = [*agreement.warning_percents, BREACH_PERCENT]
        end = stop if stop is not None else now
        pauses = []  # (from, to or None, ticket state, reason)
        for position, (since, state, reason) in enumerate(segments):
            until = segments[position + 1][0] if position + 1 < len(segments) else None
            if until is not None and until <= start:
                continue
            if since >= end:
                break
            if state in agreement.pause_states:
                ended = until if until is not None and until < end else (None if stop is None else end)
                pauses.append((max(since, start), ended, state, reason))
            elif reopens and state == 'completed' and until is not None and until < end:
                pauses.append((since, until, 'completed', 'Awaiting confirmation'))
        runs, cursor = [], start
        for since, until, *_ in pauses:
            if since > cursor:
                runs.append((cursor, since))
            cursor = until
            if cursor is None:
                break
        if cursor is not None and cursor < end:
            runs.append((cursor, end))
        # Walk the runs: how much time counted, and when each threshold was crossed.
        thresholds = [(p, (target * 60 * p + 99) // 100) for p in percents]
        crossed: dict[int, int] = {}
        counted = before_last = 0
        for since, until in runs:
            length = calendar.between(since, until)
            while thresholds and counted + length >= thresholds[0][1]:
                p, seconds = thresholds.pop(0)
                crossed[p] = calendar.add(since, seconds - counted)
            before_last = counted
            counted += length
        breached = crossed.get(BREACH_PERCENT)
        last_run = runs[-1] if runs else None
        counting_at_end = last_run is not None and last_run[1] == end
        running = stop is None and counting_at_end
        if breached is not None:
            due = breached
        elif counting_at_end:
            due = calendar.add(last_run[0], target * 60 - before_last)
        else:
            due = None
        next_percent = next_check = None
        if stop is None and breached is None and thresholds:
            next_percent = thresholds[0][0]
            if running:
                next_check = calendar.add(last_run[0], thresholds[0][1] - before_last)
        warnings = [crossed[p] for p in percents[:-1] if p in crossed]
        if stop is not None:
            clock_state = 'breached' if breached is not None else 'met'
        else:
            clock_state = 'breached' if breached is not None else ('running' if running else 'paused')
        if running:
            elapsed, run_started = before_last, last_run[0]
        else:
            elapsed, run_started = counted, None
        clock_id = self.ids.clock
        self.ids.clock += 1
        self.totals['clocks'] += 1
        if stint is None:
            name, sla_id, ola_id, group = f'{CLOCK_LABELS[kind]} · {agreement.name}', agreement.id, None, None
        else:
            name, sla_id, ola_id, group = f'{CLOCK_LABELS[kind]} · {stint.team.name}', None, agreement.id, stint.team.id
        updated = max([start, *(t for t in (stop, breached, *warnings) if t is not None)])
        self.write(
            CLOCK_TABLE,
            (
                clock_id,
                start,
                min(updated, now),
                self.ticket_type,
                ticket,
                kind,
                name,
                sla_id,
                ola_id,
                group,
                calendar.id,
                target,
                _j(tuple(agreement.warning_percents)),
                _j(tuple(agreement.pause_states)),
                clock_state,
                start,
                elapsed,
                run_started,
                due,
                next_check,
                next_percent,
                warnings[0] if warnings else None,
                breached,
                stop,
                stop_reason if stop is not None else '',
            ),
        )
        for since, until, state, reason in pauses:
            self.write(PAUSE_TABLE, (self.ids.pause, clock_id, since, until, state, reason))
            self.ids.pause += 1
            self.totals['pauses'] += 1
        claim = None
        for p in percents:
            if p not in crossed:
                continue
            if claim is None:
                claim = f'{rng.getrandbits(128):032x}'
            crossing = crossed[p]
            at = min(crossing + rng.randrange(60), end)
            event = 'breach' if p >= BREACH_PERCENT else 'warning'
            event_id = self.ids.event
            self.ids.event += 1
            self.totals['events'] += 1
            self.write(
                EVENT_TABLE,
                (
                    event_id,
                    clock_id,
                    p,
                    event,
                    crossing,
                    at,
                    claim,
                    False,
                    min(at + rng.randrange(1, 30), now),
                    '[]',
                ),
            )
            if event == 'breach':
                message = f'{name} breached: target {_minutes_text(target)} ({calendar.name})'
            else:
                local = timezone.localtime(_dt(due), self.zone).strftime('%Y-%m-%d %H:%M') if due else 'paused'
                message = f'{name}: {p} % of {_minutes_text(target)} used, due {local}'
            data = (
                f'{{"clock": {clock_id}, "clock_kind": "{kind}", "event": {event_id}, "percent": {p}, '
                f'"crossed_at": {_iso(crossing)}, "due_at": {_iso(due)}, "target_minutes": {target}}}'
            )
            self._entry(
                ticket, 'sla_breach' if event == 'breach' else 'sla_warning', None, 'system', at, message, '[]', data
            )
        summary_fields = (
            f'"name": {_j(name)}, "target": "{_minutes_text(target)}", "target_minutes": {target}, '
            f'"calendar": {_j(calendar.name)}'
        )
        return {
            'name': name,
            'state': clock_state,
            'stopped': stop,
            'target': _minutes_text(target),
            'calendar': calendar.name,
            'summary': f'{{{summary_fields}, "due_at": {_iso(due)}, "state": "{clock_state}"}}',
            'summary_open': f'{{{summary_fields}, "due_at": null}}',
        }


def priority_cells() -> dict[int, list[tuple[str, str]]]:
    """Impact and urgency pairs giving each priority under the current matrix (read from the database)."""
    cells: dict[int, list[tuple[str, str]]] = {p: [] for p in range(5)}
    for (impact, urgency), priority in matrix().items():
        if impact == Impact.NONE and priority < 4:
            continue
        cells[priority].append((impact, urgency))
    return {p: pairs or [(Impact.LOW, Urgency.NORMAL)] for p, pairs in cells.items()}


def _unstarted(table: Table, row: tuple) -> None:
    raise RuntimeError('Tickets.start() gives the writer.')


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return [value / total for value in out] if total else out


def _lifecycle_target(state: str, name: str) -> str:
    """The state transition `name` of the ticket lifecycle leads to from `state`; InvalidTransition when the
    lifecycle does not allow it there (as `Workflow.check` refuses it in the services)."""
    transition = TICKET_WORKFLOW.get(name)
    if state not in transition.sources:
        raise InvalidTransition(
            f'A ticket cannot {transition.label.lower()} when it is {state}.', extra={'state': state, 'action': name}
        )
    return str(transition.target)


def _pick(rng: random.Random, weighted):
    roll, upto = rng.random(), 0.0
    for value, weight in weighted:
        upto += weight
        if roll < upto:
            return value
    return weighted[-1][0]
