"""Builders for problem test data. They call the services, so test data obeys the same rules as real data."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import factory
from factory.django import DjangoModelFactory

from incidents.models import Category
from itsm.audit import Actor
from itsm.choices import Impact, Role, Urgency
from problems import services
from problems.choices import AnalysisMethod, ProblemState, RootCauseCategory
from problems.models import CategoryPriority, KnownError, KnownErrorUse, Problem, ProblemCandidate, ProblemIncident
from tests.factories import make_user

SYSTEM = Actor.system()
_counter = itertools.count(1)
S = ProblemState

# The path a problem takes to reach each state (cancelled: from new).
PATH = {
    S.NEW: [],
    S.ASSESSED: ['assess'],
    S.ROOT_CAUSE_ANALYSIS: ['assess', 'analyse'],
    S.FIX_IN_PROGRESS: ['assess', 'analyse', 'record_analysis', 'start_fix'],
    S.RESOLVED: ['assess', 'analyse', 'record_analysis', 'start_fix', 'resolve'],
    S.CLOSED: ['assess', 'analyse', 'record_analysis', 'start_fix', 'resolve', 'close'],
    S.CANCELLED: ['cancel'],
}


def make_category(name: str | None = None, parent: Category | None = None) -> Category:
    """The category of that name under `parent`: the seeded one (Network, Email...) or a new one."""
    name = name or f'Problem category {next(_counter)}'
    return Category.objects.get_or_create(name=name, parent=parent)[0]


def make_problem_manager(**kwargs):
    return make_user(Role.PROBLEM_MANAGER, **kwargs)


def drive(problem: Problem, state: str, *, actor: Actor = SYSTEM, owner=None) -> Problem:
    """Take `problem` from New to `state` through the services, as its people would."""
    for step in PATH[state]:
        if step == 'assess':
            owner = owner or problem.owner or make_problem_manager()
            problem = services.problem_assess(problem=problem, actor=actor, owner=owner)
        elif step == 'analyse':
            problem = services.problem_analyse(problem=problem, actor=actor)
        elif step == 'record_analysis':
            problem = services.problem_record_analysis(
                problem=problem,
                actor=actor,
                root_cause='A certificate expired on the load balancer.',
                root_cause_category=RootCauseCategory.CONFIGURATION,
                analysis_method=AnalysisMethod.FIVE_WHYS,
                workaround='Restart the client after accepting the new certificate.',
            )
        elif step == 'start_fix':
            problem = services.problem_start_fix(problem=problem, actor=actor)
        elif step == 'resolve':
            problem = services.problem_resolve(
                problem=problem, actor=actor, resolution='Certificate renewal automated.'
            )
        elif step == 'close':
            problem = services.problem_close(problem=problem, actor=actor)
        elif step == 'cancel':
            problem = services.problem_cancel(problem=problem, actor=actor, reason='A duplicate of another problem.')
    return Problem.objects.get(pk=problem.pk)


class ProblemFactory(DjangoModelFactory):
    """`ProblemFactory(state='resolved')` logs a problem through `problem_create` and drives it there."""

    class Meta:
        model = Problem

    short_description = factory.Sequence(lambda n: f'Recurring failure {n}')
    description = 'Several incidents show the same failure.'

    @classmethod
    def _create(cls, model_class, *args, state: str = S.NEW, actor: Actor = SYSTEM, **kwargs):
        problem = services.problem_create(actor=actor, **kwargs)
        return drive(problem, state, actor=actor)


class CategoryPriorityFactory(DjangoModelFactory):
    class Meta:
        model = CategoryPriority

    category = factory.LazyFunction(make_category)
    impact = Impact.HIGH
    urgency = Urgency.URGENT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.category_priority_create(actor=SYSTEM, **kwargs)


def make_problem(state: str = S.NEW, **fields: Any) -> Problem:
    return ProblemFactory(state=state, **fields)


# ------------------------------------------------------------------------------------------------ known errors
class KnownErrorFactory(DjangoModelFactory):
    """A known error recorded through `known_error_create`; `cis=[...]`, `services=[...]` log it against items."""

    class Meta:
        model = KnownError

    title = factory.Sequence(lambda n: f'Mail client freezes on start {n}')
    symptoms = 'The mail client shows a blank window and stops responding.'
    workaround = 'Start the client in safe mode, then remove the add-in "Sync Helper".'
    root_cause = 'The add-in blocks the start-up thread.'

    @classmethod
    def _create(cls, model_class, *args, actor: Actor = SYSTEM, active: bool = True, **kwargs):
        from problems.known_errors import known_error_create, known_error_retire

        known_error = known_error_create(actor=actor, **kwargs)
        return known_error if active else known_error_retire(known_error=known_error, actor=actor)


class KnownErrorUseFactory(DjangoModelFactory):
    """A known error applied to an open incident through `known_error_apply` (the workaround as a work note)."""

    class Meta:
        model = KnownErrorUse

    known_error = factory.SubFactory(KnownErrorFactory)

    @classmethod
    def _create(cls, model_class, *args, known_error, incident=None, actor: Actor = SYSTEM, public=False, **kwargs):
        from problems.known_errors import known_error_apply
        from tests.factories import make_ticket

        incident = incident or make_ticket(short_description='Mail client frozen')
        return known_error_apply(known_error=known_error, incident=incident, actor=actor, public=public)


# --------------------------------------------------------------------------------------------- problem candidates
def make_recurrence(size: int = 3, *, ci=None, category=None, symptom: str = 'cannot log in', **fields: Any) -> list:
    """`size` incidents on one CI with one classification: what the recurrence scan clusters."""
    from tests.cmdb.factories import make_ci
    from tests.factories import make_ticket

    ci = ci or make_ci()
    category = category or make_category()
    return [
        make_ticket(
            short_description=fields.get('short_description', f'{ci.name}: {symptom}'),
            ci=ci,
            category=category,
            symptom=symptom,
        )
        for _ in range(size)
    ]


class ProblemCandidateFactory(DjangoModelFactory):
    """A candidate as the recurrence scan proposes it: `size` incidents on one CI with one classification, then a
    scan (`problems.candidates.scan_candidates`); `status='dismissed'` dismisses it through the service."""

    class Meta:
        model = ProblemCandidate

    @classmethod
    def _create(cls, model_class, *args, size: int = 3, status: str = 'proposed', actor: Actor = SYSTEM, **kwargs):
        from problems import candidates

        incidents = make_recurrence(size, **kwargs)
        candidates.scan_candidates(actor=actor)
        candidate = ProblemCandidate.objects.get(incidents=incidents[0])
        if status == 'dismissed':
            candidate = candidates.candidate_dismiss(candidate=candidate, actor=actor, reason='Planned maintenance.')
        return candidate


# ------------------------------------------------------------------------------------------------ incident links
class ProblemIncidentFactory(DjangoModelFactory):
    """An incident linked to a problem through `link_incident`."""

    class Meta:
        model = ProblemIncident

    problem = factory.SubFactory(ProblemFactory)

    @classmethod
    def _create(cls, model_class, *args, problem, incident=None, actor: Actor = SYSTEM, **kwargs):
        from problems.incident_links import link_incident
        from tests.factories import make_ticket

        return link_incident(problem=problem, incident=incident or make_ticket(), actor=actor)


@contextlib.contextmanager
def close_blockers(*blockers: Callable[[Problem], list[str]]) -> Iterator[None]:
    """Register `blockers` for the block and remove exactly those after: the blockers the apps register (the
    changes app's open changes) stay for the tests that run after."""
    for blocker in blockers:
        services.register_close_blocker(blocker)
    try:
        yield
    finally:
        for blocker in blockers:
            services.unregister_close_blocker(blocker)
