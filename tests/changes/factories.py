"""Builders for change test data. They call the services, so test data obeys the same rules as real data.

`ChangeFactory(state='scheduled')` drafts a change through `change_create` and drives it there the way its people
would: a change routed to a CAB is approved by one of its members in a meeting (the emergency CAB outside one).
Other parts of the change app append their builders below.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from changes import services
from changes.choices import ChangeOutcome, ChangeState, ChangeType, TaskState
from changes.models import Change, ChangeModel, ChangeModelTask, ChangeTask, IncidentCause
from itsm.audit import Actor
from itsm.choices import Role
from tests.factories import make_user

SYSTEM = Actor.system()
_counter = itertools.count(1)
S = ChangeState

# The path a change takes to reach each state.
PATH = {
    S.DRAFT: [],
    S.SUBMITTED: ['submit'],
    S.ASSESSMENT: ['submit', 'assess'],
    S.AUTHORIZATION: ['submit', 'assess', 'request_authorization'],
    S.SCHEDULED: ['submit', 'assess', 'authorise', 'schedule'],
    S.IMPLEMENTATION: ['submit', 'assess', 'authorise', 'schedule', 'tests', 'start'],
    S.REVIEW: ['submit', 'assess', 'authorise', 'schedule', 'tests', 'start', 'tasks', 'complete'],
    S.CLOSED: ['submit', 'assess', 'authorise', 'schedule', 'tests', 'start', 'tasks', 'complete', 'close'],
    S.REJECTED: ['submit', 'assess', 'reject'],
    S.CANCELLED: ['cancel'],
}


def make_change_manager(**kwargs):
    return make_user(Role.CHANGE_MANAGER, **kwargs)


def window(days: int = 7, hours: int = 2) -> tuple[dt.datetime, dt.datetime]:
    """A planned window `days` from now, `hours` long (on the hour, so pages show round times)."""
    start = (timezone.now() + dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(hours=hours)


def ensure_cabs() -> None:
    """A CAB and an emergency CAB (one approval authorises), each with a member, unless active ones exist."""
    from changes.models import Cab

    for kind, name in (('regular', 'Change advisory board'), ('emergency', 'Emergency CAB')):
        if not Cab.objects.filter(active=True, kind=kind).exists():
            cab = Cab.objects.create(name=name, kind=kind, policy='any')
            cab.members.add(make_user(Role.CAB_MEMBER))


def _authorise(change: Change, actor: Actor) -> Change:
    """Through the CAB when the route needs one (its members approve until the policy is met), else nothing to do."""
    from changes.cab import cast_vote, meeting_create

    change = Change.objects.get(pk=change.pk)
    if change.cab_route == 'skip':
        return change
    change = services.change_request_authorization(change=change, actor=actor)
    cab = change.cab
    members = list(cab.members.filter(is_active=True).exclude(pk__in=[change.requester_id or 0, change.owner_id or 0]))
    if not members:
        members = [make_user(Role.CAB_MEMBER)]
        cab.members.add(*members)
    meeting = None
    if cab.kind == 'regular':
        start = change.planned_start
        meeting = meeting_create(
            actor=SYSTEM,
            cab=cab,
            starts_at=start - dt.timedelta(days=2),
            window_start=start - dt.timedelta(hours=1),
            window_end=start + dt.timedelta(hours=1),
        )
    for member in members:  # every voting member approves, whatever the board's policy
        if Change.objects.get(pk=change.pk).authorized_at is None:
            cast_vote(change=change, actor=Actor(user=member), vote='approve', meeting=meeting)
    return Change.objects.get(pk=change.pk)


def drive(change: Change, state: str, *, actor: Actor = SYSTEM) -> Change:
    """Take `change` from Draft to `state` through the services, as its people would."""
    for step in PATH[state]:
        change = Change.objects.get(pk=change.pk)
        if step == 'submit':
            services.change_submit(change=change, actor=actor)
        elif step == 'assess':
            ensure_cabs()
            services.change_assess(change=change, actor=actor)
        elif step == 'request_authorization':
            services.change_request_authorization(change=change, actor=actor)
        elif step == 'authorise':
            _authorise(change, actor)
        elif step == 'schedule':
            # Test data is not held by freezes other tests made: the override is kept only where one applies.
            services.change_schedule(change=change, actor=actor, freeze_override_reason='Agreed with the business.')
        elif step == 'tests':
            services.change_record_tests(
                change=change, actor=actor, test_results='Rehearsed on staging.', tests_passed=True
            )
        elif step == 'start':
            services.change_start(change=change, actor=actor)
        elif step == 'tasks':
            for task in change.tasks.filter(state__in=(TaskState.OPEN, TaskState.IN_PROGRESS)):
                services.task_finish(changetask=task, actor=actor)
        elif step == 'complete':
            services.change_complete(change=change, actor=actor)
        elif step == 'close':
            services.change_close(
                change=change, actor=actor, outcome=ChangeOutcome.SUCCESSFUL, review_notes='Went as planned.'
            )
        elif step == 'reject':
            services.change_reject(change=change, actor=actor, reason='The business cannot take the outage.')
        elif step == 'cancel':
            services.change_cancel(change=change, actor=actor, reason='No longer needed.')
    return Change.objects.get(pk=change.pk)


class ChangeModelFactory(DjangoModelFactory):
    """A standard change of the catalogue; `tasks=2` gives it two tasks."""

    class Meta:
        model = ChangeModel
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f'Renew a TLS certificate {n}')
    description = 'Replace an expiring certificate on a load balancer.'
    implementation_plan = 'Import the new certificate, bind it, reload the listener.'
    backout_plan = 'Bind the previous certificate again.'
    test_plan = 'Check the chain from outside with the TLS probe.'

    @factory.post_generation
    def tasks(self, create, extracted, **kwargs):
        if create and extracted:
            for index in range(int(extracted)):
                ChangeModelTask.objects.create(change_model=self, position=(index + 1) * 10, title=f'Step {index + 1}')


class ChangeModelTaskFactory(DjangoModelFactory):
    class Meta:
        model = ChangeModelTask

    change_model = factory.SubFactory(ChangeModelFactory)
    position = factory.Sequence(lambda n: (n + 1) * 10)
    title = factory.Sequence(lambda n: f'Step {n}')


class ChangeFactory(DjangoModelFactory):
    """`ChangeFactory(state='scheduled')` drafts a change through `change_create` and drives it there. Without CIs
    it goes to the CAB (`ensure_cabs` makes one); planned a week ahead unless told."""

    class Meta:
        model = Change

    short_description = factory.Sequence(lambda n: f'Upgrade the mail relay {n}')
    description = 'Move the relay to the supported release.'
    change_type = ChangeType.NORMAL
    justification = 'The current release is out of support.'
    implementation_plan = 'Drain, upgrade, re-enable.'
    backout_plan = 'Restore the snapshot taken before the upgrade.'
    test_plan = 'Send a test message through each relay.'
    planned_start = factory.LazyFunction(lambda: window()[0])
    planned_end = factory.LazyAttribute(lambda o: o.planned_start + dt.timedelta(hours=2) if o.planned_start else None)

    @classmethod
    def _create(cls, model_class, *args, state: str = S.DRAFT, actor: Actor = SYSTEM, **kwargs):
        if kwargs.get('change_type') == ChangeType.STANDARD and 'change_model' not in kwargs:
            kwargs['change_model'] = ChangeModelFactory()
        change = services.change_create(actor=actor, **kwargs)
        return drive(change, state, actor=actor)


def make_change(state: str = S.DRAFT, **fields: Any) -> Change:
    return ChangeFactory(state=state, **fields)


class ChangeTaskFactory(DjangoModelFactory):
    """An implementation task added by hand (`change_add_task`) to a change (a new draft one unless given)."""

    class Meta:
        model = ChangeTask

    change = factory.SubFactory(ChangeFactory)
    short_description = factory.Sequence(lambda n: f'Drain node {n}')

    @classmethod
    def _create(cls, model_class, *args, change, short_description, actor: Actor = SYSTEM, **kwargs):
        services.change_add_task(change=change, actor=actor, title=short_description, **kwargs)
        return change.tasks.order_by('-pk').first()


# ------------------------------------------------------------------------------------------ risk
class RiskQuestionFactory(DjangoModelFactory):
    class Meta:
        model = 'changes.RiskQuestion'

    position = factory.Sequence(lambda n: 10 * (n + 1))
    text = factory.Sequence(lambda n: f'Risk question {n}?')


class RiskAnswerFactory(DjangoModelFactory):
    class Meta:
        model = 'changes.RiskAnswer'

    question = factory.SubFactory(RiskQuestionFactory)
    position = factory.Sequence(lambda n: n)
    label = factory.Sequence(lambda n: f'Answer {n}')
    score = 2


class RiskBandFactory(DjangoModelFactory):
    class Meta:
        model = 'changes.RiskBand'

    min_score = factory.Sequence(lambda n: 100 + n)
    level = 'moderate'


class RiskRuleFactory(DjangoModelFactory):
    class Meta:
        model = 'changes.RiskRule'

    name = factory.Sequence(lambda n: f'Risk rule {n}')
    signal = 'open_incidents'
    threshold = 1
    raise_to = 'high'


def make_risk_assessment(change: Change | None = None, answer=None, *, actor: Actor = SYSTEM):
    """A change's answer to a question, given through the questionnaire service."""
    from changes import risk
    from changes.models import RiskAssessment

    change = change or ChangeFactory()
    answer = answer or RiskAnswerFactory()
    risk.answer_questionnaire(change=change, actor=actor, answers={answer.question_id: answer.pk})
    return RiskAssessment.objects.get(change=change, question=answer.question_id)


# ------------------------------------------------------------------------------------------ the calendar
class FreezeWindowFactory(DjangoModelFactory):
    """An active freeze window over the coming week, on every change unless `services` are given."""

    class Meta:
        model = 'changes.FreezeWindow'
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f'Year-end freeze {n}')
    starts_at = factory.LazyFunction(lambda: timezone.now().replace(minute=0, second=0, microsecond=0))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(days=14))
    reason = 'Peak trading: no changes to production.'

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


def clear_risk_data() -> None:
    """Remove the default questionnaire, bands and rules (migration 0002), for tests that build their own."""
    from changes.models import RiskAssessment, RiskBand, RiskQuestion, RiskRule

    RiskAssessment.objects.all().delete()
    RiskQuestion.objects.all().delete()
    RiskBand.objects.all().delete()
    RiskRule.objects.all().delete()


class CleanRiskData:
    """Test mixin: start without the default risk data."""

    def setUp(self):
        clear_risk_data()
        super().setUp()


# ------------------------------------------------------------------------------------------------ CABs
class CabFactory(DjangoModelFactory):
    """A board; `members=3` gives it three new CAB members (or pass people)."""

    class Meta:
        model = 'changes.Cab'
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f'CAB {n}')
    kind = 'regular'
    policy = 'majority'

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        people = [make_user(Role.CAB_MEMBER) for _ in range(extracted)] if isinstance(extracted, int) else extracted
        self.members.set(people)


class CabRuleFactory(DjangoModelFactory):
    class Meta:
        model = 'changes.CabRule'

    position = factory.Sequence(lambda n: 200 + n)
    name = factory.Sequence(lambda n: f'CAB rule {n}')
    route = 'skip'


class CabMeetingFactory(DjangoModelFactory):
    """A planned meeting two days ahead; its window the week from the meeting."""

    class Meta:
        model = 'changes.CabMeeting'

    cab = factory.SubFactory(CabFactory)
    starts_at = factory.LazyFunction(lambda: window(days=2)[0])
    ends_at = factory.LazyAttribute(lambda m: m.starts_at + dt.timedelta(hours=1))
    window_start = factory.LazyAttribute(lambda m: m.starts_at)
    window_end = factory.LazyAttribute(lambda m: m.starts_at + dt.timedelta(days=7))


def awaiting_authorisation(cab=None, *, start: dt.datetime | None = None, **fields: Any) -> Change:
    """A normal change put straight in authorisation by `cab` (a new board of three when none), planned at `start`
    (a week from now by default): the CAB's tests need the data, not the path."""
    from changes.choices import CabRoute

    cab = cab or CabFactory(members=3)
    start = start or window()[0]
    change = Change.objects.create(
        short_description=fields.pop('short_description', f'Upgrade the mail relay {next(_counter)}'),
        opened_at=timezone.now(),
        planned_start=start,
        planned_end=start + dt.timedelta(hours=2),
        cab=cab,
        cab_route=CabRoute.EMERGENCY_CAB if cab.kind == 'emergency' else CabRoute.CAB,
        **fields,
    )
    Change.objects.filter(pk=change.pk).update(state=S.AUTHORIZATION)
    return Change.objects.get(pk=change.pk)


def make_agenda_item(meeting=None, change=None):
    """A change on a meeting's agenda (the meeting's agenda built from it)."""
    from changes.models import AgendaItem

    meeting = meeting or CabMeetingFactory(cab=CabFactory(members=3))
    change = change or awaiting_authorisation(meeting.cab, start=meeting.window_start + dt.timedelta(hours=1))
    return AgendaItem.objects.get_or_create(meeting=meeting, change=change, defaults={'position': 10})[0]


def make_vote(vote: str = 'approve', *, item=None, voter=None, comment: str = ''):
    """A member's vote on a change in a meeting (through `cast_vote`)."""
    from changes.cab import cast_vote

    item = item or make_agenda_item()
    voter = voter or item.meeting.cab.members.first()
    return cast_vote(
        change=item.change, actor=Actor(user=voter), vote=vote, comment=comment or 'Reviewed.', meeting=item.meeting
    )


# ------------------------------------------------------------------------------------------ links
class IncidentCauseFactory(DjangoModelFactory):
    """An incident recorded (`changes.links.record_cause`) as caused by a change that was implemented."""

    class Meta:
        model = IncidentCause

    @classmethod
    def _create(cls, model_class, *args, incident=None, change=None, actor: Actor = SYSTEM, **kwargs):
        from changes.links import record_cause
        from tests.factories import make_ticket

        incident = incident or make_ticket()
        change = change or make_implemented_change()
        return record_cause(incident=incident, change=change, actor=actor)


def make_implemented_change(**fields: Any) -> Change:
    """A change driven through the services into implementation."""
    return make_change(S.IMPLEMENTATION, **fields)
