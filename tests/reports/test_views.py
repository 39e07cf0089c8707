"""The dashboards, drill-downs and CSV exports: who sees what, figures and their links, empty states."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

from django.urls import reverse

from cmdb.choices import CIClass
from incidents.models import Ticket
from itsm.choices import Role
from itsm.models import SupportGroup
from reports import selectors, services
from reports.measures import MEASURES
from tests.base import ItsmTestCase
from tests.sla.factories import frozen

from .scenario import FIRST_DAY, LAST_DAY, NOW, at, build_desk

RANGE = {'from': FIRST_DAY.isoformat(), 'to': LAST_DAY.isoformat()}


class DashboardTestCase(ItsmTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.world = build_desk()
        cls.manager = cls.make_user_cls(Role.MANAGER, username='mia', first_name='Mia', last_name='Manager')
        cls.lead = cls.make_user_cls(Role.SERVICE_DESK_AGENT, username='leo', first_name='Leo', last_name='Lead')
        SupportGroup.objects.filter(pk=cls.world.desk.pk).update(manager=cls.lead)
        cls.world.desk.members.add(cls.lead)
        with frozen(NOW):
            services.rollup_refresh(now=NOW)

    @staticmethod
    def make_user_cls(*roles, **kwargs):
        from tests.factories import make_user

        return make_user(*roles, **kwargs)

    def setUp(self):
        clock = frozen(NOW)
        clock.__enter__()
        self.addCleanup(clock.__exit__, None, None, None)

    def get(self, user, name, params=None, *args, **kwargs):
        self.client.force_login(user)
        return self.client.get(reverse(name, args=args, kwargs=kwargs), params or {})

    def links(self, response) -> list[str]:
        return [unescape(href) for href in re.findall(r'href="([^"]+)"', response.content.decode())]


class OverviewTests(DashboardTestCase):
    def test_manager_sees_every_measure_with_its_definition(self):
        response = self.get(self.manager, 'reports:overview', RANGE)
        self.assertHttpStatus(response, 200)
        page = unescape(response.content.decode())
        for slug in ('mttr', 'mtta', 'sla_compliance', 'answer_rate', 'fcr', 'reopen_rate', 'reassignment_rate'):
            self.assertIn(MEASURES[slug].definition, page, slug)
        self.assertContains(response, '11.25')  # MTTR mean
        self.assertContains(response, '66.7')  # SLA compliance
        self.assertContains(response, 'chart-volume-data')
        self.assertContains(response, 'vendor/chartjs/chart.umd.min.js')
        self.assertEqual(response.context['meta']['source'], 'rollup')

    def test_every_figure_links_to_the_tickets_behind_it(self):
        response = self.get(self.manager, 'reports:overview', RANGE)
        drills = [link for link in self.links(response) if link.startswith(reverse('reports:tickets'))]
        measures = {re.search(r'measure=(\w+)', link).group(1) for link in drills}
        self.assertEqual(measures, set(MEASURES))
        self.client.force_login(self.manager)
        for link in drills[:60]:
            with self.subTest(link=link):
                self.assertHttpStatus(self.client.get(link), 200)

    def test_each_chart_point_links_to_the_tickets_of_its_period(self):
        params = {**RANGE, 'interval': 'day', 'group': str(self.world.desk.pk), 'priority': '2,3', 'source': 'rollup'}
        response = self.get(self.manager, 'reports:overview', params)
        slice_, trend = response.context['slice'], response.context['trend']
        self.assertGreater(len(trend), 1)
        series = [
            ('volume', 0, 'volume', 'opened'),
            ('volume', 1, 'volume', 'completed'),
            ('mttr', 2, 'mttr', ''),
            ('sla', 0, 'sla_compliance', 'response'),
            ('sla', 2, 'sla_compliance', 'breached'),
            ('answer', 0, 'answer_rate', ''),
            ('answer', 1, 'volume', 'opened'),
        ]
        for chart, index, measure, part in series:
            with self.subTest(chart=chart, measure=measure, part=part):
                urls = response.context['charts'][chart]['spec']['datasets'][index]['urls']
                expected = [
                    selectors.drill_url(
                        measure,
                        slice_.replace(start=dt.date.fromisoformat(p['from']), end=dt.date.fromisoformat(p['to'])),
                        part=part,
                    )
                    for p in trend
                ]
                self.assertEqual(urls, expected)
                self.assertIn(f'group={self.world.desk.pk}', urls[0])
                self.assertNotIn('source=', urls[0])  # the tickets behind a figure are always read live

    def test_drill_down_counts_match_the_figures(self):
        self.client.force_login(self.manager)
        url = reverse('reports:tickets')
        cases = [
            ({'measure': 'mttr'}, 4),
            ({'measure': 'mtta'}, 5),
            ({'measure': 'reopen_rate', 'part': 'reopened'}, 1),
            ({'measure': 'fcr', 'part': 'first_time'}, 2),
            ({'measure': 'volume', 'part': 'opened'}, 6),
            ({'measure': 'sla_compliance'}, 12),
            ({'measure': 'sla_compliance', 'part': 'breached'}, 4),
            ({'measure': 'ola_compliance', 'group': str(self.world.desk.pk)}, 9),
            ({'measure': 'answer_rate', 'part': 'answered_late'}, 2),
            ({'measure': 'backlog', 'part': '7to30d'}, 2),
            ({'measure': 'mttr', 'group': 'none'}, 0),
            ({'measure': 'volume', 'part': 'opened', 'group': 'none'}, 1),
        ]
        for params, expected in cases:
            with self.subTest(params=params):
                response = self.client.get(url, {**RANGE, **params})
                self.assertHttpStatus(response, 200)
                self.assertEqual(response.context['page_obj'].paginator.count, expected)

    def test_drill_down_csv(self):
        self.client.force_login(self.manager)
        response = self.client.get(reverse('reports:tickets'), {**RANGE, 'measure': 'mttr', 'format': 'csv'})
        self.assertHttpStatus(response, 200)
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        self.assertEqual(len(rows), 4)
        self.assertEqual(sorted(float(r['hours']) for r in rows), [2.0, 6.0, 10.0, 27.0])

    def test_drill_down_csv_writes_formulas_as_text(self):
        # A requester's title reaches a manager's spreadsheet: it must arrive as text, never as a formula.
        titles = ['=HYPERLINK("http://evil.example","x")', '+1+2', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd']
        tickets = list(Ticket.objects.order_by('pk'))
        self.assertEqual(len(tickets), len(titles))
        for ticket, title in zip(tickets, titles, strict=True):
            Ticket.objects.filter(pk=ticket.pk).update(short_description=title)
        self.client.force_login(self.manager)
        response = self.client.get(reverse('reports:tickets'), {**RANGE, 'measure': 'mttr', 'format': 'csv'})
        self.assertHttpStatus(response, 200)
        written = [row['short_description'] for row in csv.DictReader(io.StringIO(response.content.decode()))]
        self.assertEqual(len(written), 4)
        for text in written:
            self.assertTrue(text.startswith("'"), text)
            self.assertIn(text[1:], titles)

    def test_spreadsheet_safe_keeps_numbers_and_plain_text(self):
        from reports.exports import spreadsheet_safe

        self.assertEqual(spreadsheet_safe(-2.5), -2.5)
        self.assertEqual(spreadsheet_safe(0), 0)
        self.assertEqual(spreadsheet_safe(None), '')
        self.assertEqual(spreadsheet_safe('VPN down'), 'VPN down')
        self.assertEqual(spreadsheet_safe('=1+1'), "'=1+1")
        self.assertEqual(spreadsheet_safe('-1'), "'-1")

    def test_csv_of_every_table(self):
        self.client.force_login(self.manager)
        for table in ('kpis', 'trend', 'breakdown', 'priority', 'agreements', 'ola', 'backlog', 'agents'):
            with self.subTest(table=table):
                response = self.client.get(reverse('reports:export', args=[table]), RANGE)
                self.assertHttpStatus(response, 200)
                self.assertEqual(response['Content-Type'], 'text/csv; charset=utf-8')
                rows = list(csv.reader(io.StringIO(response.content.decode())))
                self.assertGreater(len(rows), 1, f'{table} CSV has no rows')
        trend = self.client.get(reverse('reports:export', args=['trend']), RANGE).content.decode()
        first = next(csv.DictReader(io.StringIO(trend)))
        self.assertEqual(first['mttr_mean_hours'], '6.0')
        self.assertEqual(self.client.get(reverse('reports:export', args=['nope']), RANGE).status_code, 404)

    def test_days_at_the_ends_of_the_calendar_are_form_errors(self):
        for params in ({'from': '9999-12-31'}, {'to': '0001-01-01'}, {'from': '0001-01-01', 'to': '9999-12-31'}):
            with self.subTest(params=params):
                response = self.get(self.manager, 'reports:overview', params)
                self.assertHttpStatus(response, 200)
                self.assertContains(response, 'Give a date between 1900-01-01 and 2999-12-31.')

    def test_breakdown_choice_and_bad_parameters(self):
        response = self.get(self.manager, 'reports:overview', {**RANGE, 'breakdown': 'agent', 'priority': 'P9'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Alice Agent')
        self.assertContains(response, '(ignored)')
        self.assertIn('priority', response.context['filters']['form_errors'])

    def test_the_filter_bar_offers_every_service_and_group_and_keeps_the_chosen_ones(self):
        from tests.cmdb.factories import make_ci

        vpn, mail = make_ci(CIClass.SERVICE, name='VPN <remote>'), make_ci(CIClass.SERVICE, name='Mail')
        make_ci(CIClass.SERVER, name='db-01')
        desk = self.world.desk
        response = self.get(self.manager, 'reports:overview', {**RANGE, 'service': str(vpn.pk), 'group': str(desk.pk)})
        self.assertHttpStatus(response, 200)
        html = response.content.decode()
        self.assertInHTML(f'<option value="{vpn.pk}" selected>VPN &lt;remote&gt;</option>', html)
        self.assertInHTML(f'<option value="{mail.pk}">Mail</option>', html)
        self.assertNotIn('db-01', html)  # not a service
        self.assertInHTML(f'<option value="{desk.pk}" selected>Service Desk</option>', html)
        self.assertLess(html.index('>Mail<'), html.index('>VPN &lt;remote&gt;<'))  # by name

    def test_a_breakdown_by_agent_shows_the_busiest_with_a_link_to_all(self):
        from reports.views import dashboards

        self.client.force_login(self.manager)
        url = reverse('reports:overview')
        everyone = self.client.get(url, {**RANGE, 'breakdown': 'agent', 'rows': 'all'})
        agents = everyone.context['breakdown']
        self.assertGreater(len(agents), 1)
        self.assertNotContains(everyone, 'id="breakdown-limited"')
        original, dashboards.BREAKDOWN_ROWS = dashboards.BREAKDOWN_ROWS, 1
        try:
            busiest = self.client.get(url, {**RANGE, 'breakdown': 'agent'})
            by_group = self.client.get(url, {**RANGE, 'breakdown': 'group'})  # a handful of groups: all shown
            export = self.client.get(reverse('reports:export', args=['breakdown']), {**RANGE, 'breakdown': 'agent'})
        finally:
            dashboards.BREAKDOWN_ROWS = original
        self.assertEqual([r['key'] for r in busiest.context['breakdown']], [agents[0]['key']])
        self.assertContains(busiest, f'The 1 busiest of {len(agents)}, by tickets.')
        show_all = next(link for link in self.links(busiest) if 'rows=all' in link)
        self.assertIn('breakdown=agent', show_all)
        self.assertTrue(show_all.endswith('#breakdown'))
        self.assertEqual(len(by_group.context['breakdown']), by_group.context['breakdown'].total)
        self.assertNotContains(by_group, 'id="breakdown-limited"')
        rows = list(csv.reader(io.StringIO(export.content.decode())))
        self.assertEqual(len(rows) - 1, len(agents))  # the export holds every agent

    def test_empty_state(self):
        response = self.get(self.manager, 'reports:overview', {'from': '2025-01-01', 'to': '2025-01-31'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Nothing to chart for these filters and dates.')
        self.assertContains(response, 'No tickets for these filters and dates.')

    def test_who_may_see_the_overview(self):
        self.assertHttpStatus(self.get(self.world.alice, 'reports:overview'), 403)
        self.client.logout()
        response = self.client.get(reverse('reports:overview'))
        self.assertHttpStatus(response, 302)
        self.assertIn(reverse('itsm:login'), response['Location'])
        self.assertHttpStatus(self.get(self.make_user(Role.INCIDENT_MANAGER), 'reports:overview'), 200)

    def test_query_count_does_not_grow_with_tickets(self):
        self.client.force_login(self.manager)
        url = reverse('reports:overview')
        self.client.get(url, RANGE)
        small = self.count_queries(lambda: self.client.get(url, RANGE))
        from incidents import services as tickets
        from itsm.audit import Actor

        caller = self.world.caller
        for day in (2, 3, 4, 5, 5):
            tickets.ticket_create(
                actor=Actor.system(), caller=caller, short_description='More', notify=False, opened_at=at(day, 12)
            )
        services.rollup_refresh(now=NOW)
        large = self.count_queries(lambda: self.client.get(url, RANGE))
        self.assertEqual(small, large)

    def test_definitions_page(self):
        response = self.get(self.world.alice, 'reports:definitions')
        self.assertHttpStatus(response, 200)
        for measure in MEASURES.values():
            self.assertContains(response, measure.label)


class TeamDashboardTests(DashboardTestCase):
    def test_lead_sees_the_team_with_one_row_per_agent(self):
        response = self.get(self.lead, 'reports:team', RANGE, group_id=self.world.desk.pk)
        self.assertHttpStatus(response, 200)
        agents = {row['label']: row for row in response.context['by_agent']}
        self.assertEqual(agents['Alice Agent']['figures']['mttr']['count'], 3)
        self.assertEqual(response.context['ola']['percent'], 77.8)
        self.assertContains(response, reverse('reports:agent', args=[self.world.alice.pk]))

    def test_team_list_shows_the_groups_a_person_leads(self):
        response = self.get(self.lead, 'reports:team_list')
        self.assertEqual([g.name for g in response.context['groups']], ['Service Desk'])
        response = self.get(self.manager, 'reports:team_list')
        self.assertEqual({g.name for g in response.context['groups']}, {'Service Desk', 'Network'})
        response = self.get(self.world.bob, 'reports:team_list')
        self.assertContains(response, 'You lead no support group')

    def test_others_may_not_see_a_team(self):
        self.assertHttpStatus(self.get(self.world.bob, 'reports:team', group_id=self.world.desk.pk), 403)
        self.assertHttpStatus(self.get(self.lead, 'reports:team', group_id=self.world.network.pk), 403)
        self.assertHttpStatus(self.get(self.manager, 'reports:team', group_id=self.world.network.pk), 200)

    def test_lead_drills_into_the_team_only(self):
        self.client.force_login(self.lead)
        url = reverse('reports:tickets')
        ok = self.client.get(url, {**RANGE, 'measure': 'mttr', 'group': self.world.desk.pk})
        self.assertEqual(ok.context['page_obj'].paginator.count, 3)
        self.assertHttpStatus(self.client.get(url, {**RANGE, 'measure': 'mttr'}), 403)
        csv_url = reverse('reports:export', args=['agents'])
        self.assertHttpStatus(self.client.get(csv_url, {**RANGE, 'team': self.world.desk.pk}), 200)
        self.assertHttpStatus(self.client.get(csv_url, {**RANGE, 'team': self.world.network.pk}), 403)


class AgentDashboardTests(DashboardTestCase):
    def test_agent_sees_own_kras_and_kpis(self):
        response = self.get(self.world.alice, 'reports:my_kpis', RANGE)
        self.assertHttpStatus(response, 200)
        kpis = {card['slug']: card['figures'] for card in response.context['kpis']}
        self.assertEqual(kpis['mttr']['count'], 3)
        self.assertEqual(kpis['mttr']['mean_hours'], 13.0)
        self.assertEqual(kpis['reopen_rate']['percent'], 33.3)
        self.assertEqual(kpis['volume'], {'opened': 4, 'completed': 3})
        self.assertEqual(kpis['sla_compliance']['resolution']['breached'], 1)
        titles = [item['kra'].title for item in response.context['kras']]
        self.assertEqual(titles, ['First-line resolution', 'Responsiveness', 'Service levels'])
        self.assertContains(response, 'Key result areas')

    def test_who_may_see_an_agents_page(self):
        alice = self.world.alice
        self.assertHttpStatus(self.get(self.world.bob, 'reports:agent', user_id=alice.pk), 403)
        self.assertHttpStatus(self.get(self.lead, 'reports:agent', user_id=alice.pk), 200)
        self.assertHttpStatus(self.get(self.manager, 'reports:agent', user_id=alice.pk), 200)
        self.assertHttpStatus(self.get(self.world.caller, 'reports:my_kpis'), 403)
