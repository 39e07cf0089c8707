"""Predictions on a hand-built history: profiles with known quantiles, fallback levels, recomputation as tickets
change, the incident page's card, the portal's sentence and the API."""

from __future__ import annotations

import datetime as dt
import logging
from unittest import mock

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from incidents import services as ticket_services
from incidents.choices import ResolutionCode
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Role
from predictions import services
from predictions.models import DurationProfile, Prediction
from tests.base import ItsmTestCase, load_related
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket

HOUR = dt.timedelta(hours=1)
P3 = {'impact': 'low', 'urgency': 'normal'}
P2 = {'impact': 'medium', 'urgency': 'urgent'}


@override_settings(PREDICTION_MINIMUM_SAMPLES=5)
class PredictionTestCase(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service desk')
        self.requester = self.make_user(Role.REQUESTER, username='robin')

    def completed(self, hours: float, *, group=None, days_ago: float = 1, kind='incident', **fields) -> Ticket:
        """A ticket completed `days_ago` days ago after `hours` hours open (written directly: history only)."""
        impact, urgency = (fields or P3)['impact'], (fields or P3)['urgency']
        done = timezone.now() - dt.timedelta(days=days_ago)
        ticket = Ticket(
            kind=kind,
            short_description='Done before',
            caller=self.requester,
            impact=impact,
            urgency=urgency,
            priority={'low': 3, 'medium': 2}[impact],
            assignment_group=group or self.desk,
            state='completed',
            opened_at=done - hours * HOUR,
            completed_at=done,
        )
        ticket.save()
        return ticket

    def open_ticket(self, *, state='accepted', group=None, **fields):
        return make_ticket(
            state=state, group=group or self.desk, agent=self.agent, caller=self.requester, **(fields or P3)
        )

    def history(self, hours, **kwargs):
        return [self.completed(h, **kwargs) for h in hours]


class ProfileTests(PredictionTestCase):
    def test_ten_tickets_of_one_to_ten_hours_give_known_quantiles(self):
        self.history(range(1, 11))
        self.history([500] * 3, days_ago=400)  # older than the window
        services.profiles_rebuild()
        profile = DurationProfile.objects.get(level='channel')
        self.assertEqual(profile.samples, 10)
        self.assertEqual(profile.p10, 1.9 * HOUR)
        self.assertEqual(profile.p50, 5.5 * HOUR)
        self.assertEqual(profile.p90, 9.1 * HOUR)
        self.assertEqual(DurationProfile.objects.get(level='all', kind='incident').samples, 10)

        ticket = self.open_ticket()
        prediction = services.prediction_refresh(ticket_id=ticket.pk)
        self.assertEqual((prediction.level, prediction.samples, prediction.typical), ('channel', 10, 5.5 * HOUR))
        self.assertLessEqual(prediction.low_at, prediction.expected_at)
        self.assertLessEqual(prediction.expected_at, prediction.high_at)
        # Just opened: the band is the profile's, from the opening.
        self.assertAlmostEqual((prediction.expected_at - ticket.opened_at) / HOUR, 5.5, delta=0.01)

    def test_a_ticket_open_longer_gets_the_quantiles_of_longer_durations(self):
        self.history(range(1, 11))
        services.profiles_rebuild()
        ticket = self.open_ticket()
        Ticket.objects.filter(pk=ticket.pk).update(opened_at=timezone.now() - 6 * HOUR)
        prediction = services.prediction_refresh(ticket_id=ticket.pk)
        self.assertGreater(prediction.expected_at, timezone.now())
        self.assertGreaterEqual(prediction.low_at, timezone.now() - dt.timedelta(seconds=5))
        self.assertEqual(prediction.typical, 5.5 * HOUR)  # what the requester is told does not move

    def test_too_few_similar_tickets_fall_back_to_broader_levels(self):
        other_group = SupportGroupFactory(name='Network')  # history only: nobody needs to work in it
        self.history([2] * 3)  # the ticket's own group: too few
        self.history([4] * 3, group=other_group)  # same priority, category, service: 6 together
        self.history([8] * 2, **P2)
        services.profiles_rebuild()
        ticket = self.open_ticket()
        prediction = services.prediction_refresh(ticket_id=ticket.pk)
        self.assertEqual((prediction.level, prediction.samples), ('service', 6))
        urgent = self.open_ticket(**P2)  # two of its priority: the kind's eight tickets stand in
        prediction = services.prediction_refresh(ticket_id=urgent.pk)
        self.assertEqual((prediction.level, prediction.samples), ('all', 8))
        case = self.open_ticket(kind='case')  # no completed case at all: no prediction
        self.assertIsNone(services.prediction_refresh(ticket_id=case.pk))
        self.assertFalse(Prediction.objects.filter(ticket=case).exists())

    def test_the_rebuild_costs_the_same_queries_however_many_tickets(self):
        self.history([1, 2])
        small = self.count_queries(services.profiles_rebuild)
        self.history([3, 4, 5], **P2)
        self.history([6, 7], group=SupportGroupFactory(name='Other'))
        self.assertEqual(self.count_queries(services.profiles_rebuild), small)


class RecomputeTests(PredictionTestCase):
    def test_changes_refresh_the_prediction_after_commit_and_completion_drops_it(self):
        self.history([1] * 5)
        self.history([9] * 5, **P2)
        services.profiles_rebuild()
        with self.captureOnCommitCallbacks(execute=True):
            ticket = self.open_ticket(state='new')
        self.assertEqual(Ticket.objects.get(pk=ticket.pk).prediction.typical, HOUR)
        desk = Actor(user=self.agent, channel='ui')
        with self.captureOnCommitCallbacks(execute=True):
            ticket_services.ticket_update(ticket=ticket, actor=desk, **P2)
        self.assertEqual(Prediction.objects.get(ticket=ticket).typical, 9 * HOUR)
        with self.captureOnCommitCallbacks(execute=True):
            ticket = ticket_services.ticket_assign(ticket=ticket, actor=desk, group=self.desk)
            ticket = ticket_services.ticket_accept(ticket=ticket, actor=desk)
            ticket_services.ticket_complete(
                ticket=ticket, actor=desk, resolution_code=ResolutionCode.SOLVED_PERMANENTLY, resolution_notes='Done.'
            )
        self.assertFalse(Prediction.objects.filter(ticket=ticket).exists())

    def test_a_create_that_routing_assigns_refreshes_once(self):
        from predictions.tasks import prediction_refresh_task

        services.profiles_rebuild()
        desk = Actor(user=self.agent, channel='ui')
        # The task runs (eagerly here) whether it leaves alone or with the transaction's other tasks.
        with (
            mock.patch.object(prediction_refresh_task, 'run', wraps=prediction_refresh_task.run) as run,
            self.captureOnCommitCallbacks(execute=True),
        ):
            # `created`, then `transitioned` (New -> Assigned), in one transaction.
            ticket = ticket_services.ticket_create(
                actor=desk, short_description='VPN drops', caller=self.requester, assignment_group=self.desk
            )
        self.assertEqual(ticket.state, 'assigned')
        self.assertEqual([call.args for call in run.call_args_list], [(ticket.pk,)])
        with (
            mock.patch.object(prediction_refresh_task, 'run', wraps=prediction_refresh_task.run) as run,
            self.captureOnCommitCallbacks(execute=True),
        ):
            ticket_services.ticket_update(ticket=ticket, actor=desk, **P2)  # a transaction of its own
        self.assertEqual([call.args for call in run.call_args_list], [(ticket.pk,)])

    def test_a_failing_prediction_never_fails_the_change(self):
        services.profiles_rebuild()

        def broken(**kwargs):
            raise RuntimeError('profiles unreadable')

        original = services.prediction_refresh
        services.prediction_refresh = broken
        try:
            with self.assertLogs('predictions', level=logging.ERROR), self.captureOnCommitCallbacks(execute=True):
                ticket = self.open_ticket(state='new')
        finally:
            services.prediction_refresh = original
        self.assertTrue(Ticket.objects.filter(pk=ticket.pk).exists())

    def test_the_periodic_refresh_follows_rebuilt_profiles_and_forgets_finished_tickets(self):
        ticket = self.open_ticket()
        done = self.open_ticket()
        services.profiles_rebuild()
        self.assertEqual(services.predictions_refresh_all(), 0)  # nothing completed yet: nothing to say
        self.history([3] * 5)
        Prediction.objects.create(
            ticket=done, expected_at=timezone.now(), low_at=timezone.now(), high_at=timezone.now(),
            typical=HOUR, level='all', samples=1, computed_at=timezone.now(),
        )  # fmt: skip
        Ticket.objects.filter(pk=done.pk).update(state='completed', completed_at=timezone.now())
        self.assertEqual(services.predictions_tick()[1], 1)
        self.assertEqual(Prediction.objects.get().ticket_id, ticket.pk)
        self.assertEqual(Prediction.objects.get().typical, 3 * HOUR)


class PageTests(PredictionTestCase):
    def test_the_agent_sees_the_card_at_the_same_query_cost(self):
        ticket = self.open_ticket()
        plain = self.open_ticket()
        self.history(range(1, 11))
        services.profiles_rebuild()
        services.prediction_refresh(ticket_id=ticket.pk)
        self.client.force_login(self.agent)
        url = reverse('incidents:ticket_detail', args=[ticket.number])

        def page_of(address):
            return load_related(self.client, self.client.get(address))

        page_of(url)
        page = page_of(url)
        self.assertContains(page, 'Predicted resolution')
        self.assertContains(page, 'From 10 similar tickets')
        self.assertContains(page, 'data-testid="prediction-band"')
        with_card = self.count_queries(lambda: page_of(url))
        other = reverse('incidents:ticket_detail', args=[plain.number])
        page_of(other)
        self.assertContains(page_of(other), 'data-testid="prediction-none"')
        self.assertEqual(self.count_queries(lambda: page_of(other)), with_card)

    def test_the_requester_reads_a_plain_sentence_in_the_portal(self):
        ticket = self.open_ticket()
        self.history([2] * 5)
        services.predictions_tick()
        self.client.force_login(self.requester)
        page = self.client.get(reverse('incidents:portal_ticket', args=[ticket.number]))
        self.assertContains(page, 'Similar requests are usually resolved within about 2 hours.')
        self.assertNotContains(page, 'Predicted resolution')


class ApiTests(PredictionTestCase):
    def setUp(self):
        super().setUp()
        self.ticket = self.open_ticket()
        self.history(range(1, 11))
        services.predictions_tick()

    def test_staff_see_the_band_and_requesters_only_the_sentence(self):
        url = f'/api/v1/incidents/{self.ticket.number}/'
        staff = self.api_client(self.agent).get(url)
        self.assertHttpStatus(staff, 200)
        prediction = staff.json()['prediction']
        self.assertEqual((prediction['level'], prediction['samples']), ('channel', 10))
        self.assertEqual(prediction['typical_seconds'], 5.5 * 3600)
        self.assertEqual(
            set(prediction),
            {'expected_at', 'low_at', 'high_at', 'typical_seconds', 'level', 'samples', 'computed_at', 'text'},
        )
        mine = self.api_client(self.requester).get(url)
        self.assertHttpStatus(mine, 200)
        sentence = 'Similar requests are usually resolved within about 6 hours.'
        self.assertEqual(mine.json()['prediction'], {'text': sentence})

    def test_the_incident_list_reads_predictions_in_one_query(self):
        url = '/api/v1/incidents/'
        client = self.api_client(self.agent)
        client.get(url)
        one = self.count_queries(lambda: client.get(url))
        for _ in range(3):
            self.open_ticket()
        services.predictions_refresh_all()
        self.assertEqual(self.count_queries(lambda: client.get(url)), one)
        predictions = [row['prediction'] for row in client.get(url).json()['results']]
        self.assertEqual(len([p for p in predictions if p]), 4)

    def test_duration_profiles_are_read_only_and_for_staff(self):
        url = '/api/v1/duration-profiles/'
        response = self.api_client(self.agent).get(url, {'level': 'channel'})
        self.assertHttpStatus(response, 200)
        rows = response.json()['results']
        self.assertEqual([(r['samples'], r['p50_seconds']) for r in rows], [(10, 5.5 * 3600)])
        self.assertHttpStatus(self.api_client(self.agent).post(url, {}, format='json'), 405)
        self.assertHttpStatus(self.api_client(self.requester).get(url), 403)


class BeatTests(PredictionTestCase):
    def test_the_hourly_job_rebuilds_profiles_and_predicts_open_tickets(self):
        from itsm.celery import app
        from predictions.tasks import predictions_profiles_task

        entry = app.conf.beat_schedule['predictions-profiles']
        self.assertEqual((entry['task'], entry['schedule']), ('predictions.tasks.predictions_profiles_task', 3600.0))
        app.loader.import_default_modules()
        self.assertIn(entry['task'], app.tasks)
        ticket = self.open_ticket()
        self.history([2] * 5)
        self.assertEqual(tuple(predictions_profiles_task.delay().get()), (6, 1))
        self.assertEqual(Prediction.objects.get().ticket_id, ticket.pk)
