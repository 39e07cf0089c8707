"""Service level pages: agreements and calendars (CRUD), the SLA monitor, announcements and pauses (read-only),
the badges and SLA panel the ticket pages include, and queues sorted by nearest due."""

import datetime as dt
import itertools

from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from incidents import selectors as ticket_selectors
from incidents import services as tickets
from itsm.audit import Actor
from itsm.choices import Impact, Role, Urgency
from sla import selectors as sla_selectors
from sla import services
from sla.badges import badge_for, badges_for, format_duration
from sla.choices import ClockKind
from sla.models import (
    BusinessCalendar,
    ClockEvent,
    ClockPause,
    OperationalLevelAgreement,
    ServiceLevelAgreement,
    SlaClock,
    UnderpinningContract,
)
from tests.base import ItsmTestCase, ViewTestCases
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket
from tests.sla.factories import SYSTEM, always, berlin, frozen, make_calendar, make_ola, make_sla
from tests.sla.test_api import ticket_with_history

_numbers = itertools.count(1)
DAYS = ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')


class ServiceLevelAgreementViewTests(ViewTestCases.ModelViewTestCase):
    model = ServiceLevelAgreement
    write_roles = (Role.INCIDENT_MANAGER,)  # the defaults below are no service owner's to keep

    def make_object(self, **kwargs):
        # Retired agreements, so any number of them can cover the same scope.
        return make_sla(priority=2, name=f'Agreement {next(_numbers)}', active=False)

    def form_data(self):
        return {
            'name': 'P1 incidents',
            'ticket_kind': 'incident',
            'priority': '1',
            'service': '',
            'response_minutes': '30',
            'resolution_minutes': '240',
            'calendar': str(always().pk),
            'warning_percents': '50, 75, 90',
            'pause_states': ['pending'],
            'active': 'on',
            'description': 'Business units or sites down.',
        }

    def edit_data(self, obj):
        return {**self.form_data(), 'priority': '2', 'active': '', 'resolution_minutes': '600'}

    def test_the_form_explains_a_clash(self):
        make_sla(priority=1, name='Existing P1')
        self.login(*self.write_roles)
        response = self.client.post(self.url('add'), self.form_data())
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'already covers incidents of P1 for the default')

    def test_warnings_are_typed_as_a_list(self):
        self.login(*self.write_roles)
        response = self.client.post(self.url('add'), {**self.form_data(), 'warning_percents': '90, 50%'})
        self.assertHttpStatus(response, 302)
        self.assertEqual(ServiceLevelAgreement.objects.get(name='P1 incidents').warning_percents, [50, 90])
        response = self.client.post(self.url('add'), {**self.form_data(), 'warning_percents': 'soon'})
        self.assertContains(response, 'Give whole percentages')

    def test_the_detail_page_shows_targets_and_compliance(self):
        sla = make_sla(priority=3, response=60, resolution=480)
        ticket_with_history()
        self.login(*self.view_roles)
        response = self.client.get(self.url('detail', sla))
        self.assertContains(response, '1h')
        self.assertContains(response, '8h')
        self.assertContains(response, '0.0 %')  # the one decided clock missed its target
        self.assertContains(response, '0 met · 1 missed · 1 running')


class ServiceOwnersKeepTheirOwnAgreementsTests(ItsmTestCase):
    """A service owner keeps the SLAs and contracts of services they own, nothing else: not another service's, not
    the defaults, not calendars or OLAs; moving one of theirs onto another service is refused too."""

    def setUp(self):
        from tests.cmdb.factories import make_service

        self.owner = self.make_user(Role.SERVICE_OWNER)
        self.mine = make_service(name='Managed mail', service_owner=self.owner).ci
        self.theirs = make_service(name='VPN').ci
        self.own_sla = make_sla(priority=2, service=self.mine)
        self.their_sla = make_sla(priority=2, service=self.theirs)
        self.default_sla = make_sla(priority=2)
        self.api = self.api_client(self.owner)
        self.client.force_login(self.owner)

    def test_the_api_refuses_other_services_and_defaults_and_nothing_changes(self):
        url = '/api/v1/slas/{}/'.format
        self.assertHttpStatus(self.api.patch(url(self.own_sla.pk), {'resolution_minutes': 300}, format='json'), 200)
        for sla in (self.their_sla, self.default_sla):
            with self.subTest(sla=str(sla)):
                self.assertHttpStatus(self.api.patch(url(sla.pk), {'resolution_minutes': 1}, format='json'), 403)
                self.assertHttpStatus(self.api.delete(url(sla.pk)), 403)
                sla.refresh_from_db()
                self.assertEqual(sla.resolution_minutes, 480)
        moved = self.api.patch(url(self.own_sla.pk), {'service': self.theirs.number, 'priority': 1}, format='json')
        self.assertHttpStatus(moved, 403)
        self.own_sla.refresh_from_db()
        self.assertEqual(self.own_sla.service, self.mine)
        base = {'name': 'New', 'ticket_kind': 'incident', 'priority': 4, 'response_minutes': 60,
                'resolution_minutes': 480, 'calendar': always().name}  # fmt: skip
        self.assertHttpStatus(
            self.api.post('/api/v1/slas/', {**base, 'service': self.theirs.number}, format='json'), 403
        )
        self.assertHttpStatus(self.api.post('/api/v1/slas/', base, format='json'), 403)
        self.assertHttpStatus(self.api.post('/api/v1/slas/', {**base, 'service': self.mine.number}, format='json'), 201)
        calendar = make_calendar(name='Office hours')
        self.assertHttpStatus(self.api.patch(f'/api/v1/calendars/{calendar.pk}/', {'name': 'x'}, format='json'), 403)

    def test_pages_offer_edit_only_where_the_owner_may_and_refuse_the_rest(self):
        for sla, allowed in ((self.own_sla, True), (self.their_sla, False), (self.default_sla, False)):
            with self.subTest(sla=str(sla)):
                detail = self.client.get(sla.get_absolute_url())
                self.assertHttpStatus(detail, 200)
                edit_url = reverse('sla:servicelevelagreement_edit', args=[sla.pk])
                self.assertEqual(edit_url in detail.content.decode(), allowed)
                self.assertHttpStatus(self.client.get(edit_url), 200 if allowed else 403)
        response = self.client.post(
            reverse('sla:servicelevelagreement_edit', args=[self.their_sla.pk]), {'name': 'Mine now'}
        )
        self.assertHttpStatus(response, 403)
        self.assertEqual(ServiceLevelAgreement.objects.get(pk=self.their_sla.pk).name, self.their_sla.name)


class OperationalLevelAgreementViewTests(ViewTestCases.ModelViewTestCase):
    model = OperationalLevelAgreement

    def make_object(self, **kwargs):
        return make_ola(SupportGroupFactory(), **kwargs)

    def form_data(self):
        group = SupportGroupFactory(name=f'Team {next(_numbers)}')
        return {
            'name': 'Team OLA',
            'support_group': str(group.pk),
            'priority': '',
            'accept_minutes': '30',
            'resolve_minutes': '240',
            'calendar': str(always().pk),
            'warning_percents': '75, 90',
            'pause_states': ['pending'],
            'active': 'on',
        }

    def edit_data(self, obj):
        return {**self.form_data(), 'support_group': str(obj.support_group_id), 'accept_minutes': '20'}


class UnderpinningContractViewTests(ViewTestCases.ModelViewTestCase):
    model = UnderpinningContract

    def make_object(self, **kwargs):
        return services.contract_create(
            actor=SYSTEM,
            name=f'Maintenance {next(_numbers)}',
            supplier='Northwind',
            response_minutes=240,
            resolution_minutes=1440,
            calendar=always(),
        )

    def form_data(self):
        return {
            'name': 'Carrier circuits',
            'supplier': 'Contoso Networks',
            'reference': 'CN-1',
            'service': '',
            'response_minutes': '30',
            'resolution_minutes': '240',
            'calendar': str(always().pk),
            'contact_email': 'noc@contoso.example',
            'valid_from': '2026-01-01',
            'valid_until': '2026-12-31',
        }


class BusinessCalendarViewTests(ViewTestCases.ModelViewTestCase):
    model = BusinessCalendar

    def make_object(self, **kwargs):
        return make_calendar(name=f'Calendar {next(_numbers)}', **kwargs)

    def form_data(self):
        hours = {f'hours_{day}': '08:00-12:00, 13:00-17:00' for day in DAYS[:5]}
        return {
            'name': 'Munich office',
            'timezone': 'Europe/Berlin',
            **hours,
            'hours_sat': '',
            'hours_sun': '',
            'holiday_country': 'DE',
            'holiday_subdivision': 'BY',
            'custom_holidays': '2026-12-24 Christmas Eve\n2026-12-31',
            'description': '',
        }

    def test_the_form_stores_hours_and_holidays(self):
        self.login(*self.write_roles)
        self.assertHttpStatus(self.client.post(self.url('add'), self.form_data()), 302)
        calendar = BusinessCalendar.objects.get(name='Munich office')
        self.assertEqual(calendar.hours['mon'], ['08:00-12:00', '13:00-17:00'])
        self.assertNotIn('sat', calendar.hours)
        self.assertEqual(
            calendar.custom_holidays,
            [{'date': '2026-12-24', 'name': 'Christmas Eve'}, {'date': '2026-12-31', 'name': ''}],
        )
        edit = self.client.get(self.url('edit', calendar))
        self.assertContains(edit, '2026-12-24 Christmas Eve')
        self.assertContains(edit, 'value="08:00-12:00, 13:00-17:00"')

    def test_bad_hours_are_shown_on_their_day(self):
        self.login(*self.write_roles)
        response = self.client.post(self.url('add'), {**self.form_data(), 'hours_tue': '17:00-09:00'})
        self.assertHttpStatus(response, 200)
        self.assertIn('hours_tue', response.context['form'].errors)
        response = self.client.post(self.url('add'), {**self.form_data(), 'custom_holidays': '24/12/2026'})
        self.assertIn('custom_holidays', response.context['form'].errors)

    def test_the_detail_page_lists_hours_and_coming_holidays(self):
        calendar = make_calendar('Berlin', custom_holidays=[{'date': '2099-12-24', 'name': 'Far future'}])
        self.login(*self.view_roles)
        response = self.client.get(self.url('detail', calendar))
        self.assertContains(response, '08:00-18:00')
        self.assertContains(response, 'data-testid="holidays"')

    def test_the_builtin_calendar_is_kept(self):
        self.login(Role.ADMINISTRATOR)
        response = self.client.post(self.url('delete', always()))
        self.assertHttpStatus(response, 409)
        self.assertTrue(BusinessCalendar.objects.filter(name='24x7').exists())


class ReadOnlyViewTests:
    """Clocks, announcements and pauses have no add, edit or delete pages: only the services write them."""

    def assert_not_routed(self, action):
        with self.assertRaises(NoReverseMatch):
            self.url(action) if action == 'add' else self.url(action, self.make_object())

    def test_add(self):
        self.assert_not_routed('add')

    def test_add_without_permission_is_forbidden(self):
        self.login(*self.view_roles)
        self.assert_not_routed('add')

    def test_add_invalid_keeps_input_and_shows_errors(self):
        obj = self.make_object()
        self.login(Role.ADMINISTRATOR)
        self.assertHttpStatus(self.client.post(self.url('detail', obj), {}), 405)

    def test_edit(self):
        self.assert_not_routed('edit')

    def test_edit_without_permission_is_forbidden(self):
        self.assert_not_routed('edit')

    def test_delete(self):
        self.assert_not_routed('delete')


class SlaClockViewTests(ReadOnlyViewTests, ViewTestCases.ModelViewTestCase):
    model = SlaClock

    def make_object(self, **kwargs):
        return SlaClock.objects.filter(ticket=ticket_with_history(), kind=ClockKind.RESOLUTION).get()

    def test_the_monitor_shows_live_badges_nearest_due_first(self):
        make_sla(priority=1, response=15, resolution=240, name='P1 incidents')
        make_sla(priority=3, response=60, resolution=480, name='P3 incidents')
        later = make_ticket()
        sooner = make_ticket(impact=Impact.HIGH, urgency=Urgency.CRITICAL)
        self.login(*self.view_roles)
        response = self.client.get(self.url('list'))
        html = response.content.decode()
        self.assertIn('pitcrew/sla/sla.js', html)
        self.assertRegex(html, r'data-sla-due="\d{4}-\d{2}-\d{2}T')
        rows = html[html.index('<tbody>') :]
        self.assertLess(rows.index(sooner.number), rows.index(later.number))

    def test_the_clock_page_shows_its_history(self):
        clock = self.make_object()
        self.login(*self.view_roles)
        response = self.client.get(self.url('detail', clock))
        self.assertContains(response, 'data-testid="sla-history"')
        self.assertContains(response, 'Awaiting the customer')


class ClockEventViewTests(ReadOnlyViewTests, ViewTestCases.ModelViewTestCase):
    model = ClockEvent

    def make_object(self, **kwargs):
        return ClockEvent.objects.filter(clock__ticket=ticket_with_history()).get()


class ClockPauseViewTests(ReadOnlyViewTests, ViewTestCases.ModelViewTestCase):
    model = ClockPause

    def make_object(self, **kwargs):
        return ClockPause.objects.filter(clock__ticket=ticket_with_history()).get()


# ---------------------------------------------------------------------------------- badges, panel, queues
def render(source: str, **context) -> str:
    return Template('{% load sla %}' + source).render(Context(context))


class BadgeTests(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.office = make_calendar()
        make_sla(priority=3, response=60, resolution=480, calendar=cls.office)
        cls.group, cls.agent = make_group_with_agent()

    def clock(self, ticket, kind=ClockKind.RESPONSE):
        return SlaClock.objects.select_related('calendar').get(ticket=ticket, kind=kind, stopped_at__isnull=True)

    def test_colours_follow_the_time_left(self):
        with frozen(berlin(2026, 3, 2, 9)) as now:
            ticket = make_ticket()
            clock = self.clock(ticket)
            badge = badge_for(clock)
            self.assertEqual(
                (badge.text, badge.color, badge.due), ('1h 00m left', 'green', '2026-03-02T09:00:00+00:00')
            )
            self.assertEqual(badge.risk, '2026-03-02T08:45:00+00:00')
            now.advance(minutes=50)
            self.assertEqual((badge_for(clock).text, badge_for(clock).color), ('10m left', 'orange'))
            now.advance(minutes=25)
            self.assertEqual((badge_for(clock).text, badge_for(clock).color), ('overdue 15m', 'red'))

    def test_paused_met_and_missed(self):
        actor = Actor(user=self.agent)
        with frozen(berlin(2026, 3, 2, 9)) as now:
            ticket = make_ticket(state='assigned', group=self.group, agent=self.agent)
            now.advance(minutes=30)
            tickets.ticket_accept(ticket=ticket, actor=actor)
            now.advance(hours=1)
            tickets.ticket_pend(ticket=ticket, actor=actor, reason='customer')
            clocks = {c.kind: c for c in ticket.sla_clocks.select_related('calendar')}
            self.assertEqual(badge_for(clocks['response']).text, 'met')
            paused = badge_for(clocks['resolution'])
            expected = ('paused · 6 business hours 30 min left', 'secondary', '')
            self.assertEqual((paused.text, paused.color, paused.due), expected)
            late = make_ticket(state='assigned', group=self.group, agent=self.agent)
            now.advance(minutes=95)
            tickets.ticket_accept(ticket=late, actor=actor)
            missed = badge_for(late.sla_clocks.select_related('calendar').get(kind='response'))
            self.assertEqual((missed.text, missed.color), ('missed by 35 business minutes', 'red'))

    def test_durations_read_naturally(self):
        cases = {0: '0s', 45: '45s', 95: '1m 35s', 600: '10m', 5400: '1h 30m', 86400 * 2 + 7 * 3600: '2d 7h'}
        for seconds, text in cases.items():
            self.assertEqual(format_duration(seconds), text)

    def test_badges_include_the_countdown_script_once_per_page(self):
        first, second = make_ticket(), make_ticket()
        html = render('{% sla_badges a %}{% sla_badges b %}', a=first, b=second)
        self.assertEqual(html.count('pitcrew/sla/sla.js'), 1)
        self.assertEqual(html.count('data-testid="sla-badge"'), 4)
        self.assertEqual(render('{% sla_badges t %}', t=make_ticket(kind='case')), '')

    def test_the_panel_lists_every_clock_with_its_history(self):
        ticket = ticket_with_history()
        html = render('{% sla_panel t %}', t=ticket)
        self.assertEqual(html.count('data-testid="sla-clock"'), 2)
        self.assertIn('Breached at', html)
        self.assertIn('Awaiting the customer', html)
        self.assertIn('still paused', html)
        self.assertIn('No agreement applies', render('{% sla_panel t %}', t=make_ticket(kind='case')))

    def test_the_ticket_page_reads_the_panel_clocks_with_the_ticket(self):
        ticket = ticket_with_history()
        with frozen(berlin(2026, 3, 2, 15)):  # the elapsed times shown are the same in each rendering
            alone = render('{% sla_panel t %}', t=ticket)
            read = ticket_selectors.ticket_list(clock_history=True).get(pk=ticket.pk)
            with CaptureQueriesContext(connection) as seen:
                html = render('{% sla_panel t %}', t=read)
            self.assertEqual(len(seen.captured_queries), 0)
            self.assertEqual(html, alone)
            # Read the way the lists read it (calendars only), the panel asks for the rest itself.
            listed = ticket_selectors.ticket_list().get(pk=ticket.pk)
            with CaptureQueriesContext(connection) as seen:
                self.assertEqual(render('{% sla_panel t %}', t=listed), alone)
            self.assertEqual(len(seen.captured_queries), 3)

    def test_queue_badges_cost_one_query_for_all_rows(self):
        def queries(count):
            for _ in range(count):
                make_ticket(state='assigned', group=self.group, agent=self.agent)
            rows = ticket_selectors.queue(user=self.agent, name='all')
            with CaptureQueriesContext(connection) as seen:
                render('{% for t in rows %}{% sla_badges t %}{% endfor %}', rows=rows)
            return len(seen.captured_queries)

        self.assertEqual(queries(2), queries(6))

    def test_queue_rows_read_the_clocks_their_badges_show(self):
        actor = Actor(user=self.agent)
        with frozen(berlin(2026, 3, 2, 9)) as now:
            accepted = make_ticket(state='assigned', group=self.group, agent=self.agent)
            now.advance(minutes=30)
            tickets.ticket_accept(ticket=accepted, actor=actor)  # response met, resolution running
            stopped = make_ticket(state='assigned', group=self.group, agent=self.agent)
            SlaClock.objects.filter(ticket=stopped).update(stopped_at=berlin(2026, 3, 2, 9, 10))
            rows = {t.pk: t for t in ticket_selectors.queue(user=self.agent, name='all')}
            every = {t.pk: t for t in ticket_selectors.ticket_list().filter(pk__in=rows)}
            for pk, row in rows.items():
                with self.subTest(ticket=row.number):
                    shown = [b.text for b in badges_for(sla_selectors.record_clocks(row))]
                    self.assertEqual(shown, [b.text for b in badges_for(sla_selectors.record_clocks(every[pk]))])
            self.assertEqual([c.kind for c in sla_selectors.record_clocks(rows[accepted.pk])], ['resolution'])
            # Nothing runs: the stopped clocks are read and shown, as on any list.
            self.assertEqual(len(sla_selectors.record_clocks(rows[stopped.pk])), 2)
            self.assertEqual([b.text for b in badges_for(sla_selectors.record_clocks(rows[stopped.pk]))], ['met'] * 2)

    def test_queues_sort_by_nearest_due_then_priority_then_age(self):
        make_sla(priority=1, response=15, resolution=240, name='P1 incidents')
        with frozen(berlin(2026, 3, 2, 9)) as now:
            old_p3 = make_ticket(short_description='old P3')  # due 10:00
            now.advance(minutes=30)
            p1 = make_ticket(short_description='P1', impact=Impact.HIGH, urgency=Urgency.CRITICAL)  # due 09:45
            now.advance(minutes=5)
            new_p3 = make_ticket(short_description='new P3')  # due 10:35
            no_sla = make_ticket(kind='case', short_description='no SLA')
            overdue = make_ticket(short_description='overdue')
        SlaClock.objects.filter(ticket=overdue).update(due_at=berlin(2026, 3, 2, 8))  # as if opened long ago
        order = [t.number for t in ticket_selectors.queue(user=self.agent, name='all')]
        self.assertEqual(order, [overdue.number, p1.number, old_p3.number, new_p3.number, no_sla.number])

    def test_warnings_show_in_orange_after_the_sweep(self):
        with frozen(berlin(2026, 3, 2, 9)) as now:
            ticket = make_ticket()
            now.advance(minutes=46)
            services.sla_sweep()
            self.assertIn('bg-orange-lt', render('{% sla_badges t %}', t=ticket))
        self.assertTrue(dt.timedelta(0) < self.clock(ticket).elapsed_at(berlin(2026, 3, 2, 9, 50)))


class IncludeTests(ItsmTestCase):
    def test_the_includes_render_the_tags_and_write_the_script_once(self):
        make_sla(priority=3, response=60, resolution=480)
        rows = [make_ticket(), make_ticket()]
        html = Template(
            "{% for ticket in rows %}{% include 'sla/_badges.html' %}{% endfor %}{% include 'sla/_panel.html' %}"
        ).render(Context({'rows': rows, 'ticket': rows[0]}))
        self.assertEqual(html.count('data-testid="sla-badge"'), 4)
        self.assertEqual(html.count('data-testid="sla-panel"'), 1)
        self.assertEqual(html.count('pitcrew/sla/sla.js'), 1)
