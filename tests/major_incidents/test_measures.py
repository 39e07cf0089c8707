"""Major-incident measures: per period, time to declare and to restore, updates on time, action items overdue; in
the metrics API and on the dashboard."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from itsm.choices import Role
from major_incidents import measures
from major_incidents import review as reviews
from major_incidents.choices import MajorIncidentState as S
from major_incidents.choices import UpdateAudience
from major_incidents.models import ActionItem, MajorIncident, MajorIncidentUpdate, PostIncidentReview
from reports.choices import Interval
from reports.slices import Slice
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_service
from tests.factories import make_user

UTC = dt.UTC


def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def march(**kwargs) -> Slice:
    return Slice(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), interval=Interval.WEEK, **kwargs)


def major(started, declared, *, restored=None, state=S.REVIEW, priority=1, **fields) -> MajorIncident:
    return MajorIncident.objects.create(
        short_description='Outage',
        outage_started_at=started,
        declared_at=declared,
        opened_at=declared,
        restored_at=restored,
        state=state,
        priority=priority,
        **fields,
    )


def update(record, posted_at, *, on_time=True, audience=UpdateAudience.PUBLIC):
    return MajorIncidentUpdate.objects.create(
        major_incident=record, audience=audience, body='Still down', posted_at=posted_at, on_time=on_time
    )


class MeasureTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.mail = make_service('Mail').ci
        # Declared 20 and 40 minutes into the outage, restored after 2 and 4 hours.
        cls.first = major(at(2, 9), at(2, 9, 20), restored=at(2, 11), priority=0)
        cls.first.services.set([cls.mail])
        cls.second = major(at(10, 8), at(10, 8, 40), restored=at(10, 12))
        cls.cancelled = major(at(12, 8), at(12, 8, 5), state=S.CANCELLED)
        cls.february = major(at(1, 0) - dt.timedelta(days=3), at(1, 0) - dt.timedelta(days=3))
        update(cls.first, at(2, 9, 30))
        update(cls.first, at(2, 10, 45), on_time=False, audience=UpdateAudience.RECIPIENTS)
        update(cls.second, at(10, 9))
        update(cls.second, at(10, 10), audience=UpdateAudience.INTERNAL, on_time=False)

    def test_major_incidents_per_period(self):
        figures = measures.major_incident_count(march())
        self.assertEqual(figures['count'], 2)
        self.assertEqual(figures['by_priority'], {'0': 1, '1': 1})
        by_week = {row['period']: row['count'] for row in figures['series']}
        self.assertEqual(by_week['2026-03-02'], 1)
        self.assertEqual(by_week['2026-03-09'], 1)
        self.assertEqual(sum(by_week.values()), 2)

    def test_mean_time_to_declare(self):
        figures = measures.time_to_declare(march())
        self.assertEqual(figures['count'], 2)
        self.assertEqual(figures['mean_minutes'], 30.0)

    def test_mean_time_to_restore(self):
        figures = measures.time_to_restore(march())
        self.assertEqual(figures['count'], 2)
        self.assertEqual(figures['mean_hours'], 3.0)
        self.assertEqual(figures['median_hours'], 3.0)

    def test_updates_on_time_count_recipient_and_public_updates(self):
        figures = measures.updates_on_time(march())
        self.assertEqual((figures['updates'], figures['on_time'], figures['late']), (3, 2, 1))
        self.assertEqual(figures['percent'], 66.7)

    def test_filters_by_priority_and_service(self):
        self.assertEqual(measures.major_incident_count(march(priorities=(0,)))['count'], 1)
        self.assertEqual(measures.time_to_restore(march(service=self.mail.pk))['mean_hours'], 2.0)
        self.assertEqual(measures.updates_on_time(march(service=self.mail.pk))['updates'], 2)

    def test_action_items_overdue(self):
        manager = make_user(Role.INCIDENT_MANAGER)
        owner = make_user(Role.L2_ENGINEER)
        review = PostIncidentReview.objects.create(major_incident=self.first, outage_started_at=at(2, 9))
        today = reviews.today()
        ActionItem.objects.create(review=review, description='Late', owner=owner, due_date=today - dt.timedelta(1))
        ActionItem.objects.create(review=review, description='Due today', owner=owner, due_date=today)
        done = ActionItem.objects.create(review=review, description='Done', owner=owner, due_date=today)
        done.done_at = timezone.now()
        done.done_by = manager
        done.save()
        figures = measures.action_items_overdue(march())
        self.assertEqual((figures['open'], figures['overdue']), (2, 1))


class MetricsAPITests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        major(at(2, 9), at(2, 9, 20), restored=at(2, 11))

    def call(self, slug, user, params=None):
        client = self.api_client(user)
        return client.get(f'/api/v1/metrics/{slug}/', {'from': '2026-03-01', 'to': '2026-03-31', **(params or {})})

    def test_served_with_their_definitions(self):
        manager = make_user(Role.MANAGER)
        for slug in measures.MEASURES:
            response = self.call(slug, manager)
            self.assertHttpStatus(response, 200)
            self.assertEqual(response.data['definition'], measures.MEASURES[slug].definition)
        response = self.call('major_time_to_restore', manager)
        self.assertEqual(response.data['mean_hours'], 2.0)
        listing = self.api_client(manager).get('/api/v1/metrics/')
        self.assertLessEqual(set(measures.MEASURES), {row['measure'] for row in listing.data['measures']})

    def test_requesters_are_refused_and_unknown_filters_are_400(self):
        self.assertHttpStatus(self.call('major_incidents', make_user()), 403)
        self.assertHttpStatus(self.call('major_incidents', make_user(Role.MANAGER), {'group': 'x'}), 400)


class DashboardPageTests(ItsmTestCase):
    def test_tiles_chart_and_overdue_items_with_constant_queries(self):
        manager = make_user(Role.INCIDENT_MANAGER)
        self.client.force_login(manager)
        url = reverse('major_incidents:dashboard')
        now = timezone.now()
        record = major(now - dt.timedelta(hours=5), now - dt.timedelta(hours=4), restored=now - dt.timedelta(hours=1))
        review = PostIncidentReview.objects.create(major_incident=record, outage_started_at=record.outage_started_at)
        owner = make_user(Role.L2_ENGINEER)
        yesterday = reviews.today() - dt.timedelta(days=1)
        ActionItem.objects.create(review=review, description='Renew <certs>', owner=owner, due_date=yesterday)
        response = self.client.get(url, {'days': 30})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.context['days'], 30)
        self.assertContains(response, 'Renew &lt;certs&gt;')
        self.assertContains(response, 'chart-major-incidents-data')
        self.assertEqual(response.context['figures']['major_action_items_overdue']['overdue'], 1)
        few = self.count_queries(lambda: self.client.get(url))
        for n in range(5):
            ActionItem.objects.create(
                review=review, description=f'More {n}', owner=make_user(Role.L2_ENGINEER), due_date=yesterday
            )
            major(now - dt.timedelta(hours=9), now - dt.timedelta(hours=8), restored=now)
        self.assertEqual(self.count_queries(lambda: self.client.get(url)), few)

    def test_an_unknown_period_falls_back_and_requesters_are_refused(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        self.assertEqual(self.client.get(reverse('major_incidents:dashboard'), {'days': 'x'}).context['days'], 90)
        self.client.force_login(make_user())
        self.assertHttpStatus(self.client.get(reverse('major_incidents:dashboard')), 403)
