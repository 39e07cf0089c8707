"""Updates over the API: posted and read under one major incident (`/major-incidents/{number}/updates/`), read
across all (`/major-incident-updates/`), the update templates incident managers maintain, the validations and the
cadence reminders (read)."""

from __future__ import annotations

import datetime as dt

from itsm.choices import Role
from major_incidents import cadence
from major_incidents.choices import MajorIncidentState, UpdateAudience, UpdateStatus, ValidationRole
from major_incidents.models import CadenceReminder, MajorIncident, MajorIncidentUpdate, UpdateTemplate, Validation
from tests.base import APITestCases, ItsmTestCase
from tests.factories import make_user

from .factories import UpdateFactory, UpdateTemplateFactory, ValidationFactory, make_major

S = MajorIncidentState


def make_reminder(**fields) -> CadenceReminder:
    """A reminder sent by the cadence job for a missed update."""
    major = make_major(S.ASSESSMENT, **fields)
    cadence.send_overdue_reminders(now=major.next_update_due + dt.timedelta(minutes=1))
    return CadenceReminder.objects.get(major_incident=major)


def updates_url(major) -> str:
    return f'/api/v1/major-incidents/{major.number}/updates/'


class NestedUpdateTests(ItsmTestCase):
    def setUp(self):
        self.comms = make_user(Role.SERVICE_DESK_AGENT)
        self.major = make_major(S.ASSESSMENT)
        self.major.communications_lead = self.comms
        self.major.save(update_fields=['communications_lead'])

    def test_the_communications_lead_posts_and_everyone_on_staff_reads_newest_first(self):
        client = self.api_client(self.comms)
        for body in ('We are investigating.', 'The cause is identified.'):
            response = client.post(
                updates_url(self.major),
                {'audience': UpdateAudience.PUBLIC, 'body': body, 'status': UpdateStatus.INVESTIGATING},
                format='json',
            )
            self.assertHttpStatus(response, 201)
            self.assertEqual(response.data['posted_by'], self.comms.username)
            self.assertEqual(response.data['major_incident'], self.major.number)
        response = self.api_client(make_user(Role.L2_ENGINEER)).get(updates_url(self.major))
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            [row['body'] for row in response.data['results']], ['The cause is identified.', 'We are investigating.']
        )
        self.assertIsNotNone(MajorIncident.objects.get(pk=self.major.pk).last_update_at)

    def test_a_template_fills_what_is_left_empty(self):
        template = UpdateTemplateFactory(status=UpdateStatus.IDENTIFIED)
        response = self.api_client(self.comms).post(
            updates_url(self.major), {'audience': UpdateAudience.INTERNAL, 'template': template.pk}, format='json'
        )
        self.assertHttpStatus(response, 201)
        self.assertIn(self.major.services.get().name, response.data['body'])
        self.assertEqual(response.data['status'], UpdateStatus.IDENTIFIED)
        self.assertEqual(response.data['template'], template.pk)

    def test_refusals(self):
        url = updates_url(self.major)
        data = {'audience': UpdateAudience.PUBLIC, 'body': 'Hello'}
        self.assertHttpStatus(self.api_client(make_user(Role.REQUESTER)).get(url), 403)
        response = self.api_client(make_user(Role.SERVICE_DESK_AGENT)).post(url, data, format='json')
        self.assertHttpStatus(response, 403)
        self.assertIn(self.major.number, response.data['detail'])
        for bad, field in (
            ({'audience': 'everyone', 'body': 'x'}, 'audience'),
            ({'audience': 'public'}, 'body'),
            ({'audience': 'public', 'body': 'x', 'status': 'panicking'}, 'status'),
            ({'audience': 'public', 'template': 999999}, 'template'),
        ):
            with self.subTest(field=field):
                response = self.api_client(self.comms).post(url, bad, format='json')
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.data)
        closed = make_major(S.CANCELLED)
        response = self.api_client(closed.incident_manager).post(updates_url(closed), data, format='json')
        self.assertHttpStatus(response, 409)
        self.assertFalse(MajorIncidentUpdate.objects.exists())

    def test_list_queries_do_not_grow_with_updates(self):
        client = self.api_client(self.comms)
        UpdateFactory(major_incident=self.major)
        client.get(updates_url(self.major))
        few = self.count_queries(lambda: self.assertHttpStatus(client.get(updates_url(self.major)), 200))
        for _ in range(4):
            UpdateFactory(major_incident=self.major)
        many = self.count_queries(lambda: self.assertHttpStatus(client.get(updates_url(self.major)), 200))
        self.assertEqual(few, many)


class MajorIncidentUpdateAPITests(APITestCases.ReadOnlyCollection, APITestCases.ModelAPITestCase):
    model = MajorIncidentUpdate
    basename = 'majorincidentupdate'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    supports_delete = False

    def make_object(self, **kwargs):
        return UpdateFactory(major_incident=make_major(S.ASSESSMENT), **kwargs)

    def filter_cases(self):
        internal = self.make_object(audience=UpdateAudience.INTERNAL)
        public = self.make_object(audience=UpdateAudience.PUBLIC)
        return [
            ({'audience': 'internal'}, [internal]),
            ({'major_incident': public.major_incident.number}, [public]),
            ({'on_time': 'true'}, [internal, public]),
        ]


class UpdateTemplateAPITests(APITestCases.ModelAPITestCase):
    model = UpdateTemplate
    basename = 'updatetemplate'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    update_data = {'subject': '{number}: resolved', 'active': False}

    def make_object(self, **kwargs):
        return UpdateTemplateFactory(**kwargs)

    def create_data(self):
        return {
            'name': 'Public: investigating',
            'audience': UpdateAudience.PUBLIC,
            'status': UpdateStatus.INVESTIGATING,
            'subject': '{title}',
            'body': 'We are investigating a problem with {services}.',
        }

    def filter_cases(self):
        public = self.make_object(audience=UpdateAudience.PUBLIC, name='Public first')
        internal = self.make_object(audience=UpdateAudience.INTERNAL, name='Bridge call', active=False)
        return [
            ({'audience': 'public', 'q': 'public first'}, [public]),
            ({'audience': 'internal', 'q': 'public first'}, []),
            ({'active': 'false'}, [internal]),
            ({'q': 'bridge'}, [internal]),
        ]

    def test_a_second_template_with_the_same_name_is_refused(self):
        self.make_object(name='Hand-off notice')
        data = {**self.create_data(), 'name': 'Hand-off notice'}
        response = self.api_client(self.writer()).post(self.list_url(), data, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('name', response.data)


class ValidationAPITests(APITestCases.ReadOnlyCollection, APITestCases.ModelAPITestCase):
    model = Validation
    basename = 'validation'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    supports_delete = False
    query_rows = (1, 4)

    def make_object(self, **kwargs):
        return ValidationFactory(major_incident=make_major(S.REVIEW), **kwargs)

    def filter_cases(self):
        first = self.make_object()
        second = ValidationFactory(major_incident=first.major_incident, role=ValidationRole.BUSINESS_OWNER)
        other = self.make_object()
        return [
            ({'major_incident': first.major_incident.number}, [first, second]),
            ({'role': 'business_owner'}, [second]),
            ({'major_incident': other.major_incident.number, 'role': 'service_owner'}, [other]),
        ]

    def test_the_answer_names_who_validated(self):
        validation = self.make_object()
        response = self.api_client(self.viewer()).get(self.detail_url(validation))
        self.assertEqual(response.data['validated_by'], validation.validated_by.username)
        self.assertEqual(response.data['role'], ValidationRole.SERVICE_OWNER)


class CadenceReminderAPITests(APITestCases.ReadOnlyCollection, APITestCases.ModelAPITestCase):
    model = CadenceReminder
    basename = 'cadencereminder'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)
    supports_delete = False
    query_rows = (1, 4)

    def make_object(self, **kwargs):
        return make_reminder(**kwargs)

    def filter_cases(self):
        first, second = self.make_object(), self.make_object()
        return [
            ({'major_incident': first.major_incident.number}, [first]),
            ({'major_incident': second.major_incident.number.lower()}, [second]),
            ({'major_incident': 'MIR1'}, []),
        ]

    def test_the_answer_names_who_was_reminded(self):
        reminder = self.make_object()
        response = self.api_client(self.viewer()).get(self.detail_url(reminder))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['sent_to'], reminder.sent_to.username)
        self.assertEqual(response.data['major_incident'], reminder.major_incident.number)
