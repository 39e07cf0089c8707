"""`/api/v1/slas/`, `/olas/`, `/calendars/`, `/underpinning-contracts/`, the read-only clock endpoints, and the
`sla` list every ticket response carries, with the `sla_breached` and `sla_at_risk` ticket filters."""

import datetime as dt
import itertools

from django.urls import reverse

from incidents import services as tickets
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from sla import services
from sla.choices import ClockKind
from sla.models import (
    BusinessCalendar,
    ClockEvent,
    ClockPause,
    OperationalLevelAgreement,
    ServiceLevelAgreement,
    SlaClock,
    UnderpinningContract,
)
from tests.base import APITestCases, ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket, make_user
from tests.sla.factories import SYSTEM, always, berlin, frozen, make_calendar, make_ola, make_sla

_numbers = itertools.count(1)


class ServiceLevelAgreementAPITests(APITestCases.ModelAPITestCase):
    model = ServiceLevelAgreement
    basename = 'servicelevelagreement'
    write_roles = (Role.INCIDENT_MANAGER,)
    update_data = {'resolution_minutes': 600, 'warning_percents': [50, 80]}
    read_only_fields = {'created_at': '2000-01-01T00:00:00Z'}

    def make_object(self, **kwargs):
        service = make_ci('service', name=f'Service {next(_numbers)}')
        return make_sla(priority=2, service=service, **kwargs)

    def create_data(self):
        return {
            'name': 'P2 incidents',
            'ticket_kind': 'incident',
            'priority': 'P2',
            'response_minutes': 120,
            'resolution_minutes': 960,
            'calendar': (BusinessCalendar.objects.filter(name='Office').first() or make_calendar()).name,
        }

    def filter_cases(self):
        mail = make_ci('service', name='Managed mail')
        default_p1 = make_sla(priority=1)
        case_p1 = make_sla(kind='case', priority=1)
        mail_p1 = make_sla(priority=1, service=mail, calendar=make_calendar('Mail hours'))
        return [
            ({'ticket_kind': 'case'}, [case_p1]),
            ({'service': mail.number}, [mail_p1]),
            ({'default': 'true'}, [default_p1, case_p1]),
            ({'calendar': 'mail hours'}, [mail_p1]),
            ({'priority': '1'}, [default_p1, case_p1, mail_p1]),
        ]

    def test_shape_and_defaults(self):
        response = self.api_client(self.writer()).post(
            self.list_url(),
            {
                'name': 'P0 incidents',
                'ticket_kind': 'incident',
                'priority': 0,
                'response_minutes': 15,
                'resolution_minutes': 240,
            },
            format='json',
        )
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['calendar'], '24x7')
        self.assertEqual(response.data['service'], None)
        self.assertEqual((response.data['warning_percents'], response.data['pause_states']), ([75, 90], ['pending']))

    def test_a_second_active_sla_for_the_same_scope_is_refused(self):
        make_sla(priority=2, name='Existing')
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('already covers', str(response.data))

    def test_targets_and_warnings_are_checked(self):
        client = self.api_client(self.writer())
        for bad in (
            {'response_minutes': 0},
            {'warning_percents': [120]},
            {'response_minutes': 2000},
            {'pause_states': ['closed']},
            {'calendar': 'nope'},
        ):
            with self.subTest(bad=bad):
                response = client.post(self.list_url(), {**self.create_data(), **bad}, format='json')
                self.assertHttpStatus(response, 400)


class OperationalLevelAgreementAPITests(APITestCases.ModelAPITestCase):
    model = OperationalLevelAgreement
    basename = 'operationallevelagreement'
    update_data = {'accept_minutes': 45}

    def make_object(self, **kwargs):
        return make_ola(SupportGroupFactory(), **kwargs)

    def create_data(self):
        group = SupportGroupFactory(name='Network Operations')
        return {'name': 'Network', 'group': group.name, 'accept_minutes': 30, 'resolve_minutes': 240}

    def filter_cases(self):
        group = SupportGroupFactory(name='Desk')
        every, urgent = make_ola(group), make_ola(group, priority=1, calendar=make_calendar())
        other = make_ola(SupportGroupFactory())
        return [
            ({'group': str(group.pk)}, [every, urgent]),
            ({'priority': '1'}, [urgent]),
            ({'q': other.name}, [other]),
        ]

    def test_priority_is_optional(self):
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual((response.data['priority'], response.data['group']), (None, 'Network Operations'))


class BusinessCalendarAPITests(APITestCases.ModelAPITestCase):
    model = BusinessCalendar
    basename = 'businesscalendar'
    update_data = {'custom_holidays': ['2026-08-14'], 'description': 'Paris office'}
    read_only_fields = {'builtin': True}

    def make_object(self, **kwargs):
        return make_calendar(name=f'Calendar {next(_numbers)}', **kwargs)

    def create_data(self):
        return {
            'name': 'Paris office',
            'timezone': 'Europe/Paris',
            'hours': {'mon': ['09:00-12:00', '13:00-17:00'], 'fri': ['09:00-15:00']},
            'holiday_country': 'fr',
            'custom_holidays': ['2026-08-14', {'date': '2026-12-24', 'name': 'Christmas Eve'}],
        }

    def filter_cases(self):
        german = make_calendar('German')
        return [({'holiday_country': 'DE'}, [german]), ({'builtin': 'true'}, [always()])]

    def test_hours_and_holidays_are_normalised(self):
        response = self.api_client(self.writer()).post(self.list_url(), self.create_data(), format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['holiday_country'], 'FR')
        self.assertEqual(response.data['hours'], {'mon': ['09:00-12:00', '13:00-17:00'], 'fri': ['09:00-15:00']})
        self.assertEqual(response.data['custom_holidays'][1], {'date': '2026-12-24', 'name': 'Christmas Eve'})

    def test_invalid_calendars_are_refused(self):
        client = self.api_client(self.writer())
        for bad in (
            {'timezone': 'Europe/Atlantis'},
            {'hours': {'mon': ['17:00-09:00']}},
            {'hours': {}},
            {'holiday_country': 'ZZ'},
            {'custom_holidays': ['24.12.2026']},
            # Shapes that are neither a date nor a {date, name} object (a 500 before they were named).
            {'custom_holidays': [[None, None]]},
            {'custom_holidays': [None]},
            {'custom_holidays': [20261224]},
            {'custom_holidays': [{'date': None}]},
            {'custom_holidays': None},
        ):
            with self.subTest(bad=bad):
                response = client.post(self.list_url(), {**self.create_data(), **bad}, format='json')
                self.assertHttpStatus(response, 400)
                self.assertIn(next(iter(bad)), response.json())

    def test_the_builtin_calendar_can_be_neither_changed_nor_deleted(self):
        client, builtin = self.api_client(self.writer()), always()
        response = client.patch(self.detail_url(builtin), {'hours': {'mon': ['09:00-17:00']}}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertHttpStatus(client.delete(self.detail_url(builtin)), 409)

    def test_a_calendar_in_use_cannot_be_deleted(self):
        calendar = make_calendar('In use')
        make_sla(calendar=calendar)
        response = self.api_client(self.writer()).delete(self.detail_url(calendar))
        self.assertHttpStatus(response, 409)


class UnderpinningContractAPITests(APITestCases.ModelAPITestCase):
    model = UnderpinningContract
    basename = 'underpinningcontract'
    update_data = {'resolution_minutes': 2880, 'reference': 'NW-2'}

    def make_object(self, **kwargs):
        return services.contract_create(
            actor=SYSTEM,
            name=f'Maintenance {next(_numbers)}',
            supplier='Northwind',
            response_minutes=240,
            resolution_minutes=1440,
            calendar=always(),
            **kwargs,
        )

    def create_data(self):
        return {
            'name': 'WAN circuits',
            'supplier': 'Contoso Networks',
            'service': make_ci('service', name='WAN').number,
            'response_minutes': 30,
            'resolution_minutes': 240,
            'valid_from': '2026-01-01',
            'valid_until': '2027-12-31',
        }

    def filter_cases(self):
        current = self.make_object(valid_until=dt.date(2099, 1, 1))
        expired = self.make_object(valid_until=dt.date(2001, 1, 1))
        return [({'in_force': 'true'}, [current]), ({'in_force': 'false'}, [expired])]

    def test_a_contract_cannot_end_before_it_starts(self):
        data = {**self.create_data(), 'valid_until': '2025-01-01'}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('valid_until', response.data)


# --------------------------------------------------------------------------------- read-only clock endpoints
def ticket_with_history():
    """A ticket whose response clock breached (accepted two hours late) and whose resolution clock is paused."""
    if not ServiceLevelAgreement.objects.filter(ticket_kind='incident', priority=3, service=None).exists():
        make_sla(priority=3, response=60, resolution=480)
    group, agent = make_group_with_agent(name=f'Group {next(_numbers)}')
    with frozen(berlin(2026, 3, 2, 9)) as clock:
        ticket = make_ticket(state='assigned', group=group, agent=agent)
        clock.advance(hours=2)
        tickets.ticket_accept(ticket=ticket, actor=Actor(user=agent))
        tickets.ticket_pend(ticket=ticket, actor=Actor(user=agent), reason='customer')
    return ticket


class SlaClockAPITests(APITestCases.ReadOnlyCollection, APITestCases.ModelAPITestCase):
    model = SlaClock
    basename = 'slaclock'
    supports_delete = False

    def make_object(self, **kwargs):
        return SlaClock.objects.filter(ticket=ticket_with_history()).first()

    def filter_cases(self):
        ticket = ticket_with_history()
        clocks = {c.kind: c for c in ticket.sla_clocks.all()}
        return [
            ({'ticket': ticket.number.lower(), 'breached': 'true'}, [clocks[ClockKind.RESPONSE]]),
            ({'ticket': ticket.number, 'state': 'paused'}, [clocks[ClockKind.RESOLUTION]]),
            ({'ticket': ticket.number, 'open': 'false'}, [clocks[ClockKind.RESPONSE]]),
        ]

    def test_a_clock_shows_its_agreement_and_counters(self):
        clock = SlaClock.objects.get(ticket=ticket_with_history(), kind=ClockKind.RESOLUTION)
        data = self.api_client(self.viewer()).get(self.detail_url(clock)).data
        self.assertEqual((data['state'], data['breached'], data['calendar']), ('paused', False, '24x7'))
        self.assertEqual(data['elapsed_business_seconds'], 2 * 3600)
        self.assertEqual(data['remaining_business_seconds'], 6 * 3600)


class ClockEventAPITests(APITestCases.ReadOnlyCollection, APITestCases.ModelAPITestCase):
    model = ClockEvent
    basename = 'clockevent'
    supports_delete = False

    def make_object(self, **kwargs):
        return ClockEvent.objects.filter(clock__ticket=ticket_with_history()).get()

    def filter_cases(self):
        event = self.make_object()
        return [({'kind': 'breach', 'ticket': event.clock.record.number}, [event]), ({'kind': 'warning'}, [])]


class ClockPauseAPITests(APITestCases.ReadOnlyCollection, APITestCases.ModelAPITestCase):
    model = ClockPause
    basename = 'clockpause'
    supports_delete = False

    def make_object(self, **kwargs):
        return ClockPause.objects.filter(clock__ticket=ticket_with_history()).get()

    def filter_cases(self):
        pause = self.make_object()
        return [({'ticket': pause.clock.record.number, 'open': 'true'}, [pause])]


# ------------------------------------------------------------------------------------------- tickets' `sla`
class TicketSlaFieldTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.sla = make_sla(priority=3, response=60, resolution=480)
        cls.group, cls.agent = make_group_with_agent(name='Service Desk')
        make_ola(cls.group, accept=300, resolve=600)

    def url(self, ticket=None):
        return reverse('api:incident-detail', args=[ticket.number]) if ticket else reverse('api:incident-list')

    def test_every_ticket_response_carries_its_clocks(self):
        with frozen(berlin(2026, 3, 2, 9)) as clock:
            ticket = make_ticket(state='assigned', group=self.group, agent=self.agent)
            clock.advance(minutes=90)
            response = self.api_client(self.agent).get(self.url(ticket))
        self.assertHttpStatus(response, 200)
        by_kind = {c['kind']: c for c in response.data['sla']}
        self.assertEqual(set(by_kind), {'response', 'resolution', 'ola_accept', 'ola_resolve'})
        self.assertTrue(
            {'name', 'kind', 'target_minutes', 'started_at', 'due_at', 'state', 'elapsed_business_seconds', 'breached'}
            <= set(by_kind['response'])
        )
        self.assertEqual(by_kind['response']['name'], 'Response · P3 incidents')
        self.assertEqual(by_kind['response']['target_minutes'], 60)
        self.assertEqual(by_kind['response']['elapsed_business_seconds'], 5400)
        self.assertEqual(by_kind['response']['due_at'], '2026-03-02T09:00:00Z')
        self.assertEqual((by_kind['response']['state'], by_kind['response']['breached']), ('running', False))
        self.assertEqual(by_kind['ola_accept']['group'], 'Service Desk')

    def test_an_action_answers_with_the_updated_clocks(self):
        ticket = make_ticket(state='assigned', group=self.group, agent=self.agent)
        response = self.api_client(self.agent).post(reverse('api:incident-accept', args=[ticket.number]))
        self.assertHttpStatus(response, 200)
        states = {c['kind']: c['state'] for c in response.data['sla']}
        self.assertEqual((states['response'], states['ola_accept'], states['resolution']), ('met', 'met', 'running'))

    def test_tickets_without_an_agreement_have_an_empty_list(self):
        response = self.api_client(self.agent).post(
            reverse('api:case-list'), {'short_description': 'Question'}, format='json'
        )
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['sla'], [])

    def test_the_list_costs_the_same_queries_however_many_clocks(self):
        client = self.api_client(self.agent)
        for _ in range(2):
            make_ticket(state='accepted', group=self.group, agent=self.agent)
        client.get(self.url())
        small = self.count_queries(lambda: self.assertHttpStatus(client.get(self.url()), 200))
        for _ in range(6):
            make_ticket(state='pending', group=self.group, agent=self.agent)
        large = self.count_queries(lambda: self.assertHttpStatus(client.get(self.url()), 200))
        self.assertEqual(small, large)

    def test_lists_filter_on_breached_and_at_risk(self):
        with frozen(berlin(2026, 3, 2, 9)) as clock:
            breached = make_ticket(state='assigned', group=self.group, agent=self.agent)
            clock.advance(minutes=50)
            at_risk = make_ticket(state='assigned', group=self.group, agent=self.agent)
            clock.advance(minutes=50)  # at risk: 50 of 60 minutes used
            calm = make_ticket(state='new')
            services.sla_sweep()
            client = self.api_client(self.agent)

            def numbers(**params):
                response = client.get(self.url(), params)
                self.assertHttpStatus(response, 200)
                return {row['number'] for row in response.data['results']}

            self.assertEqual(numbers(sla_breached='true'), {breached.number})
            self.assertEqual(numbers(sla_at_risk='true'), {at_risk.number})
            self.assertEqual(numbers(sla_breached='false'), {at_risk.number, calm.number})
            self.assertEqual(numbers(sla_at_risk='false', sla_breached='false'), {calm.number})
        entry = breached.sla_clocks.get(kind='response')
        self.assertTrue(entry.breached)
        self.assertEqual(self.timeline(breached, TimelineKind.SLA_BREACH).count(), 1)

    def test_requesters_see_the_clocks_of_their_own_tickets(self):
        caller = make_user(Role.REQUESTER)
        ticket = make_ticket(caller=caller)
        response = self.api_client(caller).get(self.url(ticket))
        self.assertHttpStatus(response, 200)
        self.assertEqual(len(response.data['sla']), 2)
