"""Major-incident candidates: the critical-service rule, the flood rule, what stops them, who is told, dismissing."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from cmdb.choices import CIClass, Criticality
from inbox.models import Notification
from incidents import services as ticket_services
from itsm.audit import Actor
from itsm.choices import Impact, Role, TicketKind, TimelineKind, Urgency
from itsm.errors import Conflict, NotAllowed
from major_incidents import candidates, services
from major_incidents.choices import CandidateReason, CandidateStatus
from major_incidents.models import MajorIncidentCandidate
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_ticket, make_user

SYSTEM = Actor.system()
P0 = {'impact': Impact.SEVERE, 'urgency': Urgency.IMMEDIATE}
P1 = {'impact': Impact.SEVERE, 'urgency': Urgency.CRITICAL}
P2 = {'impact': Impact.HIGH, 'urgency': Urgency.URGENT}


def arrive(*, minutes_ago: float = 0, kind: str = TicketKind.INCIDENT, **fields):
    """An incident opened `minutes_ago` (backdated as monitoring would), through the incident service."""
    caller = fields.pop('caller', None) or make_user(Role.REQUESTER)
    fields.setdefault('short_description', 'Cannot reach the portal')
    return ticket_services.ticket_create(
        actor=SYSTEM,
        kind=kind,
        caller=caller,
        opened_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        route=False,
        **fields,
    )


class CriticalServiceRuleTests(ItsmTestCase):
    def setUp(self):
        self.critical = make_service('Payroll', criticality=Criticality.CRITICAL).ci
        self.medium = make_service('Canteen menu', criticality=Criticality.MEDIUM).ci

    def test_p0_on_a_critical_service_is_a_candidate(self):
        ticket = make_ticket(service=self.critical, short_description='Payroll down', **P0)
        candidate = MajorIncidentCandidate.objects.get(incident=ticket)
        self.assertEqual(candidate.reason, CandidateReason.CRITICAL_SERVICE)
        self.assertEqual(candidate.status, CandidateStatus.PROPOSED)
        self.assertEqual(candidate.service_id, self.critical.pk)
        self.assertEqual(list(candidate.incidents.all()), [ticket])

    def test_p1_on_a_critical_service_is_a_candidate(self):
        ticket = make_ticket(service=self.critical, **P1)
        self.assertEqual(ticket.priority, 1)
        self.assertTrue(MajorIncidentCandidate.objects.filter(incident=ticket).exists())

    def test_p2_on_a_critical_service_is_not(self):
        ticket = make_ticket(service=self.critical, **P2)
        self.assertEqual(ticket.priority, 2)
        self.assertFalse(MajorIncidentCandidate.objects.exists())

    def test_p1_on_a_service_that_is_not_critical_is_not(self):
        make_ticket(service=self.medium, **P0)
        self.assertFalse(MajorIncidentCandidate.objects.exists())

    def test_a_priority_raised_later_makes_it_a_candidate_then(self):
        ticket = make_ticket(service=self.critical, **P2)
        self.assertFalse(MajorIncidentCandidate.objects.exists())
        agent = make_user(Role.SERVICE_DESK_AGENT)
        ticket_services.ticket_update(ticket=ticket, actor=Actor(user=agent), urgency=Urgency.CRITICAL)
        candidate = MajorIncidentCandidate.objects.get(incident=ticket)
        self.assertEqual(candidate.reason, CandidateReason.CRITICAL_SERVICE)
        # A later edit does not propose it twice.
        ticket_services.ticket_update(ticket=ticket, actor=Actor(user=agent), short_description='Payroll is down')
        self.assertEqual(MajorIncidentCandidate.objects.filter(incident=ticket).count(), 1)

    def test_cases_are_ignored(self):
        make_ticket(kind=TicketKind.CASE, service=self.critical, **P0)
        self.assertFalse(MajorIncidentCandidate.objects.exists())

    def test_no_candidate_when_an_open_major_incident_covers_the_service(self):
        services.major_declare(actor=SYSTEM, short_description='Payroll outage', services=[self.critical])
        make_ticket(service=self.critical, **P0)
        self.assertFalse(MajorIncidentCandidate.objects.exists())

    def test_the_candidate_is_on_the_incidents_timeline(self):
        ticket = make_ticket(service=self.critical, **P0)
        messages = list(self.timeline(ticket, TimelineKind.LINK).values_list('message', flat=True))
        self.assertTrue(any('major-incident candidate' in m for m in messages), messages)


class NotificationTests(ItsmTestCase):
    def test_incident_managers_and_only_they_are_told(self):
        manager = make_user(Role.INCIDENT_MANAGER, email='im@example.com')
        make_user(Role.SERVICE_DESK_AGENT, email='agent@example.com')
        make_user(Role.PROBLEM_MANAGER, email='pm@example.com')
        service = make_service(criticality=Criticality.CRITICAL).ci
        with self.captureOnCommitCallbacks(execute=True):
            ticket = make_ticket(service=service, **P0)
        told = [m for m in mail.outbox if 'Major-incident candidate' in m.subject]
        self.assertEqual(len(told), 1, [m.subject for m in mail.outbox])
        self.assertEqual(told[0].to, [manager.email])
        self.assertIn(ticket.number, told[0].subject)
        candidate = MajorIncidentCandidate.objects.get(incident=ticket)
        self.assertIn(candidate.get_absolute_url(), told[0].body)
        inbox = Notification.objects.filter(event=candidates.NOTIFY_EVENT)
        self.assertEqual(list(inbox.values_list('recipient_id', flat=True)), [manager.pk])


@override_settings(MAJOR_CANDIDATE_FLOOD_COUNT=3, MAJOR_CANDIDATE_FLOOD_MINUTES=10)
class FloodRuleTests(ItsmTestCase):
    def setUp(self):
        self.service = make_service('Mail').ci
        self.other = make_service('Wiki').ci

    def floods(self):
        return MajorIncidentCandidate.objects.filter(reason=CandidateReason.FLOOD)

    def test_exactly_n_within_m_minutes_is_a_flood(self):
        first = arrive(service=self.service, minutes_ago=9)
        second = arrive(service=self.service, minutes_ago=5)
        self.assertFalse(self.floods().exists(), 'N-1 incidents are not a flood')
        third = arrive(service=self.service)
        flood = self.floods().get()
        self.assertEqual(flood.scope, f'service:{self.service.pk}')
        self.assertEqual(flood.service_id, self.service.pk)
        self.assertEqual(flood.incident_count, 3)
        self.assertEqual(set(flood.incidents.all()), {first, second, third})
        self.assertEqual(flood.incident, third)

    def test_incidents_spread_over_more_than_m_minutes_are_not(self):
        arrive(service=self.service, minutes_ago=25)
        arrive(service=self.service, minutes_ago=11)
        arrive(service=self.service)
        self.assertFalse(self.floods().exists())

    def test_other_services_do_not_count(self):
        arrive(service=self.service)
        arrive(service=self.other)
        arrive(service=self.service)
        self.assertFalse(self.floods().exists())

    def test_later_arrivals_join_the_proposed_flood(self):
        for _ in range(3):
            arrive(service=self.service)
        late = arrive(service=self.service)
        later = arrive(service=self.service)
        flood = self.floods().get()
        self.assertEqual(flood.incident_count, 5)
        self.assertEqual(flood.incidents.count(), 5)
        self.assertIn(late, flood.incidents.all())
        self.assertEqual(flood.incident, later)

    def test_a_flood_on_one_ci(self):
        server = make_ci(CIClass.SERVER, name='mx1')
        for _ in range(3):
            arrive(ci=server, service=None)
        flood = self.floods().get(scope=f'ci:{server.pk}')
        self.assertEqual(flood.ci_id, server.pk)
        self.assertEqual(flood.incident_count, 3)

    def test_after_a_dismissal_only_new_arrivals_make_a_new_flood(self):
        judged = [arrive(service=self.service) for _ in range(3)]
        manager = make_user(Role.INCIDENT_MANAGER)
        candidates.candidate_dismiss(candidate=self.floods().get(), actor=Actor(user=manager), reason='Known blip')
        fresh = [arrive(service=self.service) for _ in range(2)]
        self.assertFalse(self.floods().filter(status=CandidateStatus.PROPOSED).exists())
        fresh.append(arrive(service=self.service))
        flood = self.floods().get(status=CandidateStatus.PROPOSED)
        self.assertEqual(flood.incident_count, 3)
        self.assertEqual(set(flood.incidents.all()), set(fresh))
        self.assertFalse(set(flood.incidents.all()) & set(judged))

    def test_incidents_in_a_major_incident_do_not_count(self):
        elsewhere = make_service('Intranet').ci
        major = services.major_declare(actor=SYSTEM, short_description='Intranet down', services=[elsewhere])
        linked = [arrive(service=self.service, minutes_ago=2) for _ in range(2)]
        services.major_link_children(major=major, actor=SYSTEM, incidents=linked)
        arrive(service=self.service)
        arrive(service=self.service)
        self.assertFalse(self.floods().exists())

    def test_no_flood_when_an_open_major_incident_covers_the_service(self):
        services.major_declare(actor=SYSTEM, short_description='Mail outage', services=[self.service])
        for _ in range(4):
            arrive(service=self.service)
        self.assertFalse(MajorIncidentCandidate.objects.exists())

    def test_cases_are_ignored(self):
        for _ in range(3):
            arrive(service=self.service, kind=TicketKind.CASE)
        self.assertFalse(self.floods().exists())

    def test_the_cost_per_incident_is_small_and_constant(self):
        for _ in range(2):
            arrive(service=self.other)
        quiet = arrive(service=self.service)
        costs = []
        for many in (1, 6):
            for _ in range(many):
                arrive(service=self.other, minutes_ago=30)
            costs.append(self.count_queries(lambda: candidates.on_incident_created(quiet, actor=SYSTEM)))
        self.assertEqual(costs[0], costs[1])
        # The open major incidents on the scope, the proposed floods on it, one count of recent arrivals.
        self.assertEqual(costs[0], 3)

    def test_nothing_is_read_for_an_incident_without_service_or_ci(self):
        ticket = arrive(service=None)
        self.assertEqual(self.count_queries(lambda: candidates.on_incident_created(ticket, actor=SYSTEM)), 0)


class DismissTests(ItsmTestCase):
    def setUp(self):
        service = make_service(criticality=Criticality.CRITICAL).ci
        self.ticket = make_ticket(service=service, **P0)
        self.candidate = MajorIncidentCandidate.objects.get(incident=self.ticket)
        self.manager = make_user(Role.INCIDENT_MANAGER)

    def test_an_incident_manager_dismisses_with_a_reason(self):
        dismissed = candidates.candidate_dismiss(
            candidate=self.candidate, actor=Actor(user=self.manager), reason='One user, not an outage'
        )
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, CandidateStatus.DISMISSED)
        self.assertEqual(self.candidate.decided_by, self.manager)
        self.assertIsNotNone(self.candidate.decided_at)
        self.assertEqual(dismissed.dismiss_reason, 'One user, not an outage')
        messages = list(self.timeline(self.ticket).values_list('message', flat=True))
        self.assertTrue(any('dismissed: One user, not an outage' in m for m in messages), messages)

    def test_a_reason_is_required(self):
        with self.assertRaises(ValidationError) as caught:
            candidates.candidate_dismiss(candidate=self.candidate, actor=Actor(user=self.manager), reason='  ')
        self.assertIn('reason', caught.exception.message_dict)

    def test_only_incident_managers(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        with self.assertRaises(NotAllowed):
            candidates.candidate_dismiss(candidate=self.candidate, actor=Actor(user=agent), reason='No')
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, CandidateStatus.PROPOSED)

    def test_only_a_proposed_candidate(self):
        candidates.candidate_dismiss(candidate=self.candidate, actor=Actor(user=self.manager), reason='No')
        with self.assertRaises(Conflict) as caught:
            candidates.candidate_dismiss(candidate=self.candidate, actor=Actor(user=self.manager), reason='Again')
        self.assertEqual(caught.exception.status_code, 409)
