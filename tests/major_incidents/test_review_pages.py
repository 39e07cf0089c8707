"""Post-incident review pages: who reads and writes, the forms' errors, the action-item list, constant queries."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from itsm.choices import Role
from major_incidents import review as reviews
from major_incidents.choices import MajorIncidentState as S
from major_incidents.models import ActionItem, PostIncidentReview
from problems.models import Problem
from tests.base import ItsmTestCase
from tests.factories import make_user

from .test_review import add_children, as_, make_major


class ReviewPageTests(ItsmTestCase):
    def setUp(self):
        self.manager = make_user(Role.INCIDENT_MANAGER)
        self.owner = make_user(Role.SERVICE_OWNER)
        self.major = make_major(service_owner=self.owner, short_description='Mail <b>down</b>')
        self.url = reverse('major_incidents:review', args=[self.major.number])
        self.edit_url = reverse('major_incidents:review_edit', args=[self.major.number])

    def test_requesters_and_anonymous_are_kept_out(self):
        self.client.force_login(make_user())
        self.assertHttpStatus(self.client.get(self.url), 403)
        self.client.logout()
        self.assertHttpStatus(self.client.get(self.url), 302)

    def test_staff_read_but_only_writers_write(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(agent)
        response = self.client.get(self.url)
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, 'Start the review')
        self.assertContains(response, 'Mail &lt;b&gt;down&lt;/b&gt;')
        self.assertHttpStatus(self.client.get(self.edit_url), 403)
        self.assertHttpStatus(self.client.post(self.url), 403)
        self.assertFalse(PostIncidentReview.objects.exists())

    def test_the_service_owner_starts_and_writes_the_review(self):
        self.client.force_login(self.owner)
        self.assertContains(self.client.get(self.url), 'Start the review')
        response = self.client.post(self.url)
        self.assertRedirects(response, self.edit_url)
        form = self.client.get(self.edit_url)
        self.assertHttpStatus(form, 200)
        response = self.client.post(
            self.edit_url,
            {
                'outage_started_at': self.major.outage_started_at.strftime('%Y-%m-%dT%H:%M:%S'),
                'outage_ended_at': self.major.restored_at.strftime('%Y-%m-%dT%H:%M:%S'),
                'root_cause': 'The relay certificate expired',
                'process_rating': '3',
                'process_notes': 'Late second update',
            },
        )
        self.assertRedirects(response, self.url)
        review = PostIncidentReview.objects.get(major_incident=self.major)
        self.assertEqual(review.root_cause, 'The relay certificate expired')
        self.assertEqual(review.process_rating, 3)
        page = self.client.get(self.url)
        self.assertContains(page, 'The relay certificate expired')

    def test_bad_input_gives_form_errors(self):
        self.client.force_login(self.manager)
        started = self.major.outage_started_at
        response = self.client.post(
            self.edit_url,
            {
                'outage_started_at': started.strftime('%Y-%m-%dT%H:%M:%S'),
                'outage_ended_at': (started - dt.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%S'),
            },
        )
        self.assertHttpStatus(response, 400)
        self.assertIn('outage_ended_at', response.context['form'].errors)
        response = self.client.post(self.edit_url, {'outage_started_at': 'yesterday'})
        self.assertHttpStatus(response, 400)

    def test_review_is_refused_while_the_outage_runs(self):
        running = make_major(S.CONTAINMENT)
        self.client.force_login(self.manager)
        page = self.client.get(reverse('major_incidents:review', args=[running.number]))
        self.assertContains(page, 'The review starts once the service is restored.')
        response = self.client.post(
            reverse('major_incidents:review_edit', args=[running.number]),
            {'outage_started_at': running.outage_started_at.strftime('%Y-%m-%dT%H:%M:%S')},
        )
        self.assertHttpStatus(response, 409)
        self.assertContains(response, 'the review starts once the service is restored', status_code=409)

    def test_open_problem_from_the_page(self):
        self.client.force_login(self.manager)
        review = reviews.review_start(major=self.major, actor=as_(self.manager))
        problem_url = reverse('major_incidents:review_open_problem', args=[self.major.number])
        response = self.client.post(problem_url, follow=True)
        self.assertContains(response, 'Record the root cause in the review before opening a problem for it.')
        reviews.review_update(review=review, actor=as_(self.manager), root_cause='Expired certificate')
        response = self.client.post(problem_url, follow=True)
        problem = Problem.objects.get()
        self.assertContains(response, f'Problem {problem.number} is opened')
        self.assertContains(response, problem.number)
        response = self.client.post(problem_url, follow=True)
        self.assertContains(response, 'is already open for the root cause')
        self.assertEqual(Problem.objects.count(), 1)

    def test_constant_queries_with_one_or_ten_action_items_and_children(self):
        self.client.force_login(self.manager)
        engineer = make_user(Role.L2_ENGINEER)
        counts = []
        for size in (1, 10):
            major = make_major()
            add_children(major, size)
            review = reviews.review_start(major=major, actor=as_(self.manager))
            for n in range(size):
                reviews.action_item_add(
                    review=review,
                    actor=as_(self.manager),
                    description=f'Action {n}',
                    owner=make_user(Role.L2_ENGINEER) if n % 2 else engineer,
                    due_date=reviews.today(),
                )
            url = reverse('major_incidents:review', args=[major.number])
            self.client.get(url)
            counts.append(self.count_queries(lambda url=url: self.assertHttpStatus(self.client.get(url), 200)))
        self.assertEqual(counts[0], counts[1])


class ActionItemPageTests(ItsmTestCase):
    def setUp(self):
        self.manager = make_user(Role.INCIDENT_MANAGER)
        self.engineer = make_user(Role.L3_ENGINEER)
        self.major = make_major()
        self.review = reviews.review_start(major=self.major, actor=as_(self.manager))
        self.add_url = reverse('major_incidents:actionitem_add', args=[self.major.number])

    def test_add_with_errors_then_valid(self):
        self.client.force_login(self.manager)
        self.assertHttpStatus(self.client.get(self.add_url), 200)
        yesterday = reviews.today() - dt.timedelta(days=1)
        response = self.client.post(
            self.add_url, {'description': 'Renew certs', 'owner': self.engineer.pk, 'due_date': yesterday}
        )
        self.assertHttpStatus(response, 400)
        self.assertIn('due_date', response.context['form'].errors)
        requester = make_user()
        response = self.client.post(
            self.add_url, {'description': 'Renew certs', 'owner': requester.pk, 'due_date': reviews.today()}
        )
        self.assertHttpStatus(response, 400)
        self.assertIn('owner', response.context['form'].errors)
        response = self.client.post(
            self.add_url, {'description': 'Renew certs', 'owner': self.engineer.pk, 'due_date': reviews.today()}
        )
        self.assertRedirects(response, reverse('major_incidents:review', args=[self.major.number]))
        self.assertEqual(ActionItem.objects.get().owner, self.engineer)

    def test_edit_done_and_reopen(self):
        item = reviews.action_item_add(
            review=self.review,
            actor=as_(self.manager),
            description='Renew',
            owner=self.engineer,
            due_date=reviews.today(),
        )
        self.client.force_login(self.manager)
        edit = reverse('major_incidents:actionitem_edit', args=[item.pk])
        self.assertHttpStatus(self.client.get(edit), 200)
        response = self.client.post(
            edit, {'description': 'Renew all certs', 'owner': self.engineer.pk, 'due_date': reviews.today()}
        )
        self.assertHttpStatus(response, 302)
        self.client.post(reverse('major_incidents:actionitem_done', args=[item.pk]), {'note': 'Renewed'})
        item.refresh_from_db()
        self.assertEqual(item.description, 'Renew all certs')
        self.assertIsNotNone(item.done_at)
        reopen = reverse('major_incidents:actionitem_reopen', args=[item.pk])
        self.assertHttpStatus(self.client.post(reopen, {'reason': ''}), 400)
        self.assertHttpStatus(self.client.post(reopen, {'reason': 'One was missed'}), 302)
        item.refresh_from_db()
        self.assertIsNone(item.done_at)

    def test_agents_cannot_mark_items_done(self):
        item = reviews.action_item_add(
            review=self.review,
            actor=as_(self.manager),
            description='Renew',
            owner=self.engineer,
            due_date=reviews.today(),
        )
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        self.assertHttpStatus(self.client.post(reverse('major_incidents:actionitem_done', args=[item.pk])), 403)
        self.assertHttpStatus(self.client.get(self.add_url), 403)

    def test_list_mine_overdue_all_with_constant_queries(self):
        items = [
            reviews.action_item_add(
                review=self.review,
                actor=as_(self.manager),
                description=f'Item {n}',
                owner=self.engineer if n == 0 else make_user(Role.L2_ENGINEER),
                due_date=reviews.today(),
            )
            for n in range(3)
        ]
        ActionItem.objects.filter(pk=items[1].pk).update(due_date=reviews.today() - dt.timedelta(days=3))
        self.client.force_login(self.engineer)
        url = reverse('major_incidents:actionitem_list')
        mine = self.client.get(url)
        self.assertEqual([i.pk for i in mine.context['items']], [items[0].pk])
        overdue = self.client.get(url, {'view': 'overdue'})
        self.assertEqual([i.pk for i in overdue.context['items']], [items[1].pk])
        self.assertContains(overdue, 'Overdue')
        every = self.client.get(url, {'view': 'all'})
        self.assertEqual(len(every.context['items']), 3)
        few = self.count_queries(lambda: self.client.get(url, {'view': 'all'}))
        for n in range(7):
            reviews.action_item_add(
                review=self.review,
                actor=as_(self.manager),
                description=f'More {n}',
                owner=make_user(Role.L2_ENGINEER),
                due_date=reviews.today(),
            )
        self.assertEqual(self.count_queries(lambda: self.client.get(url, {'view': 'all'})), few)

    def test_requesters_cannot_see_the_list(self):
        self.client.force_login(make_user())
        self.assertHttpStatus(self.client.get(reverse('major_incidents:actionitem_list')), 403)


class OpenProblemButtonTests(ItsmTestCase):
    def test_offered_only_to_people_who_may_raise_problems(self):
        owner = make_user(Role.SERVICE_OWNER)
        major = make_major(service_owner=owner)
        review = reviews.review_start(major=major, actor=as_(owner))
        reviews.review_update(review=review, actor=as_(owner), root_cause='Expired certificate')
        url = reverse('major_incidents:review', args=[major.number])
        self.client.force_login(owner)
        self.assertNotContains(self.client.get(url), 'Open a problem for the root cause')
        self.client.force_login(make_user(Role.PROBLEM_MANAGER))
        self.assertContains(self.client.get(url), 'Open a problem for the root cause')
