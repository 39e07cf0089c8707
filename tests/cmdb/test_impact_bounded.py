"""Count-only and paged impact analysis: the bounded total, the page in a stable order with real paths, the
services reached, one query, and the API's `count_only` / `offset` / `limit` parameters and the CI page using them."""

from unittest import mock

from django.urls import reverse

from cmdb import selectors
from cmdb.choices import CIClass, ImpactDirection
from cmdb.selectors import ci_impact, ci_impact_count, ci_impact_page
from itsm.choices import Role
from tests.base import ItsmTestCase

from .factories import link, make_ci, make_service

DOWN, UP = ImpactDirection.DOWNSTREAM, ImpactDirection.UPSTREAM


class BoundedImpactTests(ItsmTestCase):
    """hub ← 3 segments ← 4 hosts each ← one application per host; svc1 → app0, svc2 → app5; a cycle hub ↔ seg0."""

    @classmethod
    def setUpTestData(cls):
        cls.hub = make_ci(CIClass.NETWORK_DEVICE, 'hub')
        cls.segments = [make_ci(CIClass.NETWORK_SEGMENT, f'seg{i}') for i in range(3)]
        cls.hosts, cls.apps = [], []
        for i, segment in enumerate(cls.segments):
            link(segment, 'connected_to', cls.hub)
            for j in range(4):
                host = make_ci(CIClass.SERVER, f'host{i}{j}')
                link(host, 'connected_to', segment)
                app = make_ci(CIClass.APPLICATION, f'app{4 * i + j}')
                link(app, 'runs_on', host)
                cls.hosts.append(host)
                cls.apps.append(app)
        link(cls.hub, 'connected_to', cls.segments[0])
        cls.svc1 = make_service('svc1', criticality='high').ci
        cls.svc2 = make_service('svc2', criticality='low').ci
        link(cls.svc1, 'depends_on', cls.apps[0])
        link(cls.svc2, 'depends_on', cls.apps[5])

    def test_count_only_counts_each_ci_once_by_step(self):
        walk = ci_impact_count(self.hub, direction=DOWN, depth=8)
        self.assertEqual((walk.total, walk.exact, walk.by_depth, walk.depth_reached), (29, True, [3, 12, 12, 2], 4))
        self.assertEqual(walk.items, [])
        self.assertEqual(ci_impact_count(self.hub, direction=DOWN, depth=2).by_depth, [3, 12])
        self.assertEqual(ci_impact_count(self.svc1, direction=DOWN, depth=8).total, 0)
        self.assertEqual(ci_impact_count(self.svc1, direction=UP, depth=8).by_depth, [1, 1, 1, 1])

    def test_the_count_agrees_with_the_full_walk(self):
        for start in (self.hub, self.segments[0], self.hosts[5], self.apps[0]):
            for direction in (DOWN, UP):
                with self.subTest(start=start.name, direction=direction):
                    full = ci_impact(start, direction=direction, depth=8)
                    walk = ci_impact_count(start, direction=direction, depth=8)
                    self.assertEqual(walk.total, len(full))
                    self.assertTrue(walk.exact)

    def test_a_walk_past_its_cap_stops_after_that_step_and_says_so(self):
        walk = ci_impact_count(self.hub, direction=DOWN, depth=8, cap=10)
        self.assertEqual((walk.total, walk.exact, walk.depth_reached), (15, False, 2))
        at_cap = ci_impact_count(self.hub, direction=DOWN, depth=8, cap=15)
        self.assertEqual((at_cap.total, at_cap.exact), (27, False), '15 is not past a cap of 15: one more step')
        self.assertTrue(ci_impact_count(self.hub, direction=DOWN, depth=2, cap=10).exact, 'stopped by the depth')
        self.assertTrue(ci_impact_count(self.hub, direction=DOWN, depth=8, cap=None).exact)

    def test_pages_follow_the_full_walk_nearest_first_then_by_id_with_real_paths(self):
        full = sorted(ci_impact(self.hub, direction=DOWN, depth=8), key=lambda item: (item.depth, item.id))
        pages = [ci_impact_page(self.hub, direction=DOWN, depth=8, offset=o, limit=10, cap=None) for o in (0, 10, 20)]
        self.assertEqual([item.number for page in pages for item in page.items], [item.number for item in full])
        self.assertEqual(
            [item.path for page in pages for item in page.items], [item.path for item in full], 'same shortest paths'
        )
        self.assertEqual([page.has_more for page in pages], [True, True, False])
        self.assertEqual(pages[0].total, 29)

    def test_a_capped_page_lists_only_what_the_walk_reached(self):
        page = ci_impact_page(self.hub, direction=DOWN, depth=8, offset=10, limit=10, cap=10)
        self.assertEqual((page.total, page.exact), (15, False))
        self.assertEqual([item.depth for item in page.items], [2] * 5)

    def test_services_reached_with_their_paths_without_listing_the_rest(self):
        walk = ci_impact_page(self.hub, direction=DOWN, depth=8, limit=0, cap=None, services=True)
        self.assertEqual(walk.items, [])
        by_name = {item.name: item for item in walk.services}
        self.assertEqual(set(by_name), {'svc1', 'svc2'})
        self.assertEqual(
            by_name['svc1'].path,
            [self.hub.number, self.segments[0].number, self.hosts[0].number, self.apps[0].number, self.svc1.number],
        )
        self.assertEqual((by_name['svc2'].depth, by_name['svc2'].criticality), (4, 'low'))
        capped = ci_impact_page(self.hub, direction=DOWN, depth=8, limit=0, cap=10, services=True)
        self.assertEqual(capped.services, [], 'services beyond where a capped walk stopped are not listed')

    def test_services_impacted_stop_at_the_cap(self):
        # hub: 3 segments, then 12 hosts, then 12 applications, then the services at step 4.
        self.assertEqual([s.name for s in selectors.services_impacted_by(self.hub)], ['svc1', 'svc2'])
        self.assertEqual([s.name for s in selectors.services_impacted_by(self.hub, cap=None)], ['svc1', 'svc2'])
        # Past 10 CIs by the second step (15): the walk ends there, before the services.
        self.assertEqual(selectors.services_impacted_by(self.hub, cap=10), [])
        self.assertEqual([s.name for s in selectors.services_impacted_by(self.hub, cap=28)], ['svc1', 'svc2'])

    def test_one_query_whatever_the_mode(self):
        self.assertEqual(self.count_queries(lambda: ci_impact_count(self.hub, direction=DOWN)), 1)
        self.assertEqual(self.count_queries(lambda: ci_impact_page(self.hub, direction=DOWN, services=True)), 1)

    def test_the_api_counts_and_pages(self):
        client = self.api_client(self.make_user(Role.SERVICE_DESK_AGENT))
        url = reverse('api:configurationitem-impact', kwargs={'number': self.hub.number})
        response = client.get(url, {'count_only': '1'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            response.data,
            {
                'ci': self.hub.number,
                'direction': DOWN,
                'depth': 8,
                'count': 29,
                'count_exact': True,
                'depth_reached': 4,
                'by_depth': [3, 12, 12, 2],
            },
        )
        response = client.get(url, {'offset': 3, 'limit': 2, 'path': 'false'})
        self.assertHttpStatus(response, 200)
        self.assertEqual((response.data['count'], response.data['offset'], response.data['limit']), (29, 3, 2))
        self.assertEqual([item['number'] for item in response.data['items']], [h.number for h in self.hosts[:2]])
        self.assertNotIn('path', response.data['items'][0])
        with mock.patch.object(selectors, 'IMPACT_COUNT_LIMIT', 10):
            response = client.get(url, {'count_only': 'true'})
        self.assertEqual((response.data['count'], response.data['count_exact']), (15, False))
        self.assertHttpStatus(client.get(url, {'limit': 0}), 400)
        self.assertHttpStatus(client.get(url, {'limit': 100_000}), 400)
        self.assertEqual(len(client.get(url).data['items']), 29, 'without paging parameters: every CI')

    def test_the_ci_page_shows_a_bounded_count_and_the_nearest_cis(self):
        self.client.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        url = reverse('cmdb:configurationitem_detail', kwargs={'number': self.hub.number})
        response = self.client.get(url)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, '29 CIs')
        self.assertEqual({item.name for item in response.context['impact_services']}, {'svc1', 'svc2'})
        with mock.patch.object(selectors, 'IMPACT_COUNT_LIMIT', 10):
            response = self.client.get(url)
        self.assertContains(response, 'At least 15 CIs')
        self.assertContains(response, 'within 2 of 8 steps')
        self.assertEqual(response.context['impact_services'], [])
        with mock.patch('cmdb.views.IMPACT_SHOWN', 5):
            response = self.client.get(url)
        self.assertEqual(len(response.context['impact_items']), 5)
        self.assertContains(response, 'data-testid="impact-more"')
