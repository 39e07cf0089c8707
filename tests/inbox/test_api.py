"""`/api/v1/notifications/` and `/api/v1/notification-preferences/`: the caller's own rows only."""

from django.forms.models import model_to_dict
from django.urls import reverse

from inbox.models import EmailPreference, Notification
from itsm.choices import Role, TimelineKind
from tests.base import APITestCases
from tests.factories import make_ticket

from .factories import EmailPreferenceFactory, NotificationFactory


class OwnRowsAPITests:
    """Personal rows: written by the notification kit (no create or delete), read by their owner only."""

    def owner(self):
        if not hasattr(self, '_owner'):
            self._owner = self.make_user(Role.SERVICE_DESK_AGENT)
        return self._owner

    def viewer(self):
        return self.owner()

    def writer(self):
        return self.owner()

    def outsider(self):
        return self.make_user(Role.REQUESTER)

    def test_create_writes_record_and_timeline(self):
        before = self.model._default_manager.count()
        response = self.api_client(self.owner()).post(self.list_url(), {}, format='json')
        self.assertHttpStatus(response, 405)
        self.assertEqual(self.model._default_manager.count(), before)

    def test_create_without_permission_is_forbidden(self):
        self.assertHttpStatus(self.api_client(self.outsider()).post(self.list_url(), {}, format='json'), 405)

    def test_create_rejects_malformed_json(self):
        response = self.api_client(self.owner()).post(self.list_url(), '{"x', content_type='application/json')
        self.assertHttpStatus(response, 405)

    def test_delete(self):
        obj = self.make_object()
        self.assertHttpStatus(self.api_client(self.owner()).delete(self.detail_url(obj)), 405)
        self.assertTrue(self.model._default_manager.filter(pk=obj.pk).exists())

    def test_delete_without_permission_is_forbidden(self):
        self.test_delete()

    def test_list_without_role_is_forbidden(self):
        obj = self.make_object()
        response = self.api_client(self.outsider()).get(self.list_url())
        self.assertHttpStatus(response, 200)
        self.assertNotIn(obj.pk, {row['id'] for row in response.data['results']})
        self.assertHttpStatus(self.api_client(self.outsider()).get(self.detail_url(obj)), 404)


class NotificationAPITests(OwnRowsAPITests, APITestCases.ModelAPITestCase):
    model = Notification
    basename = 'notification'
    supports_delete = False

    def make_object(self, **kwargs):
        kwargs.setdefault('record', self.ticket())
        return NotificationFactory(recipient=self.owner(), **kwargs)

    def ticket(self):
        if not hasattr(self, '_ticket'):
            self._ticket = make_ticket()
        return self._ticket

    def filter_cases(self):
        other_ticket = make_ticket()
        unread = self.make_object(record=other_ticket, event='mention')
        read = self.make_object(read_at='2026-01-01T00:00:00Z')
        return [
            ({'unread': 'true'}, [unread]),
            ({'unread': 'false'}, [read]),
            ({'topic': 'mentions'}, [unread]),
            ({'number': other_ticket.number.lower()}, [unread]),
        ]

    def test_update_records_field_changes(self):
        obj = self.make_object()
        response = self.api_client(self.owner()).patch(self.detail_url(obj), {'label': 'x'}, format='json')
        self.assertHttpStatus(response, 405)

    def test_update_without_permission_is_forbidden(self):
        self.test_update_records_field_changes()

    def test_read_only_fields_are_not_writable(self):
        obj = self.make_object()
        before = model_to_dict(obj)
        response = self.api_client(self.owner()).put(self.detail_url(obj), {'read_at': None}, format='json')
        self.assertHttpStatus(response, 405)
        obj.refresh_from_db()
        self.assertEqual(model_to_dict(obj), before)

    def test_mark_one_read_then_all(self):
        first, second = self.make_object(), self.make_object()
        client = self.api_client(self.owner())
        response = client.post(reverse('api:notification-read', args=[first.pk]))
        self.assertHttpStatus(response, 200)
        self.assertTrue(response.data['read'])
        first.refresh_from_db()
        read_at = first.read_at
        self.assertIsNotNone(read_at)
        client.post(reverse('api:notification-read', args=[first.pk]))
        first.refresh_from_db()
        self.assertEqual(first.read_at, read_at, 'reading again keeps the first reading time')
        response = client.post(reverse('api:notification-read-all'))
        self.assertEqual(response.data, {'marked': 1})
        second.refresh_from_db()
        self.assertIsNotNone(second.read_at)

    def test_nobody_marks_another_persons_notification(self):
        obj = self.make_object()
        response = self.api_client(self.outsider()).post(reverse('api:notification-read', args=[obj.pk]))
        self.assertHttpStatus(response, 404)
        self.api_client(self.outsider()).post(reverse('api:notification-read-all'))
        obj.refresh_from_db()
        self.assertIsNone(obj.read_at)

    def test_unknown_parameters_are_refused(self):
        response = self.api_client(self.owner()).get(self.list_url(), {'recipient': 1})
        self.assertHttpStatus(response, 400)


class EmailPreferenceAPITests(OwnRowsAPITests, APITestCases.ModelAPITestCase):
    model = EmailPreference
    basename = 'emailpreference'
    supports_delete = False
    update_data = {'sla': False, 'mentions': False}
    read_only_fields = {'user': 'someone-else'}

    def make_object(self, **kwargs):
        return EmailPreferenceFactory(user=self.owner(), **kwargs)

    def test_list_and_retrieve(self):
        response = self.api_client(self.owner()).get(self.list_url())
        self.assertHttpStatus(response, 200)
        (row,) = response.data['results']
        self.assertEqual(row['user'], self.owner().username)
        self.assertTrue(all(row[topic] for topic in EmailPreference.TOPICS), 'every topic is on by default')
        self.assertHttpStatus(self.api_client(self.owner()).get(self.detail_url(self.make_object())), 200)

    def test_update_records_field_changes(self):
        super().test_update_records_field_changes()
        entry = self.timeline(EmailPreference.objects.get(user=self.owner()), TimelineKind.FIELD_CHANGE).get()
        self.assertEqual({c['field'] for c in entry.changes}, {'sla', 'mentions'})

    def test_update_without_permission_is_forbidden(self):
        obj = self.make_object()
        response = self.api_client(self.outsider()).patch(self.detail_url(obj), self.update_data, format='json')
        self.assertHttpStatus(response, 404)
        obj.refresh_from_db()
        self.assertTrue(obj.sla)

    def test_bad_values_are_a_400(self):
        obj = self.make_object()
        response = self.api_client(self.owner()).patch(self.detail_url(obj), {'sla': 'perhaps'}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('sla', str(response.data))
