"""Reads of the CMDB, shared by pages and the API. Query counts do not grow with the number of rows returned.

Impact analysis is one recursive CTE over the relationship table (plain SQL that PostgreSQL and SQLite both
run): it walks from a CI along `target → source` (downstream: what depends on it) or `source → target`
(upstream: what it depends on), breadth-first, and returns each CI reached once with a shortest path.
`ci_impact_count` and `ci_impact_page` (PostgreSQL: arrays, one row per step) count the CIs reached and read one page
of them, or only the services, without returning every CI: bounded, so a hub answers in what its first steps cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.urls import reverse

from itsm.models import TimelineEntry

from .choices import (
    CI_STATUS_COLORS,
    CRITICALITY_RANK,
    SERVICE_STATUS_COLORS,
    CIClass,
    ImpactDirection,
    RaciActivity,
    RaciRole,
)
from .models import ConfigurationItem, RaciAssignment, Relationship, Service

__all__ = [
    'DEFAULT_IMPACT_DEPTH',
    'IMPACT_COUNT_LIMIT',
    'IMPACT_PAGE_SIZE',
    'MAX_IMPACT_DEPTH',
    'ImpactItem',
    'ImpactPage',
    'LinkedRecords',
    'Recipient',
    'ci_graph',
    'ci_impact',
    'ci_impact_count',
    'ci_impact_page',
    'ci_incident_links',
    'ci_list',
    'ci_relationships',
    'ci_timeline',
    'lifecycle_label',
    'raci_list',
    'raci_matrix',
    'recipients_for_services',
    'relationship_list',
    'service_choices',
    'service_list',
    'service_recipients',
    'services_impacted_by',
    'suggested_service',
]

DEFAULT_IMPACT_DEPTH = 8
MAX_IMPACT_DEPTH = 50
MAP_NODE_LIMIT = 400
# A bounded walk stops after the step at which it has reached more than this many CIs (its total is then a floor).
IMPACT_COUNT_LIMIT = 10_000
IMPACT_PAGE_SIZE = 50


# ------------------------------------------------------------------------------------------------- lists
def ci_list() -> QuerySet[ConfigurationItem]:
    return ConfigurationItem.objects.select_related('owner', 'support_group')


def service_choices() -> list[tuple[int, str]]:
    """(pk, name) of every service CI by name: the service filter of the dashboards (a thousand of them is not
    rare, so no model instances are built)."""
    return list(ConfigurationItem.objects.filter(ci_class=CIClass.SERVICE).order_by('name').values_list('pk', 'name'))


def service_list() -> QuerySet[Service]:
    return Service.objects.select_related('ci', 'ci__owner', 'ci__support_group', 'business_owner')


def relationship_list() -> QuerySet[Relationship]:
    return Relationship.objects.select_related('source', 'target')


def raci_list() -> QuerySet[RaciAssignment]:
    return RaciAssignment.objects.select_related('service__ci', 'person', 'support_group')


def ci_relationships(ci: ConfigurationItem) -> tuple[list[Relationship], list[Relationship]]:
    """(what `ci` depends on, what depends on `ci`): its outgoing and incoming relationships."""
    outgoing = list(Relationship.objects.filter(source=ci).select_related('target').order_by('type', 'target__name'))
    incoming = list(Relationship.objects.filter(target=ci).select_related('source').order_by('type', 'source__name'))
    return outgoing, incoming


def ci_timeline(ci: ConfigurationItem) -> QuerySet[TimelineEntry]:
    """The CI's history; a service's also holds its details' and RACI entries (they share the primary key)."""
    types = [ContentType.objects.get_for_model(ConfigurationItem)]
    if ci.is_service:
        types.append(ContentType.objects.get_for_model(Service))
    return TimelineEntry.objects.filter(content_type__in=types, object_id=ci.pk).select_related('actor')


# ------------------------------------------------------------------------------------------------ impact
@dataclass
class ImpactItem:
    """A CI reached by an impact walk, at its shortest distance, with the path (numbers) from the start."""

    id: int
    number: str
    name: str
    ci_class: str
    status: str
    environment: str
    depth: int
    path: list[str] = field(default_factory=list)
    service_status: str | None = None
    criticality: str | None = None

    @property
    def is_service(self) -> bool:
        return self.ci_class == CIClass.SERVICE

    @property
    def ci_class_label(self) -> str:
        return str(CIClass(self.ci_class).label)

    def as_dict(self, *, path: bool = True) -> dict[str, Any]:
        data = {'number': self.number, 'name': self.name, 'ci_class': self.ci_class, 'depth': self.depth}
        if path:
            data['path'] = self.path
        return data


_WALK_SQL = """
WITH RECURSIVE walk(ci_id, depth{via_column}) AS (
    SELECT r.{step}, 1{via_start} FROM {relationship} r WHERE r.{anchor} = %s
  UNION
    SELECT r.{step}, w.depth + 1{via_step}
    FROM walk w
    JOIN {relationship} r ON r.{anchor} = w.ci_id
    WHERE w.depth < %s AND r.{step} <> %s
),
reached(ci_id, depth) AS (
    SELECT ci_id, MIN(depth) FROM walk GROUP BY ci_id
){parent_cte}
SELECT ci.id, ci.number, ci.name, ci.ci_class, ci.status, ci.environment, s.status, s.criticality,
       reached.depth, {via}
FROM reached{parent_join}
JOIN {ci} ci ON ci.id = reached.ci_id
LEFT JOIN {service} s ON s.ci_id = ci.id
ORDER BY reached.depth, ci.number
"""
# For paths each step also notes the CI it came from, and each CI keeps one neighbour it was reached from at
# its shortest distance (the lowest id, for stable answers); following those back gives a shortest path.
_PARENT_CTE = """,
parent(ci_id, via) AS (
    SELECT w.ci_id, MIN(w.via)
    FROM walk w
    JOIN reached c ON c.ci_id = w.ci_id AND c.depth = w.depth
    GROUP BY w.ci_id
)"""


def _impact_sql(direction: str, *, paths: bool) -> str:
    # Downstream follows links into the CI (their sources depend on it); upstream follows links out of it.
    anchor, step = ('target_id', 'source_id') if direction == ImpactDirection.DOWNSTREAM else ('source_id', 'target_id')
    return _WALK_SQL.format(
        anchor=anchor,
        step=step,
        relationship=Relationship._meta.db_table,
        ci=ConfigurationItem._meta.db_table,
        service=Service._meta.db_table,
        via_column=', via' if paths else '',
        via_start=f', r.{anchor}' if paths else '',
        via_step=', w.ci_id' if paths else '',
        parent_cte=_PARENT_CTE if paths else '',
        via='parent.via' if paths else 'NULL',
        parent_join='\nJOIN parent ON parent.ci_id = reached.ci_id' if paths else '',
    )


def ci_impact(
    ci: ConfigurationItem,
    *,
    direction: str = ImpactDirection.DOWNSTREAM,
    depth: int = DEFAULT_IMPACT_DEPTH,
    paths: bool = True,
) -> list[ImpactItem]:
    """Every CI `depth` steps or fewer downstream (what breaks if `ci` fails) or upstream (what it needs).

    One query. Each CI appears once, at its shortest distance, nearest first, with a shortest path (numbers,
    from `ci` to it) unless `paths` is off. The walk is breadth-first: `UNION` drops a step already taken at
    the same distance, so the work grows with the relationships walked, not with the number of paths through
    them (which grows exponentially in a meshed estate), and cycles end at the depth limit.
    """
    if direction not in ImpactDirection.values:
        raise ValueError(f'direction must be one of {ImpactDirection.values}')
    depth = max(1, min(int(depth), MAX_IMPACT_DEPTH))
    params = [ci.pk, depth, ci.pk]
    with connection.cursor() as cursor:
        cursor.execute(_impact_sql(direction, paths=paths), params)
        rows = cursor.fetchall()
    # Rows come nearest first, so the neighbour each CI was reached from already has its path.
    paths_by_id: dict[int, list[str]] = {ci.pk: [ci.number]}
    items = []
    for row in rows:
        ci_id, number, via = row[0], row[1], row[9]
        path = [*paths_by_id[via], number] if paths else []
        paths_by_id[ci_id] = path
        items.append(_impact_item(row, path))
    return items


def _impact_item(row: Sequence, path: list[str]) -> ImpactItem:
    """An impact row (id, number, name, class, status, environment, service status, criticality, depth, ...)."""
    ci_id, number, name, ci_class, status, environment, service_status, criticality, level = row[:9]
    return ImpactItem(
        id=ci_id,
        number=number,
        name=name,
        ci_class=ci_class,
        status=status,
        environment=environment,
        service_status=service_status,
        criticality=criticality,
        depth=level,
        path=path,
    )


@dataclass
class ImpactPage:
    """A bounded impact walk: how many CIs it reached, one page of them nearest first, and the services among them.

    The walk goes step by step and stops after the step at which it has reached more than its limit, so a hub
    (a core router, on which the whole estate depends) costs what its first few steps cost. `exact` is False
    when it stopped that way before `depth` steps: `total` is then the number reached so far (at least that many
    are affected), and `depth_reached` the last step taken.
    """

    total: int
    exact: bool
    depth_reached: int
    by_depth: list[int]
    items: list[ImpactItem] = field(default_factory=list)
    services: list[ImpactItem] = field(default_factory=list)
    offset: int = 0
    limit: int = 0

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total

    def as_dict(self, *, path: bool = True) -> dict[str, Any]:
        return {
            'count': self.total,
            'count_exact': self.exact,
            'depth_reached': self.depth_reached,
            'by_depth': self.by_depth,
            'offset': self.offset,
            'limit': self.limit,
            'items': [item.as_dict(path=path) for item in self.items],
        }


# Breadth-first by whole steps: each row of `bfs` is one step, with the CIs first reached at it (ascending id) and,
# for each, the lowest-id neighbour it was reached from at the previous step. `seen` (every CI reached so far) keeps
# a CI from being walked again at a longer distance, so each relationship is followed at most once.
_BOUNDED_WALK_SQL = """
WITH RECURSIVE bfs(depth, ids, vias, seen) AS (
    SELECT 0, ARRAY[%(start)s::bigint], ARRAY[NULL::bigint], ARRAY[%(start)s::bigint]
  UNION ALL
    SELECT b.depth + 1, step.ids, step.vias, b.seen || step.ids
    FROM bfs b
    CROSS JOIN LATERAL (
        SELECT array_agg(n.ci_id ORDER BY n.ci_id) AS ids, array_agg(n.via ORDER BY n.ci_id) AS vias
        FROM (
            SELECT r.{step} AS ci_id, MIN(r.{anchor}) AS via
            FROM unnest(b.ids) AS frontier(id)
            JOIN {relationship} r ON r.{anchor} = frontier.id
            WHERE NOT EXISTS (SELECT 1 FROM unnest(b.seen) AS known(id) WHERE known.id = r.{step})
            GROUP BY r.{step}
        ) n
    ) step
    WHERE b.depth < %(depth)s AND cardinality(b.seen) - 1 <= %(cap)s AND step.ids IS NOT NULL
)"""
_COUNT_SQL = (
    _BOUNDED_WALK_SQL
    + """
SELECT depth, cardinality(ids) FROM bfs WHERE depth > 0 ORDER BY depth"""
)
# The page (offset/limit in step and id order), the services when asked, and every CI on their paths back to the
# start, each with its step, the neighbour it was reached from and whether it is on the page; then the step sizes.
_PAGE_SQL = (
    _BOUNDED_WALK_SQL
    + """,
levels AS (
    SELECT depth, ids, vias, SUM(cardinality(ids)) OVER (ORDER BY depth) - cardinality(ids) AS before
    FROM bfs WHERE depth > 0
),
-- Only the steps the page reaches into (and those before, which hold the paths) unless services are wanted.
reached AS MATERIALIZED (
    SELECT u.ci_id, u.via, levels.depth
    FROM levels, unnest(levels.ids, levels.vias) AS u(ci_id, via)
    WHERE levels.before < %(offset)s + %(limit)s OR %(services)s
),
page AS (
    SELECT ci_id FROM reached ORDER BY depth, ci_id LIMIT %(limit)s OFFSET %(offset)s
),
wanted AS (
    SELECT ci_id FROM page
  UNION
    SELECT reached.ci_id FROM reached
    JOIN {ci} service_ci ON service_ci.id = reached.ci_id AND service_ci.ci_class = %(service_class)s
    WHERE %(services)s
),
back(ci_id) AS (
    SELECT ci_id FROM wanted
  UNION
    SELECT reached.via FROM back JOIN reached ON reached.ci_id = back.ci_id WHERE reached.depth > 1
),
trail AS MATERIALIZED (
    SELECT reached.ci_id, reached.via, reached.depth FROM back JOIN reached ON reached.ci_id = back.ci_id
)
SELECT ci.id, ci.number, ci.name, ci.ci_class, ci.status, ci.environment, s.status, s.criticality,
       trail.depth, trail.via, EXISTS (SELECT 1 FROM page WHERE page.ci_id = ci.id), NULL
FROM trail
JOIN {ci} ci ON ci.id = trail.ci_id
LEFT JOIN {service} s ON s.ci_id = ci.id
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       (SELECT array_agg(cardinality(ids) ORDER BY depth) FROM bfs WHERE depth > 0)
"""
)


def _walk_columns(direction: str) -> tuple[str, str]:
    # Downstream follows links into the CI (their sources depend on it); upstream follows links out of it.
    return ('target_id', 'source_id') if direction == ImpactDirection.DOWNSTREAM else ('source_id', 'target_id')


def _bounded_sql(template: str, direction: str) -> str:
    anchor, step = _walk_columns(direction)
    return template.format(
        anchor=anchor,
        step=step,
        relationship=Relationship._meta.db_table,
        ci=ConfigurationItem._meta.db_table,
        service=Service._meta.db_table,
    )


def _bounds(by_depth: list[int], depth: int, cap: int | None) -> tuple[int, bool]:
    total = sum(by_depth)
    stopped_early = cap is not None and total > cap and len(by_depth) < depth
    return total, not stopped_early


def _levels_within(counts: list[int], cap: int | None) -> int:
    """How many steps a bounded walk takes given the number of CIs each full step reaches."""
    reached = 0
    for taken, count in enumerate(counts):
        if cap is not None and reached > cap:
            return taken
        reached += count
    return len(counts)


def ci_impact_count(
    ci: ConfigurationItem,
    *,
    direction: str = ImpactDirection.DOWNSTREAM,
    depth: int = DEFAULT_IMPACT_DEPTH,
    cap: int | None = IMPACT_COUNT_LIMIT,
) -> ImpactPage:
    """How many CIs `ci`'s impact walk reaches (and how many at each step), without listing them. One query.

    Bounded by `cap` (see `ImpactPage`); `cap=None` walks to the end.
    """
    return ci_impact_page(ci, direction=direction, depth=depth, cap=cap, limit=0)


def ci_impact_page(
    ci: ConfigurationItem,
    *,
    direction: str = ImpactDirection.DOWNSTREAM,
    depth: int = DEFAULT_IMPACT_DEPTH,
    offset: int = 0,
    limit: int = IMPACT_PAGE_SIZE,
    cap: int | None = IMPACT_COUNT_LIMIT,
    paths: bool = True,
    services: bool = False,
) -> ImpactPage:
    """One page of `ci`'s impact walk (nearest first, then by id), with the bounded total and, when `services`,
    every service the walk reached (with paths). One query; only the page, the services and the CIs on their paths
    are read, never every CI reached.
    """
    if direction not in ImpactDirection.values:
        raise ValueError(f'direction must be one of {ImpactDirection.values}')
    depth = max(1, min(int(depth), MAX_IMPACT_DEPTH))
    offset, limit = max(0, int(offset)), max(0, int(limit))
    if connection.vendor != 'postgresql':
        return _impact_page_from_full_walk(
            ci, direction=direction, depth=depth, offset=offset, limit=limit, cap=cap, paths=paths, services=services
        )
    params = {'start': ci.pk, 'depth': depth, 'cap': cap if cap is not None else 2**62}
    with connection.cursor() as cursor:
        if limit == 0 and not services:
            cursor.execute(_bounded_sql(_COUNT_SQL, direction), params)
            by_depth = [count for _, count in cursor.fetchall()]
            total, exact = _bounds(by_depth, depth, cap)
            return ImpactPage(total=total, exact=exact, depth_reached=len(by_depth), by_depth=by_depth)
        params.update({'offset': offset, 'limit': limit, 'services': services, 'service_class': str(CIClass.SERVICE)})
        cursor.execute(_bounded_sql(_PAGE_SQL, direction), params)
        rows = cursor.fetchall()
    by_depth = next(list(row[-1] or []) for row in rows if row[0] is None)
    total, exact = _bounds(by_depth, depth, cap)
    # By step, so the neighbour a CI was reached from already has its path.
    found = sorted((row for row in rows if row[0] is not None), key=lambda row: row[8])
    paths_by_id: dict[int, list[str]] = {ci.pk: [ci.number]}
    page, hit = [], []
    for row in found:
        ci_id, number, via, on_page = row[0], row[1], row[9], row[10]
        path = [*paths_by_id[via], number]
        paths_by_id[ci_id] = path
        item = _impact_item(row, path if paths else [])
        if on_page:
            page.append(item)
        if services and item.is_service:
            hit.append(item)
    page.sort(key=lambda item: (item.depth, item.id))
    hit.sort(key=lambda item: (item.depth, item.id))
    return ImpactPage(
        total=total,
        exact=exact,
        depth_reached=len(by_depth),
        by_depth=by_depth,
        items=page,
        services=hit,
        offset=offset,
        limit=limit,
    )


def _impact_page_from_full_walk(
    ci: ConfigurationItem,
    *,
    direction: str,
    depth: int,
    offset: int,
    limit: int,
    cap: int | None,
    paths: bool,
    services: bool,
) -> ImpactPage:
    """The same answer from the full walk, for databases without arrays (SQLite in development and tests)."""
    items = ci_impact(ci, direction=direction, depth=depth, paths=paths)
    counts = [0] * (max((item.depth for item in items), default=0))
    for item in items:
        counts[item.depth - 1] += 1
    by_depth = counts[: _levels_within(counts, cap)]
    total, exact = _bounds(by_depth, depth, cap)
    reached = sorted((item for item in items if item.depth <= len(by_depth)), key=lambda item: (item.depth, item.id))
    return ImpactPage(
        total=total,
        exact=exact,
        depth_reached=len(by_depth),
        by_depth=by_depth,
        items=reached[offset : offset + limit],
        services=[item for item in reached if item.is_service] if services else [],
        offset=offset,
        limit=limit,
    )


def _service_rank(item: ImpactItem) -> tuple:
    return item.depth, CRITICALITY_RANK.get(item.criticality, 9), item.name


def services_impacted_by(
    ci: ConfigurationItem, *, depth: int = MAX_IMPACT_DEPTH, cap: int | None = IMPACT_COUNT_LIMIT
) -> list[ImpactItem]:
    """The services that break when `ci` fails (itself first when it is a service), nearest and most critical
    first. The walk stops after the step that passes `cap` CIs (a hub reaches the whole estate; what a ticket
    page or a create suggests is the nearest services): `None` walks to `depth`."""
    # Only the services are read: a hub reaches most of the estate, of which services are a small part.
    walk = ci_impact_page(ci, direction=ImpactDirection.DOWNSTREAM, depth=depth, limit=0, cap=cap, services=True)
    items = walk.services
    if ci.is_service:
        details = Service.objects.filter(ci=ci).values('status', 'criticality').first() or {}
        itself = ImpactItem(
            id=ci.pk,
            number=ci.number,
            name=ci.name,
            ci_class=ci.ci_class,
            status=ci.status,
            environment=ci.environment,
            depth=0,
            path=[ci.number],
            service_status=details.get('status'),
            criticality=details.get('criticality'),
        )
        items.insert(0, itself)
    return sorted(items, key=_service_rank)


def suggested_service(ci: ConfigurationItem) -> ImpactItem | None:
    """The service an incident on `ci` most likely affects: the CI itself if it is one, else the nearest
    service depending on it (the most critical on a tie)."""
    services = services_impacted_by(ci)
    return services[0] if services else None


def _hex(color: str) -> str:
    return {
        'green': '#2fb344',
        'yellow': '#f59f00',
        'orange': '#f76707',
        'red': '#d63939',
        'blue': '#206bc4',
        'cyan': '#17a2b8',
        'azure': '#4299e1',
        'dark': '#1d273b',
    }.get(color, '#6c7a91')


def node_color(ci_class: str, status: str, service_status: str | None) -> tuple[str, str]:
    """(status shown, colour) of a map node: a service's operational status, any other CI's lifecycle status."""
    if ci_class == CIClass.SERVICE and service_status:
        return service_status, _hex(SERVICE_STATUS_COLORS.get(service_status, ''))
    return status, _hex(CI_STATUS_COLORS.get(status, ''))


def _node(item: ImpactItem | ConfigurationItem, role: str, depth: int, service_status: str | None) -> dict:
    shown, color = node_color(item.ci_class, item.status, service_status)
    return {
        'id': item.number,
        'label': item.name,
        'ci_class': item.ci_class,
        'status': shown,
        'color': color,
        'depth': depth,
        'role': role,
        'url': reverse('cmdb:configurationitem_detail', kwargs={'number': item.number}),
    }


def ci_graph(ci: ConfigurationItem, *, depth: int = 2, limit: int = MAP_NODE_LIMIT) -> dict[str, Any]:
    """The dependency map around `ci`: what it depends on and what depends on it, `depth` steps each way.

    Nodes nearest to `ci` are kept when there are more than `limit`; edges are all relationships among the
    nodes kept. Four queries whatever the size.
    """
    upstream = ci_impact(ci, direction=ImpactDirection.UPSTREAM, depth=depth, paths=False)
    downstream = ci_impact(ci, direction=ImpactDirection.DOWNSTREAM, depth=depth, paths=False)
    details = Service.objects.filter(ci=ci).values_list('status', flat=True).first() if ci.is_service else None
    nodes: dict[int, dict] = {ci.pk: _node(ci, 'root', 0, details)}
    reached = sorted(
        [(item, 'upstream') for item in upstream] + [(item, 'downstream') for item in downstream],
        key=lambda pair: pair[0].depth,
    )
    truncated = False
    for item, role in reached:
        if item.id in nodes:
            continue  # on a cycle a CI is both upstream and downstream; the first role found wins
        if len(nodes) >= limit:
            truncated = True
            break
        nodes[item.id] = _node(item, role, item.depth, item.service_status)
    ids = list(nodes)
    links = Relationship.objects.filter(source_id__in=ids, target_id__in=ids).values_list(
        'id', 'source_id', 'type', 'target_id'
    )
    edges = [
        {'id': f'r{pk}', 'source': nodes[source]['id'], 'target': nodes[target]['id'], 'type': type_}
        for pk, source, type_, target in links
    ]
    return {'root': ci.number, 'depth': depth, 'nodes': list(nodes.values()), 'edges': edges, 'truncated': truncated}


# ------------------------------------------------------------------------------------------ RACI, recipients
def raci_matrix(service: Service) -> list[dict[str, Any]]:
    """One row per activity: {'activity', 'label', 'R': [...], 'A': [...], 'C': [...], 'I': [...]}."""
    rows = {
        value: {'activity': value, 'label': label, **{role: [] for role in RaciRole.values}}
        for value, label in RaciActivity.choices
    }
    for assignment in RaciAssignment.objects.filter(service=service).select_related('person', 'support_group'):
        rows[assignment.activity][assignment.role].append(assignment)
    return list(rows.values())


@dataclass
class Recipient:
    """Someone to notify about a service: an address, who it is, and their RACI roles."""

    email: str
    name: str
    kind: str  # 'person' or 'group'
    roles: set[str] = field(default_factory=set)
    activities: set[str] = field(default_factory=set)

    @property
    def role_text(self) -> str:
        """Roles in RACI order, e.g. 'AR'."""
        return ''.join(role for role in RaciRole.values if role in self.roles)

    def as_dict(self) -> dict[str, Any]:
        return {
            'email': self.email,
            'name': self.name,
            'kind': self.kind,
            'roles': sorted(self.roles, key=RaciRole.values.index),
            'activities': sorted(self.activities),
        }


def _addresses(assignment: RaciAssignment) -> list[tuple[str, str, str]]:
    if assignment.person_id:
        person = assignment.person
        return [(person.email, str(person), 'person')] if person.email and person.is_active else []
    group = assignment.support_group
    if group.email:
        return [(group.email, group.name, 'group')]
    # A group without its own address is reached through its members (as SupportGroup.email says).
    return [(m.email, str(m), 'person') for m in group.members.all() if m.email and m.is_active]


def _recipients(assignments: Iterable[RaciAssignment]) -> list[Recipient]:
    found: dict[str, Recipient] = {}
    for assignment in assignments:
        for email, name, kind in _addresses(assignment):
            recipient = found.setdefault(email.lower(), Recipient(email=email, name=name, kind=kind))
            recipient.roles.add(assignment.role)
            recipient.activities.add(assignment.activity)
    order = {role: index for index, role in enumerate(['A', 'R', 'C', 'I'])}
    return sorted(found.values(), key=lambda r: (min(order[x] for x in r.roles), r.name.lower()))


def _raci_rows(services: Q, activity: str | None, roles: Iterable[str] | None) -> QuerySet[RaciAssignment]:
    rows = RaciAssignment.objects.filter(services).select_related('person', 'support_group')
    if activity:
        rows = rows.filter(activity=activity)
    if roles:
        rows = rows.filter(role__in=list(roles))
    return rows.prefetch_related('support_group__members')


def service_recipients(
    service: Service, *, activity: str | None = None, roles: Iterable[str] | None = None
) -> list[Recipient]:
    """Who to notify about `service`, derived from its RACI matrix: people's addresses and groups' addresses
    (members' when a group has none), each once, accountable first. Narrow by `activity` and `roles`."""
    return _recipients(_raci_rows(Q(service=service), activity, roles))


def recipients_for_services(
    services: Iterable[Service | int], *, activity: str | None = None, roles: Iterable[str] | None = None
) -> list[Recipient]:
    """One deduplicated recipient list for several services (e.g. every service an outage impacts)."""
    ids = [s.pk if isinstance(s, models.Model) else s for s in services]
    return _recipients(_raci_rows(Q(service_id__in=ids), activity, roles)) if ids else []


# ------------------------------------------------------------------------------------------ linked records
@dataclass
class LinkedRecords:
    """Records of another app pointing at a CI (incidents, problems, known errors, changes, ...). `rows` pairs each
    record with its lifecycle label ('' for a model without one), whatever the model calls that field."""

    label: str
    model: type[models.Model]
    records: list

    @property
    def rows(self) -> list[tuple[models.Model, str]]:
        return [(record, lifecycle_label(record)) for record in self.records]


# Names of the field holding a record's lifecycle, in the order they are looked for: process records have a
# `state`, other models (knowledge objects, CIs) a `status`.
LIFECYCLE_FIELDS = ('state', 'status')


def lifecycle_field(model: type[models.Model]) -> str | None:
    """The concrete choice field that holds `model`'s lifecycle, or None."""
    for name in LIFECYCLE_FIELDS:
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if model_field.concrete and model_field.choices:
            return name
    return None


def lifecycle_label(record: models.Model) -> str:
    """The display label of a record's state or status ('' when its model has neither)."""
    name = lifecycle_field(type(record))
    return str(getattr(record, f'get_{name}_display')()) if name else ''


# Our own links to CIs are shown in their own sections of the CI page, not as linked records.
LINK_EXCLUDED_APPS = {'cmdb'}


def linking_relations() -> list[models.ForeignObjectRel]:
    """Foreign keys and many-to-many fields of other apps' models that point at ConfigurationItem, for models
    that have a page (`get_absolute_url`)."""
    return [
        rel
        for rel in ConfigurationItem._meta.related_objects
        if rel.related_model._meta.app_label not in LINK_EXCLUDED_APPS
        and (rel.field.many_to_one or rel.field.many_to_many)
        and hasattr(rel.related_model, 'get_absolute_url')
    ]


def ci_incident_links(ci: ConfigurationItem, *, limit: int = 20) -> list[LinkedRecords]:
    """Incidents, problems, known errors and changes linked to `ci`, newest first: one group per model that
    has a foreign key or many-to-many field to ConfigurationItem. Empty until such apps exist; one query per
    linking field."""
    groups, relations = [], linking_relations()
    for rel in relations:
        model = rel.related_model
        records = list(model._default_manager.filter(**{rel.field.name: ci}).distinct().order_by('-pk')[:limit])
        label = str(model._meta.verbose_name_plural).capitalize()
        if sum(1 for other in relations if other.related_model is model) > 1:
            label = f'{label} ({rel.field.verbose_name})'
        groups.append(LinkedRecords(label=label, model=model, records=records))
    return groups
