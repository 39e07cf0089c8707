"""Caller context: a person's page lists their tickets and recent contacts; a ticket shows the caller's other ones."""

from django.urls import reverse

from incidents import selectors as ticket_selectors
from incidents import services as ticket_services
from itsm import audit
from itsm.audit import Actor
from itsm.choices import Channel, Role, TicketKind, TimelineKind
from tests.base import ItsmTestCase, load_related
from tests.factories import make_group_with_agent, make_ticket, make_user


class PersonPageTests(ItsmTestCase):
    def setUp(self):
        self.caller = make_user(Role.REQUESTER, username='ann.caller', first_name='Ann', last_name='Caller')
        self.group, self.agent = make_group_with_agent()
        self.closed = make_ticket(caller=self.caller, state='closed', short_description='Old laptop returned')
        self.open = make_ticket(caller=self.caller, short_description='Mailbox full')
        self.url = self.caller.get_absolute_url()

    def page(self, viewer, url=None):
        self.client.force_login(viewer)
        return self.client.get(url or self.url)

    def test_staff_see_open_tickets_first_then_recent_closed_with_a_link_to_all(self):
        response = self.page(self.agent)
        self.assertHttpStatus(response, 200)
        (group,) = response.context['caller_records']
        self.assertEqual(group.open, [self.open])
        self.assertEqual(group.closed, [self.closed])
        html = response.content.decode()
        self.assertLess(html.index('Mailbox full'), html.index('Old laptop returned'))
        self.assertEqual(group.list_url, reverse('incidents:ticket_list') + '?caller=ann.caller')
        self.assertContains(response, 'All their tickets')
        listed = self.page(self.agent, group.list_url)
        self.assertHttpStatus(listed, 200)
        self.assertContains(listed, self.open.number)

    def test_open_tickets_are_capped(self):
        for n in range(10):
            make_ticket(caller=self.caller, short_description=f'Another problem {n}')
        (group,) = self.page(self.agent).context['caller_records']
        self.assertEqual(len(group.open), 10)
        self.assertTrue(group.more_open)
        self.assertContains(self.page(self.agent), 'see them all')

    def test_other_peoples_tickets_are_not_listed(self):
        someone = make_ticket(short_description='Someone else entirely')
        response = self.page(self.agent)
        self.assertNotContains(response, someone.number)

    def test_recent_contacts_are_what_they_did_on_tickets(self):
        ticket_services.ticket_comment(
            ticket=self.open, actor=Actor(user=self.caller, channel=Channel.EMAIL), body='Still <b>full</b> today'
        )
        response = self.page(self.agent)
        contacts = response.context['contacts']
        self.assertEqual(contacts[0].kind, TimelineKind.COMMENT)
        self.assertEqual(contacts[0].record, self.open)
        self.assertContains(response, 'Still &lt;b&gt;full&lt;/b&gt; today')
        self.assertContains(response, 'E-mail')
        self.assertLessEqual(len(contacts), 10)

    def test_contacts_are_the_latest_ten(self):
        for n in range(12):
            ticket_services.ticket_comment(ticket=self.open, actor=Actor(user=self.caller), body=f'Reply {n}')
        contacts = self.page(self.agent).context['contacts']
        self.assertEqual(len(contacts), 10)
        self.assertEqual(contacts[0].message, 'Reply 11')

    def test_requesters_see_their_own_page_without_internal_entries(self):
        audit.record(
            self.open,
            actor=Actor(user=self.caller),
            kind=TimelineKind.WORK_NOTE,
            message='Internal remark',
            public=False,
        )
        ticket_services.ticket_comment(ticket=self.open, actor=Actor(user=self.caller), body='Public reply')
        response = self.page(self.caller)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Public reply')
        self.assertNotContains(response, 'Internal remark')
        self.assertContains(response, self.open.number)
        self.assertNotContains(response, 'All their tickets', msg_prefix='the staff list is not linked')
        self.assertContains(self.page(self.agent), 'Internal remark')

    def test_requesters_cannot_open_someone_elses_page(self):
        other = make_user(Role.REQUESTER)
        self.assertHttpStatus(self.page(other), 403)

    def test_the_page_costs_the_same_whatever_the_number_of_tickets_and_contacts(self):
        self.page(self.agent)
        few = self.count_queries(lambda: self.client.get(self.url))
        for n in range(6):
            ticket = make_ticket(caller=self.caller, kind=TicketKind.CASE if n % 2 else TicketKind.INCIDENT)
            ticket_services.ticket_comment(ticket=ticket, actor=Actor(user=self.caller), body=f'Reply {n}')
        make_ticket(caller=self.caller, state='closed')
        many = self.count_queries(lambda: self.client.get(self.url))
        self.assertEqual(few, many)


class CallerPanelTests(ItsmTestCase):
    def setUp(self):
        self.caller = make_user(Role.REQUESTER, first_name='Cleo', last_name='Caller')
        self.group, self.agent = make_group_with_agent()
        self.ticket = make_ticket(caller=self.caller, short_description='This one')
        self.others = [make_ticket(caller=self.caller, short_description=f'Other open {n}') for n in range(2)]
        self.closed = make_ticket(caller=self.caller, state='closed', short_description='Long finished')

    def page(self):
        self.client.force_login(self.agent)
        return load_related(self.client, self.client.get(self.ticket.get_absolute_url()))

    def test_the_ticket_page_lists_the_callers_other_open_tickets(self):
        response = self.page()
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.related.context['caller_tickets'], self.others)
        self.assertContains(response, 'data-testid="caller-tickets"')
        self.assertContains(response, 'Other open 1')
        self.assertContains(response, 'opened ')
        self.assertNotContains(response, 'Long finished')
        self.assertContains(response, reverse('incidents:ticket_list') + f'?caller={self.caller.username}')

    def test_up_to_five_then_a_link(self):
        for n in range(5):
            make_ticket(caller=self.caller, short_description=f'Yet another {n}')
        response = self.page()
        html = response.content.decode()
        panel = html[html.index('data-testid="caller-tickets"') :]
        panel = panel[: panel.index('</div>\n</div>') + 1]
        self.assertEqual(panel.count('list-group-item-action py-2"'), 5)
        self.assertContains(response, 'More open tickets')

    def test_one_query(self):
        self.assertEqual(self.count_queries(lambda: ticket_selectors.caller_open_tickets(self.ticket)), 1)

    def test_no_panel_without_other_open_tickets(self):
        lone = make_ticket(short_description='Lonely')
        self.client.force_login(self.agent)
        response = load_related(self.client, self.client.get(lone.get_absolute_url()))
        self.assertContains(response, 'data-testid="related-records"')
        self.assertNotContains(response, 'data-testid="caller-tickets"')
