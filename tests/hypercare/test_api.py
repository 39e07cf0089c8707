"""Generic CRUD, permission and query-count tests of periods and rules, through the API and the pages."""

import datetime as dt

from django.utils import timezone

from changes.choices import ChangeType
from hypercare.models import HypercarePeriod, HypercareRule
from itsm.choices import Role
from tests.base import APITestCases, ViewTestCases

from .factories import make_period, make_rule, service_ci

DAY = dt.timedelta(days=1)


def local(moment):
    return timezone.localtime(moment).strftime('%Y-%m-%dT%H:%M')


class HypercarePeriodAPITests(APITestCases.ModelAPITestCase):
    model = HypercarePeriod
    basename = 'hypercareperiod'
    view_roles = (Role.INCIDENT_MANAGER,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    read_only_fields = {'ended_at': '2030-01-01T00:00:00Z', 'began_at': None}

    def make_object(self, **kwargs):
        return make_period(**kwargs)

    def create_data(self):
        return {
            'service': service_ci().number,
            'ends_at': (timezone.now() + 14 * DAY).replace(microsecond=0).isoformat(),
            'reason': 'Mail platform migrated',
        }

    # Thirty days from when the tests load: later than any period the tests start.
    update_data = {
        'ends_at': (timezone.now() + 30 * DAY).replace(second=0, microsecond=0).isoformat(),
        'reason': 'Extended',
    }

    def filter_cases(self):
        active = make_period()
        scheduled = make_period(starts_at=timezone.now() + 5 * DAY, ends_at=timezone.now() + 9 * DAY)
        return [
            ({'state': 'active'}, [active]),
            ({'state': 'scheduled'}, [scheduled]),
            ({'service': active.service.number}, [active]),
        ]

    def assertStored(self, obj, data):
        obj.refresh_from_db()
        if 'service' in data:
            self.assertEqual(obj.service.number, data['service'])
        if 'ends_at' in data:
            self.assertEqual(obj.ends_at, dt.datetime.fromisoformat(data['ends_at']))
        self.assertEqual(obj.reason, data['reason'])

    def test_delete(self):
        obj = self.make_object()
        response = self.api_client(self.make_user(Role.ADMINISTRATOR)).delete(self.detail_url(obj))
        self.assertHttpStatus(response, 204)
        self.assert_deleted(obj)


class HypercareRuleAPITests(APITestCases.ModelAPITestCase):
    model = HypercareRule
    basename = 'hypercarerule'
    view_roles = (Role.INCIDENT_MANAGER,)
    write_roles = (Role.CHANGE_MANAGER,)
    update_data = {'duration_days': 21, 'name': 'Three weeks after normal changes'}

    def make_object(self, **kwargs):
        return make_rule(**kwargs)

    def create_data(self):
        return {'name': 'Two weeks after migrations', 'change_type': 'normal', 'duration_days': 14}

    def filter_cases(self):
        emergency = make_rule(change_type=ChangeType.EMERGENCY)
        service = service_ci()
        scoped = make_rule(service=service)
        return [({'change_type': 'emergency'}, [emergency]), ({'service': service.number}, [scoped])]


class HypercarePeriodViewTests(ViewTestCases.ModelViewTestCase):
    model = HypercarePeriod
    view_roles = (Role.INCIDENT_MANAGER,)
    write_roles = (Role.CHANGE_MANAGER,)
    read_only_roles = (Role.MANAGER,)

    def make_object(self, **kwargs):
        return make_period(**kwargs)

    def form_data(self):
        return {'service': service_ci().pk, 'ends_at': local(timezone.now() + 14 * DAY), 'reason': 'Go-live'}

    def edit_data(self, obj):
        return {'ends_at': local(obj.ends_at + 7 * DAY), 'reason': 'Extended after review'}

    def assertStored(self, obj, data):
        obj.refresh_from_db()
        self.assertEqual(local(obj.ends_at), data['ends_at'])
        self.assertEqual(obj.reason, data['reason'])

    def test_delete(self):
        obj = self.make_object()
        self.login(Role.ADMINISTRATOR)
        self.assertHttpStatus(self.client.post(self.url('delete', obj)), 302)
        self.assert_deleted(obj)

    def test_end_early_page(self):
        obj = self.make_object()
        self.login(*self.write_roles)
        url = f'{obj.get_absolute_url()}end/'
        self.assertHttpStatus(self.client.get(url), 200)
        self.assertHttpStatus(self.client.post(url, {'reason': 'Stable for a week.'}), 302)
        obj.refresh_from_db()
        self.assertEqual((obj.state, obj.end_reason), ('ended', 'Stable for a week.'))


class HypercareRuleViewTests(ViewTestCases.ModelViewTestCase):
    model = HypercareRule
    view_roles = (Role.INCIDENT_MANAGER,)
    write_roles = (Role.CHANGE_MANAGER,)

    def make_object(self, **kwargs):
        return make_rule(**kwargs)

    def form_data(self):
        return {'name': 'After standard changes', 'change_type': 'standard', 'duration_days': 7, 'active': 'on'}
