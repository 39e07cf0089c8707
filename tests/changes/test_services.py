"""Change services: drafting (environment, standard changes and their models), the backout rule at submission, the
route that skips the CAB, scheduling (authorisation, freezes and their override, registered checks), the testing
gate and its bypass, implementation tasks (order, OLA clocks, "Implementation done" refused while any is open) and
the post-implementation review on close."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

from changes import services
from changes.choices import CabRoute, ChangeOutcome, ChangeState, ChangeType, TaskState
from changes.models import CabRule, Change, ChangeModel, ChangeTask
from itsm.audit import Actor
from itsm.choices import Role, Tier, TimelineKind
from itsm.errors import Conflict, NotAllowed
from sla.choices import ClockKind
from sla.models import SlaClock
from tests.base import ItsmTestCase
from tests.changes.factories import ChangeModelFactory, ChangeModelTaskFactory, ChangeTaskFactory, make_change, window
from tests.cmdb.factories import make_ci
from tests.factories import make_group_with_agent, make_user
from tests.sla.factories import make_ola

S = ChangeState
SYSTEM = Actor.system()


def as_user(user) -> Actor:
    return Actor(user=user)


class DraftingTests(ItsmTestCase):
    def test_every_state_is_reachable_through_the_services(self):
        for state in ChangeState.values:
            with self.subTest(state=state):
                self.assertEqual(make_change(state).state, state)

    def test_the_environment_is_the_most_exposed_ci(self):
        staging, production = make_ci(environment='staging'), make_ci(environment='production')
        self.assertEqual(make_change(cis=[staging]).environment, 'staging')
        self.assertEqual(make_change(cis=[staging, production]).environment, 'production')
        self.assertEqual(make_change(cis=[]).environment, '')

    def test_editing_the_cis_derives_the_environment_again(self):
        change = make_change(cis=[make_ci(environment='test')])
        change = services.change_update(change=change, actor=SYSTEM, cis=[make_ci(environment='production')])
        self.assertEqual(Change.objects.get(pk=change.pk).environment, 'production')

    def test_a_standard_change_needs_an_active_model(self):
        with self.assertRaises(ValidationError) as raised:
            make_change(change_type=ChangeType.STANDARD, change_model=None)
        self.assertIn('change_model', raised.exception.message_dict)
        retired = ChangeModelFactory(active=False)
        with self.assertRaises(ValidationError):
            make_change(change_type=ChangeType.STANDARD, change_model=retired)

    def test_a_standard_change_gets_its_models_plans_group_and_tasks_in_order(self):
        group, _ = make_group_with_agent(name='Network', tier=Tier.L2, role=Role.L2_ENGINEER)
        model = ChangeModelFactory(assignment_group=group)
        ChangeModelTaskFactory(change_model=model, position=20, title='Bind the certificate')
        ChangeModelTaskFactory(change_model=model, position=10, title='Import the certificate')
        change = make_change(change_type=ChangeType.STANDARD, change_model=model, backout_plan='', test_plan='')
        self.assertEqual((change.backout_plan, change.test_plan), (model.backout_plan, model.test_plan))
        self.assertEqual(change.assignment_group, group)
        tasks = list(change.tasks.all())
        self.assertEqual([t.short_description for t in tasks], ['Import the certificate', 'Bind the certificate'])
        self.assertTrue(all(t.assignment_group == group and t.state == TaskState.OPEN for t in tasks))

    def test_the_planned_end_must_follow_the_start(self):
        start, end = window()
        with self.assertRaises(ValidationError) as raised:
            make_change(planned_start=end, planned_end=start)
        self.assertIn('planned_end', raised.exception.message_dict)

    def test_requesters_may_not_raise_changes(self):
        with self.assertRaises(NotAllowed):
            services.change_create(
                actor=as_user(make_user(Role.REQUESTER)), short_description='x', change_type=ChangeType.NORMAL
            )

    def test_the_type_changes_only_in_draft(self):
        change = make_change(S.SUBMITTED)
        with self.assertRaises(Conflict):
            services.change_update(change=change, actor=SYSTEM, change_type=ChangeType.EMERGENCY)


class SubmissionTests(ItsmTestCase):
    def test_normal_and_emergency_changes_need_a_backout_plan(self):
        for change_type in (ChangeType.NORMAL, ChangeType.EMERGENCY):
            change = make_change(change_type=change_type, backout_plan='  ')
            with self.subTest(change_type=change_type), self.assertRaises(ValidationError) as raised:
                services.change_submit(change=change, actor=SYSTEM)
            self.assertIn('backout_plan', raised.exception.message_dict)
            self.assertEqual(Change.objects.get(pk=change.pk).state, S.DRAFT)

    def test_a_standard_change_needs_no_backout_plan(self):
        model = ChangeModelFactory(backout_plan='')
        change = make_change(change_type=ChangeType.STANDARD, change_model=model, backout_plan='')
        self.assertEqual(services.change_submit(change=change, actor=SYSTEM).state, S.SUBMITTED)

    def test_a_model_retired_after_drafting_stops_the_submission(self):
        model = ChangeModelFactory()
        change = make_change(change_type=ChangeType.STANDARD, change_model=model)
        model.active = False
        model.save()
        with self.assertRaises(ValidationError):
            services.change_submit(change=Change.objects.get(pk=change.pk), actor=SYSTEM)


class RouteAndScheduleTests(ItsmTestCase):
    def test_a_skip_of_the_cab_is_written_on_the_timeline_and_allows_scheduling(self):
        CabRule.objects.create(position=1, name='Outside production', outside_production=True, route=CabRoute.SKIP)
        change = make_change(S.ASSESSMENT, cis=[make_ci(environment='test')])
        self.assertEqual(change.cab_route, CabRoute.SKIP)
        entry = self.timeline(change, TimelineKind.TRANSITION).filter(data__action='assess').get()
        self.assertIn('The CAB is skipped (Outside production)', entry.message)
        with self.assertRaises(Conflict):
            services.change_request_authorization(change=change, actor=SYSTEM)
        self.assertEqual(services.change_schedule(change=change, actor=SYSTEM).state, S.SCHEDULED)

    def test_a_change_routed_to_a_cab_is_scheduled_only_once_authorised(self):
        change = make_change(S.ASSESSMENT)
        self.assertEqual(change.cab_route, CabRoute.CAB)
        with self.assertRaises(Conflict) as raised:
            services.change_schedule(change=change, actor=SYSTEM)
        self.assertEqual(raised.exception.code, 'needs_authorization')
        change = services.change_request_authorization(change=change, actor=SYSTEM)
        with self.assertRaises(Conflict) as raised:
            services.change_schedule(change=change, actor=SYSTEM)
        self.assertEqual(raised.exception.code, 'not_authorized')

    def test_a_freeze_refuses_a_normal_change_unless_a_change_manager_overrides_it(self):
        from changes.models import FreezeWindow

        CabRule.objects.create(position=1, name='Every change skips the CAB', route=CabRoute.SKIP)
        change = make_change(S.ASSESSMENT, change_type=ChangeType.NORMAL)
        FreezeWindow.objects.create(
            name='Year-end freeze',
            starts_at=change.planned_start - dt.timedelta(days=1),
            ends_at=change.planned_end + dt.timedelta(days=1),
        )
        with self.assertRaises(Conflict) as raised:
            services.change_schedule(change=change, actor=SYSTEM)
        self.assertEqual(raised.exception.code, 'freeze')
        manager = make_user(Role.CHANGE_MANAGER)
        change = services.change_schedule(
            change=change, actor=as_user(manager), freeze_override_reason='Security fix cannot wait.'
        )
        self.assertEqual((change.state, change.freeze_override_reason), (S.SCHEDULED, 'Security fix cannot wait.'))

    def test_registered_schedule_checks_refuse_with_their_reason(self):
        CabRule.objects.create(position=1, name='All', route=CabRoute.SKIP)
        change = make_change(S.ASSESSMENT)

        def no_fridays(change, actor):
            return ['Nothing goes live on a Friday.']

        services.register_schedule_check(no_fridays)
        self.addCleanup(services.unregister_schedule_check, no_fridays)
        with self.assertRaises(Conflict) as raised:
            services.change_schedule(change=change, actor=SYSTEM)
        self.assertIn('Nothing goes live on a Friday.', raised.exception.detail)
        self.assertEqual(Change.objects.get(pk=change.pk).state, S.ASSESSMENT)

    def test_rescheduling_records_the_move(self):
        change = make_change(S.SCHEDULED)
        start = change.planned_start + dt.timedelta(days=2)
        change = services.change_reschedule(
            change=change, actor=SYSTEM, planned_start=start, planned_end=start + dt.timedelta(hours=1)
        )
        self.assertEqual(change.planned_start, start)
        entry = self.timeline(change, TimelineKind.TRANSITION).filter(data__action='reschedule').get()
        self.assertIn('planned_start', {c['field'] for c in entry.changes})


class TestingGateTests(ItsmTestCase):
    def scheduled(self, environment='production', **fields):
        change = make_change(S.SCHEDULED, cis=[make_ci(environment=environment)], **fields)
        Change.objects.filter(pk=change.pk).update(tests_passed=None, test_results='')
        return Change.objects.get(pk=change.pk)

    def test_a_production_change_does_not_start_without_passing_tests(self):
        change = self.scheduled()
        with self.assertRaises(Conflict) as raised:
            services.change_start(change=change, actor=SYSTEM)
        self.assertEqual(raised.exception.code, 'test_gate')
        services.change_record_tests(change=change, actor=SYSTEM, test_results='Smoke test failed.', tests_passed=False)
        with self.assertRaises(Conflict):
            services.change_start(change=Change.objects.get(pk=change.pk), actor=SYSTEM)
        services.change_record_tests(change=change, actor=SYSTEM, test_results='All green.', tests_passed=True)
        started = services.change_start(change=Change.objects.get(pk=change.pk), actor=SYSTEM)
        self.assertEqual(started.state, S.IMPLEMENTATION)
        self.assertIsNotNone(started.actual_start)

    def test_a_change_outside_production_passes_the_gate(self):
        change = self.scheduled(environment='staging')
        self.assertEqual(services.change_start(change=change, actor=SYSTEM).state, S.IMPLEMENTATION)

    def test_a_change_manager_bypasses_the_gate_with_a_reason_kept_on_the_timeline(self):
        change = self.scheduled()
        engineer = make_user(Role.L3_ENGINEER)
        with self.assertRaises(NotAllowed):
            services.change_bypass_test_gate(change=change, actor=as_user(engineer), reason='Trust me.')
        with self.assertRaises(ValidationError):
            services.change_bypass_test_gate(change=change, actor=SYSTEM, reason=' ')
        manager = make_user(Role.CHANGE_MANAGER)
        services.change_bypass_test_gate(change=change, actor=as_user(manager), reason='Test lab flooded; urgent fix.')
        entry = self.timeline(change, TimelineKind.FIELD_CHANGE).last()
        self.assertIn('Testing gate bypassed: Test lab flooded; urgent fix.', entry.message)
        self.assertEqual(entry.actor, manager)
        self.assertEqual(
            services.change_start(change=Change.objects.get(pk=change.pk), actor=SYSTEM).state, S.IMPLEMENTATION
        )


class TaskTests(ItsmTestCase):
    def test_implementation_done_is_refused_while_tasks_are_open(self):
        change = make_change(S.IMPLEMENTATION)
        first = ChangeTaskFactory(change=change)
        second = ChangeTaskFactory(change=change)
        with self.assertRaises(Conflict) as raised:
            services.change_complete(change=change, actor=SYSTEM)
        self.assertEqual(raised.exception.extra['tasks'], [first.number, second.number])
        services.task_finish(changetask=first, actor=SYSTEM)
        services.task_cancel(changetask=second, actor=SYSTEM, reason='Covered by the first.')
        change = services.change_complete(change=Change.objects.get(pk=change.pk), actor=SYSTEM)
        self.assertEqual(change.state, S.REVIEW)

    def test_tasks_added_by_hand_follow_the_others_unless_placed(self):
        change = make_change()
        a = services.task_create(actor=SYSTEM, change=change, title='A')
        b = services.task_create(actor=SYSTEM, change=change, title='B')
        c = services.task_create(actor=SYSTEM, change=change, title='C', position=5)
        self.assertEqual((a.position, b.position), (10, 20))
        self.assertEqual(list(change.tasks.all()), [c, a, b])

    def test_tasks_are_worked_only_while_the_change_is_in_implementation(self):
        task = ChangeTaskFactory(change=make_change(S.SCHEDULED))
        with self.assertRaises(Conflict):
            services.task_begin(changetask=task, actor=SYSTEM)

    def test_beginning_a_task_assigns_it_and_starts_its_groups_ola_clock(self):
        group, engineer = make_group_with_agent(name='Network', tier=Tier.L2, role=Role.L2_ENGINEER)
        make_ola(group, accept=30, resolve=120)
        change = make_change(S.IMPLEMENTATION)
        task = services.task_create(actor=SYSTEM, change=change, title='Swap the line card', assignment_group=group)
        task = services.task_begin(changetask=task, actor=as_user(engineer))
        self.assertEqual((task.state, task.assignee), (TaskState.IN_PROGRESS, engineer))
        clocks = SlaClock.objects.for_record(task)
        self.assertEqual([c.kind for c in clocks if c.stopped_at is None], [ClockKind.OLA_RESOLVE])
        services.task_finish(changetask=ChangeTask.objects.get(pk=task.pk), actor=as_user(engineer))
        self.assertTrue(all(c.stopped_at is not None for c in SlaClock.objects.for_record(task)))

    def test_people_outside_the_task_may_not_work_it(self):
        group, _ = make_group_with_agent(name='Network', tier=Tier.L2, role=Role.L2_ENGINEER)
        task = services.task_create(
            actor=SYSTEM, change=make_change(S.IMPLEMENTATION), title='x', assignment_group=group
        )
        with self.assertRaises(NotAllowed):
            services.task_begin(changetask=task, actor=as_user(make_user(Role.SERVICE_DESK_AGENT)))

    def test_cancelling_a_change_cancels_its_open_tasks(self):
        change = make_change(S.SCHEDULED)
        task = ChangeTaskFactory(change=change)
        services.change_cancel(change=change, actor=SYSTEM, reason='Superseded.')
        self.assertEqual(ChangeTask.objects.get(pk=task.pk).state, TaskState.CANCELLED)


class CloseTests(ItsmTestCase):
    def test_failed_changes_need_the_post_implementation_review(self):
        for outcome in (ChangeOutcome.FAILED, ChangeOutcome.BACKED_OUT):
            change = make_change(S.REVIEW)
            with self.subTest(outcome=outcome), self.assertRaises(ValidationError) as raised:
                services.change_close(change=change, actor=SYSTEM, outcome=outcome)
            self.assertIn('review_notes', raised.exception.message_dict)
            closed = services.change_close(change=change, actor=SYSTEM, outcome=outcome, review_notes='Disk full.')
            self.assertEqual((closed.state, closed.review_notes), (S.CLOSED, 'Disk full.'))

    def test_emergency_changes_need_the_review_even_when_successful(self):
        change = make_change(S.REVIEW, change_type=ChangeType.EMERGENCY)
        with self.assertRaises(ValidationError):
            services.change_close(change=change, actor=SYSTEM, outcome=ChangeOutcome.SUCCESSFUL)
        self.assertEqual(Change.objects.get(pk=change.pk).state, S.REVIEW)

    def test_a_successful_normal_change_closes_without_review_notes(self):
        change = make_change(S.REVIEW)
        closed = services.change_close(change=change, actor=SYSTEM, outcome=ChangeOutcome.SUCCESSFUL)
        self.assertEqual((closed.state, closed.outcome), (S.CLOSED, ChangeOutcome.SUCCESSFUL))
        self.assertIsNotNone(closed.closed_at)


class DemoTests(ItsmTestCase):
    def test_the_demo_has_a_catalogue_and_changes_in_several_states(self):
        from io import StringIO

        from django.core.management import call_command

        call_command('load_demo_data', stdout=StringIO())
        self.assertEqual(ChangeModel.objects.filter(active=True).count(), 3)
        self.assertTrue(all(model.tasks.exists() for model in ChangeModel.objects.all()))
        states = set(Change.objects.values_list('state', flat=True))
        self.assertLessEqual({S.DRAFT, S.SUBMITTED, S.SCHEDULED, S.CLOSED}, states)
        closed = Change.objects.get(state=S.CLOSED)
        self.assertFalse(closed.tasks.exclude(state=TaskState.DONE).exists())
