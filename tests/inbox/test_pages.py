"""The inbox pages: the bell, my notifications, opening one, mark all read, e-mail preferences.

Notifications are written by the notification kit, never through a form, and each person sees only their own: the
generic page tests run with that rule (another person's notification is a 404, there is no add, edit or delete).
"""

from django.urls import NoReverseMatch, reverse

from inbox.models import EmailPreference, Notification
from itsm.choices import Role
from tests.base import ItsmTestCase, ViewTestCases
from tests.factories import make_ticket

from .factories import EmailPreferenceFactory, NotificationFactory


class OwnRowsViewTests:
    """Personal rows: each person's own list, no add/edit/delete pages, another person's row answers 404."""

    def assert_not_routed(self, name):
        with self.assertRaises(NoReverseMatch):
            reverse(f'inbox:{self.model._meta.model_name}_{name}', kwargs={'pk': 1})

    def test_add(self):
        with self.assertRaises(NoReverseMatch):
            reverse(f'inbox:{self.model._meta.model_name}_add')

    def test_add_without_permission_is_forbidden(self):
        self.test_add()

    def test_add_invalid_keeps_input_and_shows_errors(self):
        self.test_add()

    def test_edit(self):
        self.assert_not_routed('edit')

    def test_edit_without_permission_is_forbidden(self):
        self.assert_not_routed('edit')

    def test_delete(self):
        self.assert_not_routed('delete')


class NotificationViewTests(OwnRowsViewTests, ViewTestCases.ModelViewTestCase):
    model = Notification
    view_roles = (Role.SERVICE_DESK_AGENT,)

    def make_object(self, **kwargs):
        return NotificationFactory(recipient=self.owner(), **kwargs)

    def owner(self):
        if not hasattr(self, '_owner'):
            self._owner = self.make_user(*self.view_roles)
        return self._owner

    def login(self, *roles):
        self.client.force_login(self.owner())
        return self.owner()

    def url(self, action, obj=None):
        if action == 'list':
            return reverse('inbox:notification_list')
        return reverse('inbox:notification_open', args=[obj.pk])

    def test_list_and_detail(self):
        ticket = make_ticket(short_description='Scanner <b>offline</b>')
        notification = self.make_object(record=ticket)
        self.login()
        response = self.client.get(self.url('list'))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, ticket.number)
        self.assertContains(response, 'Scanner &lt;b&gt;offline&lt;/b&gt;')  # escaped
        self.assertContains(response, '(unread)')
        response = self.client.get(self.url('detail', notification))
        self.assertRedirects(response, ticket.get_absolute_url(), fetch_redirect_response=False)
        notification.refresh_from_db()
        self.assertIsNotNone(notification.read_at)

    def test_pages_without_role_are_forbidden(self):
        notification = self.make_object()
        self.client.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.get(self.url('list'))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.context['notifications'], [])
        self.assertHttpStatus(self.client.get(self.url('detail', notification)), 404)
        notification.refresh_from_db()
        self.assertIsNone(notification.read_at)

    def test_unread_filter_and_mark_all_read(self):
        read = self.make_object()
        self.make_object()
        self.login()
        self.client.get(self.url('detail', read))
        response = self.client.get(self.url('list'), {'unread': 'true'})
        self.assertEqual(len(response.context['notifications']), 1)
        self.assertEqual(response.context['unread'], 1)
        response = self.client.post(reverse('inbox:read_all'))
        self.assertRedirects(response, reverse('inbox:notification_list'), fetch_redirect_response=False)
        self.assertFalse(Notification.objects.filter(recipient=self.owner(), read_at__isnull=True).exists())
        self.assertHttpStatus(self.client.get(reverse('inbox:read_all')), 405)

    def test_a_requester_opens_their_own_ticket_in_the_portal(self):
        caller = self.make_user(Role.REQUESTER)
        ticket = make_ticket(caller=caller)
        notification = NotificationFactory(recipient=caller, record=ticket, event='received')
        self.client.force_login(caller)
        response = self.client.get(self.url('detail', notification))
        self.assertRedirects(
            response, reverse('incidents:portal_ticket', args=[ticket.number]), fetch_redirect_response=False
        )

    def test_a_record_no_longer_visible_leads_back_to_the_inbox(self):
        caller = self.make_user(Role.REQUESTER)
        notification = NotificationFactory(recipient=caller, record=make_ticket(), event='received')
        self.client.force_login(caller)
        response = self.client.get(self.url('detail', notification))
        self.assertRedirects(response, reverse('inbox:notification_list'), fetch_redirect_response=False)

    def test_the_bell_shows_the_unread_count_and_latest(self):
        for _ in range(3):
            self.make_object()
        self.make_object(read_at='2026-01-01T00:00:00Z')
        self.login()
        queries = self.count_queries(lambda: self.client.get(reverse('inbox:bell')))
        response = self.client.get(reverse('inbox:bell'))
        self.assertContains(response, 'data-testid="inbox-unread">3<')
        self.assertEqual(response.content.decode().count('data-testid="inbox-item"'), 4)
        self.assertNotContains(response, '<html')
        for _ in range(10):
            self.make_object()
        self.assertEqual(self.count_queries(lambda: self.client.get(reverse('inbox:bell'))), queries)
        response = self.client.post(reverse('inbox:read_all'), headers={'HX-Request': 'true'})
        self.assertEqual(response['HX-Trigger'], 'pc-inbox-changed')
        self.assertNotContains(response, 'data-testid="inbox-unread"')

    def test_every_page_has_the_bell_without_a_query_of_its_own(self):
        self.login()
        response = self.client.get(reverse('itsm:profile'))
        self.assertContains(response, f'hx-get="{reverse("inbox:bell")}"')
        self.assertContains(response, reverse('inbox:preferences'))


class EmailPreferenceViewTests(OwnRowsViewTests, ViewTestCases.ModelViewTestCase):
    """One page: my preferences (created with every topic on when first shown)."""

    model = EmailPreference

    def make_object(self, **kwargs):
        return EmailPreferenceFactory(**kwargs)

    def url(self, action, obj=None):
        return reverse('inbox:preferences')

    def test_list_and_detail(self):
        user = self.login(*self.view_roles)
        response = self.client.get(self.url('list'))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.content.decode().count('checked'), len(EmailPreference.TOPICS))
        self.assertTrue(EmailPreference.objects.filter(user=user).exists())

    def test_list_htmx_partial(self):
        self.login(*self.view_roles)
        self.assertHttpStatus(self.client.get(self.url('list'), headers={'HX-Request': 'true'}), 200)

    def test_pages_without_role_are_forbidden(self):
        other = self.make_object(sla=False)
        user = self.login(Role.REQUESTER)
        self.client.post(self.url('list'), {'replies': 'on'})
        other.refresh_from_db()
        self.assertFalse(other.sla)
        self.assertTrue(other.replies)
        mine = EmailPreference.objects.get(user=user)
        self.assertEqual([mine.wants(t) for t in EmailPreference.TOPICS], [False, True, False, False, False, False])

    def test_saving_keeps_what_was_ticked(self):
        user = self.login(*self.view_roles)
        data = {topic: 'on' for topic in EmailPreference.TOPICS if topic != 'sla'}
        response = self.client.post(self.url('list'), data)
        self.assertRedirects(response, self.url('list'), fetch_redirect_response=False)
        self.assertStored(EmailPreference.objects.get(user=user), {**data, 'sla': False})

    def test_anonymous_is_sent_to_login(self):
        response = self.client.post(self.url('list'), {})
        self.assertHttpStatus(response, 302)
        self.assertIn(reverse('itsm:login'), response['Location'])

    def test_list_query_count_does_not_grow_with_rows(self):
        self.login(*self.view_roles)
        self.client.get(self.url('list'))
        before = self.count_queries(lambda: self.client.get(self.url('list')))
        for _ in range(5):
            self.make_object()
        self.assertEqual(self.count_queries(lambda: self.client.get(self.url('list'))), before)


class InboxPageQueryTests(ItsmTestCase):
    def test_the_inbox_page_costs_the_same_with_many_notifications(self):
        user = self.make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(user)
        NotificationFactory(recipient=user)
        self.client.get(reverse('inbox:notification_list'))
        few = self.count_queries(lambda: self.client.get(reverse('inbox:notification_list')))
        ticket = make_ticket()
        for _ in range(30):
            NotificationFactory(recipient=user, record=ticket)
        many = self.count_queries(lambda: self.client.get(reverse('inbox:notification_list')))
        self.assertEqual(few, many)
