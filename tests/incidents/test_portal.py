"""The requester portal: reporting, following one's own tickets, answering the desk, confirming or rejecting.

A requester never reaches another person's ticket: every portal address and the file download answer 404.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cmdb.choices import CIClass
from incidents import services
from incidents.choices import TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import Attachment
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_group_with_agent, make_ticket, make_user

S = TicketState
PORTAL = reverse('incidents:portal')


def portal_url(ticket, action=''):
    name = f'incidents:portal_{action}' if action else 'incidents:portal_ticket'
    return reverse(name, args=[ticket.number])


class PortalTestCase(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.robin = make_user(Role.REQUESTER, username='robin', first_name='Robin', last_name='Reed')
        self.client.force_login(self.robin)

    def ticket(self, state=S.NEW, caller=None, **fields):
        if state != S.NEW:
            fields.update(group=self.desk, agent=self.agent)
        return make_ticket(state=state, caller=caller or self.robin, **fields)


class PortalHomeTests(PortalTestCase):
    def test_lists_only_my_tickets_by_tab(self):
        open_one = self.ticket(short_description='Laptop fan is loud')
        done = self.ticket(S.COMPLETED, short_description='Monitor flickers')
        closed = self.ticket(S.CLOSED, short_description='Mouse replaced')
        other = make_ticket(short_description='Someone else entirely')
        response = self.client.get(PORTAL)
        self.assertHttpStatus(response, 200)
        self.assertEqual({t.number for t in response.context['tickets']}, {open_one.number, done.number})
        self.assertContains(response, 'waiting for your confirmation')
        self.assertNotContains(response, other.short_description)
        self.assertEqual(
            [t.number for t in self.client.get(PORTAL, {'show': 'closed'}).context['tickets']], [closed.number]
        )
        self.assertEqual(len(self.client.get(PORTAL, {'show': 'all'}).context['tickets']), 3)
        self.assertContains(response, 'Report a problem')

    def test_anonymous_is_sent_to_login(self):
        self.client.logout()
        response = self.client.get(PORTAL)
        self.assertHttpStatus(response, 302)
        self.assertIn(reverse('itsm:login'), response['Location'])

    def test_staff_see_their_own_requests_too(self):
        mine = make_ticket(caller=self.agent)
        self.ticket()
        self.client.force_login(self.agent)
        self.assertEqual([t.number for t in self.client.get(PORTAL).context['tickets']], [mine.number])


class PortalCreateTests(PortalTestCase):
    def test_report_an_incident_in_plain_words(self):
        mail = make_service('E-mail')
        response = self.client.post(
            reverse('incidents:portal_new'),
            {
                'kind': 'incident',
                'short_description': 'Outlook keeps asking for my password',
                'description': 'Since the update this morning.',
                'service': mail.ci.pk,
                'urgency': 'urgent',
                'impact': 'medium',
            },
            follow=True,
        )
        ticket = Ticket.objects.get()
        self.assertRedirects(response, portal_url(ticket))
        self.assertContains(response, f'We have received your request as {ticket.number}')
        self.assertEqual(
            (ticket.kind, ticket.caller, ticket.opened_by, ticket.channel, ticket.service, ticket.priority),
            ('incident', self.robin, self.robin, 'portal', mail.ci, 2),
        )

    def test_open_a_case(self):
        self.client.post(
            reverse('incidents:portal_new'),
            {
                'kind': 'case',
                'short_description': 'I need a second monitor',
                'urgency': 'negotiated',
                'impact': 'low',
            },
        )
        self.assertEqual(Ticket.objects.get().number[:2], 'CS')

    def test_invalid_report_keeps_the_input(self):
        response = self.client.post(
            reverse('incidents:portal_new'),
            {
                'kind': 'incident',
                'short_description': '',
                'description': 'My details <stay>',
                'urgency': 'immediate',
            },
        )
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'My details &lt;stay&gt;', status_code=400)
        self.assertIn('urgency', response.context['form'].errors)  # "immediate" is for the desk to decide
        self.assertFalse(Ticket.objects.exists())

    def test_people_without_the_right_to_report_are_refused(self):
        self.client.force_login(make_user(Role.MANAGER))
        self.assertHttpStatus(self.client.get(reverse('incidents:portal_new')), 403)


class PortalTicketTests(PortalTestCase):
    def test_public_history_only(self):
        ticket = self.ticket(S.ACCEPTED)
        agent = Actor(user=self.agent)
        services.ticket_comment(ticket=ticket, actor=agent, body='Checked the logs: token expired', internal=True)
        services.ticket_comment(ticket=ticket, actor=agent, body='Could you restart your laptop?')
        internal = SimpleUploadedFile('trace.txt', b'internal', content_type='text/plain')
        services.ticket_attach(ticket=ticket, actor=agent, upload=internal, public=False)
        shared = SimpleUploadedFile('howto.txt', b'steps', content_type='text/plain')
        services.ticket_attach(ticket=ticket, actor=agent, upload=shared, public=True)
        response = self.client.get(portal_url(ticket))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Could you restart your laptop?')
        self.assertNotContains(response, 'token expired')
        self.assertContains(response, 'howto.txt')
        self.assertNotContains(response, 'trace.txt')
        self.assertContains(response, 'A specialist team is working on it.')

    def test_comment_and_attach(self):
        ticket = self.ticket(S.ACCEPTED)
        response = self.client.post(portal_url(ticket, 'comment'), {'body': 'Restarted, still broken'}, follow=True)
        self.assertContains(response, 'Your comment has been added.')
        self.assertContains(response, 'Restarted, still broken')
        self.assertHttpStatus(self.client.post(portal_url(ticket, 'comment'), {'body': ''}), 400)
        upload = SimpleUploadedFile('screenshot.png', b'\x89PNG fake', content_type='image/png')
        response = self.client.post(portal_url(ticket, 'attach'), {'file': upload}, follow=True)
        self.assertContains(response, 'screenshot.png is attached.')
        self.assertTrue(Attachment.objects.get().public)
        bad = SimpleUploadedFile('tool.exe', b'MZ', content_type='application/octet-stream')
        response = self.client.post(portal_url(ticket, 'attach'), {'file': bad})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'are not accepted', status_code=400)

    def test_confirm_closes(self):
        ticket = self.ticket(S.COMPLETED)
        page = self.client.get(portal_url(ticket))
        self.assertContains(page, 'Is it solved?')
        self.assertContains(page, 'Cleared it.')
        response = self.client.post(portal_url(ticket, 'confirm'), follow=True)
        self.assertContains(response, f'{ticket.number} is closed.')
        ticket.refresh_from_db()
        self.assertEqual(ticket.state, S.CLOSED)
        self.assertNotContains(response, 'Is it solved?')

    def test_reject_needs_a_reason_and_reopens(self):
        ticket = self.ticket(S.COMPLETED)
        refused = self.client.post(portal_url(ticket, 'reject'), {'reason': ''})
        self.assertHttpStatus(refused, 400)
        self.assertContains(refused, 'is-invalid', status_code=400)
        self.client.post(portal_url(ticket, 'reject'), {'reason': 'The fan is still loud'})
        ticket.refresh_from_db()
        self.assertEqual((ticket.state, ticket.reopen_count), (S.ACCEPTED, 1))
        self.assertContains(self.client.get(portal_url(ticket)), 'The fan is still loud')

    def test_confirm_when_not_completed_explains_why(self):
        ticket = self.ticket(S.ACCEPTED)
        response = self.client.post(portal_url(ticket, 'confirm'), follow=True)
        self.assertRedirects(response, portal_url(ticket))
        self.assertContains(response, 'it is Accepted')
        ticket.refresh_from_db()
        self.assertEqual(ticket.state, S.ACCEPTED)

    def test_former_number_redirects(self):
        ticket = self.ticket(kind='case')
        old = ticket.number
        converted = services.ticket_convert(ticket=ticket, actor=Actor(user=self.agent), to_kind='incident')
        self.assertRedirects(self.client.get(f'/portal/{old}/'), portal_url(converted))


class PortalIsolationTests(PortalTestCase):
    def test_another_persons_ticket_is_404_everywhere(self):
        other = make_ticket(state=S.COMPLETED, group=self.desk, agent=self.agent)
        upload = SimpleUploadedFile('theirs.txt', b'private', content_type='text/plain')
        attachment = services.ticket_attach(ticket=other, actor=Actor(user=other.caller), upload=upload)
        self.assertHttpStatus(self.client.get(portal_url(other)), 404)
        for action, data in (('comment', {'body': 'hi'}), ('attach', {}), ('confirm', {}), ('reject', {'reason': 'x'})):
            with self.subTest(action=action):
                self.assertHttpStatus(self.client.post(portal_url(other, action), data), 404)
        self.assertHttpStatus(self.client.get(attachment.get_absolute_url()), 404)
        self.assertHttpStatus(self.client.get('/portal/INC0999999/'), 404)
        other.refresh_from_db()
        self.assertEqual(other.state, S.COMPLETED)
        self.assertFalse(self.timeline(other).filter(actor=self.robin).exists())

    def test_internal_files_of_my_own_ticket_are_404(self):
        ticket = self.ticket(S.ACCEPTED)
        upload = SimpleUploadedFile('trace.txt', b'internal', content_type='text/plain')
        internal = services.ticket_attach(ticket=ticket, actor=Actor(user=self.agent), upload=upload, public=False)
        mine = services.ticket_attach(
            ticket=ticket,
            actor=Actor(user=self.robin),
            upload=SimpleUploadedFile('mine.txt', b'ok', content_type='text/plain'),
        )
        self.assertHttpStatus(self.client.get(internal.get_absolute_url()), 404)
        response = self.client.get(mine.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b''.join(response.streaming_content), b'ok')

    def test_staff_reach_only_their_own_tickets_in_the_portal(self):
        ticket = self.ticket()
        self.client.force_login(self.agent)
        self.assertHttpStatus(self.client.get(portal_url(ticket)), 404)
        self.assertHttpStatus(self.client.get(ticket.get_absolute_url()), 200)

    def test_unused_ci_classes_do_not_leak_into_the_form(self):
        make_ci(CIClass.SERVER, name='db01')
        page = self.client.get(reverse('incidents:portal_new'))
        self.assertNotContains(page, 'db01')
