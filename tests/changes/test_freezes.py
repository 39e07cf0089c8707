"""Freeze windows: their pages and API (change managers write them), and the scheduling rule they carry: a normal
change planned inside one is refused unless a change manager overrides it with a reason (stored and on the
timeline); standard and emergency changes are not refused."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from changes import services
from changes.choices import ChangeState, ChangeType
from changes.models import Change, FreezeWindow
from cmdb.choices import CIClass
from itsm.audit import Actor
from itsm.choices import Role
from itsm.errors import ApplicationError
from tests.base import APITestCases, ItsmTestCase, ViewTestCases
from tests.changes.factories import ChangeFactory, FreezeWindowFactory, _authorise, make_change_manager, window
from tests.cmdb.factories import make_ci

LOCAL = '%Y-%m-%dT%H:%M'


def soon(days: int) -> dt.datetime:
    return timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=days)


class FreezeWindowViewTests(ViewTestCases.ModelViewTestCase):
    model = FreezeWindow
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.L2_ENGINEER, Role.CAB_MEMBER)

    def make_object(self, **kwargs):
        return FreezeWindowFactory(**kwargs)

    def form_data(self):
        return {
            'name': 'Quarter-end close',
            'starts_at': soon(30).isoformat(),
            'ends_at': soon(33).isoformat(),
            'reason': 'Finance closes the books.',
            'active': 'on',
        }

    def invalid_form_data(self):
        return {'ends_at': timezone.localtime(soon(29)).strftime(LOCAL)}

    def test_end_before_start_is_explained_on_the_form(self):
        self.login(Role.CHANGE_MANAGER)
        response = self.client.post(self.url('add'), {**self.form_data(), **self.invalid_form_data()})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'A freeze window ends after it starts.')
        self.assertFalse(FreezeWindow.objects.exists())

    def test_pages_say_which_changes_are_refused(self):
        self.login(Role.CHANGE_MANAGER)
        held = ChangeFactory(state=ChangeState.ASSESSMENT)
        obj = self.make_object(starts_at=held.planned_start - dt.timedelta(hours=1))
        page = self.client.get(self.url('detail', obj))
        self.assertContains(page, 'Standard and emergency changes are not refused')
        self.assertContains(page, held.number)
        self.assertContains(self.client.get(self.url('add')), 'Standard and emergency changes are not refused')

    def test_window_on_a_service_lists_only_changes_touching_it(self):
        self.login(Role.CHANGE_MANAGER)
        service = make_ci(CIClass.SERVICE, name='Payments')
        elsewhere = ChangeFactory(state=ChangeState.ASSESSMENT)
        obj = self.make_object(starts_at=elsewhere.planned_start - dt.timedelta(hours=1), services=[service])
        self.assertNotContains(self.client.get(self.url('detail', obj)), elsewhere.number)


class FreezeWindowAPITests(APITestCases.ModelAPITestCase):
    model = FreezeWindow
    basename = 'freezewindow'
    view_roles = (Role.L2_ENGINEER,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.L2_ENGINEER,)
    update_data = {'name': 'Extended freeze', 'reason': 'Peak trading goes on.'}

    def make_object(self, **kwargs):
        return FreezeWindowFactory(**kwargs)

    def create_data(self):
        return {
            'name': 'Black Friday',
            'starts_at': soon(40).isoformat(),
            'ends_at': soon(42).isoformat(),
            'reason': 'Peak trading.',
            'services': [make_ci(CIClass.SERVICE, name='Web shop').number],
        }

    def filter_cases(self):
        service = make_ci(CIClass.SERVICE, name='Payments')
        early = self.make_object(name='Early', starts_at=soon(1))
        late = self.make_object(name='Late', starts_at=soon(60), services=[service])
        off = self.make_object(name='Switched off', starts_at=soon(1), active=False)
        return [
            ({'q': 'early'}, [early]),
            ({'service': service.number}, [late]),
            ({'active': 'false'}, [off]),
            ({'after': soon(30).isoformat()}, [late]),
        ]

    def test_end_before_start_is_400(self):
        data = {**self.create_data(), 'ends_at': soon(39).isoformat()}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('ends_at', response.data)

    def test_a_ci_that_is_not_a_service_is_400(self):
        data = {**self.create_data(), 'services': [make_ci(CIClass.SERVER, name='srv-09').number]}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('services', response.data)


class FreezeSchedulingTests(ItsmTestCase):
    """`change_schedule` asks `freezes_for`: a normal change inside a window needs a change manager's override."""

    def setUp(self):
        self.manager = make_change_manager()
        self.actor = Actor(user=self.manager)

    def change_in_freeze(self, change_type=ChangeType.NORMAL, **fields):
        start, end = window(days=10)
        FreezeWindowFactory(name='Year-end', starts_at=start - dt.timedelta(days=1), ends_at=end + dt.timedelta(days=1))
        change = ChangeFactory(
            change_type=change_type, planned_start=start, planned_end=end, state=ChangeState.ASSESSMENT, **fields
        )
        return _authorise(change, Actor.system())

    def test_normal_change_inside_a_freeze_is_refused(self):
        change = self.change_in_freeze()
        with self.assertRaises(ApplicationError) as caught:
            services.change_schedule(change=change, actor=self.actor)
        self.assertIn('Year-end', str(caught.exception.detail))
        self.assertEqual(Change.objects.get(pk=change.pk).state, change.state)

    def test_change_manager_overrides_with_a_reason_stored_and_on_the_timeline(self):
        change = self.change_in_freeze()
        services.change_schedule(change=change, actor=self.actor, freeze_override_reason='Security fix, CISO agreed.')
        change.refresh_from_db()
        self.assertEqual(change.state, ChangeState.SCHEDULED)
        self.assertEqual(change.freeze_override_reason, 'Security fix, CISO agreed.')
        self.assertTrue(
            any('Security fix, CISO agreed.' in (entry.message or '') for entry in self.timeline(change)),
            'the override reason is on the timeline',
        )

    def test_emergency_change_is_not_refused(self):
        change = self.change_in_freeze(change_type=ChangeType.EMERGENCY)
        services.change_schedule(change=change, actor=self.actor)
        self.assertEqual(Change.objects.get(pk=change.pk).state, ChangeState.SCHEDULED)

    def test_freeze_on_another_service_does_not_refuse(self):
        start, end = window(days=10)
        FreezeWindowFactory(starts_at=start, ends_at=end, services=[make_ci(CIClass.SERVICE, name='Intranet')])
        change = _authorise(
            ChangeFactory(planned_start=start, planned_end=end, state=ChangeState.ASSESSMENT), Actor.system()
        )
        services.change_schedule(change=change, actor=self.actor)
        self.assertEqual(Change.objects.get(pk=change.pk).state, ChangeState.SCHEDULED)

    def test_calendar_page_shows_the_freeze_band(self):
        start, _ = window(days=10)
        FreezeWindowFactory(name='Year-end band', starts_at=start, ends_at=start + dt.timedelta(days=1))
        self.client.force_login(self.manager)
        response = self.client.get(reverse('changes:calendar'), {'date': timezone.localtime(start).date().isoformat()})
        self.assertContains(response, 'pc-cal-freeze')
        self.assertContains(response, 'Year-end band')


class FreezeWindowAdminTests(ItsmTestCase):
    def test_admin_saves_through_the_service_with_services(self):
        admin_user = self.make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        self.client.force_login(admin_user)
        service = make_ci(CIClass.SERVICE, name='Payments')
        start = timezone.localtime(soon(5))
        data = {
            'name': 'Audit week',
            'starts_at_0': start.strftime('%Y-%m-%d'),
            'starts_at_1': start.strftime('%H:%M:%S'),
            'ends_at_0': (start + dt.timedelta(days=2)).strftime('%Y-%m-%d'),
            'ends_at_1': start.strftime('%H:%M:%S'),
            'reason': 'Auditors on site.',
            'services': [service.pk],
            'active': 'on',
        }
        response = self.client.post(reverse('admin:changes_freezewindow_add'), data)
        self.assertHttpStatus(response, 302)
        window = FreezeWindow.objects.get(name='Audit week')
        self.assertEqual(list(window.services.all()), [service])
        self.assertTrue(self.timeline(window).exists(), 'the service wrote the created entry')
