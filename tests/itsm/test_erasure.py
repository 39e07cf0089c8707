"""Erasing a person: administrators replace a requester's (or former staff member's) personal data; their tickets
and the audit stay consistent and the timeline records the erasure."""

from django.test import Client
from django.urls import reverse

from incidents import services as tickets
from itsm import services
from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import ApiToken, TimelineEntry, User
from itsm.tokens import token_create
from tests.base import ItsmTestCase


class ErasureTests(ItsmTestCase):
    def setUp(self):
        self.admin = self.make_user(Role.ADMINISTRATOR)
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT)
        self.person = self.make_user(
            Role.REQUESTER, username='robin.meyer', first_name='Robin', last_name='Meyer', email='robin@example.com'
        )
        services.user_update(
            user=self.person, actor=Actor(user=self.admin), phone='+49 30 1234', location='Berlin, 3rd floor'
        )
        self.ticket = tickets.ticket_create(
            actor=Actor(user=self.person), caller=self.person, short_description='Printer jam'
        )
        token_create(user=self.person, actor=Actor(user=self.person), name='script')

    def test_an_administrator_erases_a_requester_and_everything_stays_consistent(self):
        response = self.api_client(self.admin).post(f'/api/v1/users/{self.person.pk}/erase/')
        self.assertHttpStatus(response, 200)
        person = User.objects.get(pk=self.person.pk)
        self.assertEqual(
            (person.username, person.get_full_name()), (f'erased-{person.pk}', f'Erased person {person.pk}')
        )
        self.assertEqual((person.email, person.phone, person.location), ('', '', ''))
        self.assertFalse(person.is_active or person.has_usable_password())
        self.assertIsNotNone(ApiToken.objects.get(user=person).revoked_at)
        # Their ticket is still theirs, and its page names the erased person.
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.caller_id, person.pk)
        page = self.client_for(self.agent).get(self.ticket.get_absolute_url())
        self.assertContains(page, f'Erased person {person.pk}')
        # No old value is left in their own history; the erasure is recorded.
        history = TimelineEntry.objects.for_object(person)
        text = str(list(history.values_list('message', 'changes', 'data')))
        for value in ('robin@example.com', 'Robin', 'Meyer', '+49 30 1234', 'Berlin'):
            self.assertNotIn(value, text)
        self.assertTrue(history.filter(message='Personal data erased', actor=self.admin).exists())
        # A second erasure changes nothing.
        self.assertHttpStatus(self.api_client(self.admin).post(f'/api/v1/users/{person.pk}/erase/'), 200)
        self.assertEqual(history.filter(message='Personal data erased').count(), 1)

    def test_only_administrators_erase_and_active_staff_are_deactivated_first(self):
        self.assertHttpStatus(self.api_client(self.agent).post(f'/api/v1/users/{self.person.pk}/erase/'), 403)
        response = self.api_client(self.admin).post(f'/api/v1/users/{self.agent.pk}/erase/')
        self.assertHttpStatus(response, 409)
        self.assertIn('deactivate them first', response.json()['detail'])
        self.assertEqual(User.objects.get(pk=self.person.pk).email, 'robin@example.com')

    def test_the_page_offers_it_to_administrators_and_erases_on_post(self):
        admin = self.client_for(self.admin)
        detail = admin.get(reverse('itsm:user_detail', args=[self.person.pk]))
        erase_url = reverse('itsm:user_erase', args=[self.person.pk])
        self.assertContains(detail, erase_url)
        self.assertNotContains(admin.get(reverse('itsm:user_detail', args=[self.agent.pk])), 'Erase personal data')
        self.assertContains(admin.get(erase_url), 'This cannot be undone.')
        self.assertRedirects(admin.post(erase_url), reverse('itsm:user_detail', args=[self.person.pk]))
        self.assertEqual(User.objects.get(pk=self.person.pk).username, f'erased-{self.person.pk}')

    def client_for(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client
