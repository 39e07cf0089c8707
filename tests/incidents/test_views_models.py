"""Generic page tests of tickets (under /tickets/ as incidents, and under /cases/) and of the desk's reference data.

Tickets are never deleted: their "delete" is closing, so the generic delete test confirms a completed ticket's
resolution on the caller's behalf and checks the ticket left every open queue, closed, with its history.
"""

from incidents.choices import OPEN_STATES, TicketState
from incidents.models import Case, Category, PriorityMatrixEntry, ResponseTemplate, Ticket
from incidents.priority import default_priority
from itsm.choices import Role, TimelineKind
from tests.base import ViewTestCases
from tests.factories import make_ticket, make_user

AGENT = (Role.SERVICE_DESK_AGENT,)


class TicketViewTests(ViewTestCases.ModelViewTestCase):
    model = Ticket
    kind = 'incident'
    view_roles = AGENT
    write_roles = AGENT
    read_only_roles = (Role.MANAGER,)  # reads every ticket, works none
    delete_action = 'confirm'
    query_rows = (2, 6)

    def make_object(self, **kwargs):
        return make_ticket(kind=self.kind, state=TicketState.COMPLETED, **kwargs)

    def form_data(self):
        caller = make_user(username=f'caller{Ticket.objects.count()}')
        return {
            'kind': self.kind,
            'caller': caller.username,
            'channel': 'phone',
            'short_description': 'VPN drops every ten minutes',
            'description': 'Since this morning, on the office Wi-Fi.',
            'impact': 'medium',
            'urgency': 'urgent',
        }

    def edit_data(self, obj):
        return {
            'caller': obj.caller.username,
            'channel': obj.channel,
            'short_description': 'Printer on the 3rd floor is jammed',
            'impact': obj.impact,
            'urgency': 'urgent',
        }

    def assert_deleted(self, obj):
        ticket = Ticket.objects.get(pk=obj.pk)
        self.assertEqual(ticket.state, TicketState.CLOSED)
        self.assertIsNotNone(ticket.closed_at)
        self.assertFalse(Ticket.objects.filter(pk=obj.pk, state__in=OPEN_STATES).exists())
        self.assertTrue(self.timeline(ticket, TimelineKind.TRANSITION).filter(data__to='closed').exists())

    def test_add_sets_kind_and_computed_priority(self):
        self.login(*self.write_roles)
        response = self.client.post(self.url('add'), self.form_data())
        self.assertHttpStatus(response, 302)
        ticket = Ticket.objects.latest('pk')
        self.assertEqual((ticket.kind, ticket.priority, ticket.channel), (self.kind, 2, 'phone'))
        self.assertEqual(response['Location'], ticket.get_absolute_url())


class CaseViewTests(TicketViewTests):
    model = Case
    kind = 'case'


class CategoryViewTests(ViewTestCases.ModelViewTestCase):
    model = Category
    write_roles = (Role.INCIDENT_MANAGER,)

    def make_object(self, **kwargs):
        return Category.objects.create(name=kwargs.get('name', f'Category {Category.objects.count()}'))

    def form_data(self):
        return {'name': 'Telephony', 'kinds': ['incident'], 'active': 'on'}

    def edit_data(self, obj):
        return {'name': f'{obj.name} and more', 'active': 'on'}

    def test_subcategory_of_a_subcategory_is_refused(self):
        top = self.make_object(name='Peripherals')
        sub = Category.objects.create(name='Printers', parent=top)
        self.login(*self.write_roles)
        response = self.client.post(self.url('add'), {'name': 'Toner', 'parent': sub.pk, 'active': 'on'})
        self.assertHttpStatus(response, 200)
        self.assertIn('parent', response.context['form'].errors)

    def test_category_in_use_is_kept(self):
        category = self.make_object(name='Wireless')
        make_ticket(category=category)
        self.login(*self.write_roles)
        response = self.client.post(self.url('delete', category))
        self.assertHttpStatus(response, 409)
        self.assertContains(response, 'still referenced', status_code=409)
        self.assertTrue(Category.objects.filter(pk=category.pk).exists())


class ResponseTemplateViewTests(ViewTestCases.ModelViewTestCase):
    model = ResponseTemplate
    write_roles = (Role.INCIDENT_MANAGER,)

    def make_object(self, **kwargs):
        n = ResponseTemplate.objects.count()
        return ResponseTemplate.objects.create(name=f'Greeting {n}', kind='opening', text='Hello {caller_name},')

    def form_data(self):
        return {'name': 'Farewell', 'kind': 'closing', 'text': 'Kind regards, {agent_name}', 'active': 'on'}

    def edit_data(self, obj):
        return {'name': obj.name, 'kind': obj.kind, 'text': 'Good morning {caller_first_name},', 'active': 'on'}


class PriorityMatrixViewTests(ViewTestCases.ModelViewTestCase):
    """The matrix list is the 5 × 5 grid; its "delete" puts a cell back to the default priority."""

    model = PriorityMatrixEntry
    delete_action = 'reset'

    def setUp(self):
        # Start from an empty matrix (the migration seeds all 25 cells) so cells can be added.
        PriorityMatrixEntry.objects.all().delete()

    def make_object(self, **kwargs):
        free = [
            (i, u)
            for i in ('severe', 'high', 'medium', 'low', 'none')
            for u in ('immediate', 'critical', 'urgent', 'normal', 'negotiated')
            if not PriorityMatrixEntry.objects.filter(impact=i, urgency=u).exists()
        ]
        impact, urgency = free[0]
        return PriorityMatrixEntry.objects.create(impact=impact, urgency=urgency, priority=3)

    def form_data(self):
        return {'impact': 'low', 'urgency': 'urgent', 'priority': 1}

    def edit_data(self, obj):
        return {'priority': 0 if obj.priority else 1}

    def assert_deleted(self, obj):
        obj.refresh_from_db()
        self.assertEqual(obj.priority, default_priority(obj.impact, obj.urgency))
        self.assertTrue(self.timeline(obj, TimelineKind.FIELD_CHANGE).exists())

    def test_grid_saves_through_the_matrix_service(self):
        self.login(Role.ADMINISTRATOR)
        page = self.client.get(self.url('list'))
        self.assertHttpStatus(page, 200)
        form = page.context['form']
        data = {name: form[name].value() for name in form.fields}
        data['low__urgent'] = 0
        response = self.client.post(self.url('list'), data)
        self.assertHttpStatus(response, 302)
        self.assertEqual(PriorityMatrixEntry.objects.get(impact='low', urgency='urgent').priority, 0)
        ticket = make_ticket(impact='low', urgency='urgent')
        self.assertEqual(ticket.priority, 0)

    def test_grid_is_read_only_for_agents(self):
        self.login(Role.SERVICE_DESK_AGENT)
        response = self.client.get(self.url('list'))
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, 'Save matrix')
        self.assertHttpStatus(self.client.post(self.url('list'), {'low__urgent': 0}), 403)

    def test_grid_refuses_bad_values_and_keeps_them(self):
        self.login(Role.ADMINISTRATOR)
        response = self.client.post(self.url('list'), {'low__urgent': 9})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'is-invalid', status_code=400)
        self.assertFalse(PriorityMatrixEntry.objects.exists())
