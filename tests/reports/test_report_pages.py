"""Scheduled reports and the report archive through the generic page tests, and their own pages."""

from __future__ import annotations

from itsm.audit import Actor
from itsm.choices import Role
from reports import services
from reports.models import Report, ReportSchedule
from tests.base import ViewTestCases
from tests.factories import make_user

from .scenario import FIRST_DAY, LAST_DAY

SYSTEM = Actor.system()


class ReportScheduleViewTests(ViewTestCases.ModelViewTestCase):
    model = ReportSchedule
    view_roles = (Role.INCIDENT_MANAGER,)
    write_roles = (Role.MANAGER,)
    denied_roles = (Role.SERVICE_DESK_AGENT,)

    def make_object(self, **kwargs):
        kwargs.setdefault('name', 'Weekly MTTR')
        return services.schedule_create(actor=SYSTEM, owner=make_user(Role.MANAGER), **kwargs)

    def form_data(self):
        owner = make_user(Role.MANAGER)
        return {
            'name': 'Desk weekly',
            'owner': owner.pk,
            'frequency': 'weekly',
            'slices': ['priority', 'group'],
            'active': 'on',
        }

    def edit_data(self, obj):
        return {
            'name': 'Desk monthly',
            'owner': obj.owner_id,
            'frequency': 'monthly',
            'slices': ['service'],
            'active': 'on',
        }

    def test_edit_moves_the_next_send_time(self):
        schedule = self.make_object()
        self.login(Role.MANAGER)
        self.client.post(self.url('edit', schedule), self.edit_data(schedule))
        schedule.refresh_from_db()
        self.assertEqual(schedule.frequency, 'monthly')
        self.assertEqual(schedule.next_run_at.day, 1)
        self.assertEqual(schedule.slices, ['service'])

    def test_bad_extra_recipient_is_refused(self):
        self.login(Role.MANAGER)
        response = self.client.post(self.url('add'), {**self.form_data(), 'extra_recipients': 'not an address'})
        self.assertHttpStatus(response, 200)
        self.assertIn('extra_recipients', response.context['form'].errors)


class ReportViewTests(ViewTestCases.ModelViewTestCase):
    model = Report
    view_roles = (Role.INCIDENT_MANAGER,)
    write_roles = (Role.MANAGER,)
    denied_roles = (Role.SERVICE_DESK_AGENT,)

    def make_object(self, **kwargs):
        kwargs.setdefault('title', 'MTTR first week of March')
        return services.report_generate(
            actor=SYSTEM, period_start=FIRST_DAY, period_end=LAST_DAY, slices=['priority', 'group'], **kwargs
        )

    def form_data(self):
        return {'period_start': '2026-03-02', 'period_end': '2026-03-08', 'slices': ['priority'], 'interval': 'day'}

    def edit_data(self, obj):
        return {'title': 'Renamed report', 'notes': 'Discussed on Monday'}

    def test_detail_shows_the_figures_and_links_the_csv(self):
        report = self.make_object()
        self.login(*self.view_roles)
        response = self.client.get(self.url('detail', report))
        self.assertContains(response, 'MTTR by priority')
        self.assertContains(response, f'/reports/archive/{report.pk}/csv/')
        csv_response = self.client.get(f'/reports/archive/{report.pk}/csv/')
        self.assertHttpStatus(csv_response, 200)
        self.assertTrue(csv_response.content.decode().startswith('slice,value,key,tickets_completed'))

    def test_end_before_start_is_refused(self):
        self.login(Role.MANAGER)
        response = self.client.post(self.url('add'), {**self.form_data(), 'period_end': '2026-03-01'})
        self.assertHttpStatus(response, 200)
        self.assertIn('period_end', response.context['form'].errors)
