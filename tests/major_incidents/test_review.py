"""Post-incident reviews: who writes them, when they start, what they check, the merged timeline, action items
tracked to done, and the problem opened for the root cause."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.errors import Conflict, NotAllowed
from major_incidents import review as reviews
from major_incidents.choices import MajorIncidentState as S
from major_incidents.models import MajorIncident, MajorIncidentChild
from problems.models import ProblemIncident
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_service
from tests.factories import make_ticket, make_user


def make_major(state: str = S.REVIEW, *, hours_down: float = 3, **fields) -> MajorIncident:
    """A major incident in `state`, its outage started `hours_down` hours ago (restored an hour ago once in review)."""
    now = timezone.now()
    started = now - dt.timedelta(hours=hours_down)
    values = {
        'short_description': 'Student e-mail down for everyone',
        'outage_started_at': started,
        'declared_at': started + dt.timedelta(minutes=20),
        'opened_at': started + dt.timedelta(minutes=20),
        'state': state,
    }
    if state in (S.REVIEW, S.CLOSED):
        values['restored_at'] = now - dt.timedelta(hours=1)
        values['resolution'] = 'Restarted the mail relay.'
    values.update(fields)
    return MajorIncident.objects.create(**values)


def add_children(major: MajorIncident, count: int) -> list:
    incidents = [make_ticket(short_description=f'No e-mail {n}') for n in range(count)]
    for incident in incidents:
        MajorIncidentChild.objects.create(major_incident=major, incident=incident)
    return incidents


def as_(user) -> Actor:
    return Actor(user=user, channel='ui')


class ReviewWritersTests(ItsmTestCase):
    def setUp(self):
        self.owner = make_user(Role.SERVICE_OWNER)
        self.major = make_major(service_owner=self.owner)

    def test_team_owners_incident_and_problem_managers_write(self):
        for user in (self.owner, make_user(Role.INCIDENT_MANAGER), make_user(Role.PROBLEM_MANAGER)):
            self.assertTrue(reviews.may_write_review(self.major, user), user)
        review = reviews.review_start(major=self.major, actor=as_(self.owner))
        self.assertEqual(review.author, self.owner)

    def test_others_are_refused(self):
        for user in (make_user(Role.SERVICE_DESK_AGENT), make_user(Role.SERVICE_OWNER), make_user()):
            with self.assertRaises(NotAllowed):
                reviews.review_start(major=self.major, actor=as_(user))

    def test_the_tech_lead_of_this_major_incident_writes(self):
        lead = make_user(Role.L2_ENGINEER)
        self.major.tech_lead = lead
        self.major.save()
        self.assertTrue(reviews.may_write_review(self.major, lead))


class ReviewStartTests(ItsmTestCase):
    def setUp(self):
        self.manager = make_user(Role.INCIDENT_MANAGER)

    def test_refused_while_the_outage_runs(self):
        for state in (S.DETECTION, S.CONTAINMENT, S.RESOLUTION):
            with self.assertRaises(Conflict) as caught:
                reviews.review_start(major=make_major(state), actor=as_(self.manager))
            self.assertEqual(caught.exception.code, 'not_restored')

    def test_prefilled_with_the_outage_and_idempotent(self):
        major = make_major()
        first = reviews.review_start(major=major, actor=as_(self.manager))
        self.assertEqual(first.outage_started_at, major.outage_started_at)
        self.assertEqual(first.outage_ended_at, major.restored_at)
        self.assertEqual(first.root_cause, '')
        again = reviews.review_start(major=major, actor=as_(make_user(Role.PROBLEM_MANAGER)))
        self.assertEqual(again.pk, first.pk)
        self.assertEqual(self.timeline(major).filter(message='Post-incident review started').count(), 1)

    def test_a_closed_major_incident_can_be_reviewed(self):
        review = reviews.review_start(major=make_major(S.CLOSED), actor=as_(self.manager))
        self.assertIsNotNone(review.pk)


class ReviewUpdateTests(ItsmTestCase):
    def setUp(self):
        self.manager = make_user(Role.INCIDENT_MANAGER)
        self.major = make_major()
        self.review = reviews.review_start(major=self.major, actor=as_(self.manager))

    def test_saves_and_records_the_changes(self):
        review = reviews.review_update(
            review=self.review,
            actor=as_(self.manager),
            root_cause='A certificate expired on the relay.',
            what_went_well='Quick declaration.',
            process_rating=4,
            process_notes='Updates were late once.',
        )
        review.refresh_from_db()
        self.assertEqual(review.root_cause, 'A certificate expired on the relay.')
        self.assertEqual(review.process_rating, 4)
        self.assertIsNotNone(review.completed_at)
        changed = {c['field'] for e in self.timeline(review, TimelineKind.FIELD_CHANGE) for c in e.changes}
        self.assertLessEqual({'root_cause', 'process_rating', 'what_went_well'}, changed)
        self.assertTrue(self.timeline(self.major).filter(message__startswith='Post-incident review edited').exists())

    def test_end_must_follow_start(self):
        with self.assertRaises(ValidationError) as caught:
            reviews.review_update(
                review=self.review,
                actor=as_(self.manager),
                outage_ended_at=self.review.outage_started_at - dt.timedelta(minutes=1),
            )
        self.assertIn('outage_ended_at', caught.exception.message_dict)

    def test_rating_is_one_to_five(self):
        for rating in (0, 6):
            with self.assertRaises(ValidationError) as caught:
                reviews.review_update(review=self.review, actor=as_(self.manager), process_rating=rating)
            self.assertIn('process_rating', caught.exception.message_dict)

    def test_unknown_fields_are_refused(self):
        with self.assertRaises(ValidationError):
            reviews.review_update(review=self.review, actor=as_(self.manager), problem=None)

    def test_outsiders_cannot_edit(self):
        with self.assertRaises(NotAllowed):
            reviews.review_update(review=self.review, actor=as_(make_user(Role.L2_ENGINEER)), summary='x')


class ReviewTimelineTests(ItsmTestCase):
    def test_merges_the_major_incident_and_its_children_in_time_order(self):
        major = make_major()
        children = add_children(major, 2)
        assigned = make_ticket(short_description='Taken on by the desk', state='assigned')
        MajorIncidentChild.objects.create(major_incident=major, incident=assigned)
        children.append(assigned)
        manager = make_user(Role.INCIDENT_MANAGER)
        reviews.review_start(major=major, actor=as_(manager))
        entries = reviews.review_timeline(major)
        numbers = {entry.record_number for entry in entries}
        self.assertEqual(numbers, {major.number, *(c.number for c in children)})
        self.assertEqual([(e.at, e.pk) for e in entries], sorted((e.at, e.pk) for e in entries))
        transitions = [e.states_text for e in entries if e.kind == TimelineKind.TRANSITION]
        self.assertIn('New → Assigned', transitions)
        kinds = {e.record_number: e.record_kind for e in entries}
        self.assertEqual(kinds[major.number], 'major incident')
        self.assertEqual(kinds[children[0].number], 'child incident')

    def test_entries_of_unrelated_records_stay_out(self):
        major = make_major()
        stranger = make_ticket(short_description='Unrelated')
        self.assertNotIn(stranger.number, {e.record_number for e in reviews.review_timeline(major)})

    def test_constant_queries_whatever_the_number_of_children(self):
        one, ten = make_major(), make_major()
        add_children(one, 1)
        add_children(ten, 10)
        self.assertEqual(
            self.count_queries(lambda: reviews.review_timeline(one)),
            self.count_queries(lambda: reviews.review_timeline(ten)),
        )


class ActionItemTests(ItsmTestCase):
    def setUp(self):
        self.manager = make_user(Role.INCIDENT_MANAGER)
        self.engineer = make_user(Role.L3_ENGINEER)
        self.major = make_major()
        self.review = reviews.review_start(major=self.major, actor=as_(self.manager))
        self.tomorrow = reviews.today() + dt.timedelta(days=1)

    def add(self, **fields):
        values = {'description': 'Monitor certificate expiry', 'owner': self.engineer, 'due_date': self.tomorrow}
        values.update(fields)
        return reviews.action_item_add(review=self.review, actor=as_(self.manager), **values)

    def test_added_owned_and_on_the_major_incident_timeline(self):
        item = self.add()
        self.assertEqual(item.owner, self.engineer)
        self.assertIsNone(item.done_at)
        self.assertTrue(self.timeline(self.major).filter(message__startswith='Action item added').exists())

    def test_owner_must_be_active_staff(self):
        inactive = make_user(Role.L2_ENGINEER)
        inactive.is_active = False
        inactive.save()
        for owner in (make_user(), inactive, None):
            with self.assertRaises(ValidationError) as caught:
                self.add(owner=owner)
            self.assertIn('owner', caught.exception.message_dict)

    def test_due_date_not_in_the_past(self):
        with self.assertRaises(ValidationError) as caught:
            self.add(due_date=reviews.today() - dt.timedelta(days=1))
        self.assertIn('due_date', caught.exception.message_dict)
        self.assertEqual(self.add(due_date=reviews.today()).due_date, reviews.today())

    def test_done_and_reopened_with_a_reason(self):
        item = self.add()
        item = reviews.action_item_done(item=item, actor=as_(self.manager), note='Alert in place')
        self.assertIsNotNone(item.done_at)
        self.assertEqual(item.done_by, self.manager)
        with self.assertRaises(Conflict):
            reviews.action_item_done(item=item, actor=as_(self.manager))
        with self.assertRaises(ValidationError):
            reviews.action_item_reopen(item=item, actor=as_(self.manager), reason='  ')
        item = reviews.action_item_reopen(item=item, actor=as_(self.manager), reason='The alert never fires')
        self.assertIsNone(item.done_at)
        with self.assertRaises(Conflict):
            reviews.action_item_reopen(item=item, actor=as_(self.manager), reason='again')
        messages = list(self.timeline(self.major).values_list('message', flat=True))
        self.assertIn('Action item reopened: Monitor certificate expiry (The alert never fires)', messages)

    def test_update_refuses_moving_the_due_date_into_the_past(self):
        item = self.add()
        with self.assertRaises(ValidationError):
            reviews.action_item_update(item=item, actor=as_(self.manager), due_date=reviews.today() - dt.timedelta(1))
        item = reviews.action_item_update(item=item, actor=as_(self.manager), description='Alert 30 days ahead')
        self.assertEqual(item.description, 'Alert 30 days ahead')

    def test_overdue_is_open_and_due_before_today(self):
        item = self.add(due_date=reviews.today())
        self.assertFalse(reviews.is_overdue(item))
        self.assertTrue(reviews.is_overdue(item, on=reviews.today() + dt.timedelta(days=1)))
        reviews.action_item_done(item=item, actor=as_(self.manager))
        item.refresh_from_db()
        self.assertFalse(reviews.is_overdue(item, on=reviews.today() + dt.timedelta(days=1)))

    def test_outsiders_cannot_add(self):
        with self.assertRaises(NotAllowed):
            reviews.action_item_add(
                review=self.review,
                actor=as_(make_user(Role.SERVICE_DESK_AGENT)),
                description='x',
                owner=self.engineer,
                due_date=self.tomorrow,
            )


class OpenProblemTests(ItsmTestCase):
    def setUp(self):
        self.manager = make_user(Role.INCIDENT_MANAGER)
        self.service = make_service('Student e-mail').ci
        self.major = make_major()
        self.major.services.set([self.service])
        self.children = add_children(self.major, 3)
        self.review = reviews.review_start(major=self.major, actor=as_(self.manager))

    def test_refused_without_a_root_cause(self):
        with self.assertRaises(ValidationError) as caught:
            reviews.review_open_problem(review=self.review, actor=as_(self.manager))
        self.assertIn('root_cause', caught.exception.message_dict)

    def test_opens_the_problem_links_the_children_and_says_so_on_both_timelines(self):
        from problems import services as problem_services

        already = problem_services.problem_create(actor=as_(self.manager), short_description='Older problem')
        ProblemIncident.objects.create(problem=already, incident=self.children[0])
        review = reviews.review_update(
            review=self.review, actor=as_(self.manager), root_cause='Expired certificate', summary='No mail for 2h'
        )
        problem = reviews.review_open_problem(review=review, actor=as_(self.manager))
        review.refresh_from_db()
        self.assertEqual(review.problem, problem)
        self.assertEqual(problem.short_description, self.major.short_description)
        self.assertIn('Expired certificate', problem.description)
        self.assertEqual(problem.symptoms, 'No mail for 2h')
        self.assertEqual(list(problem.services.all()), [self.service])
        linked = set(ProblemIncident.objects.filter(problem=problem).values_list('incident_id', flat=True))
        self.assertEqual(linked, {c.pk for c in self.children[1:]})
        self.assertTrue(self.timeline(self.major, TimelineKind.LINK).filter(data__problem=problem.number).exists())
        self.assertTrue(self.timeline(problem, TimelineKind.LINK).filter(data__major_incident=self.major.number))
        with self.assertRaises(Conflict) as caught:
            reviews.review_open_problem(review=review, actor=as_(self.manager))
        self.assertEqual(caught.exception.code, 'problem_open')


class OverdueReminderTests(ItsmTestCase):
    def setUp(self):
        self.manager = make_user(Role.INCIDENT_MANAGER)
        self.owner = make_user(Role.L2_ENGINEER, email='owner@example.com')
        self.major = make_major()
        review = reviews.review_start(major=self.major, actor=as_(self.manager))
        self.today = reviews.today()
        self.late = reviews.action_item_add(
            review=review, actor=as_(self.manager), description='Renew <certs>', owner=self.owner, due_date=self.today
        )
        self.on_time = reviews.action_item_add(
            review=review,
            actor=as_(self.manager),
            description='Write the runbook',
            owner=self.owner,
            due_date=self.today + dt.timedelta(days=3),
        )

    def remind(self, on):
        with self.captureOnCommitCallbacks(execute=True):
            return reviews.send_overdue_action_item_reminders(on=on)

    def test_once_per_item_per_day_to_its_owner(self):
        from django.core import mail

        tomorrow = self.today + dt.timedelta(days=1)
        self.assertEqual(self.remind(self.today), 0)
        self.assertEqual(self.remind(tomorrow), 1)
        self.assertEqual(self.remind(tomorrow), 0)
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ['owner@example.com'])
        self.assertIn('Renew <certs>', message.body)
        self.assertIn(f'/major-incidents/{self.major.number}/review/', message.body)
        self.assertEqual(self.remind(tomorrow + dt.timedelta(days=1)), 1)
        self.assertEqual(len(mail.outbox), 2)

    def test_done_items_are_not_reminded(self):
        reviews.action_item_done(item=self.late, actor=as_(self.manager))
        self.assertEqual(self.remind(self.today + dt.timedelta(days=5)), 1)  # only the runbook, now late too

    def test_the_beat_runs_it(self):
        from itsm.celery import app

        entry = app.conf.beat_schedule['major-action-item-reminders']
        self.assertEqual(entry['task'], reviews.overdue_action_item_reminders_task.name)
        self.assertEqual(reviews.overdue_action_item_reminders_task.delay().get(), 0)
