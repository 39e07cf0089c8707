"""A hypercare SLA takes precedence while the service is in hypercare: over the service's own SLA and the default;
outside the period the usual one applies; a hypercare default applies to any service in hypercare."""

import datetime as dt

from django.utils import timezone

from hypercare import services
from itsm.audit import Actor
from sla.models import SlaClock
from sla.selectors import sla_for
from tests.base import ItsmTestCase
from tests.factories import make_ticket
from tests.sla.factories import make_sla

from .factories import make_period, service_ci


class PrecedenceTests(ItsmTestCase):
    def setUp(self):
        self.service = service_ci()
        self.other = service_ci()
        self.default = make_sla(priority=3, name='Default P3')
        self.own = make_sla(priority=3, service=self.service, name='Own P3')
        self.hypercare_own = make_sla(priority=3, service=self.service, hypercare=True, name='Hypercare own P3')
        self.hypercare_default = make_sla(priority=3, hypercare=True, name='Hypercare default P3')

    def applies(self, service):
        return sla_for(kind='incident', priority=3, service_id=service.pk)

    def test_outside_hypercare_the_usual_sla_applies(self):
        self.assertEqual(self.applies(self.service), self.own)
        self.assertEqual(self.applies(self.other), self.default)

    def test_the_services_hypercare_sla_beats_its_own_and_the_default(self):
        make_period(self.service)
        self.assertEqual(self.applies(self.service), self.hypercare_own)
        self.assertEqual(self.applies(self.other), self.default, 'another service keeps its usual SLA')

    def test_the_hypercare_default_applies_to_any_service_in_hypercare(self):
        make_period(self.other)
        self.assertEqual(self.applies(self.other), self.hypercare_default)

    def test_before_and_after_the_period_the_usual_sla_applies(self):
        now = timezone.now()
        make_period(self.service, starts_at=now + dt.timedelta(days=1), ends_at=now + dt.timedelta(days=3))
        self.assertEqual(self.applies(self.service), self.own, 'a scheduled period is not hypercare yet')
        ended = make_period(self.other)
        services.period_end(actor=Actor.system(), period=ended)
        self.assertEqual(self.applies(self.other), self.default, 'an ended period is not hypercare any more')

    def test_the_check_costs_one_query(self):
        make_period(self.service)
        self.applies(self.service)  # the SLAs are read once and kept (itsm.snapshots)
        self.assertEqual(self.count_queries(lambda: self.applies(self.service)), 1)  # then only the check

    def test_open_incidents_are_retargeted_when_a_period_starts_and_ends(self):
        ticket = make_ticket(service=self.service, impact='medium', urgency='normal')
        ticket.refresh_from_db()
        self.assertEqual(ticket.priority, 3, 'the test expects a P3 incident')
        clock = SlaClock.objects.for_record(ticket).filter(sla__isnull=False).first()
        self.assertEqual(clock.sla, self.own)
        period = make_period(self.service)
        clock = SlaClock.objects.for_record(ticket).filter(sla__isnull=False, stopped_at__isnull=True).first()
        self.assertEqual(clock.sla, self.hypercare_own)
        services.period_end(actor=Actor.system(), period=period)
        clock = SlaClock.objects.for_record(ticket).filter(sla__isnull=False, stopped_at__isnull=True).first()
        self.assertEqual(clock.sla, self.own)
