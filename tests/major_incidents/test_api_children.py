"""Child incidents and recipient lists over the API: under one major incident (`/major-incidents/{number}/children/`,
`.../recipients/`) and across all of them (`/major-incident-children/`, `/major-incident-recipients/`)."""

from __future__ import annotations

from django.urls import reverse

from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from major_incidents import services
from major_incidents.choices import MajorIncidentState, RecipientSource
from major_incidents.models import MajorIncidentChild, Recipient
from tests.base import APITestCases, ItsmTestCase
from tests.factories import make_ticket, make_user

from .factories import ChildFactory, RecipientFactory, make_incident_manager, make_major

S = MajorIncidentState
SYSTEM = Actor.system()


def children_url(major) -> str:
    return f'/api/v1/major-incidents/{major.number}/children/'


def recipients_url(major) -> str:
    return f'/api/v1/major-incidents/{major.number}/recipients/'


class MajorIncidentChildAPITests(APITestCases.ModelAPITestCase):
    model = MajorIncidentChild
    basename = 'majorincidentchild'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)

    def make_object(self, **kwargs):
        return ChildFactory(major_incident=make_major(S.ASSESSMENT), **kwargs)

    def create_data(self):
        major = make_major(S.ASSESSMENT)
        return {'major_incident': major.number, 'incident': make_ticket(service=major.services.get()).number}

    def filter_cases(self):
        first, second = self.make_object(), self.make_object()
        return [
            ({'major_incident': first.major_incident.number.lower()}, [first]),
            ({'incident': second.incident.number}, [second]),
        ]

    def test_create_writes_record_and_timeline(self):
        """The link is written on both records' timelines (a child has no history of its own)."""
        data = self.create_data()
        response = self.api_client(make_user(Role.SERVICE_DESK_AGENT)).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 201)
        link = MajorIncidentChild.objects.get(incident__number=data['incident'])
        self.assertEqual(link.major_incident.number, data['major_incident'])
        self.assertEqual(response.data['incident'], data['incident'])
        self.assertTrue(self.timeline(link.major_incident, TimelineKind.LINK).exists())
        self.assertTrue(self.timeline(link.incident, TimelineKind.LINK).exists())

    def test_update_records_field_changes(self):
        """A link is not edited: it is removed and made again."""
        link = self.make_object()
        response = self.api_client(self.writer()).patch(self.detail_url(link), {'incident': 'INC1'}, format='json')
        self.assertHttpStatus(response, 405)

    def test_read_only_fields_are_not_writable(self):
        self.test_update_records_field_changes()

    def test_update_without_permission_is_forbidden(self):
        link = self.make_object()
        response = self.api_client(self.user_without('change')).patch(self.detail_url(link), {}, format='json')
        self.assertHttpStatus(response, 405)

    def test_delete_without_permission_is_forbidden(self):
        """Readers may not unlink (agents may: whoever links children unlinks them)."""
        link = self.make_object()
        response = self.api_client(make_user(Role.MANAGER)).delete(self.detail_url(link))
        self.assertHttpStatus(response, 403)
        self.assertTrue(MajorIncidentChild.objects.filter(pk=link.pk).exists())

    def test_agents_link_and_unlink(self):
        link = self.make_object()
        response = self.api_client(make_user(Role.SERVICE_DESK_AGENT)).delete(self.detail_url(link))
        self.assertHttpStatus(response, 204)
        self.assertFalse(MajorIncidentChild.objects.filter(pk=link.pk).exists())
        self.assertTrue(self.timeline(link.major_incident, TimelineKind.LINK).filter(message__contains='unlinked'))

    def test_bad_input_names_the_field(self):
        major = make_major(S.ASSESSMENT)
        client = self.api_client(self.writer())
        for data, field in (
            ({'major_incident': 'MIR9999999', 'incident': make_ticket().number}, 'major_incident'),
            ({'major_incident': major.number, 'incident': 'INC9999999'}, 'incident'),
            ({'major_incident': major.number, 'incident': make_ticket(kind='case').number}, 'incident'),
        ):
            with self.subTest(field=field):
                response = client.post(self.list_url(), data, format='json')
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.data)
        self.assertFalse(MajorIncidentChild.objects.exists())


class NestedChildrenTests(ItsmTestCase):
    def setUp(self):
        self.major = make_major(S.ASSESSMENT)
        self.service = self.major.services.get()
        self.agent = make_user(Role.SERVICE_DESK_AGENT)

    def test_agents_link_several_incidents_in_one_call(self):
        incidents = [make_ticket(service=self.service) for _ in range(3)]
        response = self.api_client(self.agent).post(
            children_url(self.major), {'incidents': [i.number.lower() for i in incidents]}, format='json'
        )
        self.assertHttpStatus(response, 201)
        self.assertEqual({row['incident'] for row in response.data}, {i.number for i in incidents})
        self.assertEqual(response.data[0]['linked_by'], self.agent.username)
        response = self.api_client(self.agent).get(children_url(self.major))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['count'], 3)

    def test_unlink_one_child(self):
        link = ChildFactory(major_incident=self.major)
        url = f'{children_url(self.major)}{link.incident.number}/'
        self.assertHttpStatus(self.api_client(make_user(Role.MANAGER)).delete(url), 403)
        self.assertHttpStatus(self.api_client(make_incident_manager()).delete(url), 204)
        self.assertFalse(MajorIncidentChild.objects.exists())
        self.assertHttpStatus(self.api_client(make_incident_manager()).delete(url), 404)

    def test_an_incident_of_another_major_incident_is_a_409_and_nothing_is_linked(self):
        other = make_major(S.ASSESSMENT)
        taken = ChildFactory(major_incident=other).incident
        free = make_ticket(service=self.service)
        response = self.api_client(self.agent).post(
            children_url(self.major), {'incidents': [free.number, taken.number]}, format='json'
        )
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'already_linked')
        self.assertIn(other.number, response.data['detail'])
        self.assertFalse(MajorIncidentChild.objects.filter(incident=free).exists())

    def test_refusals(self):
        url = children_url(self.major)
        self.assertHttpStatus(self.api_client(make_user(Role.REQUESTER)).get(url), 403)
        self.assertHttpStatus(self.api_client(make_user(Role.MANAGER)).post(url, {'incidents': []}), 403)
        response = self.api_client(self.agent).post(url, {'incidents': []}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('incidents', response.data)
        self.assertHttpStatus(self.api_client(self.agent).get('/api/v1/major-incidents/MIR9999999/children/'), 404)
        response = self.api_client(self.agent).get(url, {'incident': 'INC0001001'})
        self.assertHttpStatus(response, 400)  # this list has no filters: an unknown parameter is not ignored
        self.assertIn('incident', response.data)
        closed = make_major(S.CANCELLED)
        response = self.api_client(self.agent).post(
            children_url(closed), {'incidents': [make_ticket().number]}, format='json'
        )
        self.assertHttpStatus(response, 409)

    def test_list_queries_do_not_grow_with_children(self):
        client = self.api_client(self.agent)
        for _ in range(2):
            ChildFactory(major_incident=self.major)
        client.get(children_url(self.major))
        few = self.count_queries(lambda: self.assertHttpStatus(client.get(children_url(self.major)), 200))
        for _ in range(4):
            ChildFactory(major_incident=self.major)
        many = self.count_queries(lambda: self.assertHttpStatus(client.get(children_url(self.major)), 200))
        self.assertEqual(few, many)


class RecipientAPITests(APITestCases.ModelAPITestCase):
    model = Recipient
    basename = 'recipient'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)

    def make_object(self, **kwargs):
        return RecipientFactory(major_incident=make_major(S.ASSESSMENT), **kwargs)

    def create_data(self):
        return {'major_incident': make_major(S.ASSESSMENT).number, 'email': 'dean@example.com', 'name': 'The Dean'}

    def filter_cases(self):
        first, second = self.make_object(email='a@example.com'), self.make_object(email='b@example.com')
        return [
            ({'major_incident': first.major_incident.number, 'source': RecipientSource.ADDED}, [first]),
            ({'email': 'B@example.com'}, [second]),
        ]

    def test_create_writes_record_and_timeline(self):
        """The recipient list's history is the major incident's."""
        data = self.create_data()
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 201)
        recipient = Recipient.objects.get(pk=response.data['id'])
        self.assertStored(recipient, {'email': data['email'], 'name': data['name']})
        self.assertEqual(recipient.source, RecipientSource.ADDED)
        entries = self.timeline(recipient.major_incident).filter(message__contains='dean@example.com')
        self.assertTrue(entries.exists())

    def test_update_records_field_changes(self):
        """Addresses are not edited: removed and added again."""
        recipient = self.make_object()
        response = self.api_client(self.writer()).patch(self.detail_url(recipient), {'name': 'x'}, format='json')
        self.assertHttpStatus(response, 405)

    def test_read_only_fields_are_not_writable(self):
        self.test_update_records_field_changes()

    def test_update_without_permission_is_forbidden(self):
        recipient = self.make_object()
        response = self.api_client(self.user_without('change')).patch(self.detail_url(recipient), {}, format='json')
        self.assertHttpStatus(response, 405)


class NestedRecipientTests(ItsmTestCase):
    def setUp(self):
        self.major = make_major(S.ASSESSMENT)
        self.manager = self.major.incident_manager

    def test_add_list_and_remove(self):
        client = self.api_client(self.manager)
        person = make_user(Role.BUSINESS_OWNER, email='provost@example.com')
        response = client.post(recipients_url(self.major), {'person': person.username}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['email'], 'provost@example.com')
        self.assertEqual(response.data['person'], person.username)
        response = client.get(recipients_url(self.major))
        self.assertHttpStatus(response, 200)
        self.assertIn('provost@example.com', [row['email'] for row in response.data['results']])
        added = Recipient.objects.get(major_incident=self.major, email='provost@example.com')
        self.assertHttpStatus(client.delete(f'{recipients_url(self.major)}{added.pk}/'), 204)
        self.assertFalse(Recipient.objects.filter(pk=added.pk).exists())

    def test_refusals(self):
        client = self.api_client(self.manager)
        url = recipients_url(self.major)
        response = client.post(url, {'email': 'not an address'}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('email', response.data)
        self.assertHttpStatus(client.post(url, {'email': 'dean@example.com'}, format='json'), 201)
        response = client.post(url, {'email': 'DEAN@example.com'}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'exists')
        self.assertHttpStatus(self.api_client(make_user(Role.SERVICE_DESK_AGENT)).post(url, {'email': 'x@y.z'}), 403)
        self.assertHttpStatus(self.api_client(make_user(Role.REQUESTER)).get(url), 403)
        other = RecipientFactory(major_incident=make_major(S.ASSESSMENT))
        self.assertHttpStatus(client.delete(f'{url}{other.pk}/'), 404)
        self.assertTrue(Recipient.objects.filter(pk=other.pk).exists())

    def test_list_queries_do_not_grow_with_recipients(self):
        client = self.api_client(self.manager)
        services.recipient_add(major=self.major, actor=SYSTEM, email='first@example.com')
        client.get(recipients_url(self.major))
        few = self.count_queries(lambda: self.assertHttpStatus(client.get(recipients_url(self.major)), 200))
        for n in range(5):
            services.recipient_add(major=self.major, actor=SYSTEM, person=make_user(Role.MANAGER, email=f'm{n}@x.org'))
        many = self.count_queries(lambda: self.assertHttpStatus(client.get(recipients_url(self.major)), 200))
        self.assertEqual(few, many)

    def test_routes_are_named(self):
        self.assertEqual(reverse('api:majorincident-recipients', args=[self.major.number]), recipients_url(self.major))
