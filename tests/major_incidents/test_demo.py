"""The major-incident demo data loads through the services, hangs together and loads again without duplicates."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from cmdb.models import Service
from major_incidents import review as reviews
from major_incidents.choices import MajorIncidentState, UpdateAudience
from major_incidents.demo import ACTIVE, CLOSED, PUBLIC_SERVICES
from major_incidents.models import ActionItem, MajorIncident, MajorIncidentChild, MajorIncidentUpdate, Validation


@pytest.mark.django_db
def test_demo_major_incidents_load_idempotently():
    call_command('load_demo_data')
    counts = [m.objects.count() for m in (MajorIncident, MajorIncidentChild, MajorIncidentUpdate, ActionItem)]
    call_command('load_demo_data')
    assert [m.objects.count() for m in (MajorIncident, MajorIncidentChild, MajorIncidentUpdate, ActionItem)] == counts

    public = set(Service.objects.filter(public=True).values_list('ci__name', flat=True))
    assert {name for name, *_ in PUBLIC_SERVICES} <= public
    assert Service.objects.get(ci__name='E-mail services').public_name == 'E-mail'

    closed = MajorIncident.objects.get(short_description=CLOSED['short_description'])
    assert closed.state == MajorIncidentState.CLOSED
    assert closed.declared_at < timezone.now() - dt.timedelta(days=30) < closed.closed_at + dt.timedelta(days=30)
    assert set(Validation.objects.filter(major_incident=closed).values_list('role', flat=True)) == {
        'service_owner',
        'business_owner',
    }
    review = closed.review
    assert review.root_cause and review.problem is not None
    items = list(review.action_items.all())
    assert sum(1 for i in items if i.done_at) == 1
    assert sum(1 for i in items if reviews.is_overdue(i)) == 1

    active = MajorIncident.objects.get(short_description=ACTIVE['short_description'])
    assert active.is_open and active.priority == 1
    assert active.services.filter(service_details__public=True).exists()
    assert active.child_links.count() == len(ACTIVE['incidents'])
    assert active.tech_lead and active.communications_lead
    audiences = list(active.updates.values_list('audience', flat=True))
    assert audiences.count(UpdateAudience.PUBLIC) == 2
    assert audiences.count(UpdateAudience.RECIPIENTS) == 1
