"""The scheduled MTTR report: when it runs, what period it covers, the e-mail with its CSV, exactly once."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.core import mail
from django.test import TestCase
from django.urls import reverse

from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.models import TimelineEntry
from reports import selectors, services
from reports.models import Report, ReportSchedule
from reports.services import next_run, period_for
from reports.slices import Slice
from tests.factories import make_user
from tests.sla.factories import frozen

from .scenario import NOW, build_desk

UTC = dt.UTC
SYSTEM = Actor.system()


def when(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


class ScheduleArithmeticTests(TestCase):
    def test_next_send_times(self):
        friday = when(2026, 3, 20, 12)
        self.assertEqual(next_run('weekly', friday), when(2026, 3, 23, 7))
        self.assertEqual(next_run('weekly', when(2026, 3, 23, 7)), when(2026, 3, 30, 7))
        self.assertEqual(next_run('weekly', when(2026, 3, 23, 6, 59)), when(2026, 3, 23, 7))
        self.assertEqual(next_run('daily', friday), when(2026, 3, 21, 7))
        self.assertEqual(next_run('monthly', friday), when(2026, 4, 1, 7))

    def test_periods_covered(self):
        monday = when(2026, 3, 23, 7)
        self.assertEqual(period_for('weekly', monday), (dt.date(2026, 3, 16), dt.date(2026, 3, 22)))
        self.assertEqual(period_for('daily', monday), (dt.date(2026, 3, 22), dt.date(2026, 3, 22)))
        self.assertEqual(period_for('monthly', when(2026, 4, 1, 7)), (dt.date(2026, 3, 1), dt.date(2026, 3, 31)))


class ScheduledReportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.world = build_desk()
        cls.manager = make_user(Role.MANAGER, username='mia', email='mia@example.com')
        with frozen(when(2026, 3, 2, 8)):  # a Monday before the tickets: the first run is on 9 March
            cls.schedule = services.schedule_create(
                actor=Actor(user=cls.manager),
                name='Desk weekly',
                owner=cls.manager,
                extra_recipients='ops@example.com, cio@example.com',
                slices=['group', 'agent'],
            )

    def test_defaults_to_weekly(self):
        self.assertEqual(self.schedule.frequency, 'weekly')
        self.assertEqual(self.schedule.next_run_at, when(2026, 3, 9, 7))
        self.assertEqual(self.schedule.recipients(), ['mia@example.com', 'ops@example.com', 'cio@example.com'])

    def test_due_report_is_generated_kept_and_emailed_once(self):
        run_at = when(2026, 3, 9, 7, 5)
        with frozen(run_at), self.captureOnCommitCallbacks(execute=True):
            services.rollup_refresh(now=run_at)
            [report] = services.schedules_run_due(now=run_at)
            self.assertEqual(services.schedules_run_due(now=run_at), [])  # claimed: not again
        report.refresh_from_db()
        self.assertEqual((report.period_start, report.period_end), (dt.date(2026, 3, 2), dt.date(2026, 3, 8)))
        self.assertEqual(report.schedule, self.schedule)
        expected = selectors.measure('mttr', Slice(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8)))
        self.assertEqual(report.summary['count'], expected['count'])
        self.assertEqual(report.summary['mean_hours'], 11.25)
        self.assertEqual([r['label'] for r in report.summary['slices']['group']], ['Service Desk', 'Network'])
        self.assertIsNotNone(report.sent_at)
        [message] = mail.outbox
        self.assertEqual(message.to, ['mia@example.com', 'ops@example.com', 'cio@example.com'])
        self.assertIn('MTTR', message.subject)
        self.assertIn('Mean time to resolve: 11.25 h', message.body)
        [(filename, content, mimetype)] = message.attachments
        self.assertEqual(mimetype, 'text/csv')
        self.assertEqual(content, report.csv)
        rows = list(csv.DictReader(io.StringIO(content)))
        overall = rows[0]
        self.assertEqual(
            (overall['slice'], overall['tickets_completed'], overall['mean_hours']), ('overall', '4', '11.25')
        )
        self.assertEqual({r['slice'] for r in rows}, {'overall', 'period', 'group', 'agent'})
        self.schedule.refresh_from_db()
        self.assertEqual(self.schedule.next_run_at, when(2026, 3, 16, 7))
        sent = TimelineEntry.objects.for_object(report).filter(kind=TimelineKind.NOTIFICATION)
        self.assertEqual(sent.count(), 1)

    def test_a_worker_down_for_days_still_reports_the_week_it_owed(self):
        late = when(2026, 3, 11, 15)
        with frozen(late), self.captureOnCommitCallbacks(execute=True):
            [report] = services.schedules_run_due(now=late)
        self.assertEqual((report.period_start, report.period_end), (dt.date(2026, 3, 2), dt.date(2026, 3, 8)))
        self.schedule.refresh_from_db()
        self.assertEqual(self.schedule.next_run_at, when(2026, 3, 16, 7))

    def test_inactive_schedules_do_not_run(self):
        services.schedule_update(schedule=self.schedule, actor=SYSTEM, active=False)
        self.assertEqual(services.schedules_run_due(now=when(2026, 3, 30, 8)), [])
        self.assertIsNone(ReportSchedule.objects.get(pk=self.schedule.pk).next_run_at)

    def test_the_periodic_task_rolls_up_and_sends(self):
        from reports.tasks import reports_tick_task

        with frozen(when(2026, 3, 9, 7, 1)), self.captureOnCommitCallbacks(execute=True):
            message = reports_tick_task.delay().get()
        self.assertIn('1 scheduled report generated', message)
        self.assertEqual(Report.objects.count(), 1)
        self.assertEqual(len(mail.outbox), 1)

    def test_generating_from_the_page_and_mailing_it_to_me(self):
        self.client.force_login(self.manager)
        data = {
            'period_start': '2026-03-02',
            'period_end': '2026-03-08',
            'slices': ['priority'],
            'send_to_me': 'on',
            'group': self.world.desk.pk,
        }
        with frozen(NOW), self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse('reports:report_add'), data)
        self.assertEqual(response.status_code, 302)
        report = Report.objects.get()
        self.assertEqual(report.filters, {'group': str(self.world.desk.pk)})
        self.assertEqual(report.summary['count'], 3)
        self.assertEqual(mail.outbox[0].to, ['mia@example.com'])
