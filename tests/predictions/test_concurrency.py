"""One prediction per ticket on real parallel PostgreSQL connections: refreshes of a ticket racing each other and
the hourly refresh of every open ticket leave one row each, and none of them fails."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import Ticket
from itsm.choices import Role
from predictions import services
from predictions.models import Prediction
from tests.concurrency import run_in_parallel
from tests.factories import SupportGroupFactory, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_parallel_refreshes_keep_one_prediction_per_ticket():
    requester = make_user(Role.REQUESTER)
    group = SupportGroupFactory(name='Service desk')
    now = timezone.now()

    def ticket(state: str, hours: float = 0) -> Ticket:
        made = Ticket(
            short_description='Printer jammed',
            caller=requester,
            assignment_group=group,
            state=state,
            opened_at=now - dt.timedelta(hours=hours + 1),
            completed_at=now - dt.timedelta(hours=1) if state == 'completed' else None,
        )
        made.save()
        return made

    for hours in range(1, 6):
        ticket('completed', hours)
    open_tickets = [ticket('accepted') for _ in range(4)]
    services.profiles_rebuild()
    refreshes = [(lambda pk=t.pk: services.prediction_refresh(ticket_id=pk)) for t in open_tickets for _ in range(3)]
    sweeps = [services.predictions_refresh_all for _ in range(3)]
    results = run_in_parallel(refreshes + sweeps)
    assert [r for r in results if r[0] == 'error'] == []
    assert sorted(Prediction.objects.values_list('ticket_id', flat=True)) == sorted(t.pk for t in open_tickets)
    assert set(Prediction.objects.values_list('samples', flat=True)) == {5}
