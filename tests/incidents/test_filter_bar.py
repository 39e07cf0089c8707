"""The queue and list filter bar: type-ahead boxes with chips that keep the filter set's query string, and read what
was typed as a value or a label, so the bar works as a plain form."""

from urllib.parse import parse_qsl, urlsplit

from django.urls import reverse

from incidents.choices import TicketState
from itsm.choices import Role, Tier
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user

S = TicketState
QUEUE = reverse('incidents:queue')
OPTIONS = reverse('incidents:filter_assignee_options')


class FilterBarTests(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.l2, self.engineer = make_group_with_agent(name='Network L2', tier=Tier.L2, role=Role.L2_ENGINEER)
        self.client.force_login(self.agent)
        self.new = make_ticket(state=S.NEW, short_description='New one')
        self.assigned = make_ticket(
            state=S.ASSIGNED, group=self.desk, agent=self.agent, impact='high', urgency='critical'
        )
        self.l2_ticket = make_ticket(state=S.ACCEPTED, group=self.l2, agent=self.engineer)

    def numbers(self, response):
        return {ticket.number for ticket in response.context['object_list']}

    def box(self, response, name):
        return next(box for box in response.context['filter_boxes'] if box['name'] == name)

    def test_typed_labels_filter_like_values(self):
        by_label = self.client.get(QUEUE, {'q': 'all', 'state': ['Assigned', 'new']})
        self.assertEqual(self.numbers(by_label), {self.new.number, self.assigned.number})
        self.assertEqual(self.numbers(self.client.get(QUEUE, {'q': 'all', 'priority': 'p1'})), {self.assigned.number})
        self.assertEqual(
            self.numbers(self.client.get(QUEUE, {'q': 'all', 'group': 'network l2', 'state': ''})),
            {self.l2_ticket.number},
        )
        # A chip's value, then the empty box of the same name.
        chip_then_box = self.client.get(QUEUE, {'q': 'all', 'state': ['assigned', '']})
        self.assertEqual(self.numbers(chip_then_box), {self.assigned.number})
        bad = self.client.get(QUEUE, {'q': 'all', 'state': 'Sleeping'})
        self.assertContains(bad, 'Select a valid choice')

    def test_chips_carry_values_and_remove_links_keep_the_rest(self):
        params = {'q': 'all', 'state': ['Assigned', 'new'], 'group': str(self.desk.pk), 'page': '1'}
        response = self.client.get(QUEUE, params)
        chips = self.box(response, 'state')['chips']
        self.assertEqual([(c['value'], c['text']) for c in chips], [('assigned', 'Assigned'), ('new', 'New')])
        self.assertContains(response, '<input type="hidden" name="state" value="assigned">', html=True)
        self.assertEqual(
            parse_qsl(urlsplit(chips[0]['remove_url']).query),
            [('q', 'all'), ('state', 'new'), ('group', str(self.desk.pk))],
        )
        self.assertEqual([c['text'] for c in self.box(response, 'group')['chips']], ['Service Desk'])
        self.assertContains(response, 'aria-label="Remove state Assigned"')
        self.assertContains(response, '<option value="Network L2" data-value="Network L2">', html=True)

    def test_no_native_multi_selects_and_the_queue_states_only(self):
        response = self.client.get(QUEUE)
        self.assertNotContains(response, 'name="state" id="filter-state" class="form-select')
        self.assertContains(response, 'list="filter-state-options"')
        offered = [value for _, value in self.box(response, 'state')['options']]
        self.assertEqual(offered, ['new', 'assigned', 'accepted', 'pending'])

    def test_assignee_box_and_its_suggestions(self):
        person = make_user(Role.REQUESTER, first_name='Sandra', last_name='Caller')
        self.assertEqual(
            self.numbers(self.client.get(QUEUE, {'q': 'all', 'assignee': self.engineer.username})),
            {self.l2_ticket.number},
        )
        suggestions = self.client.get(OPTIONS, {'assignee': self.engineer.last_name[:4]})
        self.assertContains(suggestions, f'<option value="{self.engineer.username}">')
        self.assertEqual(self.client.get(OPTIONS, {'assignee': 'S'}).content.strip(), b'')
        self.assertNotContains(self.client.get(OPTIONS, {'assignee': 'Sandra'}), person.username)
        self.client.force_login(make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(OPTIONS, {'assignee': 'Sa'}), 403)

    def test_ticket_lists_share_the_bar(self):
        response = self.client.get(reverse('incidents:ticket_list'), {'state': 'Closed'})
        self.assertHttpStatus(response, 200)
        self.assertEqual([c['value'] for c in self.box(response, 'state')['chips']], ['closed'])
