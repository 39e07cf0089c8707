"""Queue columns: the ones that matter by default, the rest on demand through "Columns", remembered per person."""

from django.urls import reverse

from incidents.choices import TicketState
from incidents.views.queues import QueueView
from itsm.choices import Role
from itsm.views.generic import Column
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user

QUEUE = reverse('incidents:queue')
DEFAULT = ['number', 'short_description', 'state', 'assignment_group', 'opened_at']
HX = {'HX-Request': 'true'}


class QueueColumnTests(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.caller = make_user(first_name='Robin', last_name='Reed', vip=True)
        self.client.force_login(self.agent)

    def ticket(self, **fields):
        fields.setdefault('caller', self.caller)
        return make_ticket(state=TicketState.ASSIGNED, group=self.desk, agent=self.agent, **fields)

    def shown(self, response) -> list[str]:
        return [column.name for column in response.context['columns']]

    def test_the_default_columns_are_the_ones_that_matter_and_the_others_are_offered(self):
        ticket = self.ticket(impact='high', urgency='critical')
        response = self.client.get(QUEUE, {'q': 'all'})
        self.assertEqual(self.shown(response), DEFAULT)
        offered = [column.name for column, shown in response.context['column_choices']]
        self.assertEqual(offered, ['priority', 'caller', 'assignee', 'service', 'category', 'channel', 'updated_at'])
        # The number carries its priority, the description its caller.
        self.assertContains(
            response, f'>{ticket.number}</a> <span class="badge pc-prio bg-orange text-white">P1</span>'
        )
        self.assertContains(response, '<span title="Caller">Robin Reed</span>')
        self.assertContains(response, 'name="columns" value="caller"')
        self.assertNotContains(response, 'data-label="Caller"')

    def test_chosen_columns_are_shown_and_remembered_until_chosen_again(self):
        self.ticket()
        chosen = self.client.get(QUEUE, {'q': 'all', 'columns': ['', 'caller', 'channel', 'no_such_column']})
        self.assertEqual(self.shown(chosen), [*DEFAULT, 'caller', 'channel'])
        self.assertContains(chosen, 'data-label="Caller"')
        self.assertContains(chosen, 'data-label="Channel"')
        # The chooser keeps the page's other parameters and drops the old choice.
        self.assertEqual(chosen.context['column_kept_params'], [('q', 'all')])
        # Remembered: the next visit, an htmx table refresh and another queue show the same columns.
        self.assertEqual(self.shown(self.client.get(QUEUE)), [*DEFAULT, 'caller', 'channel'])
        self.assertEqual(self.shown(self.client.get(QUEUE, {'q': 'all'}, headers=HX)), [*DEFAULT, 'caller', 'channel'])
        # One comma-separated value works too; an empty choice hides them all again.
        self.assertEqual(
            self.shown(self.client.get(QUEUE, {'columns': 'service,priority'})), [*DEFAULT, 'priority', 'service']
        )
        self.assertEqual(self.shown(self.client.get(QUEUE, {'columns': ''})), DEFAULT)
        self.assertEqual(self.shown(self.client.get(QUEUE)), DEFAULT)

    def test_the_choice_is_per_person(self):
        self.ticket()
        self.client.get(QUEUE, {'columns': 'caller'})
        other = make_user(Role.SERVICE_DESK_AGENT)
        self.desk.members.add(other)
        self.client.force_login(other)
        self.assertEqual(self.shown(self.client.get(QUEUE)), DEFAULT)

    def test_a_hidden_column_still_sorts(self):
        low = self.ticket(impact='low', urgency='normal')
        high = self.ticket(impact='high', urgency='critical')
        response = self.client.get(QUEUE, {'q': 'all', 'sort': '-priority'})
        self.assertEqual([t.number for t in response.context['object_list']], [low.number, high.number])
        self.assertNotIn('priority', self.shown(response))

    def test_every_column_costs_no_query_per_row(self):
        every = ','.join(c.name for c in QueueView.columns if c.optional)
        self.ticket()
        small = self.count_queries(
            lambda: self.assertHttpStatus(self.client.get(QUEUE, {'q': 'all', 'columns': every}), 200)
        )
        for _ in range(6):
            self.ticket()
        large = self.count_queries(
            lambda: self.assertHttpStatus(self.client.get(QUEUE, {'q': 'all', 'columns': every}), 200)
        )
        self.assertEqual(small, large)

    def test_declared_columns_name_real_cells(self):
        names = [c.name for c in QueueView.columns]
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue(all(isinstance(c, Column) for c in QueueView.columns))
        self.assertEqual([c.name for c in QueueView.columns if not c.optional], DEFAULT)


class GenericListColumnTests(ItsmTestCase):
    """Any list page built on ObjectListView offers its optional columns the same way (here: configuration items)."""

    def test_optional_columns_of_a_generic_list(self):
        from cmdb.choices import CIClass
        from tests.cmdb.factories import make_ci

        make_ci(CIClass.SERVER, 'print01', location='Berlin, floor 2')
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        url = reverse('cmdb:configurationitem_list')
        response = self.client.get(url)
        self.assertNotIn('location', [c.name for c in response.context['columns']])
        self.assertNotContains(response, 'Berlin, floor 2')
        self.assertContains(response, 'name="columns" value="location"')
        response = self.client.get(url, {'columns': 'location', 'q': 'print'})
        self.assertContains(response, 'Berlin, floor 2')
        self.assertEqual(response.context['column_kept_params'], [('q', 'print')])
        self.assertContains(self.client.get(url), 'Berlin, floor 2')
