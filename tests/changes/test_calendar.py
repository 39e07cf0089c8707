"""The change calendar: conflicts across the CMDB graph, freeze windows, the month/week/list pages, the API range
and the iCalendar feed."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings

from changes.calendar import conflicts_among, conflicts_for, freezes_for
from changes.choices import ChangeState, ChangeType
from changes.models import Change, FreezeWindow
from cmdb.choices import CIClass, RelationshipType
from tests.base import ItsmTestCase
from tests.cmdb.factories import link, make_ci

UTC = dt.UTC
T0 = dt.datetime(2026, 12, 14, 20, 0, tzinfo=UTC)


def planned_change(*cis, start=T0, hours=2, state=ChangeState.SCHEDULED, change_type=ChangeType.NORMAL, **fields):
    """A change planned over [start, start + hours) on `cis`, put straight in `state` (the calendar reads data)."""
    change = Change.objects.create(
        short_description=fields.pop('short_description', 'Patch the estate'),
        change_type=change_type,
        opened_at=start - dt.timedelta(days=7),
        planned_start=start,
        planned_end=start + dt.timedelta(hours=hours),
        **fields,
    )
    Change.objects.filter(pk=change.pk).update(state=state)
    change.refresh_from_db()
    change.cis.set(cis)
    return change


class ConflictTests(ItsmTestCase):
    def setUp(self):
        # app ─runs on→ server ←runs on─ other_app; db unrelated
        self.server = make_ci(CIClass.SERVER, name='srv-01')
        self.app = make_ci(CIClass.APPLICATION, name='Billing')
        self.other_app = make_ci(CIClass.APPLICATION, name='Payroll')
        self.unrelated = make_ci(CIClass.APPLICATION, name='Wiki')
        link(self.app, RelationshipType.RUNS_ON, self.server)
        link(self.other_app, RelationshipType.RUNS_ON, self.server)

    def test_same_ci_overlapping_in_time_conflicts(self):
        mine = planned_change(self.app)
        other = planned_change(self.app, start=T0 + dt.timedelta(hours=1))
        [conflict] = conflicts_for(mine)
        self.assertEqual(conflict.change, other)
        self.assertEqual((conflict.ci, conflict.related_ci, conflict.path), (self.app, self.app, [self.app.number]))

    def test_no_conflict_when_windows_do_not_overlap(self):
        mine = planned_change(self.app)
        planned_change(self.app, start=T0 + dt.timedelta(hours=2))  # starts when mine ends
        self.assertEqual(conflicts_for(mine), [])

    def test_related_ci_at_depth_one_conflicts_with_its_path(self):
        mine = planned_change(self.app)
        other = planned_change(self.server)
        [conflict] = conflicts_for(mine)
        self.assertEqual(conflict.change, other)
        self.assertEqual(conflict.ci, self.app)
        self.assertEqual(conflict.related_ci, self.server)
        self.assertEqual(conflict.path, [self.app.number, self.server.number])
        # The relationship counts in both directions.
        self.assertEqual([c.change for c in conflicts_for(other)], [mine])

    @override_settings(CHANGE_CONFLICT_DEPTH=1)
    def test_ci_two_steps_away_is_no_conflict_at_depth_one(self):
        mine = planned_change(self.app)
        planned_change(self.other_app)  # app → server ← other_app: two steps
        self.assertEqual(conflicts_for(mine), [])

    @override_settings(CHANGE_CONFLICT_DEPTH=2)
    def test_ci_two_steps_away_conflicts_when_the_depth_allows(self):
        mine = planned_change(self.app)
        other = planned_change(self.other_app)
        [conflict] = conflicts_for(mine)
        self.assertEqual(conflict.change, other)
        self.assertEqual(conflict.path, [self.app.number, self.server.number, self.other_app.number])

    def test_unrelated_ci_and_finished_changes_do_not_conflict(self):
        mine = planned_change(self.app)
        planned_change(self.unrelated)
        planned_change(self.app, state=ChangeState.CANCELLED)
        planned_change(self.app, state=ChangeState.DRAFT)
        self.assertEqual(conflicts_for(mine), [])

    def test_query_count_does_not_grow_with_changes(self):
        changes = [planned_change(self.app), planned_change(self.server)]
        few = self.count_queries(lambda: conflicts_among(changes))
        changes += [planned_change(self.other_app), planned_change(self.app), planned_change(self.server)]
        result = {}
        many = self.count_queries(lambda: result.update(conflicts_among(changes)))
        self.assertEqual(few, many)
        self.assertEqual(len(result[changes[0].pk]), 3)  # the server's two changes and the other change on app


class FreezesForTests(ItsmTestCase):
    def setUp(self):
        self.service = make_ci(CIClass.SERVICE, name='Payments')
        self.other_service = make_ci(CIClass.SERVICE, name='Intranet')
        self.app = make_ci(CIClass.APPLICATION, name='Billing')

    def window(self, *services, start=T0 - dt.timedelta(hours=1), hours=24, **fields):
        window = FreezeWindow.objects.create(
            name=fields.pop('name', 'Year-end freeze'),
            starts_at=start,
            ends_at=start + dt.timedelta(hours=hours),
            **fields,
        )
        window.services.set(services)
        return window

    def test_global_window_freezes_every_change_in_it(self):
        window = self.window()
        change = planned_change(self.app)
        self.assertEqual(freezes_for(change), [window])

    def test_window_on_services_freezes_only_changes_touching_them(self):
        window = self.window(self.service)
        on_service = planned_change(self.app)
        on_service.services.set([self.service])
        elsewhere = planned_change(self.app)
        elsewhere.services.set([self.other_service])
        self.assertEqual(freezes_for(on_service), [window])
        self.assertEqual(freezes_for(elsewhere), [])

    def test_inactive_or_non_overlapping_windows_do_not_freeze(self):
        self.window(active=False)
        self.window(start=T0 + dt.timedelta(hours=2), hours=5)  # starts when the change ends
        self.assertEqual(freezes_for(planned_change(self.app)), [])
