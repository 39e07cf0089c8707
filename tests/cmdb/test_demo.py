"""The CMDB demo estate loads, hangs together and loads again without duplicates."""

import pytest
from django.core.management import call_command

from cmdb.choices import CIClass, ImpactDirection
from cmdb.demo import SERVICES
from cmdb.models import ConfigurationItem, RaciAssignment, Relationship, Service
from cmdb.selectors import ci_impact, services_impacted_by


@pytest.mark.django_db
def test_demo_estate_loads_idempotently_and_hangs_together():
    call_command('load_demo_data')
    counts = [m.objects.count() for m in (ConfigurationItem, Service, Relationship, RaciAssignment)]
    call_command('load_demo_data')
    assert [m.objects.count() for m in (ConfigurationItem, Service, Relationship, RaciAssignment)] == counts
    catalogue = {
        'Desktop PC',
        'Virus protection',
        'Managed mail',
        'E-mail services',
        'Backups',
        'Server systems',
        'LAN',
        'WAN',
        'VPN',
        'Distributed file systems',
    }
    assert catalogue <= set(Service.objects.values_list('ci__name', flat=True))
    assert Service.objects.count() == len(SERVICES)
    classes = set(ConfigurationItem.objects.values_list('ci_class', flat=True))
    assert classes == set(CIClass.values)
    # Every service has exactly one A per activity it assigns.
    for service in Service.objects.all():
        activities = set(service.raci.values_list('activity', flat=True))
        assert activities, f'{service} has no RACI matrix'
        for activity in activities:
            assert service.raci.filter(activity=activity, role='A').count() == 1
    # "What breaks if the data-centre router fails" reaches the mail service and the service desk.
    router = ConfigurationItem.objects.get(name='rtr-fra-01')
    names = {item.name for item in services_impacted_by(router)}
    assert {'Managed mail', 'E-mail services', 'Incident management', 'LAN'} <= names
    assert 'WAN' not in names  # the router depends on the WAN, not the other way round
    upstream = {
        item.name
        for item in ci_impact(
            ConfigurationItem.objects.get(name='E-mail services'), direction=ImpactDirection.UPSTREAM, depth=8
        )
    }
    assert {'Microsoft Exchange', 'vm-mail-01', 'esx-fra-01', 'LAN 2 – Data centre'} <= upstream
