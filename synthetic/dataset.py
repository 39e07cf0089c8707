"""Generating, finding and removing the synthetic data set as a whole.

The data set records itself: a `created` timeline entry on its first support group holds the parameters it was
generated with (`Manifest`), so `generate_data` and the benchmarks know whether the data set they want is already
there. Its records are found by their markers (see `reference` and `estate`): people and groups, and every ticket,
clock, CI and history entry hanging off them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from cmdb.models import ConfigurationItem, RaciAssignment, Relationship, Service
from incidents.models import Ticket
from itsm.models import Attachment, NumberSequence, SupportGroup, TimelineEntry, User
from itsm.numbering import format_number, move_sequence_past, next_numbers, peek_next_value, uses_sequences
from sla.models import ClockEvent, ClockPause, OperationalLevelAgreement, SlaClock

from . import estate as estate_module
from . import reference
from .progress import Progress
from .tickets import TABLES as TICKET_TABLES
from .tickets import Ids, Tickets
from .writer import writer_for

# Bump when the generator changes what it writes, so a data set made by an older version is not reused.
# 2: clocks by generic relation, monitoring tickets assigned by the system; 3: reopenings marked for attention,
# no known-error resolutions
VERSION = 3
ANCHOR = reference.GROUPS[0][1]
# From this many tickets (and more than are there already), the secondary indexes are dropped for the load.
DEFER_INDEXES_FROM = 50_000
MANIFEST_KEY = 'synthetic'


class DatasetError(Exception):
    """The data set asked for cannot be generated as things are (another one is there)."""


@dataclass
class Manifest:
    """What a data set was generated with, where its records lie and what it took."""

    incidents: int
    cis: int
    seed: int
    days: int
    version: int = VERSION
    as_of: str = ''
    first_ci: int = 0
    first_ticket: int = 0
    last_ticket: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def matches(self, *, incidents: int, cis: int, seed: int, days: int) -> bool:
        return (self.incidents, self.cis, self.seed, self.days, self.version) == (incidents, cis, seed, days, VERSION)

    def describe(self) -> str:
        return f'{self.incidents:,} tickets, {self.cis:,} CIs, seed {self.seed}, {self.days} days (v{self.version})'

    @property
    def layout(self) -> estate_module.Layout:
        return estate_module.Layout.of(self.cis)

    def ci_ids(self, role: str) -> range:
        """The ids of the estate's CIs of one role ('core', 'lan', 'business_service', …)."""
        return self.layout.ids(role, self.first_ci)


def _anchor_entries():
    group = SupportGroup.objects.filter(name=ANCHOR, email__endswith=f'@{reference.EMAIL_DOMAIN}').first()
    if group is None:
        return TimelineEntry.objects.none()
    return TimelineEntry.objects.for_object(group).filter(data__has_key=MANIFEST_KEY).order_by('-id')


def current() -> Manifest | None:
    """The manifest of the synthetic data set in the database, if there is one."""
    entry = _anchor_entries().first()
    if entry is None:
        return None
    known = {f.name for f in dataclasses.fields(Manifest)}
    return Manifest(**{k: v for k, v in entry.data[MANIFEST_KEY].items() if k in known})


def present() -> bool:
    """Whether any synthetic record is there (a complete data set, or what an interrupted run left)."""
    return User.objects.filter(username__startswith=reference.USER_PREFIX).exists()


#
# Removing
#


def _truncatable(cursor, tables: list[str]) -> list[str]:
    """The tables (of those that hold only synthetic rows) one TRUNCATE can empty, plus the empty tables that
    refer to them, directly or through other empty tables (a TRUNCATE must name every table with a foreign key to
    the ones it empties). A table something non-empty still points into is left out: its rows are deleted."""
    roots = list(tables)
    while True:
        included, blocked = _referrers(cursor, roots)
        if not blocked:
            return included
        roots = [table for table in roots if table not in blocked]


def _referrers(cursor, roots: list[str]) -> tuple[list[str], set[str]]:
    """`roots` and the empty tables referring to them, with the roots that a non-empty table refers to."""
    origin = {table: table for table in roots}  # which root brought each table in
    included, queue, blocked = list(roots), list(roots), set()
    while queue:
        table = queue.pop()
        cursor.execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
            'AND confrelid = %s::regclass AND conrelid <> confrelid',
            [table],
        )
        for (other,) in cursor.fetchall():
            other = other.strip('"')
            if other in origin:
                continue
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(other)})')
            if cursor.fetchone()[0]:
                blocked.add(origin[table])  # something else still points into it: delete its rows instead
                continue
            origin[other] = origin[table]
            included.append(other)
            queue.append(other)
    return included, blocked


def _remove_rows(steps: list[tuple[str, str, bool]]) -> None:
    """Delete the rows each (table, condition, may truncate) step names. On PostgreSQL the tables that hold
    nothing else are emptied with one TRUNCATE (much faster than deleting millions of rows); the others get a
    DELETE."""
    with connection.cursor() as cursor:
        whole = []
        if connection.vendor == 'postgresql':
            for table, where, truncate_ok in steps:
                if truncate_ok:
                    cursor.execute(
                        f'SELECT (SELECT COUNT(*) FROM {table}) = (SELECT COUNT(*) FROM {table} WHERE {where})'
                    )
                    if cursor.fetchone()[0]:
                        whole.append(table)
            whole = _truncatable(cursor, whole)
        if whole:
            cursor.execute(f'TRUNCATE {", ".join(connection.ops.quote_name(t) for t in whole)}')
        for table, where, _truncate_ok in steps:
            if table not in whole:
                cursor.execute(f'DELETE FROM {table} WHERE {where}')


def _ticket_type_id() -> int:
    return ContentType.objects.get_for_model(Ticket).pk


def _ticket_steps(tickets: str, timeline: str, *, truncate_ok: bool) -> list[tuple[str, str, bool]]:
    """The `_remove_rows` steps for the tickets `tickets` (a query of ids) selects and all that hangs off them;
    `timeline` selects the history entries to go."""
    ticket_clocks = f'object_id IN ({tickets}) AND content_type_id = {_ticket_type_id()}'
    clocks = f'SELECT id FROM {SlaClock._meta.db_table} WHERE {ticket_clocks}'
    return [
        (ClockEvent._meta.db_table, f'clock_id IN ({clocks})', truncate_ok),
        (ClockPause._meta.db_table, f'clock_id IN ({clocks})', truncate_ok),
        (SlaClock._meta.db_table, ticket_clocks, truncate_ok),
        (TimelineEntry._meta.db_table, timeline, truncate_ok),
        (Attachment._meta.db_table, f'object_id IN ({tickets}) AND content_type_id = {_ticket_type_id()}', False),
        (Ticket._meta.db_table, f'id IN ({tickets})', truncate_ok),
    ]


def remove(log: Callable[[str], None] = lambda message: None) -> None:
    """Delete the synthetic data set: its people and groups, the CIs it generated and every ticket, clock and
    history entry that refers to them (including tickets created later by or for its people). Categories,
    agreements and calendars stay: they are shared reference data and a new data set reuses them."""
    started = time.monotonic()
    t = {
        m: m._meta.db_table
        for m in (
            User,
            SupportGroup,
            Ticket,
            SlaClock,
            ConfigurationItem,
            Relationship,
            Service,
            RaciAssignment,
            OperationalLevelAgreement,
        )
    }
    users = f"SELECT id FROM {t[User]} WHERE username LIKE '{reference.USER_PREFIX}%%'"
    groups = f"SELECT id FROM {t[SupportGroup]} WHERE email LIKE '%%@{reference.EMAIL_DOMAIN}'"
    cis = f"SELECT id FROM {t[ConfigurationItem]} WHERE description = '{estate_module.MARKER}'"
    olas = f'SELECT id FROM {t[OperationalLevelAgreement]} WHERE support_group_id IN ({groups})'
    types = {
        model: ContentType.objects.get_for_model(model).pk for model in (Ticket, ConfigurationItem, User, SupportGroup)
    }
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == 'postgresql':
            cursor.execute("SET LOCAL work_mem = '256MB'")  # the id lists below are hashed, not rescanned
        cursor.execute(
            f'CREATE TEMPORARY TABLE synthetic_tickets AS SELECT id FROM {t[Ticket]} WHERE caller_id IN ({users}) '
            f'OR opened_by_id IN ({users}) OR assignee_id IN ({users}) OR assignment_group_id IN ({groups}) '
            f'OR service_id IN ({cis}) OR ci_id IN ({cis})'
        )
        cursor.execute('CREATE UNIQUE INDEX synthetic_tickets_id ON synthetic_tickets (id)')
        cursor.execute('ANALYZE synthetic_tickets')
        tickets = 'SELECT id FROM synthetic_tickets'
        kept = 'NOT EXISTS (SELECT 1 FROM synthetic_tickets s WHERE s.id = {})'.format
        # Clocks that stay: those of tickets that stay, and those of any other kind of record.
        kept_clock = f'(content_type_id <> {types[Ticket]} OR {kept("object_id")})'
        # What stays but points at what goes lets go of it (as the models' SET_NULL would).
        for sql in (
            f'UPDATE {t[SlaClock]} SET ola_id = NULL WHERE ola_id IN ({olas}) AND {kept_clock}',
            f'UPDATE {t[SlaClock]} SET support_group_id = NULL WHERE support_group_id IN ({groups}) AND {kept_clock}',
            f'UPDATE {t[Ticket]} SET parent_id = NULL WHERE parent_id IN ({tickets}) AND {kept(t[Ticket] + ".id")}',
            f'UPDATE {t[ConfigurationItem]} SET support_group_id = NULL WHERE support_group_id IN ({groups}) '
            f"AND description <> '{estate_module.MARKER}'",
            f'UPDATE {t[SupportGroup]} SET escalation_group_id = NULL WHERE escalation_group_id IN ({groups})',
        ):
            cursor.execute(sql)
        timeline = ' OR '.join(
            [
                f'(content_type_id = {types[Ticket]} AND object_id IN ({tickets}))',
                f'(content_type_id = {types[ConfigurationItem]} AND object_id IN ({cis}))',
                f'(content_type_id = {types[User]} AND object_id IN ({users}))',
                f'(content_type_id = {types[SupportGroup]} AND object_id IN ({groups}))',
                f'actor_id IN ({users})',
            ]
        )
        from rest_framework.authtoken.models import Token

        _remove_rows(
            [
                *_ticket_steps(tickets, timeline, truncate_ok=True),
                (t[Relationship], f'source_id IN ({cis}) OR target_id IN ({cis})', True),
                (t[RaciAssignment], f'service_id IN ({cis})', False),
                (t[Service], f'ci_id IN ({cis})', True),
                (t[ConfigurationItem], f'id IN ({cis})', True),
                (t[OperationalLevelAgreement], f'id IN ({olas})', False),
                (SupportGroup.members.through._meta.db_table, f'supportgroup_id IN ({groups})', False),
                (t[SupportGroup], f'id IN ({groups})', False),
                (User.groups.through._meta.db_table, f'user_id IN ({users})', False),
                (User.user_permissions.through._meta.db_table, f'user_id IN ({users})', False),
                (Token._meta.db_table, f'user_id IN ({users})', False),
                (t[User], f'id IN ({users})', False),
            ]
        )
        cursor.execute('DROP TABLE synthetic_tickets')
    log(f'removed the synthetic data set in {time.monotonic() - started:.1f} s')


#
# Generating
#


def _next_id(model) -> int:
    return (model.objects.aggregate(last=Max('pk'))['last'] or 0) + 1


def _reserve_numbers(prefix: str, start: int) -> int:
    """The first free number of `prefix`; `_take_numbers` then moves the numbering past the ones the generator used.

    On SQLite the counter row stays locked until the transaction ends, so nobody else takes numbers meanwhile. On
    PostgreSQL numbers come from a sequence, which takes no lock: `_take_numbers` refuses if it moved meanwhile.
    """
    if uses_sequences():
        return peek_next_value(prefix, start=start)
    NumberSequence.objects.bulk_create([NumberSequence(prefix=prefix, last=start - 1)], ignore_conflicts=True)
    return NumberSequence.objects.select_for_update().get(prefix=prefix).last + 1


def _take_numbers(prefix: str, first: int, following: int, start: int) -> None:
    """Take numbers `first` … `following - 1` of `prefix`, so the application numbers new records after them."""
    if uses_sequences():
        moved_to = peek_next_value(prefix, start=start)
        if moved_to != first:
            raise DatasetError(f'The {prefix} sequence moved while the data set was generated ({moved_to}).')
        move_sequence_past(prefix, following - 1, start=start)
        return
    taken = next_numbers(prefix, following - first, start=start)
    if taken and taken[0] != format_number(prefix, first):
        raise DatasetError(f'The {prefix} sequence moved while the data set was generated ({taken[0]}).')


def _prepare_postgres(cursor) -> None:
    """Session settings for a bulk load (all LOCAL: they end with the transaction)."""
    cursor.execute('SET LOCAL synchronous_commit = off')
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    cursor.execute("SELECT current_setting('is_superuser') = 'on'")
    if cursor.fetchone()[0]:
        # The generator writes consistent keys by construction: skip the per-row foreign key triggers, as
        # pg_restore --disable-triggers does. Without the privilege the checks simply run at commit.
        cursor.execute('SET LOCAL session_replication_role = replica')


def _align_sequences(tables: list[str]) -> None:
    """Move each table's id sequence past the ids the generator assigned itself."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT pg_get_serial_sequence(table_name, 'id') FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s AND column_name = 'id'",
                [table],
            )
            found = cursor.fetchone()
            sequence = found[0] if found else None
            if sequence:
                cursor.execute(f'SELECT setval(%s, GREATEST((SELECT MAX(id) FROM {table}), 1))', [sequence])


def _vacuum(tables: list[str], log) -> float:
    """VACUUM ANALYZE the loaded tables: the visibility map (index-only scans) and the planner's statistics."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM ANALYZE {table}')
    seconds = time.monotonic() - started
    log(f'VACUUM ANALYZE: {seconds:.1f} s')
    return seconds


@contextlib.contextmanager
def _without_gc():
    """Generating creates millions of short-lived objects and no reference cycles: the cyclic collector would
    only walk the long-lived lookup tables again and again."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(
    *,
    incidents: int,
    cis: int,
    seed: int = 1,
    days: int = 365,
    reset: bool = False,
    progress: bool = True,
    rollups: bool = True,
    log: Callable[[str], None] = _stderr,
) -> Manifest:
    """Generate the data set (or find it already there); see `synthetic` for what it holds.

    Without `reset`, a data set generated with the same parameters is kept as it is, and a different one is
    refused (DatasetError); with `reset`, whatever synthetic data is there is removed first.
    """
    if incidents < 0 or days < 1:
        raise ValueError('Give a number of incidents (0 or more) and of days (1 or more).')
    estate_module.Layout.of(cis)  # refuses too small an estate before anything is written
    found = current()
    if found is not None and not reset and found.matches(incidents=incidents, cis=cis, seed=seed, days=days):
        log(f'synthetic data set already present: {found.describe()}')
        return found
    if (found is not None or present()) and not reset:
        what = found.describe() if found else 'an incomplete one'
        raise DatasetError(f'Another synthetic data set is present ({what}): use --reset to replace it.')
    if reset and present():
        remove(log)
    manifest = Manifest(incidents=incidents, cis=cis, seed=seed, days=days)
    timings = manifest.seconds
    now_dt = timezone.now().replace(microsecond=0)
    now = int(now_dt.timestamp())
    manifest.as_of = now_dt.isoformat()
    rng = random.Random(seed)
    started = time.monotonic()
    postgres = connection.vendor == 'postgresql'
    with transaction.atomic():
        if postgres:
            with connection.cursor() as cursor:
                _prepare_postgres(cursor)
        desk = reference.build(incidents, rng)
        layout = estate_module.Layout.of(cis)
        ids = Ids(
            ticket=_next_id(Ticket),
            clock=_next_id(SlaClock),
            pause=_next_id(ClockPause),
            event=_next_id(ClockEvent),
            timeline=_next_id(TimelineEntry),
        )
        numbers = {prefix: _reserve_numbers(prefix, Ticket.number_start) for prefix in ('INC', 'CS')}
        firsts = dict(numbers)
        first_ci = _next_id(ConfigurationItem)
        first_ci_number = _reserve_numbers('CI', ConfigurationItem.number_start)
        first_relationship = _next_id(Relationship)
        ticket_type = ContentType.objects.get_for_model(Ticket).pk
        manifest.first_ci, manifest.first_ticket = first_ci, ids.ticket
        timings['reference'] = time.monotonic() - started
        # A large load, larger than what is there already, goes faster without the secondary indexes (they are
        # built again after it, in the same transaction).
        defer = incidents >= DEFER_INDEXES_FROM and Ticket.objects.count() < incidents
        # Everything the generators need from the database is read before the writer starts: from then on its
        # loader thread owns the connection.
        groups = {key: team.id for key, team in desk.teams.items()}
        tickets = Tickets(
            desk, ids=ids, numbers=numbers, now=now, days=days, count=incidents, rng=rng, ticket_type_id=ticket_type
        )
        writer = writer_for([*estate_module.TABLES, *TICKET_TABLES], defer_indexes=defer)
        with writer:
            mark = time.monotonic()
            with Progress('CMDB', cis + 3 * cis, enabled=progress) as bar:
                estate = estate_module.generate(
                    layout,
                    write=writer.add,
                    first_id=first_ci,
                    first_number=first_ci_number,
                    first_relationship_id=first_relationship,
                    groups=groups,
                    now=now,
                    rng=rng,
                    progress=bar,
                )
            timings['cmdb'] = time.monotonic() - mark
            mark = time.monotonic()
            tickets.start(estate, write=writer.add)
            with Progress('tickets', incidents, enabled=progress) as bar, _without_gc():
                tickets.generate(progress=bar)
        timings['tickets'] = time.monotonic() - mark
        if getattr(writer, 'index_seconds', None):
            timings['indexes'] = writer.index_seconds
            log(f'indexes built again in {writer.index_seconds:.1f} s')
        manifest.last_ticket = ids.ticket - 1
        manifest.counts = {
            'users': desk.created_users,
            'groups': len(desk.teams),
            'cis': cis,
            'relationships': estate.relationships,
            **tickets.totals,
        }
        for prefix, following in numbers.items():
            _take_numbers(prefix, firsts[prefix], following, Ticket.number_start)
        _take_numbers('CI', first_ci_number, first_ci_number + cis, ConfigurationItem.number_start)
        timings['load'] = time.monotonic() - started
        log(
            f'generated and loaded in {timings["load"]:.1f} s: '
            + ', '.join(f'{v:,} {k}' for k, v in manifest.counts.items())
        )
    tables = [
        m._meta.db_table
        for m in (
            ConfigurationItem,
            Service,
            Relationship,
            Ticket,
            SlaClock,
            ClockPause,
            ClockEvent,
            TimelineEntry,
            User,
            SupportGroup,
            # Small, but without statistics the planner takes the memberships for a thousand rows and hashes every
            # person on file to find a group's members.
            SupportGroup.members.through,
            User.groups.through,
        )
    ]
    if postgres:
        _align_sequences(tables)
        if connection.in_atomic_block:
            log('VACUUM ANALYZE skipped: the caller holds a transaction open (run it, or autovacuum will)')
        else:
            timings['vacuum'] = _vacuum(tables, log)
    if rollups:
        from reports.services import rollup_rebuild

        mark = time.monotonic()
        result = rollup_rebuild()
        timings['rollups'] = time.monotonic() - mark
        if postgres and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute('VACUUM ANALYZE reports_dailyrollup')
        log(f'rollups rebuilt in {timings["rollups"]:.1f} s: {result}')
    timings['total'] = time.monotonic() - started
    _record(manifest)
    return manifest


def add_backlog(count: int, *, opened_at: dt.datetime, seed: int = 0) -> range:
    """Add `count` new, unassigned tickets opened in the minute from `opened_at` on to the data set, each with its
    SLA response and resolution clocks running: a backlog for load tests such as the SLA sweep benchmark.
    Returns their ids; `remove_tickets` takes them away again."""
    manifest = current()
    if manifest is None:
        raise DatasetError('There is no synthetic data set to add tickets to: run generate_data first.')
    opened = int(opened_at.timestamp())
    with transaction.atomic():
        if connection.vendor == 'postgresql':
            with connection.cursor() as cursor:
                _prepare_postgres(cursor)
        desk = reference.load()
        first = _next_id(Ticket)
        ids = Ids(
            ticket=first,
            clock=_next_id(SlaClock),
            pause=_next_id(ClockPause),
            event=_next_id(ClockEvent),
            timeline=_next_id(TimelineEntry),
        )
        numbers = {prefix: _reserve_numbers(prefix, Ticket.number_start) for prefix in ('INC', 'CS')}
        firsts = dict(numbers)
        ticket_type = ContentType.objects.get_for_model(Ticket).pk
        tickets = Tickets(
            desk,
            ids=ids,
            numbers=numbers,
            now=opened + 60,
            days=1,
            count=count,
            rng=random.Random(seed),
            ticket_type_id=ticket_type,
        )
        estate = estate_module.load(manifest.cis, manifest.first_ci, {t.id: t.key for t in desk.teams.values()})
        with writer_for(TICKET_TABLES) as writer, _without_gc():
            tickets.start(estate, write=writer.add)
            tickets.backlog(count, opened)
        for prefix, following in numbers.items():
            _take_numbers(prefix, firsts[prefix], following, Ticket.number_start)
    if connection.vendor == 'postgresql':
        _align_sequences([m._meta.db_table for m in (Ticket, SlaClock, ClockPause, ClockEvent, TimelineEntry)])
    return range(first, ids.ticket)


def remove_tickets(ids: range) -> None:
    """Delete the tickets with these ids (a range from `add_backlog`, or tickets a benchmark created) and their
    clocks, pauses, events and history."""
    if not ids:
        return
    tickets = f'SELECT id FROM {Ticket._meta.db_table} WHERE id BETWEEN {ids.start} AND {ids.stop - 1}'
    timeline = f'content_type_id = {ContentType.objects.get_for_model(Ticket).pk} AND object_id IN ({tickets})'
    with transaction.atomic():
        _remove_rows(_ticket_steps(tickets, timeline, truncate_ok=False))


def _record(manifest: Manifest) -> None:
    group = SupportGroup.objects.get(name=ANCHOR, email__endswith=f'@{reference.EMAIL_DOMAIN}')
    manifest.seconds = {k: round(v, 1) for k, v in manifest.seconds.items()}
    TimelineEntry.objects.create(
        content_type=ContentType.objects.get_for_model(SupportGroup),
        object_id=group.pk,
        kind='created',
        channel='system',
        at=timezone.now(),
        message=f'Synthetic data set generated: {manifest.describe()}',
        data={MANIFEST_KEY: dataclasses.asdict(manifest)},
    )
