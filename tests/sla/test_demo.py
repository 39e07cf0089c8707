"""The demo service levels load, cover every kind and priority, and load again without duplicates."""

import pytest
from django.core.management import call_command

from incidents.models import Ticket
from sla.choices import ClockKind
from sla.models import BusinessCalendar, OperationalLevelAgreement, ServiceLevelAgreement, SlaClock
from sla.selectors import sla_for


@pytest.mark.django_db
def test_demo_service_levels_load_idempotently_and_apply_to_the_demo_tickets():
    call_command('load_demo_data')
    models = (BusinessCalendar, ServiceLevelAgreement, OperationalLevelAgreement, SlaClock)
    counts = [m.objects.count() for m in models]
    call_command('load_demo_data')
    assert [m.objects.count() for m in models] == counts
    for kind in ('incident', 'case'):
        for priority in range(5):
            agreement = sla_for(kind=kind, priority=priority, service_id=None)
            assert agreement is not None, (kind, priority)
            assert agreement.calendar.name == ('24x7' if priority <= 1 else 'Office hours (Berlin)')
    office = BusinessCalendar.objects.get(name='Office hours (Berlin)')
    assert (office.timezone, office.holiday_country) == ('Europe/Berlin', 'DE')
    email = ServiceLevelAgreement.objects.filter(service__name='E-mail services')
    # Its own P1 and P3 SLAs, and the tighter ones of its hypercare (hypercare/demo.py).
    assert (email.filter(hypercare=False).count(), email.filter(hypercare=True).count()) == (2, 3)
    open_tickets = Ticket.objects.filter(state__in=['new', 'assigned', 'accepted', 'pending'])
    assert open_tickets.exists()
    for ticket in open_tickets:
        kinds = set(ticket.sla_clocks.values_list('kind', flat=True))
        assert {ClockKind.RESPONSE, ClockKind.RESOLUTION} <= kinds, ticket
