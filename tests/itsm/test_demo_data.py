import pytest
from django.core.management import call_command

from itsm.demo import DEMO_LOGINS
from itsm.models import SupportGroup, TimelineEntry, User


@pytest.mark.django_db
def test_demo_data_loads_and_a_second_run_duplicates_nothing():
    call_command('load_demo_data')
    counts = (User.objects.count(), SupportGroup.objects.count(), TimelineEntry.objects.count())
    call_command('load_demo_data')
    assert (User.objects.count(), SupportGroup.objects.count(), TimelineEntry.objects.count()) == counts
    for username, password, _ in DEMO_LOGINS:
        assert User.objects.get(username=username).check_password(password)
    assert SupportGroup.objects.get(name='Service Desk').escalation_group.name == 'Desktop Support'
