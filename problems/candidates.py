"""Problem candidates: recurrences found in the recent incidents (domain §7, proactive problem management).

`scan_candidates` reads the incidents opened in the last PROBLEM_CANDIDATE_WINDOW_DAYS that no problem holds yet and
groups them three ways, each incident into one group at most:

1. the same configuration item and the same classification (category, subcategory, symptom);
2. then, of those left, the same service and the same classification;
3. then, of those left, similar short descriptions: trigram similarity (pg_trgm's measure: the share of the two
   texts' three-letter pieces they have in common) of at least PROBLEM_CANDIDATE_SIMILARITY to the group's leader,
   the most frequent text among them (`leader_groups`; joining similar pairs transitively chained whole windows of
   near-variants into one group).
   On PostgreSQL with the pg_trgm extension installed the database compares the texts; elsewhere Python computes the
   same measure, with a prefix filter so only texts sharing one of their rarest pieces are compared, over at most
   PROBLEM_CANDIDATE_TEXT_LIMIT incidents (the latest).

A group of at least PROBLEM_CANDIDATE_MIN_SIZE incidents becomes a `ProblemCandidate`, found again on the next scan
by its key (what its incidents share), which adds the new incidents to its evidence. A dismissed candidate keeps
collecting evidence quietly and is proposed again once it has grown by PROBLEM_CANDIDATE_REGROW_FACTOR past its size
at dismissal; an accepted one is left alone. Scans are idempotent, and two scans at once do not duplicate a
candidate (the key is unique; each candidate is updated under its row lock).

Problem managers accept a candidate (`candidate_accept`: a problem with the candidate's incidents linked, in one
transaction) or dismiss it with a reason (`candidate_dismiss`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from itsm import audit
from itsm.audit import Actor
from itsm.choices import TicketKind, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.permissions import user_can
from itsm.workflow import lock

from .choices import CandidateBasis, CandidateStatus
from .models import ProblemCandidate

WORD = re.compile(r'[^\W_]+')
SHORT_DESCRIPTION_MAX = 200


# ------------------------------------------------------------------------------------------------ text similarity
def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams of a text: its words in lower case, each padded with two spaces before and one after."""
    grams: set[str] = set()
    for word in WORD.findall(text.lower()):
        padded = f'  {word} '
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """pg_trgm's `similarity()`: shared trigrams over all the trigrams of the two texts."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def similar_pairs(sets: list[frozenset[str]], threshold: float) -> list[tuple[int, int]]:
    """Positions (i, j), i < j, of the sets at least `threshold` similar.

    Prefix filtering: with the trigrams of every set ordered rarest first, two sets of similarity t or more share
    a trigram among the first |x| - ceil(t·|x|) + 1 of either, so only those pairs are compared.
    """
    frequency = Counter(gram for grams in sets for gram in grams)
    index: dict[str, list[int]] = defaultdict(list)
    pairs = []
    for position, grams in enumerate(sets):
        if not grams:
            continue
        ordered = sorted(grams, key=lambda gram: (frequency[gram], gram))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        compared: set[int] = set()
        for gram in prefix:
            for other in index[gram]:
                if other not in compared:
                    compared.add(other)
                    if similarity(grams, sets[other]) >= threshold:
                        pairs.append((other, position))
        for gram in prefix:
            index[gram].append(position)
    return pairs


def pg_trgm_installed() -> bool:
    if connection.vendor != 'postgresql':
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def _similar_text_pairs(texts: list[str], threshold: float) -> list[tuple[int, int]]:
    """Positions of the similar texts of `texts` (distinct texts): in the database when pg_trgm is there."""
    if pg_trgm_installed():
        with connection.cursor() as cursor:
            cursor.execute(
                'WITH t(pos, text) AS (SELECT * FROM unnest(%s::int[], %s::text[])) '
                'SELECT a.pos, b.pos FROM t a JOIN t b ON a.pos < b.pos AND similarity(a.text, b.text) >= %s',
                [list(range(len(texts))), texts, threshold],
            )
            return [tuple(row) for row in cursor.fetchall()]
    return similar_pairs([trigrams(text) for text in texts], threshold)


def leader_groups(texts: list[str], weights: list[int], pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Group similar texts around leaders: the texts taken by weight (most incidents first), each joins the leader
    it is most similar to, or leads a group of its own. Unlike joining every similar pair transitively, a group
    never drifts away from its leader: every member is similar to it, so near-variants cannot chain all the texts
    of a window into one group."""
    neighbours: dict[int, list[int]] = defaultdict(list)
    for a, b in pairs:
        neighbours[a].append(b)
        neighbours[b].append(a)
    grams = {}
    order = sorted(range(len(texts)), key=lambda i: (-weights[i], texts[i]))
    rank = {position: n for n, position in enumerate(order)}
    groups: dict[int, list[int]] = {}
    for position in order:
        leaders = [other for other in neighbours[position] if other in groups]
        if not leaders:
            groups[position] = [position]
            continue
        for item in (position, *leaders):
            if item not in grams:
                grams[item] = trigrams(texts[item])
        best = max(leaders, key=lambda leader: (similarity(grams[position], grams[leader]), -rank[leader]))
        groups[best].append(position)
    return list(groups.values())


# ------------------------------------------------------------------------------------------------------ the scan
@dataclass(frozen=True)
class Row:
    """What the scan reads of an incident."""

    id: int
    ci_id: int | None
    service_id: int | None
    category_id: int | None
    subcategory_id: int | None
    symptom: str
    short_description: str
    opened_at: dt.datetime

    @property
    def classified(self) -> bool:
        return bool(self.category_id or self.subcategory_id or self.symptom.strip())


@dataclass
class Cluster:
    key: str
    basis: str
    rows: list[Row]
    ci_id: int | None = None
    service_id: int | None = None
    category_id: int | None = None
    subcategory_id: int | None = None
    symptom: str = ''
    text: str = ''  # the cluster's most frequent short description (similar-text clusters)


@dataclass
class ScanResult:
    incidents: int = 0
    clusters: int = 0
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    reproposed: list[int] = field(default_factory=list)
    left_alone: list[int] = field(default_factory=list)  # accepted, or dismissed and not grown enough


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _classification_key(basis: str, item_id: int, row: Row) -> str:
    symptom = row.symptom.strip().casefold()
    prefix = 'ci' if basis == CandidateBasis.CI_CLASSIFICATION else 'service'
    symptom_key = _digest(symptom) if symptom else '-'
    return f'{prefix}:{item_id}:{row.category_id or "-"}:{row.subcategory_id or "-"}:{symptom_key}'


def _by_classification(rows: list[Row], basis: str, min_size: int) -> list[Cluster]:
    attribute = 'ci_id' if basis == CandidateBasis.CI_CLASSIFICATION else 'service_id'
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        item_id = getattr(row, attribute)
        if item_id and row.classified:
            grouped[_classification_key(basis, item_id, row)].append(row)
    clusters = []
    for key, members in grouped.items():
        if len(members) >= min_size:
            first = members[0]
            clusters.append(
                Cluster(
                    key=key,
                    basis=basis,
                    rows=members,
                    category_id=first.category_id,
                    subcategory_id=first.subcategory_id,
                    symptom=first.symptom.strip(),
                    **{attribute: getattr(first, attribute)},
                )
            )
    return clusters


def _words(text: str) -> frozenset[str]:
    return frozenset(word for word in WORD.findall(text.casefold()) if len(word) > 1)


def _by_text(rows: list[Row], threshold: float, min_size: int, limit: int) -> list[Cluster]:
    rows = sorted(rows, key=lambda row: row.opened_at, reverse=True)[:limit]
    by_text: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        normalised = ' '.join(WORD.findall(row.short_description.casefold()))
        if normalised:
            by_text[normalised].append(row)
    texts = list(by_text)
    weights = [len(by_text[text]) for text in texts]
    clusters = []
    for group in leader_groups(texts, weights, _similar_text_pairs(texts, threshold)):
        members = [row for position in group for row in by_text[texts[position]]]
        if len(members) < min_size:
            continue
        # The key is what most of the cluster says (the words at least half its incidents use), so the same
        # recurrence keeps its key while incidents join and leave the window.
        counts = Counter(word for row in members for word in _words(row.short_description))
        shared = sorted(word for word, count in counts.items() if count * 2 >= len(members))
        commonest = Counter(row.short_description.strip() for row in members).most_common(1)[0][0]
        signature = ' '.join(shared) or ' '.join(sorted(_words(commonest)))
        clusters.append(
            Cluster(key=f'text:{_digest(signature)}', basis=CandidateBasis.SIMILAR_TEXT, rows=members, text=commonest)
        )
    return clusters


def find_clusters(rows: list[Row], *, min_size: int, threshold: float, text_limit: int) -> list[Cluster]:
    """The clusters of `rows`, each row in one cluster at most (see the module's description for the order)."""
    clusters = _by_classification(rows, CandidateBasis.CI_CLASSIFICATION, min_size)
    placed = {row.id for cluster in clusters for row in cluster.rows}
    services = _by_classification(
        [r for r in rows if r.id not in placed], CandidateBasis.SERVICE_CLASSIFICATION, min_size
    )
    clusters += services
    placed |= {row.id for cluster in services for row in cluster.rows}
    clusters += _by_text([r for r in rows if r.id not in placed], threshold, min_size, text_limit)
    return clusters


def window_rows(*, start: dt.datetime, end: dt.datetime) -> list[Row]:
    """Incidents opened in [start, end) that no problem holds yet."""
    from incidents.models import Ticket

    values = (
        Ticket.objects.filter(
            kind=TicketKind.INCIDENT, opened_at__gte=start, opened_at__lt=end, problem_link__isnull=True
        )
        .order_by('opened_at', 'id')
        .values_list(
            'id', 'ci_id', 'service_id', 'category_id', 'subcategory_id', 'symptom', 'short_description', 'opened_at'
        )
    )
    return [Row(*value) for value in values]


def _names(clusters: list[Cluster]) -> dict[tuple[str, int], str]:
    """Display names of the CIs, services and categories the clusters name (two queries), by ('item' or
    'category', id): the two have separate key spaces."""
    from cmdb.models import ConfigurationItem
    from incidents.models import Category

    item_ids = {c.ci_id or c.service_id for c in clusters} - {None}
    category_ids = {c.category_id for c in clusters} | {c.subcategory_id for c in clusters}
    names: dict[tuple[str, int], str] = {}
    items = {pk: str(name) for pk, name in ConfigurationItem.objects.filter(pk__in=item_ids).values_list('pk', 'name')}
    categories = {
        pk: name for pk, name in Category.objects.filter(pk__in=category_ids - {None}).values_list('pk', 'name')
    }
    names.update({('item', pk): name for pk, name in items.items()})
    names.update({('category', pk): name for pk, name in categories.items()})
    return names


def _cluster_title(cluster: Cluster, names: dict) -> str:
    if cluster.basis == CandidateBasis.SIMILAR_TEXT:
        return f'Recurring: “{cluster.text}”'[:200]
    item = names.get(('item', cluster.ci_id or cluster.service_id), '')
    parts = [
        names.get(('category', cluster.category_id), ''),
        names.get(('category', cluster.subcategory_id), ''),
        cluster.symptom,
    ]
    return f'{item}: {" › ".join(part for part in parts if part)}'[:200]


def _evidence(candidate: ProblemCandidate) -> dict:
    """Size, first and last seen and counts per day (in the desk's time zone) of the candidate's incidents."""
    moments = sorted(candidate.incidents.values_list('opened_at', flat=True))
    days = Counter(timezone.localtime(moment).date().isoformat() for moment in moments)
    return {
        'size': len(moments),
        'first_seen': moments[0] if moments else None,
        'last_seen': moments[-1] if moments else None,
        'daily_counts': dict(sorted(days.items())),
    }


def regrow_size(candidate: ProblemCandidate, factor: float | None = None) -> int:
    """The size at which a dismissed candidate is proposed again."""
    factor = settings.PROBLEM_CANDIDATE_REGROW_FACTOR if factor is None else factor
    return max(math.ceil((candidate.dismissed_size or 0) * factor), (candidate.dismissed_size or 0) + 1)


def _get_locked(cluster: Cluster, defaults: dict) -> tuple[ProblemCandidate, bool]:
    """The candidate of the cluster's key, row-locked; created when missing (a concurrent creation wins the key)."""
    existing = ProblemCandidate.objects.select_for_update().filter(key=cluster.key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return ProblemCandidate.objects.create(key=cluster.key, **defaults), True
    except IntegrityError:
        return ProblemCandidate.objects.select_for_update().get(key=cluster.key), False


def _apply(cluster: Cluster, title: str, *, now: dt.datetime, actor: Actor, result: ScanResult) -> None:
    defaults = {
        'basis': cluster.basis,
        'title': title,
        'ci_id': cluster.ci_id,
        'service_id': cluster.service_id,
        'category_id': cluster.category_id,
        'subcategory_id': cluster.subcategory_id,
        'symptom': cluster.symptom[:120],
    }
    with transaction.atomic():
        candidate, created = _get_locked(cluster, defaults)
        if candidate.status == CandidateStatus.ACCEPTED:
            result.left_alone.append(candidate.pk)
            return
        before = {'size': candidate.size, 'status': candidate.status}
        if candidate.status == CandidateStatus.PROPOSED and not created:
            # Incidents another problem took since the last scan are no longer evidence for this one.
            taken = list(candidate.incidents.filter(problem_link__isnull=False).values_list('pk', flat=True))
            if taken:
                candidate.incidents.remove(*taken)
        known = set(candidate.incidents.values_list('pk', flat=True))
        new = [row.id for row in cluster.rows if row.id not in known]
        if new:
            candidate.incidents.add(*new)
        evidence = _evidence(candidate)
        for name, value in evidence.items():
            setattr(candidate, name, value)
        candidate.scanned_at = now
        reproposed = candidate.status == CandidateStatus.DISMISSED and candidate.size >= regrow_size(candidate)
        if reproposed:
            candidate.status = CandidateStatus.PROPOSED
            candidate.decided_by = None
            candidate.decided_at = None
        candidate.save()
        if created:
            audit.record_created(
                candidate, actor=actor, message=f'Proposed by the recurrence scan: {candidate.size} incidents.'
            )
            result.created.append(candidate.pk)
        elif reproposed:
            audit.record(
                candidate,
                actor=actor,
                kind=TimelineKind.TRANSITION,
                message=(
                    f'Proposed again: {candidate.size} incidents, grown past {regrow_size(candidate)} since it was '
                    f'dismissed at {candidate.dismissed_size}.'
                ),
                changes=audit.diff(candidate, before, {'size': candidate.size, 'status': candidate.status}),
            )
            result.reproposed.append(candidate.pk)
        elif candidate.status == CandidateStatus.DISMISSED:
            result.left_alone.append(candidate.pk)
        else:
            result.updated.append(candidate.pk)


def scan_candidates(
    *,
    now: dt.datetime | None = None,
    window_days: int | None = None,
    min_size: int | None = None,
    threshold: float | None = None,
    actor: Actor | None = None,
) -> ScanResult:
    """Scan the incidents opened in the window ending `now` and propose or update the candidates they form."""
    now = now or timezone.now()
    window_days = settings.PROBLEM_CANDIDATE_WINDOW_DAYS if window_days is None else window_days
    min_size = settings.PROBLEM_CANDIDATE_MIN_SIZE if min_size is None else min_size
    threshold = settings.PROBLEM_CANDIDATE_SIMILARITY if threshold is None else threshold
    actor = actor or Actor.system()
    if min_size < 2:
        raise ValidationError({'min_size': 'A recurrence needs at least two incidents.'})
    rows = window_rows(start=now - dt.timedelta(days=window_days), end=now)
    clusters = find_clusters(
        rows, min_size=min_size, threshold=threshold, text_limit=settings.PROBLEM_CANDIDATE_TEXT_LIMIT
    )
    result = ScanResult(incidents=len(rows), clusters=len(clusters))
    names = _names(clusters)
    for cluster in clusters:
        _apply(cluster, _cluster_title(cluster, names), now=now, actor=actor, result=result)
    return result


# --------------------------------------------------------------------------------------------- accept and dismiss
def _check_may_decide(candidate: ProblemCandidate, actor: Actor) -> None:
    if actor.user is not None and not user_can(actor.user, ProblemCandidate, 'change'):
        raise NotAllowed('Only a problem manager can accept or dismiss a problem candidate.')
    if candidate.status != CandidateStatus.PROPOSED:
        raise Conflict(f'This candidate is already {candidate.get_status_display().lower()}.', code='candidate_decided')


def candidate_accept(*, candidate: ProblemCandidate, actor: Actor, short_description: str = '', owner=None):
    """Open a problem for the candidate with its incidents linked (those no other problem holds), in one
    transaction; the candidate is then accepted and names the problem. Problem managers only."""
    from .actions import is_problem_manager
    from .incident_links import link_incident
    from .services import problem_create

    with transaction.atomic():
        candidate = lock(candidate)
        _check_may_decide(candidate, actor)
        incidents = list(candidate.incidents.filter(problem_link__isnull=True).order_by('opened_at', 'pk'))
        if not incidents:
            raise Conflict(
                'Every incident of this candidate is already linked to a problem.', code='candidate_incidents_taken'
            )
        if owner is None and is_problem_manager(actor.user):
            owner = actor.user
        days = len(candidate.daily_counts or {})
        problem = problem_create(
            actor=actor,
            short_description=(short_description.strip() or candidate.title)[:SHORT_DESCRIPTION_MAX],
            description=(
                f'Raised from a problem candidate ({candidate.get_basis_display().lower()}): {candidate.size} '
                f'incidents on {days} day{"s" if days != 1 else ""}.'
            ),
            category=candidate.category,
            subcategory=candidate.subcategory,
            owner=owner,
            services=[candidate.service] if candidate.service_id else (),
            cis=[candidate.ci] if candidate.ci_id else (),
            symptoms=candidate.symptom,
        )
        for incident in incidents:
            link_incident(problem=problem, incident=incident, actor=actor)
        before = {'status': candidate.status, 'problem': None}
        candidate.status = CandidateStatus.ACCEPTED
        candidate.problem = problem
        candidate.decided_by = actor.user
        candidate.decided_at = timezone.now()
        candidate.save()
        audit.record(
            candidate,
            actor=actor,
            kind=TimelineKind.TRANSITION,
            message=f'Accepted: {problem.number} opened with {len(incidents)} incidents linked.',
            changes=audit.diff(candidate, before, {'status': candidate.status, 'problem': str(problem)}),
        )
    return problem


def candidate_dismiss(*, candidate: ProblemCandidate, actor: Actor, reason: str) -> ProblemCandidate:
    """Dismiss a candidate with a reason: it is not proposed again unless it grows by the regrow factor."""
    reason = (reason or '').strip()
    if not reason:
        raise ValidationError({'reason': 'Say why the candidate is dismissed.'})
    max_length = ProblemCandidate._meta.get_field('dismiss_reason').max_length
    if len(reason) > max_length:
        raise ValidationError({'reason': f'Keep the reason under {max_length} characters.'})
    with transaction.atomic():
        candidate = lock(candidate)
        _check_may_decide(candidate, actor)
        before = {'status': candidate.status}
        candidate.status = CandidateStatus.DISMISSED
        candidate.dismiss_reason = reason
        candidate.dismissed_size = candidate.size
        candidate.decided_by = actor.user
        candidate.decided_at = timezone.now()
        candidate.save()
        audit.record(
            candidate,
            actor=actor,
            kind=TimelineKind.TRANSITION,
            message=(
                f'Dismissed at {candidate.size} incidents: {reason} It is proposed again from '
                f'{regrow_size(candidate)} incidents.'
            ),
            changes=audit.diff(candidate, before, {'status': candidate.status}),
        )
    return candidate


# ------------------------------------------------------------------------------------------------------- reads
def candidate_list():
    """Candidates with what their rows show (one query)."""
    return ProblemCandidate.objects.select_related('ci', 'service', 'category', 'subcategory', 'problem', 'decided_by')


def candidate_detail():
    """A candidate with its incidents (and the problem any of them joined since), for its page."""
    from incidents.models import Ticket

    incidents = Ticket.objects.select_related('caller', 'assignment_group', 'problem_link__problem').order_by(
        '-opened_at'
    )
    return candidate_list().prefetch_related(Prefetch('incidents', queryset=incidents))


def sparkline(daily_counts: dict, *, days: Iterable[str] | None = None) -> list[tuple[str, int, int]]:
    """(day, count, height in % of the busiest day) for every day from the first to the last seen."""
    if not daily_counts:
        return []
    if days is None:
        first, last = dt.date.fromisoformat(min(daily_counts)), dt.date.fromisoformat(max(daily_counts))
        days = [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    days = list(days)
    peak = max(daily_counts.values()) or 1
    return [(day, daily_counts.get(day, 0), round(100 * daily_counts.get(day, 0) / peak)) for day in days]
