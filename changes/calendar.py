"""The change calendar: which changes are planned when, where they conflict and which freeze windows hold them.

- `freezes_for(change)`: the active freeze windows overlapping a change's planned window, global ones and those on
  one of its services or CIs. Scheduling (`changes.services.change_schedule`) refuses a normal change inside one
  unless a change manager gives an override reason; standard and emergency changes are not refused.
- `conflicts_for(change)` / `conflicts_among(changes)`: other live changes overlapping in time on the same CI, or on
  CIs related within `settings.CHANGE_CONFLICT_DEPTH` steps of the CMDB graph (either direction: an application and
  the server it runs on, two applications on one server at depth 2). The query count does not grow with the number
  of changes or pairs: the relationship walk reads one layer of the graph per step, for every change at once.
- `calendar_entries(start, end)`: the changes on the calendar in a range, each with its conflicts and freezes.
- `ical_feed(...)`: the calendar as iCalendar (RFC 5545) text for calendar clients.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cmdb.models import ConfigurationItem
from cmdb.selectors import relationship_list
from itsm.audit import Actor
from itsm.services import record_create, record_delete, record_update

from .choices import ChangeState, ChangeType
from .models import CalendarToken, Change, FreezeWindow, new_calendar_token

__all__ = [
    'CALENDAR_STATES',
    'LIVE_STATES',
    'CalendarEntry',
    'Conflict',
    'calendar_entries',
    'conflicts_among',
    'conflicts_for',
    'freeze_applies',
    'freezes_between',
    'freezes_for',
    'related_paths',
]

# Changes that can still collide with another: submitted up to in implementation (drafts are not plans yet).
LIVE_STATES = (
    ChangeState.SUBMITTED,
    ChangeState.ASSESSMENT,
    ChangeState.AUTHORIZATION,
    ChangeState.SCHEDULED,
    ChangeState.IMPLEMENTATION,
)
# What the calendar shows unless a state filter says otherwise.
CALENDAR_STATES = (ChangeState.SCHEDULED, ChangeState.IMPLEMENTATION)


@dataclass(frozen=True)
class Conflict:
    """Another change (`change`) overlapping in time, on `related_ci` which is `ci` (one of ours) or related to it;
    `path` is the CI numbers from `ci` to `related_ci` (one number when they are the same CI)."""

    change: Change
    ci: ConfigurationItem
    related_ci: ConfigurationItem
    path: list[str]

    @property
    def depth(self) -> int:
        return len(self.path) - 1

    @property
    def same_ci(self) -> bool:
        return self.depth == 0

    def as_dict(self) -> dict:
        return {
            'change': self.change.number,
            'short_description': self.change.short_description,
            'planned_start': self.change.planned_start,
            'planned_end': self.change.planned_end,
            'ci': self.ci.number,
            'related_ci': self.related_ci.number,
            'path': self.path,
        }


# ------------------------------------------------------------------------------------------ freezes
def freeze_applies(window: FreezeWindow, ci_ids: Iterable[int]) -> bool:
    """A window without services freezes every change; one with services only changes touching one of them
    (`window.services` should be prefetched)."""
    services = {s.pk for s in window.services.all()}
    return not services or bool(services & set(ci_ids))


def freezes_between(start: dt.datetime, end: dt.datetime) -> list[FreezeWindow]:
    """Active windows overlapping [start, end), with their services (two queries)."""
    return list(
        FreezeWindow.objects.filter(active=True, starts_at__lt=end, ends_at__gt=start)
        .prefetch_related('services')
        .order_by('starts_at', 'pk')
    )


def _ci_ids_by_change(change_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each change's CIs and services (two queries for any number of changes)."""
    ids = list(change_ids)
    result: dict[int, set[int]] = defaultdict(set)
    for through in (Change.cis.through, Change.services.through):
        for change_id, ci_id in through.objects.filter(change_id__in=ids).values_list(
            'change_id', 'configurationitem_id'
        ):
            result[change_id].add(ci_id)
    return result


def freezes_for(change: Change) -> list[FreezeWindow]:
    """The active freeze windows overlapping the change's planned window that apply to it (whatever its type:
    whether a window refuses the change is the scheduling rule's decision)."""
    if not (change.planned_start and change.planned_end):
        return []
    windows = freezes_between(change.planned_start, change.planned_end)
    if not windows:
        return []
    ci_ids = _ci_ids_by_change([change.pk])[change.pk] if change.pk else set()
    return [w for w in windows if freeze_applies(w, ci_ids)]


# ------------------------------------------------------------------------------------------ conflicts
def _depth(depth: int | None) -> int:
    return max(0, int(settings.CHANGE_CONFLICT_DEPTH if depth is None else depth))


def related_paths(anchors: Iterable[int], depth: int) -> dict[int, dict[int, list[int]]]:
    """For each anchor CI, every CI within `depth` relationship steps (either direction) with a shortest path of
    CI ids from the anchor; the anchor itself has the path `[anchor]`.

    The walk reads the relationships one layer at a time for all anchors together (`depth` queries at most)."""
    anchors = set(anchors)
    adjacency: dict[int, set[int]] = defaultdict(set)
    seen = set(anchors)
    frontier = set(anchors)
    for _ in range(depth):
        if not frontier:
            break
        edges = relationship_list().filter(Q(source_id__in=frontier) | Q(target_id__in=frontier))
        reached = set()
        for source_id, target_id in edges.values_list('source_id', 'target_id'):
            adjacency[source_id].add(target_id)
            adjacency[target_id].add(source_id)
            reached.update((source_id, target_id))
        frontier = reached - seen
        seen |= reached
    result = {}
    for anchor in anchors:
        paths = {anchor: [anchor]}
        queue = deque([anchor])
        while queue:
            current = queue.popleft()
            if len(paths[current]) > depth:
                continue
            for neighbour in sorted(adjacency.get(current, ())):
                if neighbour not in paths:
                    paths[neighbour] = [*paths[current], neighbour]
                    queue.append(neighbour)
        result[anchor] = paths
    return result


def _overlap(a: Change, b: Change) -> bool:
    return a.planned_start < b.planned_end and b.planned_start < a.planned_end


def conflicts_among(changes: Sequence[Change], *, depth: int | None = None) -> dict[int, list[Conflict]]:
    """The conflicts of each of `changes` (by pk) with the live changes overlapping it in time, nearest pair per
    other change, earliest first. A fixed number of queries whatever the number of changes."""
    depth = _depth(depth)
    planned = [c for c in changes if c.pk and c.planned_start and c.planned_end]
    result: dict[int, list[Conflict]] = {c.pk: [] for c in changes if c.pk}
    if not planned:
        return result
    window_start = min(c.planned_start for c in planned)
    window_end = max(c.planned_end for c in planned)
    others = list(
        Change.objects.filter(state__in=LIVE_STATES)
        .scheduled_between(window_start, window_end)
        .order_by('planned_start', 'pk')
    )
    ci_ids = _ci_ids_by_change({c.pk for c in planned} | {o.pk for o in others})
    reach = related_paths(set().union(*(ci_ids[c.pk] for c in planned)), depth)
    found: list[tuple[Change, Change, list[int]]] = []
    for change in planned:
        for other in others:
            if other.pk == change.pk or not _overlap(change, other):
                continue
            best = None
            for ci_id in sorted(ci_ids[change.pk]):
                paths = reach[ci_id]
                for other_ci in sorted(ci_ids[other.pk]):
                    path = paths.get(other_ci)
                    if path is not None and (best is None or len(path) < len(best)):
                        best = path
            if best is not None:
                found.append((change, other, best))
    cis = ConfigurationItem.objects.in_bulk({ci for *_, path in found for ci in path})
    for change, other, path in found:
        numbers = [cis[ci].number for ci in path]
        result[change.pk].append(Conflict(change=other, ci=cis[path[0]], related_ci=cis[path[-1]], path=numbers))
    return result


def conflicts_for(change: Change, depth: int | None = None) -> list[Conflict]:
    """Other live changes overlapping this one in time on the same or related CIs (see `conflicts_among`)."""
    return conflicts_among([change], depth=depth).get(change.pk, [])


# ------------------------------------------------------------------------------------------ the calendar
@dataclass
class CalendarEntry:
    change: Change
    conflicts: list[Conflict] = field(default_factory=list)
    freezes: list[FreezeWindow] = field(default_factory=list)

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        return self.change.planned_start, self.change.planned_end


def calendar_queryset(start: dt.datetime, end: dt.datetime, states: Iterable[str] | None = None) -> QuerySet[Change]:
    """Changes planned to overlap [start, end) in `states` (scheduled and in implementation by default)."""
    return (
        Change.objects.scheduled_between(start, end)
        .filter(state__in=list(states or CALENDAR_STATES))
        .select_related('assignment_group', 'owner')
        .order_by('planned_start', 'pk')
    )


def calendar_entries(
    changes: Iterable[Change], start: dt.datetime, end: dt.datetime, windows: list[FreezeWindow] | None = None
) -> list[CalendarEntry]:
    """Each change with its conflicts and the freeze windows holding it (`windows`: those of the range, read here
    unless given)."""
    changes = list(changes)
    conflicts = conflicts_among(changes)
    windows = freezes_between(start, end) if windows is None else windows
    ci_ids = _ci_ids_by_change(c.pk for c in changes) if windows else {}
    entries = []
    for change in changes:
        held = [
            w
            for w in windows
            if w.starts_at < change.planned_end
            and w.ends_at > change.planned_start
            and freeze_applies(w, ci_ids.get(change.pk, ()))
        ]
        entries.append(CalendarEntry(change=change, conflicts=conflicts.get(change.pk, []), freezes=held))
    return entries


# ------------------------------------------------------------------------------------------ ranges
def _parse_moment(text: str) -> dt.datetime | None:
    try:
        moment = parse_datetime(text)
        if moment is None and len(text) == 10:
            day = parse_date(text)
            moment = dt.datetime.combine(day, dt.time()) if day else None
    except ValueError:  # well formed but impossible, such as month 13
        return None
    return moment


def parse_range(start_text: str | None, end_text: str | None) -> tuple[dt.datetime, dt.datetime]:
    """A range from ISO dates or date-times (naive ones in the current time zone); raises `ValidationError` with a
    message per bad field, when the end is not after the start, or when it spans more than
    `settings.CHANGE_CALENDAR_MAX_DAYS` days."""
    errors: dict[str, str] = {}
    values = {}
    for name, text in (('start', start_text), ('end', end_text)):
        if not text:
            errors[name] = 'Give a date (YYYY-MM-DD) or a date and time (ISO 8601).'
            continue
        moment = _parse_moment(text.strip())
        if moment is None:
            errors[name] = f'“{text[:40]}” is not a date (YYYY-MM-DD) or a date and time (ISO 8601).'
            continue
        values[name] = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    if not errors and values['end'] <= values['start']:
        errors['end'] = 'The end must be after the start.'
    limit = settings.CHANGE_CALENDAR_MAX_DAYS
    if not errors and values['end'] - values['start'] > dt.timedelta(days=limit):
        errors['end'] = f'A range spans at most {limit} days.'
    if errors:
        raise ValidationError(errors)
    return values['start'], values['end']


# ------------------------------------------------------------------------------------------ freeze windows (writes)
FREEZE_FIELDS = ('name', 'starts_at', 'ends_at', 'reason', 'services', 'active')


def _check_window_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(FREEZE_FIELDS)
    if unknown:
        raise ValidationError({name: 'This field cannot be set here.' for name in sorted(unknown)})


def _check_window(window: FreezeWindow) -> None:
    if window.starts_at and window.ends_at and window.ends_at <= window.starts_at:
        raise ValidationError({'ends_at': 'A freeze window ends after it starts.'})


@transaction.atomic
def freeze_window_create(*, actor: Actor, **fields: Any) -> FreezeWindow:
    """A freeze window (audited). Without services it freezes every normal change planned inside it."""
    _check_window_fields(fields)
    _check_window(FreezeWindow(starts_at=fields.get('starts_at'), ends_at=fields.get('ends_at')))
    return record_create(model=FreezeWindow, fields=fields, actor=actor)


@transaction.atomic
def freeze_window_update(*, window: FreezeWindow, actor: Actor, **fields: Any) -> FreezeWindow:
    _check_window_fields(fields)
    _check_window(
        FreezeWindow(starts_at=fields.get('starts_at', window.starts_at), ends_at=fields.get('ends_at', window.ends_at))
    )
    return record_update(obj=window, fields=fields, actor=actor)


def freeze_window_delete(*, window: FreezeWindow, actor: Actor) -> None:
    record_delete(obj=window, actor=actor)


# ------------------------------------------------------------------------------------------ the iCalendar feed
def calendar_token_of(user) -> CalendarToken | None:
    return CalendarToken.objects.filter(user=user).first()


@transaction.atomic
def calendar_token_regenerate(*, user) -> CalendarToken:
    """The person's feed token, created or replaced by a new one (the old link stops working)."""
    token, created = CalendarToken.objects.select_for_update().get_or_create(user=user)
    if not created:
        token.token = new_calendar_token()
        token.created_at = timezone.now()
        token.save(update_fields=['token', 'created_at'])
    return token


def feed_user(token: str):
    """The person a feed token belongs to, or None."""
    if not token:
        return None
    found = CalendarToken.objects.select_related('user').filter(token=token).first()
    return found.user if found else None


def may_read_calendar(user) -> bool:
    return bool(user and user.is_active and user.has_perm('changes.view_change'))


def feed_range(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """What the feed holds: the last 30 days and the next 180."""
    now = now or timezone.now()
    return now - dt.timedelta(days=30), now + dt.timedelta(days=180)


def _escape(text: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and newlines escaped."""
    text = str(text).replace('\\', '\\\\').replace(';', '\\;').replace(',', '\\,')
    return text.replace('\r\n', '\\n').replace('\n', '\\n').replace('\r', '\\n')


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (CRLF and one space), never inside a UTF-8 character."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, current, limit = [], b'', 75
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > limit:
            parts.append(current.decode())
            current, limit = b'', 74  # continuation lines start with a space
        current += encoded
    parts.append(current.decode())
    return '\r\n '.join(parts)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')


def ical_feed(entries: Iterable[CalendarEntry], windows: Iterable[FreezeWindow], *, base_url: str) -> str:
    """The calendar as an RFC 5545 VCALENDAR: a VEVENT per change (with its conflicts and freezes in the
    description) and one per freeze window. `base_url` is the site's scheme and host for the links."""
    stamp = _utc(timezone.now())
    host = urlsplit(base_url).hostname or 'pitcrew'
    lines = [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//Pitcrew//Change calendar//EN',
        'CALSCALE:GREGORIAN',
        'METHOD:PUBLISH',
        'X-WR-CALNAME:Change calendar',
    ]
    for entry in entries:
        change = entry.change
        notes = [
            f'{change.get_change_type_display()} change, {change.get_state_display().lower()}.',
            *(
                f'Conflicts with {c.change.number} ({c.change.short_description}) on {" → ".join(c.path)}.'
                for c in entry.conflicts
            ),
            *(f'Inside the freeze window {w.name}.' for w in entry.freezes),
        ]
        lines += [
            'BEGIN:VEVENT',
            f'UID:{change.number.lower()}@{host}',
            f'DTSTAMP:{stamp}',
            f'DTSTART:{_utc(change.planned_start)}',
            f'DTEND:{_utc(change.planned_end)}',
            f'SUMMARY:{_escape(f"{change.number} {change.short_description}")}',
            f'DESCRIPTION:{_escape(chr(10).join(notes))}',
            f'URL:{base_url}{change.get_absolute_url()}',
            f'CATEGORIES:{_escape(change.get_change_type_display())}',
            'STATUS:CONFIRMED',
            'END:VEVENT',
        ]
    for window in windows:
        lines += [
            'BEGIN:VEVENT',
            f'UID:freeze-{window.pk}@{host}',
            f'DTSTAMP:{stamp}',
            f'DTSTART:{_utc(window.starts_at)}',
            f'DTEND:{_utc(window.ends_at)}',
            f'SUMMARY:{_escape(f"Change freeze: {window.name}")}',
            f'DESCRIPTION:{_escape(window.reason or "Normal changes are not scheduled inside this window.")}',
            f'URL:{base_url}{window.get_absolute_url()}',
            'TRANSP:TRANSPARENT',
            'END:VEVENT',
        ]
    lines.append('END:VCALENDAR')
    return ''.join(_fold(line) + '\r\n' for line in lines)


# ------------------------------------------------------------------------------------------ the change page
def conflicts_panel(request, change: Change) -> dict | None:
    """The change page's "Conflicts and freezes" card: other changes overlapping it on the same or related CIs
    (with the CI pair and the path) and the freeze windows over its planned window. Not shown for a change without
    planned times or one that is over."""
    if not (change.planned_start and change.planned_end) or change.state in CHANGE_OVER:
        return None
    freezes = freezes_for(change)
    return {
        'conflicts': conflicts_for(change),
        'freezes': freezes,
        'refused': bool(freezes) and change.change_type == ChangeType.NORMAL,
        'depth': _depth(None),
    }


CHANGE_OVER = (ChangeState.REVIEW, ChangeState.CLOSED, ChangeState.REJECTED, ChangeState.CANCELLED)


def register() -> None:
    """Called once by the app's `ready()`: the change page shows its conflicts and freezes."""
    from itsm.views.records import register_panel

    register_panel(Change, 'changes/_conflicts.html', conflicts_panel)
