"""Routing rules as data (first active rule by position whose conditions all match; a rule without conditions is the
default), the service's support group when no rule matches, and what requesters may set when they report through
the API (no more than the portal offers them)."""

from django.core.exceptions import ValidationError
from django.urls import reverse

from cmdb.choices import CIClass
from incidents import routing
from incidents.forms import PORTAL_IMPACT, PORTAL_URGENCY
from incidents.models import Category, RoutingRule, Ticket
from incidents.services import REQUESTER_IMPACTS, REQUESTER_URGENCIES, ticket_create
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from tests.base import APITestCases, ItsmTestCase, ViewTestCases
from tests.cmdb.factories import make_ci, make_service
from tests.factories import SupportGroupFactory, make_routing_rule, make_user

AGENT = (Role.SERVICE_DESK_AGENT,)
ADMIN = (Role.ADMINISTRATOR,)


class RoutingRuleAPITests(APITestCases.ModelAPITestCase):
    model = RoutingRule
    basename = 'routingrule'
    view_roles = AGENT
    write_roles = ADMIN
    read_only_roles = (Role.INCIDENT_MANAGER,)  # keeps categories and templates, not routing
    update_data = {'name': 'E-mail to the desk', 'position': 7, 'active': False}

    def make_object(self, **kwargs):
        return make_routing_rule(**kwargs)

    def create_data(self):
        group = SupportGroupFactory(name='Messaging')
        return {'name': 'Mail reports', 'position': 20, 'channel': 'email', 'assignment_group': group.name}

    def filter_cases(self):
        mail = SupportGroupFactory(name='Mail team')
        a = make_routing_rule(name='By mail', channel='email', group=mail)
        b = make_routing_rule(name='Cases', kind='case', active=False)
        return [
            ({'channel': 'email'}, [a]),
            ({'group': 'Mail team'}, [a]),
            ({'active': 'false'}, [b]),
            ({'kind': 'case'}, [b]),
            ({'q': 'by mail'}, [a]),
        ]

    def test_service_must_be_a_service_ci(self):
        server = make_ci(CIClass.SERVER, 'mail01')
        data = {**self.create_data(), 'service': server.number}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('service', response.data)
        self.assertFalse(RoutingRule.objects.exists())

    def test_unknown_group_is_a_400_naming_it(self):
        data = {**self.create_data(), 'assignment_group': 'Nobody'}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('assignment_group', response.data)


class RoutingRuleViewTests(ViewTestCases.ModelViewTestCase):
    model = RoutingRule
    view_roles = AGENT
    write_roles = ADMIN

    def make_object(self, **kwargs):
        return make_routing_rule(**kwargs)

    def form_data(self):
        group = SupportGroupFactory()
        return {'position': 10, 'name': 'Walk-ins', 'active': 'on', 'channel': 'walk_in', 'assignment_group': group.pk}

    def test_non_service_ci_as_service_is_shown_on_the_form(self):
        # The form offers services only; the service checks again, and its refusal lands on the field.
        self.login(*self.write_roles)
        server = make_ci(CIClass.SERVER, 'db01')
        data = self.form_data()
        RoutingRule.objects.all().delete()
        with self.assertRaises(ValidationError) as caught:
            routing.rule_create(actor=Actor.system(), name='x', service=server, assignment_group=SupportGroupFactory())
        self.assertIn('service', caught.exception.message_dict)
        response = self.client.post(self.url('add'), {**data, 'service': server.pk})
        self.assertHttpStatus(response, 200)
        self.assertIn('service', response.context['form'].errors)
        self.assertFalse(RoutingRule.objects.exists())

    def test_rules_are_listed_in_the_order_they_are_tried(self):
        make_routing_rule(name='Second', position=20)
        make_routing_rule(name='First', position=10)
        self.login(*self.view_roles)
        content = self.client.get(self.url('list')).content.decode()
        self.assertLess(content.index('First'), content.index('Second'))


class RoutingTests(ItsmTestCase):
    def setUp(self):
        self.agent = make_user(Role.SERVICE_DESK_AGENT)
        self.caller = make_user(Role.REQUESTER)
        self.desk = SupportGroupFactory(name='Service Desk')
        self.network = SupportGroupFactory(name='Network Operations')
        self.mail = SupportGroupFactory(name='Messaging')

    def open(self, actor=None, **fields):
        actor = actor or Actor(user=self.agent, channel='ui')
        fields.setdefault('short_description', 'Something is wrong')
        return ticket_create(actor=actor, caller=self.caller, channel=fields.pop('channel', 'phone'), **fields)

    def test_first_active_rule_by_position_wins(self):
        make_routing_rule(name='Off', position=1, group=self.mail, active=False)
        make_routing_rule(name='Phone late', position=30, channel='phone', group=self.desk)
        make_routing_rule(name='Phone early', position=10, channel='phone', group=self.network)
        ticket = self.open()
        self.assertEqual(ticket.state, 'assigned')
        self.assertEqual(ticket.assignment_group, self.network)
        entry = self.timeline(ticket, TimelineKind.TRANSITION).get()
        self.assertIn('Routed to Network Operations by rule "Phone early"', entry.message)
        self.assertIsNone(entry.actor)  # the desk's rules route it, not the person who opened it

    def test_every_condition_of_a_rule_must_match(self):
        vpn = make_service('VPN')
        make_routing_rule(name='VPN by mail', position=1, service=vpn.ci, channel='email', group=self.mail)
        make_routing_rule(name='VPN', position=2, service=vpn.ci, group=self.network)
        self.assertEqual(self.open(service=vpn.ci, channel='phone').assignment_group, self.network)
        self.assertEqual(self.open(service=vpn.ci, channel='email').assignment_group, self.mail)
        self.assertEqual(self.open(channel='email').state, 'new')  # no service: neither rule matches

    def test_rule_without_conditions_is_the_default(self):
        make_routing_rule(name='Cases', position=1, kind='case', group=self.mail)
        make_routing_rule(name='Everything else', position=99, group=self.desk)
        self.assertEqual(self.open(kind='case').assignment_group, self.mail)
        self.assertEqual(self.open(kind='incident').assignment_group, self.desk)

    def test_category_rule_matches_its_subcategories(self):
        network = Category.objects.get(name='Network', parent=None)
        wifi = Category.objects.get(name='Wi-Fi', parent=network)
        make_routing_rule(name='Network', category=network, group=self.network)
        make_routing_rule(name='Wi-Fi first', position=5, category=wifi, group=self.desk)
        self.assertEqual(self.open(category=network).assignment_group, self.network)
        self.assertEqual(self.open(category=network, subcategory=wifi).assignment_group, self.desk)

    def test_ci_rule(self):
        printer = make_ci(CIClass.SERVER, 'print01')
        make_routing_rule(name='Print server', ci=printer, group=self.desk)
        self.assertEqual(self.open(ci=printer).assignment_group, self.desk)

    def test_explicit_group_wins_over_rules(self):
        make_routing_rule(name='Everything', group=self.desk)
        ticket = self.open(assignment_group=self.network)
        self.assertEqual(ticket.assignment_group, self.network)
        self.assertNotIn('Routed', self.timeline(ticket, TimelineKind.TRANSITION).get().message)

    def test_service_support_group_when_no_rule_matches(self):
        vpn = make_service('VPN', support_group=self.network)
        make_routing_rule(name='Cases only', kind='case', group=self.desk)
        ticket = self.open(service=vpn.ci)
        self.assertEqual(ticket.assignment_group, self.network)
        self.assertEqual(ticket.state, 'assigned')
        entry = self.timeline(ticket, TimelineKind.TRANSITION).get()
        self.assertIn('Routed to Network Operations: the support group of the service', entry.message)

    def test_no_rule_and_no_service_group_leaves_the_ticket_new(self):
        vpn = make_service('VPN')
        self.assertEqual(self.open(service=vpn.ci).state, 'new')

    def test_inactive_group_is_not_routed_to(self):
        make_routing_rule(name='Old team', position=1, group=self.mail)
        self.mail.active = False
        self.mail.save()
        make_routing_rule(name='Desk', position=2, group=self.desk)
        self.assertEqual(self.open().assignment_group, self.desk)

    def test_requesters_portal_tickets_are_routed_too(self):
        make_routing_rule(name='Portal', channel='portal', group=self.desk)
        ticket = self.open(actor=Actor(user=self.caller, channel='ui'), channel='portal')
        self.assertEqual(ticket.assignment_group, self.desk)

    def test_the_rules_are_read_in_one_query_whatever_their_number_and_then_kept(self):
        ticket = Ticket(kind='incident', channel='phone', caller=self.caller)
        for position in range(12):
            make_routing_rule(name=f'Rule {position}', position=position, channel='email', group=self.mail)
        make_routing_rule(name='Default', position=50, group=self.desk)
        with self.assertNumQueries(2):  # the rules' version, then the rules
            found = routing.route(ticket)
        self.assertEqual(found, self.desk)
        with self.assertNumQueries(0):  # kept in the process; the version was read once in this transaction
            self.assertEqual(routing.route(ticket), self.desk)

    def test_a_changed_rule_applies_to_the_next_ticket(self):
        rule = make_routing_rule(name='Phone', channel='phone', group=self.desk)
        self.assertEqual(self.open().assignment_group, self.desk)
        routing.rule_update(actor=Actor.system(), obj=rule, assignment_group=self.network)
        self.assertEqual(self.open().assignment_group, self.network)


class RequesterLimitsTests(ItsmTestCase):
    """A requester reporting through the API may choose what the portal offers them, and nothing more."""

    def setUp(self):
        self.requester = make_user(Role.REQUESTER)
        self.url = reverse('api:incident-list')

    def post(self, user, **data):
        return self.api_client(user).post(self.url, {'short_description': 'VPN is down', **data}, format='json')

    def test_portal_and_api_share_one_rule(self):
        self.assertEqual([value for value, _ in PORTAL_IMPACT], list(REQUESTER_IMPACTS))
        self.assertEqual([value for value, _ in PORTAL_URGENCY], list(REQUESTER_URGENCIES))

    def test_requester_cannot_set_p0(self):
        response = self.post(self.requester, impact='severe', urgency='immediate')
        self.assertHttpStatus(response, 400)
        self.assertIn('impact', response.data)
        self.assertIn('urgency', response.data)
        self.assertIn('Requesters choose an impact among low, medium, high', str(response.data['impact']))
        self.assertFalse(Ticket.objects.exists())

    def test_requester_cannot_name_another_channel_or_classify(self):
        category = Category.objects.get(name='Network', parent=None)
        response = self.post(self.requester, channel='phone', category='Network')
        self.assertHttpStatus(response, 400)
        self.assertEqual(set(response.data), {'channel', 'category'})
        self.assertFalse(Ticket.objects.filter(category=category).exists())

    def test_requester_gets_what_the_portal_allows(self):
        response = self.post(self.requester, impact='high', urgency='critical')
        self.assertHttpStatus(response, 201)
        ticket = Ticket.objects.get(number=response.data['number'])
        self.assertEqual((ticket.priority, ticket.channel, ticket.caller), (1, 'api', self.requester))

    def test_agents_may_set_any_impact_and_urgency(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        response = self.post(agent, impact='severe', urgency='immediate', caller=self.requester.username)
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['priority'], 0)


class DemoDataTests(ItsmTestCase):
    """The demo desk: tickets opened hours ago have clocks that started then, and routing rules to try."""

    @classmethod
    def setUpTestData(cls):
        from io import StringIO

        from django.core.management import call_command

        call_command('load_demo_data', stdout=StringIO())

    def test_response_clocks_start_when_the_ticket_was_opened(self):
        from django.contrib.contenttypes.models import ContentType

        from sla.choices import ClockKind
        from sla.models import SlaClock

        tickets = {t.pk: t for t in Ticket.objects.all()}
        ticket_type = ContentType.objects.get_for_model(Ticket)
        clocks = SlaClock.objects.filter(content_type=ticket_type, kind=ClockKind.RESPONSE)
        self.assertEqual({c.object_id for c in clocks}, set(tickets), 'every demo ticket has a response clock')
        for clock in clocks:
            ticket = tickets[clock.object_id]
            self.assertEqual(clock.started_at, ticket.opened_at, ticket.number)
        oldest = min(tickets.values(), key=lambda t: t.opened_at)
        self.assertGreater((oldest.created_at - oldest.opened_at).total_seconds(), 24 * 3600)

    def test_phone_tickets_are_opened_by_the_agent(self):
        ticket = Ticket.objects.get(short_description__startswith='VPN drops')
        self.assertEqual((ticket.opened_by.username, ticket.caller.username), ('agent', 'requester2'))

    def test_demo_rules_route_new_tickets(self):
        self.assertTrue(RoutingRule.objects.filter(service__isnull=False).exists())
        caller = Ticket.objects.values_list('caller', flat=True).first()
        from itsm.models import User

        ticket = ticket_create(
            actor=Actor.system(channel='monitoring'),
            caller=User.objects.get(pk=caller),
            short_description='Disk full on a file server',
            channel='monitoring',
        )
        self.assertEqual(str(ticket.assignment_group), 'Server and Storage')
        self.assertIn('Other monitoring alerts', self.timeline(ticket, TimelineKind.TRANSITION).get().message)


class CreateWithETATests(ItsmTestCase):
    def test_agents_may_give_an_eta_when_opening(self):
        agent, caller = make_user(Role.SERVICE_DESK_AGENT), make_user(Role.REQUESTER)
        data = {'short_description': 'Badge reader', 'caller': caller.username, 'eta': '2030-01-01T10:00:00Z'}
        response = self.api_client(agent).post(reverse('api:incident-list'), data, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(Ticket.objects.get(number=response.data['number']).eta.year, 2030)

    def test_requesters_may_not(self):
        caller = make_user(Role.REQUESTER)
        data = {'short_description': 'Badge reader', 'eta': '2030-01-01T10:00:00Z'}
        response = self.api_client(caller).post(reverse('api:incident-list'), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('eta', response.data)


class RoutingRuleAdminTests(ItsmTestCase):
    def setUp(self):
        from itsm.models import User

        self.admin = User.objects.create_superuser(username='root', email='root@example.com', password='x')
        self.client.force_login(self.admin)

    def test_changelist_orders_rules_and_edits_positions(self):
        late = make_routing_rule(name='Late', position=50)
        early = make_routing_rule(name='Early', position=10)
        url = reverse('admin:incidents_routingrule_changelist')
        response = self.client.get(url)
        self.assertHttpStatus(response, 200)
        self.assertEqual(list(response.context['cl'].result_list), [early, late])
        data = {
            'form-TOTAL_FORMS': '2',
            'form-INITIAL_FORMS': '2',
            'form-0-id': str(early.pk),
            'form-0-position': '60',
            'form-0-active': 'on',
            'form-1-id': str(late.pk),
            'form-1-position': '50',
            'form-1-active': 'on',
            '_save': 'Save',
        }
        self.assertHttpStatus(self.client.post(url, data), 302)
        early.refresh_from_db()
        self.assertEqual(early.position, 60)
        self.assertTrue(self.timeline(early).exclude(kind=TimelineKind.CREATED).exists())

    def test_a_non_service_is_refused_on_the_form(self):
        server = make_ci(CIClass.SERVER, 'app01')
        group = SupportGroupFactory()
        data = {'position': 5, 'name': 'Bad', 'active': 'on', 'service': server.pk, 'assignment_group': group.pk}
        response = self.client.post(reverse('admin:incidents_routingrule_add'), data)
        self.assertHttpStatus(response, 200)
        self.assertIn('service', response.context['adminform'].form.errors)
        self.assertFalse(RoutingRule.objects.exists())

    def test_an_eta_in_the_past_is_refused_on_create_and_edit(self):
        agent, caller = make_user(Role.SERVICE_DESK_AGENT), make_user(Role.REQUESTER)
        client = self.api_client(agent)
        data = {'short_description': 'Badge reader', 'caller': caller.username, 'eta': '2001-01-01T10:00:00Z'}
        response = client.post(reverse('api:incident-list'), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('cannot lie in the past', str(response.data['eta']))
        self.assertFalse(Ticket.objects.exists())
        response = client.post(reverse('api:incident-list'), {**data, 'eta': '2030-01-01T10:00:00Z'}, format='json')
        number = response.data['number']
        url = reverse('api:incident-detail', args=[number])
        response = client.patch(url, {'eta': '2001-01-01T10:00:00Z'}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertEqual(Ticket.objects.get(number=number).eta.year, 2030)
