"""Flood candidates on PostgreSQL: incidents created at the same moment on real parallel connections, crossing the
threshold together, make exactly one proposed flood that holds every one of them."""

from __future__ import annotations

import pytest

from incidents import services as ticket_services
from itsm.audit import Actor
from itsm.choices import Role
from major_incidents.choices import CandidateReason, CandidateStatus
from major_incidents.models import MajorIncidentCandidate
from tests.cmdb.factories import make_service
from tests.concurrency import run_in_parallel
from tests.factories import make_ticket, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PARALLEL = 6


def test_parallel_arrivals_over_the_threshold_make_one_flood_holding_all(settings):
    settings.MAJOR_CANDIDATE_FLOOD_COUNT = 3
    settings.MAJOR_CANDIDATE_FLOOD_MINUTES = 10
    service = make_service('Mail').ci
    before = [make_ticket(service=service, short_description='Mail slow') for _ in range(2)]
    callers = [make_user(Role.REQUESTER) for _ in range(PARALLEL)]

    def arrive(caller):
        return ticket_services.ticket_create(
            actor=Actor(user=caller, channel='ui'), caller=caller, short_description='Mail down', service=service
        )

    results = run_in_parallel([lambda c=c: arrive(c) for c in callers])
    assert [r[0] for r in results] == ['ok'] * PARALLEL, results
    floods = MajorIncidentCandidate.objects.filter(reason=CandidateReason.FLOOD)
    assert floods.count() == 1
    flood = floods.get()
    assert flood.status == CandidateStatus.PROPOSED
    expected = {t.pk for t in before} | {r[1].pk for r in results}
    assert set(flood.incidents.values_list('pk', flat=True)) == expected
    assert flood.incident_count == len(expected)


def test_parallel_arrivals_on_a_proposed_flood_all_join_it(settings):
    settings.MAJOR_CANDIDATE_FLOOD_COUNT = 3
    settings.MAJOR_CANDIDATE_FLOOD_MINUTES = 10
    service = make_service('Wiki').ci
    first = [make_ticket(service=service, short_description='Wiki 502') for _ in range(3)]
    callers = [make_user(Role.REQUESTER) for _ in range(PARALLEL)]

    results = run_in_parallel(
        [
            lambda c=c: ticket_services.ticket_create(
                actor=Actor(user=c, channel='ui'), caller=c, short_description='Wiki 502', service=service
            )
            for c in callers
        ]
    )
    assert [r[0] for r in results] == ['ok'] * PARALLEL, results
    flood = MajorIncidentCandidate.objects.get(reason=CandidateReason.FLOOD)
    assert flood.incident_count == len(first) + PARALLEL
    assert flood.incidents.count() == len(first) + PARALLEL
