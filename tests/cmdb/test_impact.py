"""Impact analysis on hand-built graphs: exact sets, depths and paths, depth limits and cycles."""

import random

from cmdb.choices import CIClass, ImpactDirection
from cmdb.selectors import ci_impact, services_impacted_by, suggested_service
from tests.base import ItsmTestCase

from .factories import link, make_ci, make_service

DOWN, UP = ImpactDirection.DOWNSTREAM, ImpactDirection.UPSTREAM


def depths(items) -> dict[str, int]:
    return {item.name: item.depth for item in items}


class ImpactTests(ItsmTestCase):
    """router ← lan ← srv ← vm ← {app, db}; app → db; svc → app (arrows point at what a CI depends on)."""

    @classmethod
    def setUpTestData(cls):
        cls.router = make_ci(CIClass.NETWORK_DEVICE, 'router')
        cls.lan = make_ci(CIClass.NETWORK_SEGMENT, 'lan')
        cls.srv = make_ci(CIClass.SERVER, 'srv')
        cls.vm = make_ci(CIClass.VIRTUAL_MACHINE, 'vm')
        cls.app = make_ci(CIClass.APPLICATION, 'app')
        cls.db = make_ci(CIClass.DATABASE, 'db')
        cls.svc = make_service('svc', criticality='high').ci
        link(cls.lan, 'connected_to', cls.router)
        link(cls.srv, 'connected_to', cls.lan)
        link(cls.vm, 'runs_on', cls.srv)
        link(cls.app, 'runs_on', cls.vm)
        link(cls.db, 'runs_on', cls.vm)
        link(cls.app, 'depends_on', cls.db)
        link(cls.svc, 'depends_on', cls.app)

    def test_downstream_is_everything_that_depends_on_the_ci_at_its_shortest_distance(self):
        items = ci_impact(self.router, direction=DOWN, depth=8)
        self.assertEqual(depths(items), {'lan': 1, 'srv': 2, 'vm': 3, 'app': 4, 'db': 4, 'svc': 5})
        paths = {item.name: item.path for item in items}
        n = {ci.name: ci.number for ci in (self.router, self.lan, self.srv, self.vm, self.app, self.svc)}
        self.assertEqual(paths['app'], [n['router'], n['lan'], n['srv'], n['vm'], n['app']])
        self.assertEqual(paths['svc'], [n['router'], n['lan'], n['srv'], n['vm'], n['app'], n['svc']])
        self.assertEqual([i.depth for i in items], sorted(i.depth for i in items), 'nearest first')

    def test_depth_limits_the_walk(self):
        self.assertEqual(depths(ci_impact(self.router, direction=DOWN, depth=1)), {'lan': 1})
        self.assertEqual(depths(ci_impact(self.router, direction=DOWN, depth=3)), {'lan': 1, 'srv': 2, 'vm': 3})

    def test_upstream_is_what_the_ci_depends_on(self):
        items = ci_impact(self.svc, direction=UP, depth=8)
        self.assertEqual(depths(items), {'app': 1, 'db': 2, 'vm': 2, 'srv': 3, 'lan': 4, 'router': 5})
        self.assertEqual(depths(ci_impact(self.svc, direction=UP, depth=2)), {'app': 1, 'db': 2, 'vm': 2})

    def test_a_leaf_has_no_downstream_and_a_root_no_upstream(self):
        self.assertEqual(ci_impact(self.svc, direction=DOWN, depth=8), [])
        self.assertEqual(ci_impact(self.router, direction=UP, depth=8), [])

    def test_cycles_end_and_never_return_the_start(self):
        # router and lan now depend on each other; three applications depend on each other in a ring.
        link(self.router, 'connected_to', self.lan)
        a1, a2, a3 = (make_ci(CIClass.APPLICATION, f'ring{i}') for i in (1, 2, 3))
        link(a1, 'depends_on', a2)
        link(a2, 'depends_on', a3)
        link(a3, 'depends_on', a1)
        self.assertEqual(
            depths(ci_impact(self.router, direction=DOWN, depth=50)),
            {'lan': 1, 'srv': 2, 'vm': 3, 'app': 4, 'db': 4, 'svc': 5},
        )
        self.assertEqual(depths(ci_impact(self.lan, direction=UP, depth=50)), {'router': 1})
        self.assertEqual(depths(ci_impact(a1, direction=DOWN, depth=50)), {'ring3': 1, 'ring2': 2})
        self.assertEqual(depths(ci_impact(a1, direction=UP, depth=50)), {'ring2': 1, 'ring3': 2})

    def test_services_impacted_and_the_suggestion(self):
        other = make_service('other', criticality='critical').ci
        link(other, 'depends_on', self.db)
        impacted = services_impacted_by(self.db)
        # 'other' depends on db directly (1 step); 'svc' through app (2 steps).
        self.assertEqual([(s.name, s.depth) for s in impacted], [('other', 1), ('svc', 2)])
        self.assertEqual(suggested_service(self.db).number, other.number)
        self.assertEqual(suggested_service(self.svc).number, self.svc.number, 'a service suggests itself')
        self.assertIsNone(suggested_service(make_ci(CIClass.SERVER)))

    def test_ties_go_to_the_most_critical_service(self):
        low = make_service('low', criticality='low').ci
        link(low, 'depends_on', self.app)
        self.assertEqual([s.name for s in services_impacted_by(self.app)], ['svc', 'low'])

    def test_one_query_whatever_the_size(self):
        self.assertEqual(self.count_queries(lambda: ci_impact(self.router, direction=DOWN, depth=8)), 1)


class RandomGraphTests(ItsmTestCase):
    """On a meshed random graph (cycles everywhere) the SQL walk agrees with a breadth-first search."""

    def test_matches_breadth_first_search_and_paths_are_real_shortest_paths(self):
        rng = random.Random(7)
        cis = [make_ci(CIClass.APPLICATION, f'a{i}') for i in range(30)]
        edges = set()
        while len(edges) < 90:
            source, target = rng.sample(range(30), 2)
            if (source, target) not in edges:
                edges.add((source, target))
                link(cis[source], 'depends_on', cis[target])
        number = {ci.number: i for i, ci in enumerate(cis)}
        for direction, step in (
            (DOWN, lambda i: [s for s, t in edges if t == i]),
            (UP, lambda i: [t for s, t in edges if s == i]),
        ):
            for start in (0, 7, 19):
                for depth in (1, 3, 8):
                    expected, frontier, level = {}, [start], 0
                    while frontier and level < depth:
                        level += 1
                        frontier = [n for i in frontier for n in step(i) if n != start and n not in expected]
                        for n in frontier:
                            expected.setdefault(n, level)
                        frontier = list(dict.fromkeys(frontier))
                    items = ci_impact(cis[start], direction=direction, depth=depth)
                    with self.subTest(direction=direction, start=start, depth=depth):
                        self.assertEqual({number[i.number]: i.depth for i in items}, expected)
                        for item in items:
                            hops = [number[n] for n in item.path]
                            self.assertEqual(
                                (hops[0], hops[-1], len(hops)), (start, number[item.number], item.depth + 1)
                            )
                            pairs = zip(hops, hops[1:], strict=False)
                            self.assertTrue(all(b in step(a) for a, b in pairs), item.path)
