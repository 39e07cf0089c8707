"""The major-incident API: /api/v1/major-incidents/ (declare, read, edit, filters, every action with its refusals),
who may do what, and the schema."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.utils import timezone

from cmdb.choices import CIClass
from incidents.choices import TicketState
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.models import User
from major_incidents import services
from major_incidents.choices import CandidateStatus, MajorIncidentState, ResponseMode, UpdateAudience
from major_incidents.models import MajorIncident, MajorIncidentCandidate, MajorIncidentUpdate, Validation
from tests.base import APITestCases, ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.factories import make_ticket, make_user

from .factories import (
    CandidateFactory,
    make_incident_manager,
    make_major,
    make_public_service,
    write_review,
)

S = MajorIncidentState
API = '/api/v1/major-incidents/'


class MajorIncidentAPITests(APITestCases.ModelAPITestCase):
    model = MajorIncident
    basename = 'majorincident'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)  # reads every major incident, runs none
    update_data = {'short_description': 'Webmail and mail clients down', 'public_title': 'E-mail unavailable'}
    read_only_fields = {'state': 'closed', 'resolution': 'Set outside the resolve action', 'mode': 'handoff'}
    supports_delete = False
    query_rows = (2, 6)

    def make_object(self, **kwargs):
        return make_major(cis=[make_ci(CIClass.SERVER)], **kwargs)

    def create_data(self):
        service = make_public_service('Student e-mail')
        return {
            'short_description': 'Student e-mail is down',
            'description': 'Nobody can sign in to webmail.',
            'services': [service.number],
            'severity': 1,
            'service_impact': 'major_outage',
            'public_title': 'E-mail unavailable',
        }

    def filter_cases(self):
        mail_service = make_public_service('Student e-mail')
        server = make_ci(CIClass.SERVER, name='mail-store-01')
        marta = make_incident_manager(username='marta')
        a = make_major(S.ASSESSMENT, services=[mail_service], cis=[server], incident_manager=marta, priority=0)
        b = make_major(short_description='Wi-Fi down in the library')
        c = make_major(S.CANCELLED, short_description='Printing queue stuck')
        return [
            ({'state': 'assessment'}, [a]),
            ({'active': 'false'}, [c]),
            ({'active': 'true'}, [a, b]),
            ({'priority': '0'}, [a]),
            ({'service': 'Student e-mail'}, [a]),
            ({'ci': server.number}, [a]),
            ({'incident_manager': 'marta'}, [a]),
            ({'q': 'library'}, [b]),
        ]

    # -- what the representation says
    def test_representation_names_services_people_and_links(self):
        major = make_major(S.ACTIVATION, cis=[make_ci(CIClass.SERVER, name='mail-store-01')])
        service = major.services.get()
        response = self.api_client(self.viewer()).get(self.detail_url(major))
        self.assertHttpStatus(response, 200)
        data = response.data
        self.assertEqual(data['number'], major.number)
        self.assertEqual(data['state'], S.ACTIVATION)
        self.assertEqual(data['state_label'], 'Activation')
        self.assertEqual(data['services'], [service.number])
        self.assertEqual(data['service_details'], [{'number': service.number, 'name': service.name}])
        self.assertEqual(data['ci_details'][0]['name'], 'mail-store-01')
        self.assertEqual(data['incident_manager'], major.incident_manager.username)
        self.assertEqual(data['mode'], ResponseMode.URGENT)
        self.assertEqual(data['children_count'], 0)
        self.assertFalse(data['overdue'])
        self.assertTrue(data['links']['updates'].endswith(f'/api/v1/major-incidents/{major.number}/updates/'))
        self.assertTrue(data['links']['page'].endswith(major.get_absolute_url()))

    def test_overdue_when_the_next_update_is_past_due(self):
        major = make_major(S.ASSESSMENT)
        MajorIncident.objects.filter(pk=major.pk).update(next_update_due=timezone.now() - dt.timedelta(minutes=5))
        response = self.api_client(self.viewer()).get(self.detail_url(major))
        self.assertTrue(response.data['overdue'])

    def test_declare_from_an_incident_links_it_as_a_child(self):
        service = make_public_service('VPN')
        incident = make_ticket(short_description='VPN refuses every login', service=service)
        response = self.api_client(self.writer()).post(
            self.list_url(), {'short_description': 'VPN down', 'source_incident': incident.number.lower()}
        )
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['source_incident'], incident.number)
        self.assertEqual(response.data['children_count'], 1)

    def test_declare_from_a_candidate(self):
        candidate = CandidateFactory(size=3)
        response = self.api_client(self.writer()).post(
            self.list_url(), {'short_description': 'Portal down', 'candidate': candidate.pk}
        )
        self.assertHttpStatus(response, 201)
        candidate.refresh_from_db()
        self.assertEqual(candidate.major_incident.number, response.data['number'])
        self.assertEqual(response.data['children_count'], 3)

    def test_the_update_interval_is_edited_within_the_cadence_rules(self):
        major = make_major(S.ASSESSMENT)
        client = self.api_client(major.incident_manager)
        response = client.patch(self.detail_url(major), {'update_interval_minutes': 30}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['update_interval_minutes'], 30)
        response = client.patch(self.detail_url(major), {'update_interval_minutes': 2}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('update_interval_minutes', response.data)
        self.assertEqual(MajorIncident.objects.get(pk=major.pk).update_interval_minutes, 30)

    # -- who may
    def test_requesters_never_see_major_incidents(self):
        major = self.make_object()
        client = self.api_client(make_user(Role.REQUESTER))
        self.assertHttpStatus(client.get(self.list_url()), 403)
        self.assertHttpStatus(client.get(self.detail_url(major)), 403)
        self.assertHttpStatus(client.get(f'{self.detail_url(major)}updates/'), 403)
        self.assertHttpStatus(client.get(f'{self.detail_url(major)}timeline/'), 403)

    def test_who_may_declare(self):
        data = {'short_description': 'Library Wi-Fi down', 'services': [make_public_service().number]}
        cases = (
            (Role.INCIDENT_MANAGER, 201),
            (Role.INTEGRATION, 201),
            (Role.SERVICE_DESK_AGENT, 403),
            (Role.SERVICE_OWNER, 403),
            (Role.REQUESTER, 403),
        )
        for role, status in cases:
            with self.subTest(role=role):
                response = self.api_client(make_user(role)).post(self.list_url(), data, format='json')
                self.assertHttpStatus(response, status)
        self.assertEqual(MajorIncident.objects.count(), 2)

    def test_integration_declares_with_the_moment_it_was_opened(self):
        opened = timezone.now() - dt.timedelta(minutes=20)
        data = {'short_description': 'Monitoring: portal down', 'opened_at': opened.isoformat()}
        response = self.api_client(make_user(Role.INTEGRATION)).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 201)
        major = MajorIncident.objects.get(number=response.data['number'])
        self.assertEqual(major.opened_at, opened)

    # -- actions
    def test_the_lifecycle_through_the_api(self):
        manager = make_incident_manager()
        lead, comms = make_user(Role.L3_ENGINEER), make_user(Role.SERVICE_DESK_AGENT)
        owner, business = make_user(Role.SERVICE_OWNER), make_user(Role.BUSINESS_OWNER)
        major = make_major()
        url = self.detail_url(major)
        client = self.api_client(manager)
        team = {
            'incident_manager': manager.username,
            'tech_lead': lead.username,
            'communications_lead': comms.username,
            'service_owner': owner.username,
            'business_owner': business.username,
            'support_staff': [make_user(Role.L2_ENGINEER).username],
        }
        response = client.post(f'{url}activate/', team, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.ACTIVATION)
        self.assertEqual(response.data['tech_lead'], lead.username)
        self.assertEqual(len(response.data['support_staff']), 1)
        # The incident manager moves the stages; the communications lead (an agent) posts updates.
        for slug, state in (('assess', S.ASSESSMENT), ('contain', S.CONTAINMENT), ('start-resolution', S.RESOLUTION)):
            response = client.post(f'{url}{slug}/', {'note': 'Moving on.'}, format='json')
            self.assertHttpStatus(response, 200)
            self.assertEqual(response.data['state'], state)
        response = self.api_client(comms).post(
            f'{url}post-update/', {'audience': 'recipients', 'body': 'Still on it.', 'status': 'identified'}
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(MajorIncidentUpdate.objects.filter(major_incident=major).count(), 1)
        child = make_ticket(short_description='Mail down for me', service=major.services.get(), state='accepted')
        response = self.api_client(make_user(Role.SERVICE_DESK_AGENT)).post(
            f'{url}link-children/', {'incidents': [child.number]}, format='json'
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['children_count'], 1)
        response = client.post(f'{url}resolve/', {'resolution': 'Failed over to the standby store.'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.REVIEW)
        self.assertIsNotNone(response.data['restored_at'])
        child.refresh_from_db()
        self.assertEqual(child.state, TicketState.COMPLETED)
        # Closing waits for both validations and the review.
        response = client.post(f'{url}close/', {}, format='json')
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'close_blocked')
        self.assertIn('business owner', response.data['detail'])
        for person in (owner, business):
            response = self.api_client(person).post(f'{url}validate/', {'note': 'Works for us.'}, format='json')
            self.assertHttpStatus(response, 200)
        self.assertEqual(Validation.objects.filter(major_incident=major).count(), 2)
        response = self.api_client(owner).post(f'{url}validate/', {}, format='json')
        self.assertHttpStatus(response, 409)
        write_review(MajorIncident.objects.get(pk=major.pk))
        response = client.post(f'{url}close/', {}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.CLOSED)

    def test_set_team_keeps_the_roles_left_out(self):
        major = make_major(S.ASSESSMENT)
        lead = make_user(Role.L3_ENGINEER)
        response = self.api_client(self.writer()).post(
            f'{self.detail_url(major)}set-team/', {'tech_lead': lead.username}, format='json'
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['tech_lead'], lead.username)
        self.assertEqual(response.data['incident_manager'], major.incident_manager.username)

    def test_hand_off_cancel_and_reopen(self):
        major = make_major(S.ASSESSMENT)
        client = self.api_client(self.writer())
        estimate = (timezone.now() + dt.timedelta(days=2)).isoformat()
        response = client.post(
            f'{self.detail_url(major)}hand-off/',
            {'handoff_owner': 'Storage team', 'handoff_reference': 'STOR-42', 'handoff_estimate': estimate},
            format='json',
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['mode'], ResponseMode.HANDOFF)
        self.assertEqual(response.data['handoff_reference'], 'STOR-42')
        self.assertIsNotNone(response.data['handed_off_at'])
        response = client.post(f'{self.detail_url(major)}cancel/', {'reason': 'A planned outage after all.'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.CANCELLED)
        restored = make_major(S.REVIEW)
        response = client.post(f'{self.detail_url(restored)}reopen/', {'reason': 'Down again.'})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['state'], S.RESOLUTION)

    def test_refusals(self):
        major = make_major(S.ASSESSMENT)
        url = self.detail_url(major)
        agent = self.api_client(make_user(Role.SERVICE_DESK_AGENT))
        manager = self.api_client(self.writer())
        cases = [
            (agent, 'contain', {}, 403, None),  # not the response team
            (agent, 'post-update', {'audience': 'public', 'body': 'Hello'}, 403, None),
            (manager, 'resolve', {}, 400, 'resolution'),
            (manager, 'post-update', {'audience': 'everyone', 'body': 'x'}, 400, 'audience'),
            (manager, 'post-update', {'audience': 'public'}, 400, 'body'),
            (manager, 'link-children', {'incidents': []}, 400, 'incidents'),
            (manager, 'link-children', {'incidents': ['INC9999999']}, 400, 'incidents'),
            (manager, 'hand-off', {}, 400, 'handoff_owner'),
            (manager, 'set-team', {'tech_lead': 'nobody-by-that-name'}, 400, 'tech_lead'),
            (manager, 'cancel', {}, 400, 'reason'),
            (manager, 'close', {}, 409, None),  # not restored yet
            (manager, 'activate', {}, 409, None),  # activated already
        ]
        for client, slug, data, status, field in cases:
            with self.subTest(action=slug, status=status):
                response = client.post(f'{url}{slug}/', data, format='json')
                self.assertHttpStatus(response, status)
                if field:
                    self.assertIn(field, response.data)
                else:
                    self.assertIn('detail', response.data)
        self.assertEqual(MajorIncident.objects.get(pk=major.pk).state, S.ASSESSMENT)

    def test_linking_an_incident_of_another_major_incident_is_a_409(self):
        first, second = make_major(S.ASSESSMENT), make_major(S.ASSESSMENT)
        incident = make_ticket(service=first.services.get())
        services.major_link_children(major=first, actor=Actor.system(), incidents=[incident])
        response = self.api_client(self.writer()).post(
            f'{self.detail_url(second)}link-children/', {'incidents': [incident.number]}, format='json'
        )
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.data['code'], 'already_linked')
        self.assertIn(first.number, response.data['detail'])

    def test_bad_input_on_declare_is_a_400_naming_the_field(self):
        client = self.api_client(self.writer())
        cases = [
            ({'description': 'no short description'}, 'short_description'),
            ({'short_description': 'x', 'services': [make_ci(CIClass.SERVER).number]}, 'services'),
            ({'short_description': 'x', 'cis': ['CI9999999']}, 'cis'),
            ({'short_description': 'x', 'severity': 9}, 'severity'),
            ({'short_description': 'x', 'service_impact': 'on_fire'}, 'service_impact'),
            ({'short_description': 'x', 'incident_manager': 'nobody'}, 'incident_manager'),
            ({'short_description': 'x', 'source_incident': 'INC9999999'}, 'source_incident'),
        ]
        for data, field in cases:
            with self.subTest(field=field):
                response = client.post(self.list_url(), data, format='json')
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.data)
        self.assertFalse(MajorIncident.objects.exists())

    def test_updates_reach_the_recipient_list(self):
        major = make_major(S.ASSESSMENT)
        services.recipient_add(major=major, actor=Actor.system(), email='dean@example.com', name='Dean')
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.api_client(self.writer()).post(
                f'{self.detail_url(major)}post-update/', {'audience': UpdateAudience.RECIPIENTS, 'body': 'On it.'}
            )
        self.assertHttpStatus(response, 200)
        self.assertIn('dean@example.com', [address for message in mail.outbox for address in message.recipients()])

    def test_comments_and_timeline(self):
        major = self.make_object()
        client = self.api_client(self.writer())
        response = client.post(
            f'{self.detail_url(major)}comments/', {'body': 'Bridge call at 10:00.', 'internal': True}
        )
        self.assertHttpStatus(response, 201)
        response = client.get(f'{self.detail_url(major)}timeline/')
        self.assertHttpStatus(response, 200)
        self.assertIn(TimelineKind.CREATED, [entry['kind'] for entry in response.data])

    def test_the_endpoints_are_in_the_schema(self):
        response = self.api_client(self.viewer()).get('/api/v1/schema/', {'format': 'json'})
        self.assertHttpStatus(response, 200)
        paths = response.json()['paths']
        for slug in (
            'activate',
            'assess',
            'contain',
            'start-resolution',
            'resolve',
            'validate',
            'close',
            'reopen',
            'post-update',
            'set-team',
            'link-children',
            'hand-off',
            'cancel',
            'updates',
            'children',
            'recipients',
            'review',
        ):
            self.assertIn(f'/api/v1/major-incidents/{{number}}/{slug}/', paths)
        for collection in (
            'children',
            'recipients',
            'updates',
            'validations',
            'cadence-reminders',
            'reviews',
            'update-templates',
            'candidates',
            'action-items',
        ):
            self.assertIn(f'/api/v1/major-incident-{collection}/', paths)


class MajorIncidentRoleTests(ItsmTestCase):
    def test_a_person_without_a_role_reads_nothing(self):
        make_major()
        response = self.api_client(User.objects.create(username='nobody')).get(API)
        self.assertHttpStatus(response, 403)

    def test_readers_read_and_do_not_run_it(self):
        major = make_major(S.ASSESSMENT)
        for role in (Role.MANAGER, Role.SERVICE_OWNER, Role.CHANGE_MANAGER):
            with self.subTest(role=role):
                client = self.api_client(make_user(role))
                self.assertHttpStatus(client.get(f'{API}{major.number}/'), 200)
                self.assertHttpStatus(client.post(f'{API}{major.number}/contain/', {}), 403)
        self.assertEqual(MajorIncident.objects.get(pk=major.pk).state, S.ASSESSMENT)


class MajorIncidentCandidateAPITests(APITestCases.ReadOnlyCollection, APITestCases.ModelAPITestCase):
    model = MajorIncidentCandidate
    basename = 'majorincidentcandidate'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    supports_delete = False
    query_rows = (1, 4)

    def make_object(self, **kwargs):
        return CandidateFactory(**kwargs)

    def filter_cases(self):
        proposed = self.make_object()
        dismissed = self.make_object(status=CandidateStatus.DISMISSED)
        return [
            ({'status': 'proposed'}, [proposed]),
            ({'status': 'dismissed'}, [dismissed]),
            ({'reason': 'flood'}, [proposed, dismissed]),
            ({'reason': 'critical_service'}, []),
        ]

    def test_the_answer_lists_the_incidents(self):
        candidate = self.make_object(size=3)
        response = self.api_client(self.viewer()).get(self.detail_url(candidate))
        self.assertHttpStatus(response, 200)
        self.assertEqual(len(response.data['incidents']), 3)
        self.assertEqual(response.data['service'], candidate.service.number)

    def test_incident_managers_dismiss_with_a_reason(self):
        candidate = self.make_object()
        url = f'{self.detail_url(candidate)}dismiss/'
        self.assertHttpStatus(self.api_client(self.viewer()).post(url, {'reason': 'x'}, format='json'), 403)
        response = self.api_client(self.writer()).post(url, {}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('reason', response.data)
        response = self.api_client(self.writer()).post(url, {'reason': 'Planned maintenance.'}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['status'], CandidateStatus.DISMISSED)
        self.assertEqual(response.data['dismiss_reason'], 'Planned maintenance.')
        response = self.api_client(self.writer()).post(url, {'reason': 'Again.'}, format='json')
        self.assertHttpStatus(response, 409)
