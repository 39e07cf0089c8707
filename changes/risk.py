"""The risk of a change (domain §8): the questionnaire's level, what the CMDB and the live desk say about the change's
CIs and services, and the risk rules (data) that raise the level when a signal reaches their threshold.

`risk_signals(change)` reads the signals, `assess_risk(change)` gives the level and why, without writing anything;
`answer_questionnaire` and `risk_refresh` store the answers and the assessment on the change (its `questionnaire_level`,
`risk_level`, `risk_reasons` and `risk_assessed_at`), and `store_assessment` is what `change_assess` calls.

The major-incident signal comes from the app that records major incidents: it registers a source with
`register_major_incident_source` (changes imports no other process app). With none registered the signal reads zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cmdb.choices import CIClass, ImpactDirection
from cmdb.models import ConfigurationItem
from cmdb.selectors import IMPACT_COUNT_LIMIT, MAX_IMPACT_DEPTH, ci_impact_page
from incidents.choices import OPEN_STATES
from incidents.models import Ticket
from itsm import audit, hooks
from itsm.audit import Actor
from itsm.choices import Role, TicketKind, TimelineKind
from itsm.errors import Conflict, NotAllowed
from itsm.workflow import lock
from sla.models import SlaClock

from .choices import ChangeOutcome, ChangeState, RiskLevel, RiskSignal
from .models import Change, RiskAnswer, RiskAssessment, RiskBand, RiskQuestion, RiskRule

FAILED_CHANGE_DAYS = 90
FAILED_OUTCOMES = (ChangeOutcome.FAILED, ChangeOutcome.BACKED_OUT)
# The questionnaire can be answered until the change is authorised; the change manager can refresh the
# assessment until it is implemented.
ANSWERABLE_STATES = (ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.ASSESSMENT)
REFRESHABLE_STATES = (*ANSWERABLE_STATES, ChangeState.AUTHORIZATION, ChangeState.SCHEDULED)
ANSWER_ROLES = (Role.SERVICE_DESK_AGENT, Role.L2_ENGINEER, Role.L3_ENGINEER, Role.CHANGE_MANAGER, Role.ADMINISTRATOR)
MANAGER_ROLES = (Role.CHANGE_MANAGER, Role.ADMINISTRATOR)
LEVELS = list(RiskLevel.values)
# A change on a hub reaches most of the estate: its downstream walk stops after the step that passes this many CIs,
# and the signal lists the services nearer than that and says where it stopped.
IMPACT_CAP = IMPACT_COUNT_LIMIT


def level_rank(level: str) -> int:
    """Position of `level` from the least risky (0); an empty level ranks below every level."""
    return LEVELS.index(level) if level in LEVELS else -1


def higher(a: str, b: str) -> str:
    return a if level_rank(a) >= level_rank(b) else b


def level_label(level: str) -> str:
    return str(RiskLevel(level).label) if level in LEVELS else 'Not assessed'


@dataclass(frozen=True)
class SignalItem:
    """One thing behind a signal: an incident, a clock, a change, a service, with its page."""

    text: str
    url: str = ''
    note: str = ''
    on: str = ''  # the affected CI or service it concerns (its name)


@dataclass
class SignalResult:
    count: int
    items: list[SignalItem] = field(default_factory=list)
    label: str = ''

    @property
    def on_names(self) -> list[str]:
        names: list[str] = []
        for item in self.items:
            if item.on and item.on not in names:
                names.append(item.on)
        return names

    def summary(self, noun: str, preposition: str = 'on') -> str:
        """'2 open incidents on Payroll, Mail'."""
        names = self.on_names
        text = f'{self.count} {noun}'
        if names:
            shown = ', '.join(names[:3]) + (f' and {len(names) - 3} more' if len(names) > 3 else '')
            text += f' {preposition} {shown}'
        return text


@dataclass
class RiskResult:
    level: str
    questionnaire_level: str
    reasons: list[str]
    signals: dict[str, SignalResult]
    score: int = 0
    answered: int = 0
    questions: int = 0
    fired: list[RiskRule] = field(default_factory=list)


# Nouns for the reasons, singular and plural.
NOUNS = {
    RiskSignal.DOWNSTREAM_SERVICES: ('service reached downstream', 'services reached downstream'),
    RiskSignal.OPEN_INCIDENTS: ('open incident', 'open incidents'),
    RiskSignal.MAJOR_INCIDENTS: ('open major incident', 'open major incidents'),
    RiskSignal.CLOCKS_AT_RISK: ('SLA clock at risk', 'SLA clocks at risk'),
    RiskSignal.FAILED_CHANGES: (
        f'failed change in the last {FAILED_CHANGE_DAYS} days',
        f'failed changes in the last {FAILED_CHANGE_DAYS} days',
    ),
    RiskSignal.OVERLAPPING_CHANGES: ('overlapping change', 'overlapping changes'),
}
LABELS = {
    RiskSignal.MAJOR_INCIDENTS: 'Major incidents open on the affected CIs and services',
}


def noun(signal: str, count: int) -> str:
    one, many = NOUNS[signal]
    return one if count == 1 else many


# ------------------------------------------------------------------------------------------ scope
@dataclass
class Scope:
    """What a change touches: its CIs, its services and the services reached downstream of its CIs."""

    cis: list[ConfigurationItem]
    services: list[ConfigurationItem]
    downstream: list[SignalItem]
    names: dict[int, str]  # every CI id in scope → its name
    bounded: list[str] = field(default_factory=list)  # the CIs whose downstream walk stopped at `IMPACT_CAP`

    @property
    def ids(self) -> list[int]:
        return list(self.names)


def _scope(change: Change) -> Scope:
    cis = list(change.cis.all())
    services = list(change.services.all())
    names = {ci.pk: ci.name for ci in (*cis, *services)}
    downstream: dict[int, SignalItem] = {}
    listed = {service.pk for service in services}
    bounded = []
    for ci in cis:
        # One query per affected CI: the CMDB's impact walk (what breaks if it fails), reading only the services
        # it reaches and their paths, not every CI on the way, and stopping once it passes `IMPACT_CAP` CIs.
        walk = ci_impact_page(
            ci, direction=ImpactDirection.DOWNSTREAM, depth=MAX_IMPACT_DEPTH, limit=0, cap=IMPACT_CAP, services=True
        )
        found = walk.services
        if not walk.exact:
            bounded.append(ci.name)
        if ci.ci_class == CIClass.SERVICE:
            listed.add(ci.pk)
        for item in found:
            names.setdefault(item.id, item.name)
            if item.id in downstream or item.id in listed:
                continue
            downstream[item.id] = SignalItem(
                text=f'{item.number} {item.name}',
                url=_ci_url(item.number),
                note=' → '.join(item.path),
                on=ci.name,
            )
    return Scope(cis=cis, services=services, downstream=list(downstream.values()), names=names, bounded=bounded)


def _ci_url(number: str) -> str:
    return reverse('cmdb:configurationitem_detail', kwargs={'number': number})


# ------------------------------------------------------------------------------------------ signals
MajorIncidentSource = Callable[[Change, list[int], dict[int, str]], SignalResult]
_major_incident_source: list[MajorIncidentSource] = []


def register_major_incident_source(source: MajorIncidentSource) -> None:
    """Let the app that records major incidents say which are open on the CIs and services in scope: `source(change,
    ci_ids, names)` returns the signal. Registered once in its AppConfig.ready; the results of all sources add up."""
    if source not in _major_incident_source:
        _major_incident_source.append(source)


def unregister_major_incident_source(source: MajorIncidentSource) -> None:
    if source in _major_incident_source:
        _major_incident_source.remove(source)


def _on(ticket: Ticket, names: dict[int, str]) -> str:
    return names.get(ticket.service_id) or names.get(ticket.ci_id) or ''


def _incident_item(ticket: Ticket, names: dict[int, str]) -> SignalItem:
    return SignalItem(
        text=f'{ticket.number} {ticket.short_description}',
        url=ticket.get_absolute_url(),
        note=f'{ticket.get_priority_display()} · {ticket.get_state_display()}',
        on=_on(ticket, names),
    )


def _open_incidents(ids: list[int]) -> list[Ticket]:
    if not ids:
        return []
    return list(
        Ticket.objects.filter(kind=TicketKind.INCIDENT, state__in=OPEN_STATES)
        .filter(Q(ci_id__in=ids) | Q(service_id__in=ids))
        .only('id', 'number', 'short_description', 'priority', 'state', 'ci_id', 'service_id', 'kind')
        .order_by('priority', 'opened_at', 'id')
    )


def _clocks_at_risk(tickets: list[Ticket], names: dict[int, str]) -> SignalResult:
    if not tickets:
        return SignalResult(0, [])
    by_id = {ticket.pk: ticket for ticket in tickets}
    clocks = (
        SlaClock.objects.filter(
            content_type=ContentType.objects.get_for_model(Ticket),
            object_id__in=list(by_id),
            stopped_at__isnull=True,
        )
        .filter(Q(warned_at__isnull=False) | Q(breached_at__isnull=False))
        .only('id', 'object_id', 'name', 'due_at', 'breached_at')
        .order_by('due_at', 'id')
    )
    items = []
    for clock in clocks:
        ticket = by_id[clock.object_id]
        items.append(
            SignalItem(
                text=f'{ticket.number} {clock.name}',
                url=ticket.get_absolute_url(),
                note='breached' if clock.breached_at else 'past its warning',
                on=_on(ticket, names),
            )
        )
    return SignalResult(len(items), items)


def _failed_changes(change: Change, scope: Scope) -> SignalResult:
    ci_ids = [ci.pk for ci in scope.cis]
    if not ci_ids:
        return SignalResult(0, [])
    since = timezone.now() - dt.timedelta(days=FAILED_CHANGE_DAYS)
    rows = (
        Change.objects.filter(cis__in=ci_ids, outcome__in=FAILED_OUTCOMES)
        .filter(Q(actual_end__gte=since) | Q(actual_end__isnull=True, closed_at__gte=since))
        .exclude(pk=change.pk)
        .values('id', 'number', 'short_description', 'outcome', 'cis__id')
        .order_by('-actual_end', 'id')
    )
    seen: dict[int, SignalItem] = {}
    for row in rows:
        if row['id'] in seen:
            continue
        seen[row['id']] = SignalItem(
            text=f'{row["number"]} {row["short_description"]}',
            url=reverse('changes:change_detail', args=[row['number']]),
            note=str(ChangeOutcome(row['outcome']).label),
            on=scope.names.get(row['cis__id'], ''),
        )
    return SignalResult(len(seen), list(seen.values()))


def _overlapping_changes(change: Change, scope: Scope) -> SignalResult:
    if change.planned_start is None or change.planned_end is None:
        return SignalResult(0, [])
    from .calendar import conflicts_for

    items: dict[int, SignalItem] = {}
    for conflict in conflicts_for(change):
        other = conflict.change
        if other.pk in items:
            continue
        via = ' → '.join(str(step) for step in (conflict.path or ()))
        items[other.pk] = SignalItem(
            text=f'{other.number} {other.short_description}',
            url=other.get_absolute_url(),
            note=f'via {via}' if via else '',
            on=getattr(conflict.ci, 'name', '') or '',
        )
    return SignalResult(len(items), list(items.values()))


def _major_incidents(change: Change, scope: Scope) -> SignalResult:
    results = [source(change, scope.ids, scope.names) for source in _major_incident_source]
    items = [item for result in results for item in result.items]
    label = next((result.label for result in results if result.label), LABELS[RiskSignal.MAJOR_INCIDENTS])
    return SignalResult(len(items), items, label=label)


def risk_signals(change: Change) -> dict[str, SignalResult]:
    """What the CMDB and the live desk say about the change's CIs and services, one result per `RiskSignal`.

    Queries: the CIs and the services, one impact walk per affected CI, the open incidents, their clocks, the failed
    changes and the overlapping changes (the calendar's conflict search)."""
    scope = _scope(change)
    incidents = _open_incidents(scope.ids)
    signals = {
        RiskSignal.DOWNSTREAM_SERVICES: SignalResult(len(scope.downstream), scope.downstream),
        RiskSignal.OPEN_INCIDENTS: SignalResult(len(incidents), [_incident_item(t, scope.names) for t in incidents]),
        RiskSignal.MAJOR_INCIDENTS: _major_incidents(change, scope),
        RiskSignal.CLOCKS_AT_RISK: _clocks_at_risk(incidents, scope.names),
        RiskSignal.FAILED_CHANGES: _failed_changes(change, scope),
        RiskSignal.OVERLAPPING_CHANGES: _overlapping_changes(change, scope),
    }
    for signal, result in signals.items():
        result.label = result.label or str(RiskSignal(signal).label)
    if scope.bounded:
        walks = signals[RiskSignal.DOWNSTREAM_SERVICES]
        walks.label += (
            f' (the walk from {", ".join(scope.bounded)} stopped after more than {IMPACT_CAP:,} CIs: '
            'the nearer services only)'
        )
    return signals


# ------------------------------------------------------------------------------------------ the questionnaire
def band_level(score: int, bands: Iterable[RiskBand]) -> str:
    """The level of the highest band `score` reaches (bands ordered by their minimum score); low without one."""
    level = RiskLevel.LOW
    for band in sorted(bands, key=lambda b: b.min_score):
        if score >= band.min_score:
            level = band.level
    return str(level)


def questionnaire_score(change: Change) -> tuple[int, int]:
    """The sum of the scores of the change's answers to active questions, and how many it answered."""
    answers = list(
        RiskAssessment.objects.filter(change=change, question__active=True).values_list('answer__score', flat=True)
    )
    return sum(answers), len(answers)


def assess_risk(change: Change) -> RiskResult:
    """The change's risk: the questionnaire's band (a standard change starts from its model's level), raised by every
    active rule whose signal reaches its threshold, with the reasons in words. Writes nothing."""
    score, answered = questionnaire_score(change)
    questions = RiskQuestion.objects.filter(active=True).count()
    q_level = band_level(score, RiskBand.objects.all())
    reasons = [f'Questionnaire: score {score} ({answered} of {questions} questions answered) → {level_label(q_level)}']
    if change.change_model_id:
        model_level = change.change_model.risk_level
        if level_rank(model_level) > level_rank(q_level):
            q_level = model_level
            reasons.append(f'Standard change model "{change.change_model}" → {level_label(model_level)}')
    signals = risk_signals(change)
    level = q_level
    fired = []
    for rule in RiskRule.objects.filter(active=True).order_by('signal', 'threshold', 'pk'):
        result = signals.get(rule.signal)
        if result is None or result.count < rule.threshold:
            continue
        fired.append(rule)
        if level_rank(rule.raise_to) > level_rank(q_level):
            level = higher(level, rule.raise_to)
            preposition = 'of' if rule.signal == RiskSignal.DOWNSTREAM_SERVICES else 'on'
            what = result.summary(noun(rule.signal, result.count), preposition)
            reasons.append(f'Raised to {level_label(rule.raise_to)}: {what} (rule "{rule.name}")')
    return RiskResult(
        level=level,
        questionnaire_level=q_level,
        reasons=reasons,
        signals=signals,
        score=score,
        answered=answered,
        questions=questions,
        fired=fired,
    )


def store_assessment(change: Change, result: RiskResult | None = None) -> RiskResult:
    """Copy the assessment onto the change (the caller saves it and records the timeline)."""
    result = result or assess_risk(change)
    change.questionnaire_level = result.questionnaire_level
    change.risk_level = result.level
    change.risk_reasons = list(result.reasons)
    change.risk_assessed_at = timezone.now()
    return result


def _require(change: Change, actor: Actor, roles: tuple[str, ...], what: str) -> None:
    user = actor.user
    if user is not None and not user.has_role(*roles):
        raise NotAllowed(f'You may not {what} of {change.number}.')


def _save(change: Change, actor: Actor, before: dict[str, Any], message: str) -> None:
    change.save(update_fields=['questionnaire_level', 'risk_level', 'risk_reasons', 'risk_assessed_at'])
    entry = audit.record_changes(change, before, actor=actor, message=message)
    if entry is None:
        audit.record(change, actor=actor, kind=TimelineKind.FIELD_CHANGE, message=message)
    hooks.emit(hooks.CHANGED, change, actor=actor)


@transaction.atomic
def answer_questionnaire(*, change: Change, actor: Actor, answers: dict[int, int]) -> RiskResult:
    """Record the change's answers (question id → answer id; answering again replaces an answer) and store the
    assessment they give. Staff who draft changes and change managers answer, until the change goes to
    authorisation."""
    change = lock(change)
    _require(change, actor, ANSWER_ROLES, 'answer the risk questionnaire')
    if change.state not in ANSWERABLE_STATES:
        raise Conflict(
            f'{change.number} is {change.get_state_display().lower()}: the questionnaire is answered before '
            'authorisation.',
            code='risk_closed',
        )
    if not answers:
        raise ValidationError({'answers': 'Answer at least one question.'})
    questions = {q.pk: q for q in RiskQuestion.objects.filter(pk__in=list(answers), active=True)}
    options = {a.pk: a for a in RiskAnswer.objects.filter(pk__in=[v for v in answers.values() if v is not None])}
    errors = {}
    for question_id, answer_id in answers.items():
        question = questions.get(question_id)
        answer = options.get(answer_id)
        if question is None:
            errors[str(question_id)] = 'No such active question.'
        elif answer is None or answer.question_id != question.pk:
            errors[str(question_id)] = f'Choose one of the answers to "{question.text}".'
    if errors:
        raise ValidationError(errors)
    given = {row.question_id: row for row in RiskAssessment.objects.filter(change=change, question__in=list(answers))}
    for question_id, answer_id in answers.items():
        row = given.get(question_id)
        if row is None:
            row = RiskAssessment.objects.create(change=change, question_id=question_id, answer_id=answer_id)
            audit.record_created(row, actor=actor)
        elif row.answer_id != answer_id:
            row_before = audit.snapshot(row)
            row.answer_id = answer_id
            row.save(update_fields=['answer'])
            audit.record_changes(row, row_before, actor=actor)
    before = audit.snapshot(change)
    result = store_assessment(change)
    _save(change, actor, before, f'Risk questionnaire answered: {level_label(result.questionnaire_level)}')
    return result


@transaction.atomic
def risk_refresh(*, change: Change, actor: Actor) -> RiskResult:
    """Assess the change's risk again from its answers and today's signals, and store it (change managers)."""
    change = lock(change)
    _require(change, actor, MANAGER_ROLES, 'refresh the risk assessment')
    if change.state not in REFRESHABLE_STATES:
        raise Conflict(
            f'{change.number} is {change.get_state_display().lower()}: its risk is no longer assessed.',
            code='risk_closed',
        )
    before = audit.snapshot(change)
    result = store_assessment(change)
    _save(change, actor, before, f'Risk assessed again: {level_label(result.level)}')
    return result


def register() -> None:
    """Called once by the app's `ready()`: the change page shows its risk card."""
    from itsm.views.records import register_panel

    from .views.risk import risk_slot

    register_panel(Change, 'changes/_risk_slot.html', risk_slot)


# ------------------------------------------------------------------------------------------ one answer at a time
def risk_assessment_create(*, actor: Actor, change: Change, question: RiskQuestion, answer: RiskAnswer):
    """One answer of a change (the pages and the API of the answers changes gave): as `answer_questionnaire`."""
    answer_questionnaire(change=change, actor=actor, answers={question.pk: answer.pk})
    return RiskAssessment.objects.get(change=change, question=question)


def risk_assessment_update(*, actor: Actor, assessment: RiskAssessment, answer: RiskAnswer, **_: Any):
    answer_questionnaire(change=assessment.change, actor=actor, answers={assessment.question_id: answer.pk})
    return RiskAssessment.objects.get(pk=assessment.pk)


@transaction.atomic
def risk_assessment_delete(*, actor: Actor, assessment: RiskAssessment) -> None:
    """Withdraw an answer (until authorisation); the change's questionnaire level follows."""
    change = lock(assessment.change)
    _require(change, actor, ANSWER_ROLES, 'change the risk questionnaire')
    if change.state not in ANSWERABLE_STATES:
        raise Conflict(
            f'{change.number} is {change.get_state_display().lower()}: its answers stay.', code='risk_closed'
        )
    audit.record(change, actor=actor, kind=TimelineKind.FIELD_CHANGE, message=f'Risk answer withdrawn: {assessment}')
    assessment.delete()
    before = audit.snapshot(change)
    result = store_assessment(change)
    _save(change, actor, before, f'Risk questionnaire answered: {level_label(result.questionnaire_level)}')
