"""Post-incident reviews over the API: written under one major incident (`/major-incidents/{number}/review/`, with
`open-problem`), read across all (`/major-incident-reviews/`), and their action items
(`/major-incident-action-items/`: create, edit, done, reopen, filters)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from itsm.choices import Role, TimelineKind
from major_incidents.choices import MajorIncidentState
from major_incidents.models import ActionItem, PostIncidentReview
from problems.models import Problem
from tests.base import APITestCases, ItsmTestCase
from tests.factories import make_user

from .factories import ActionItemFactory, ReviewFactory, make_major

S = MajorIncidentState


def review_url(major) -> str:
    return f'/api/v1/major-incidents/{major.number}/review/'


class NestedReviewTests(ItsmTestCase):
    def setUp(self):
        self.major = make_major(S.REVIEW)
        self.manager = self.major.incident_manager

    def test_patch_starts_the_review_prefilled_and_edits_it(self):
        client = self.api_client(self.manager)
        self.assertHttpStatus(client.get(review_url(self.major)), 404)
        response = client.patch(
            review_url(self.major),
            {'root_cause': 'The standby cache was cold.', 'process_rating': 4, 'summary': 'Mail down for 2 hours.'},
            format='json',
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['major_incident'], self.major.number)
        self.assertEqual(response.data['root_cause'], 'The standby cache was cold.')
        self.assertEqual(response.data['process_rating'], 4)
        self.assertIsNotNone(response.data['completed_at'])
        review = PostIncidentReview.objects.get(major_incident=self.major)
        self.assertEqual(review.outage_started_at, self.major.outage_started_at)
        self.assertEqual(review.outage_ended_at, self.major.restored_at)
        response = self.api_client(make_user(Role.SERVICE_DESK_AGENT)).get(review_url(self.major))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['summary'], 'Mail down for 2 hours.')

    def test_put_writes_the_whole_review(self):
        started = self.major.outage_started_at
        data = {
            'outage_started_at': started.isoformat(),
            'outage_ended_at': (started + dt.timedelta(hours=2)).isoformat(),
            'summary': 'Mail down.',
            'root_cause': 'Cold cache.',
            'what_went_well': 'Fast fail-over.',
            'what_went_badly': 'Late first update.',
            'process_rating': 3,
            'process_notes': 'The bridge started late.',
        }
        response = self.api_client(self.manager).put(review_url(self.major), data, format='json')
        self.assertHttpStatus(response, 200)
        review = PostIncidentReview.objects.get(major_incident=self.major)
        self.assertEqual(review.outage_ended_at, started + dt.timedelta(hours=2))
        self.assertEqual(review.what_went_badly, 'Late first update.')

    def test_refusals(self):
        url = review_url(self.major)
        self.assertHttpStatus(self.api_client(make_user(Role.REQUESTER)).get(url), 403)
        response = self.api_client(make_user(Role.SERVICE_DESK_AGENT)).patch(url, {'summary': 'x'}, format='json')
        self.assertHttpStatus(response, 403)
        response = self.api_client(make_user(Role.SERVICE_OWNER)).patch(url, {'summary': 'x'}, format='json')
        self.assertHttpStatus(response, 403)  # owners of other major incidents do not write this one
        response = self.api_client(self.manager).patch(url, {'process_rating': 9}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('process_rating', response.data)
        started = self.major.outage_started_at
        response = self.api_client(self.manager).patch(
            url, {'outage_ended_at': (started - dt.timedelta(hours=1)).isoformat()}, format='json'
        )
        self.assertHttpStatus(response, 400)
        self.assertIn('outage_ended_at', response.data)
        running = make_major(S.ASSESSMENT)
        response = self.api_client(running.incident_manager).patch(review_url(running), {'summary': 'x'})
        self.assertHttpStatus(response, 409)
        self.assertFalse(PostIncidentReview.objects.filter(major_incident=running).exists())

    def test_open_problem_for_the_root_cause(self):
        client = self.api_client(self.manager)
        url = f'{review_url(self.major)}open-problem/'
        self.assertHttpStatus(client.post(url), 404)  # no review yet
        client.patch(review_url(self.major), {'summary': 'Mail down.'}, format='json')
        response = client.post(url)
        self.assertHttpStatus(response, 400)  # no root cause yet
        self.assertFalse(Problem.objects.exists())
        client.patch(review_url(self.major), {'root_cause': 'Cold standby cache.'}, format='json')
        response = client.post(url)
        self.assertHttpStatus(response, 201)
        problem = Problem.objects.get()
        self.assertEqual(response.data['problem'], problem.number)
        response = client.post(url)
        self.assertHttpStatus(response, 409)
        self.assertEqual(Problem.objects.count(), 1)


class PostIncidentReviewAPITests(APITestCases.ReadOnlyCollection, APITestCases.ModelAPITestCase):
    model = PostIncidentReview
    basename = 'postincidentreview'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    supports_delete = False
    query_rows = (1, 4)

    def make_object(self, **kwargs):
        return ReviewFactory(**kwargs)

    def filter_cases(self):
        first, second = self.make_object(), self.make_object()
        return [
            ({'major_incident': first.major_incident.number}, [first]),
            ({'major_incident': second.major_incident.number.lower()}, [second]),
        ]

    def test_the_answer_holds_the_action_items(self):
        item = ActionItemFactory()
        response = self.api_client(self.viewer()).get(self.detail_url(item.review))
        self.assertHttpStatus(response, 200)
        self.assertEqual([row['id'] for row in response.data['action_items']], [item.pk])
        self.assertEqual(response.data['action_items'][0]['owner'], item.owner.username)

    def test_list_queries_do_not_grow_with_action_items(self):
        review = self.make_object()
        ActionItemFactory(review=review)
        client = self.api_client(self.viewer())
        client.get(self.list_url())
        few = self.count_queries(lambda: client.get(self.list_url()))
        for _ in range(3):
            ActionItemFactory(review=self.make_object())
        many = self.count_queries(lambda: self.assertHttpStatus(client.get(self.list_url()), 200))
        self.assertEqual(few, many)


class ActionItemAPITests(APITestCases.ModelAPITestCase):
    model = ActionItem
    basename = 'actionitem'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    supports_delete = False
    query_rows = (1, 4)

    @property
    def update_data(self):
        return {'description': 'Warm the cache nightly', 'due_date': str(timezone.localdate() + dt.timedelta(days=30))}

    def make_object(self, **kwargs):
        return ActionItemFactory(**kwargs)

    def create_data(self):
        return {
            'review': ReviewFactory().pk,
            'description': 'Alert when the standby cache is cold',
            'owner': make_user(Role.L3_ENGINEER).username,
            'due_date': str(timezone.localdate() + dt.timedelta(days=7)),
            'notes': 'Storage team.',
        }

    def filter_cases(self):
        owner = make_user(Role.L3_ENGINEER, username='ines')
        mine = self.make_object(owner=owner)
        late = self.make_object()
        ActionItem.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - dt.timedelta(days=3))
        done = self.make_object()
        ActionItem.objects.filter(pk=done.pk).update(done_at=timezone.now())
        return [
            ({'owner': 'ines'}, [mine]),
            ({'overdue': 'true'}, [late]),
            ({'open': 'false'}, [done]),
            ({'open': 'true'}, [mine, late]),
            ({'major_incident': mine.review.major_incident.number}, [mine]),
            ({'q': 'fail-over'}, [mine, late, done]),
        ]

    def test_owner_me(self):
        owner = make_user(Role.PROBLEM_MANAGER)
        mine = self.make_object(owner=owner)
        self.make_object()
        response = self.api_client(owner).get(self.list_url(), {'owner': 'me'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(self.result_keys(response), {mine.pk})

    def test_done_and_reopen(self):
        item = self.make_object()
        client = self.api_client(self.writer())
        url = self.detail_url(item)
        response = client.post(f'{url}done/', {'note': 'Deployed.'}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertIsNotNone(response.data['done_at'])
        self.assertHttpStatus(client.post(f'{url}done/', {}, format='json'), 409)
        response = client.post(f'{url}reopen/', {}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('reason', response.data)
        response = client.post(f'{url}reopen/', {'reason': 'The alert never fired.'}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertIsNone(response.data['done_at'])
        self.assertTrue(self.timeline(item).exclude(kind=TimelineKind.CREATED).exists())
        self.assertHttpStatus(client.post(f'{url}reopen/', {'reason': 'again'}, format='json'), 409)

    def test_refusals(self):
        item = self.make_object()
        agent = self.api_client(make_user(Role.SERVICE_DESK_AGENT))
        self.assertHttpStatus(agent.post(f'{self.detail_url(item)}done/', {}, format='json'), 403)
        data = {**self.create_data(), 'due_date': str(timezone.localdate() - dt.timedelta(days=1))}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('due_date', response.data)
        data = {**self.create_data(), 'owner': make_user(Role.REQUESTER).username}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('owner', response.data)
        outsider_owner = self.api_client(make_user(Role.SERVICE_OWNER))
        response = outsider_owner.patch(self.detail_url(item), {'notes': 'x'}, format='json')
        self.assertHttpStatus(response, 403)
        self.assertHttpStatus(self.api_client(make_user(Role.REQUESTER)).get(self.list_url()), 403)
