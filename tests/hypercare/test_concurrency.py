"""Exactly once on real parallel PostgreSQL connections: overlapping sweeps end each period once (one timeline
entry, one re-target), and overlapping summary runs send one e-mail per period and day."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from hypercare import services
from hypercare.models import HypercarePeriod, HypercareSummary
from itsm.models import TimelineEntry
from tests.concurrency import run_in_parallel
from tests.factories import make_user

from .factories import make_period, service_ci

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_overlapping_sweeps_end_each_period_once():
    periods = [make_period(days=1) for _ in range(3)]
    later = timezone.now() + dt.timedelta(days=2)
    results = run_in_parallel([lambda: services.hypercare_sweep(now=later) for _ in range(4)])
    assert [r for r in results if r[0] == 'error'] == []
    assert sum(r[1]['ended'] for r in results) == 3
    assert HypercarePeriod.objects.filter(ended_at__isnull=True).count() == 0
    for period in periods:
        entries = TimelineEntry.objects.for_object(period).filter(message__startswith='Hypercare ended')
        assert entries.count() == 1


def test_overlapping_summary_runs_send_one_per_period_and_day(settings):
    settings.HYPERCARE_SUMMARY_HOUR = 0
    owner = make_user('service_owner', email='owner@example.com')
    for _ in range(2):
        make_period(service_ci(service_owner=owner))
    mail.outbox.clear()
    results = run_in_parallel([services.send_daily_summaries for _ in range(4)])
    assert [r for r in results if r[0] == 'error'] == []
    assert sum(r[1] for r in results) == 2
    assert HypercareSummary.objects.count() == 2
    assert len(mail.outbox) == 2
