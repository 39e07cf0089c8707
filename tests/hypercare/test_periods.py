"""Starting, extending and ending periods by hand; overlaps refused; who may; tagging; the sweep; the summary."""

import datetime as dt

from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from hypercare import services
from hypercare.models import HypercareIncident, HypercarePeriod, HypercareSummary
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.errors import Conflict, NotAllowed
from sla.models import SlaClock
from tests.base import ItsmTestCase, load_related
from tests.factories import make_ticket, make_user
from tests.sla.factories import frozen, make_sla

from .factories import make_period, service_ci

DAY = dt.timedelta(days=1)


class StartExtendEndTests(ItsmTestCase):
    def setUp(self):
        self.owner = make_user(Role.SERVICE_OWNER)
        self.service = service_ci(service_owner=self.owner)

    def test_start_writes_the_period_and_the_services_timeline(self):
        period = make_period(self.service, actor=Actor(user=self.owner))
        self.assertEqual(period.state, 'active')
        self.assertEqual(period.started_by, self.owner)
        self.assertIsNotNone(period.began_at)
        self.assertTrue(self.timeline(period, TimelineKind.CREATED).exists())
        self.assertIn('Hypercare now until', self.timeline(self.service).last().message)

    def test_extend_moves_the_end(self):
        period = make_period(self.service, days=7)
        later = period.ends_at + 7 * DAY
        period = services.period_update(actor=Actor.system(), period=period, ends_at=later)
        self.assertEqual(HypercarePeriod.objects.get(pk=period.pk).ends_at, later)
        self.assertIn('ends_at', {c['field'] for c in self.timeline(period, TimelineKind.FIELD_CHANGE).last().changes})

    def test_end_early_and_not_twice(self):
        period = make_period(self.service)
        period = services.period_end(actor=Actor(user=self.owner), period=period, reason='All calm.')
        self.assertEqual(period.state, 'ended')
        self.assertEqual((period.ended_by, period.end_reason), (self.owner, 'All calm.'))
        with self.assertRaises(Conflict):
            services.period_end(actor=Actor(user=self.owner), period=period)
        with self.assertRaises(Conflict):
            services.period_update(actor=Actor.system(), period=period, ends_at=timezone.now() + DAY)

    def test_overlapping_periods_are_refused(self):
        period = make_period(self.service, days=10)
        with self.assertRaises(ValidationError) as refused:
            make_period(self.service, starts_at=timezone.now() + 5 * DAY, ends_at=timezone.now() + 20 * DAY)
        self.assertIn('starts_at', refused.exception.message_dict)
        self.assertEqual(HypercarePeriod.objects.count(), 1)
        # After an early end the time is free again.
        services.period_end(actor=Actor.system(), period=period)
        make_period(self.service, starts_at=timezone.now() + DAY, ends_at=timezone.now() + 2 * DAY)

    def test_ends_before_start_or_in_the_past_are_refused(self):
        now = timezone.now()
        for starts_at, ends_at in ((now + 2 * DAY, now + DAY), (now - 3 * DAY, now - DAY)):
            with self.subTest(ends_at=ends_at), self.assertRaises(ValidationError) as refused:
                make_period(self.service, starts_at=starts_at, ends_at=ends_at)
            self.assertIn('ends_at', refused.exception.message_dict)

    def test_service_owners_manage_only_their_own_services(self):
        stranger = make_user(Role.SERVICE_OWNER)
        with self.assertRaises(NotAllowed):
            make_period(self.service, actor=Actor(user=stranger))
        period = make_period(self.service, actor=Actor(user=make_user(Role.CHANGE_MANAGER)))
        with self.assertRaises(NotAllowed):
            services.period_end(actor=Actor(user=stranger), period=period)
        self.assertIsNone(HypercarePeriod.objects.get(pk=period.pk).ended_at)

    def test_api_refuses_overlap_with_400_naming_the_field(self):
        make_period(self.service)
        client = self.api_client(self.owner)
        data = {'service': self.service.number, 'ends_at': (timezone.now() + 3 * DAY).isoformat()}
        response = client.post(reverse('api:hypercareperiod-list'), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('starts_at', str(response.data))

    def test_api_end_action_and_foreign_service_refused(self):
        period = make_period(self.service)
        url = reverse('api:hypercareperiod-end', args=[period.pk])
        response = self.api_client(make_user(Role.SERVICE_OWNER)).post(url, {}, format='json')
        self.assertHttpStatus(response, 403)
        response = self.api_client(self.owner).post(url, {'reason': 'Stable.'}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], 'ended')
        self.assertHttpStatus(self.api_client(self.owner).post(url, {}, format='json'), 409)

    def test_page_form_shows_the_overlap_error(self):
        make_period(self.service)
        self.client.force_login(self.owner)
        url = reverse('hypercare:hypercareperiod_add')
        data = {'service': self.service.pk, 'ends_at': (timezone.now() + 3 * DAY).strftime('%Y-%m-%dT%H:%M')}
        response = self.client.post(url, data)
        self.assertHttpStatus(response, 200)
        self.assertIn('starts_at', response.context['form'].errors)
        self.assertEqual(HypercarePeriod.objects.count(), 1)

    def test_requesters_see_nothing(self):
        period = make_period(self.service)
        self.client.force_login(make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(period.get_absolute_url()), 403)
        self.assertHttpStatus(self.api_client(make_user()).get(reverse('api:hypercareperiod-list')), 403)


class TaggingTests(ItsmTestCase):
    def setUp(self):
        self.service = service_ci()

    def test_incidents_opened_during_a_period_are_tagged_and_shown(self):
        before = make_ticket(service=self.service)
        period = make_period(self.service)
        during = make_ticket(service=self.service)
        case = make_ticket(kind='case', service=self.service)
        elsewhere = make_ticket(service=service_ci())
        tagged = set(HypercareIncident.objects.values_list('ticket_id', flat=True))
        self.assertEqual(tagged, {during.pk})
        self.assertNotIn(before.pk, tagged)
        self.assertNotIn(case.pk, tagged)
        self.assertNotIn(elsewhere.pk, tagged)
        self.assertTrue(self.timeline(during).filter(message__startswith='Tagged').exists())
        self.client.force_login(make_user(Role.INCIDENT_MANAGER))
        response = load_related(self.client, self.client.get(during.get_absolute_url()))
        self.assertContains(response, 'data-testid="incident-hypercare"')
        self.assertContains(response, period.get_absolute_url())
        response = self.api_client(make_user(Role.INCIDENT_MANAGER)).get(
            reverse('api:hypercareperiod-list'), {'incident': during.number}
        )
        self.assertEqual([row['id'] for row in response.data['results']], [period.pk])

    def test_an_incident_moved_onto_the_service_is_tagged_once(self):
        from incidents import services as ticket_services

        make_period(self.service)
        ticket = make_ticket(service=service_ci())
        actor = Actor(user=make_user(Role.SERVICE_DESK_AGENT))
        ticket = ticket_services.ticket_update(ticket=ticket, actor=actor, service=self.service)
        ticket_services.ticket_update(ticket=ticket, actor=actor, short_description='Still broken')
        self.assertEqual(HypercareIncident.objects.filter(ticket=ticket).count(), 1)


class SweepTests(ItsmTestCase):
    def test_the_sweep_starts_and_ends_periods_once_and_retargets(self):
        service = service_ci()
        usual = make_sla(priority=3, name='Usual')
        hyper = make_sla(priority=3, hypercare=True, name='Hypercare')
        start = timezone.now()
        with frozen(start) as clock:
            period = make_period(service, starts_at=start + DAY, ends_at=start + 3 * DAY)
            ticket = make_ticket(service=service, impact='medium', urgency='normal')

            def sla_now():
                clocks = SlaClock.objects.for_record(ticket).filter(sla__isnull=False, stopped_at__isnull=True)
                return {clock.sla for clock in clocks.select_related('sla')}

            self.assertEqual(sla_now(), {usual})
            clock.advance(days=1, minutes=5)
            self.assertEqual(services.hypercare_sweep(), {'started': 1, 'ended': 0})
            self.assertEqual(services.hypercare_sweep(), {'started': 0, 'ended': 0})
            self.assertEqual(sla_now(), {hyper})
            clock.advance(days=2)
            self.assertEqual(services.hypercare_sweep(), {'started': 0, 'ended': 1})
            self.assertEqual(services.hypercare_sweep(), {'started': 0, 'ended': 0})
            self.assertEqual(sla_now(), {usual})
        period.refresh_from_db()
        self.assertEqual(period.ended_at, period.ends_at)
        self.assertEqual(self.timeline(period).filter(message__startswith='Hypercare ended').count(), 1)


class DailySummaryTests(ItsmTestCase):
    def test_one_summary_per_period_and_day_to_the_service_owner(self):
        owner = make_user(Role.SERVICE_OWNER, email='owner@example.com')
        service = service_ci(service_owner=owner)
        nine = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
        with frozen(nine - dt.timedelta(hours=2)) as clock:
            period = make_period(service, days=10)
            make_ticket(service=service)
            clock.set(nine - 2 * DAY + dt.timedelta(hours=5))
            with self.settings(HYPERCARE_SUMMARY_HOUR=8, TIME_ZONE='UTC'):
                clock.set(nine.replace(hour=7))
                self.assertEqual(services.send_daily_summaries(), 0, 'not before the summary hour')
                clock.set(nine)
                mail.outbox.clear()
                self.assertEqual(services.send_daily_summaries(), 1)
                self.assertEqual(services.send_daily_summaries(), 0, 'once a day')
                self.assertEqual(len(mail.outbox), 1)
                self.assertEqual(mail.outbox[0].to, ['owner@example.com'])
                self.assertIn(service.name, mail.outbox[0].subject)
                self.assertIn('1 incident tagged', mail.outbox[0].body)
                clock.advance(days=1)
                self.assertEqual(services.send_daily_summaries(), 1, 'and again the next day')
        self.assertEqual(HypercareSummary.objects.filter(period=period).count(), 2)


class ServicePageTests(ItsmTestCase):
    def test_the_service_page_shows_its_periods_and_starts_one_for_its_owner(self):
        owner = make_user(Role.SERVICE_OWNER)
        service = service_ci(service_owner=owner)
        period = make_period(service)
        self.client.force_login(owner)
        response = self.client.get(service.get_absolute_url())
        self.assertContains(response, 'data-testid="item-hypercare"')
        self.assertContains(response, period.get_absolute_url())
        start = f'{reverse("hypercare:hypercareperiod_add")}?service={service.number}'
        self.assertContains(response, start)
        form = self.client.get(start).context['form']
        self.assertEqual(form.initial['service'], service)
        self.assertEqual(list(form.fields['service'].queryset), [service], 'an owner picks among their own services')


class TaggedIncidentsAPITests(ItsmTestCase):
    def test_a_periods_tagged_incidents(self):
        service = service_ci()
        period = make_period(service)
        first = make_ticket(service=service)
        second = make_ticket(service=service)
        make_ticket(service=service_ci())
        url = reverse('api:hypercareperiod-incidents', args=[period.pk])
        response = self.api_client(make_user(Role.MANAGER)).get(url)
        self.assertHttpStatus(response, 200)
        self.assertEqual({row['number'] for row in response.data}, {first.number, second.number})
        self.assertHttpStatus(self.api_client(make_user()).get(url), 403)
