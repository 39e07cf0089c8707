"""Major-incident pages: the list with its tabs and filters, declaring (directly, from an incident, from a
candidate), the record page and each of its cards, who may do what, the recipient list, the update-template pages,
the preview of a template, and query counts that do not grow with the record's children, updates and recipients."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cmdb.choices import CIClass, RelationshipType
from itsm.choices import Role, TimelineKind
from major_incidents import services
from major_incidents.choices import (
    CandidateStatus,
    MajorIncidentState,
    ResponseMode,
    UpdateAudience,
    ValidationRole,
)
from major_incidents.filters import MajorIncidentFilterSet
from major_incidents.models import MajorIncident, MajorIncidentChild, Recipient, UpdateTemplate
from tests.base import ItsmTestCase, ViewTestCases
from tests.cmdb.factories import link, make_ci
from tests.factories import make_ticket, make_user
from tests.major_incidents.factories import (
    SYSTEM,
    CandidateFactory,
    ChildFactory,
    RecipientFactory,
    UpdateFactory,
    UpdateTemplateFactory,
    ValidationFactory,
    make_incident_manager,
    make_major,
    make_public_service,
    write_review,
)

S = MajorIncidentState


def url(name: str, *args) -> str:
    return reverse(f'major_incidents:{name}', args=args)


class MajorIncidentViewTests(ViewTestCases.ModelViewTestCase):
    model = MajorIncident
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.SERVICE_OWNER,)  # reads every major incident, runs none
    query_rows = (2, 6)

    def make_object(self, **kwargs):
        return make_major(**kwargs)

    def form_data(self):
        service = make_public_service('Student e-mail')
        return {
            'short_description': 'Student e-mail is down',
            'description': 'Webmail and IMAP refuse every sign-in.',
            'priority': 0,
            'severity': 1,
            'service_impact': 'major_outage',
            'public_title': 'E-mail unavailable',
            'services': [service.pk],
            'cis': '',
        }

    def edit_data(self, obj):
        return {
            'short_description': 'Student e-mail is down for sign-in',
            'description': obj.description,
            'priority': obj.priority,
            'severity': 2,
            'service_impact': 'partial_outage',
            'public_title': 'E-mail sign-in failing',
            'services': [s.pk for s in obj.services.all()],
            'cis': '',
            'outage_started_at': timezone.localtime(obj.outage_started_at).strftime('%Y-%m-%dT%H:%M'),
            'update_interval_minutes': obj.update_interval_minutes,
        }

    def test_edit(self):
        obj = self.make_object()
        manager = obj.incident_manager
        self.client.force_login(manager)
        data = self.edit_data(obj)
        response = self.client.post(self.url('edit', obj), data)
        self.assertHttpStatus(response, 302)
        obj = MajorIncident.objects.get(pk=obj.pk)
        self.assertEqual((obj.short_description, obj.severity), ('Student e-mail is down for sign-in', 2))
        self.assertEqual(obj.service_impact, 'partial_outage')
        self.assertTrue(self.timeline(obj, TimelineKind.FIELD_CHANGE).exists())

    def test_delete(self):
        """Major incidents are never deleted: an incident manager cancels them, with a reason."""
        with self.assertRaises(NoReverseMatch):
            reverse('major_incidents:majorincident_delete', kwargs={'number': 'MIR0001001'})
        major = self.make_object()
        self.login(*self.write_roles)
        response = self.client.post(url('majorincident_cancel', major.number), {'reason': 'A single user'})
        self.assertHttpStatus(response, 302)
        major = MajorIncident.objects.get(pk=major.pk)
        self.assertEqual(major.state, S.CANCELLED)

    # -- the list
    def test_tabs(self):
        self.login(*self.view_roles)
        active = make_major(short_description='Wi-Fi down')
        in_review = make_major(S.REVIEW, short_description='VPN restored')
        cancelled = make_major(S.CANCELLED, short_description='Not major after all')
        expected = {
            'active': {active},
            'review': {in_review},
            'closed': {cancelled},
            'all': {active, in_review, cancelled},
        }
        for queue, majors in expected.items():
            with self.subTest(queue=queue):
                response = self.client.get(url('majorincident_list'), {'queue': queue})
                self.assertHttpStatus(response, 200)
                self.assertEqual(set(response.context['object_list']), majors)

    def test_filters(self):
        me = self.login(Role.INCIDENT_MANAGER)
        service = make_public_service('Virtual learning')
        mine = make_major(services=[service], incident_manager=me, priority=0, short_description='Moodle down')
        make_major(short_description='Printing down', priority=2)
        for params in (
            {'service': service.number},
            {'incident_manager': 'me'},
            {'incident_manager': me.username},
            {'priority': '0'},
            {'q': 'moodle'},
            {'state': S.DETECTION, 'q': 'moodle'},
            {'mode': ResponseMode.URGENT, 'q': 'moodle'},
        ):
            with self.subTest(params=params):
                response = self.client.get(url('majorincident_list'), {**params, 'queue': 'all'})
                self.assertHttpStatus(response, 200)
                self.assertEqual(set(response.context['object_list']), {mine})

    def test_list_columns_show_the_overdue_update_in_red(self):
        self.login(*self.view_roles)
        major = make_major(S.ASSESSMENT, short_description='Payroll down')
        ChildFactory(major_incident=major)
        MajorIncident.objects.filter(pk=major.pk).update(next_update_due=timezone.now() - dt.timedelta(minutes=5))
        response = self.client.get(url('majorincident_list'))
        self.assertContains(response, 'pc-overdue')
        self.assertContains(response, 'Overdue')
        self.assertEqual(response.context['object_list'][0].child_count, 1)
        MajorIncident.objects.filter(pk=major.pk).update(next_update_due=timezone.now() + dt.timedelta(minutes=50))
        self.assertNotContains(self.client.get(url('majorincident_list')), 'pc-overdue')


class FilterSetTests(ItsmTestCase):
    """The filters the list page and the API share, including those the page does not show."""

    def test_every_filter(self):
        server = make_ci(CIClass.SERVER, name='erp-db-01')
        manager = make_incident_manager(username='ines.m')
        erp = make_major(S.ASSESSMENT, cis=[server], severity=2, incident_manager=manager)
        restored = make_major(S.REVIEW)
        MajorIncident.objects.filter(pk=restored.pk).update(declared_at=timezone.now() - dt.timedelta(days=3))
        cutoff = (timezone.now() - dt.timedelta(days=1)).isoformat()
        everything = MajorIncident.objects.all()
        for params, expected in (
            ({'active': 'true'}, {erp}),
            ({'active': 'false'}, {restored}),
            ({'severity': '2'}, {erp}),
            ({'ci': server.number}, {erp}),
            ({'ci': 'erp-db-01'}, {erp}),
            ({'incident_manager': 'INES.M'}, {erp}),
            ({'state': [S.ASSESSMENT, S.REVIEW]}, {erp, restored}),
            ({'declared_after': cutoff}, {erp}),
            ({'declared_before': cutoff}, {restored}),
        ):
            with self.subTest(params=params):
                filterset = MajorIncidentFilterSet(QueryDict(urlencode(params, doseq=True)), queryset=everything)
                self.assertTrue(filterset.is_valid(), filterset.errors)
                self.assertEqual(set(filterset.qs), expected)


class PermissionTests(ItsmTestCase):
    """Requesters never see major incidents; agents read and link children; incident managers declare and run
    them; only the record's owners validate."""

    def setUp(self):
        self.service = make_public_service('Campus network')
        self.major = make_major(S.ASSESSMENT, services=[self.service])

    def pages(self, major):
        number = major.number
        return [
            url('majorincident_list'),
            url('majorincident_add'),
            url('majorincident_detail', number),
            url('majorincident_edit', number),
            url('majorincident_post_update', number),
            url('majorincident_link_children', number),
            url('update_preview', number),
            url('updatetemplate_list'),
        ]

    def test_requesters_are_refused_everywhere(self):
        template = UpdateTemplateFactory()
        self.client.force_login(make_user(Role.REQUESTER))
        for page in [*self.pages(self.major), url('updatetemplate_detail', template.pk)]:
            with self.subTest(page=page):
                self.assertHttpStatus(self.client.get(page), 403)
        recipient = RecipientFactory(major_incident=self.major)
        for page in (
            url('recipient_add', self.major.number),
            url('recipient_delete', self.major.number, recipient.pk),
            url('majorincident_link_children', self.major.number),
        ):
            with self.subTest(page=page):
                self.assertHttpStatus(self.client.post(page, {'email': 'x@example.com'}), 403)
        self.assertTrue(Recipient.objects.filter(pk=recipient.pk).exists())

    def test_anonymous_is_sent_to_login(self):
        for page in self.pages(self.major):
            with self.subTest(page=page):
                response = self.client.get(page)
                self.assertHttpStatus(response, 302)
                self.assertIn(reverse('itsm:login'), response['Location'])

    def test_agents_read_and_link_children_but_do_not_declare_or_run(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(agent)
        self.assertHttpStatus(self.client.get(url('majorincident_detail', self.major.number)), 200)
        self.assertHttpStatus(self.client.get(url('majorincident_add')), 403)
        self.assertHttpStatus(self.client.post(url('majorincident_add'), {'short_description': 'x'}), 403)
        response = self.client.post(url('majorincident_contain', self.major.number))
        self.assertHttpStatus(response, 403)
        self.assertEqual(MajorIncident.objects.get(pk=self.major.pk).state, S.ASSESSMENT)
        incident = make_ticket(short_description='No network in the library', service=self.service)
        response = self.client.post(
            url('majorincident_link_children', self.major.number), {'proposed': [incident.number]}
        )
        self.assertHttpStatus(response, 302)
        link_ = MajorIncidentChild.objects.get(incident=incident)
        self.assertEqual((link_.major_incident, link_.linked_by), (self.major, agent))

    def test_only_incident_managers_and_administrators_declare_on_the_desk(self):
        for role, status in (
            (Role.INCIDENT_MANAGER, 200),
            (Role.ADMINISTRATOR, 200),
            (Role.INTEGRATION, 403),
            (Role.SERVICE_OWNER, 403),
            (Role.L3_ENGINEER, 403),
        ):
            with self.subTest(role=role):
                self.client.force_login(make_user(role))
                self.assertHttpStatus(self.client.get(url('majorincident_add')), status)

    def test_incident_managers_run_the_response(self):
        manager = make_incident_manager()
        self.client.force_login(manager)
        page = self.client.get(url('majorincident_detail', self.major.number))
        self.assertContains(page, url('majorincident_contain', self.major.number))
        response = self.client.post(url('majorincident_contain', self.major.number), {'note': 'Traffic rerouted'})
        self.assertHttpStatus(response, 302)
        self.assertEqual(MajorIncident.objects.get(pk=self.major.pk).state, S.CONTAINMENT)

    def test_only_the_owners_validate(self):
        major = make_major(S.REVIEW)
        owner = make_user(Role.SERVICE_OWNER)
        business = make_user(Role.BUSINESS_OWNER)
        services.major_set_team(major=major, actor=SYSTEM, service_owner=owner, business_owner=business)
        stranger = make_user(Role.SERVICE_OWNER)
        self.client.force_login(stranger)
        self.assertNotContains(self.client.get(major.get_absolute_url()), url('majorincident_validate', major.number))
        self.assertHttpStatus(self.client.post(url('majorincident_validate', major.number)), 403)
        self.client.force_login(owner)
        page = self.client.get(major.get_absolute_url())
        self.assertContains(page, url('majorincident_validate', major.number))
        response = self.client.post(url('majorincident_validate', major.number), {'note': 'Mail flows again'})
        self.assertHttpStatus(response, 302)
        page = self.client.get(major.get_absolute_url())
        rows = dict(page.context['validation_rows'])
        self.assertEqual(rows[ValidationRole.SERVICE_OWNER].validated_by, owner)
        self.assertIsNone(rows[ValidationRole.BUSINESS_OWNER])


class DeclareTests(ItsmTestCase):
    def setUp(self):
        self.manager = make_incident_manager()
        self.client.force_login(self.manager)
        self.service = make_public_service('Payroll')

    def test_declare_directly(self):
        response = self.client.post(
            url('majorincident_add'),
            {
                'short_description': 'Payroll is down',
                'priority': 0,
                'severity': 1,
                'service_impact': 'major_outage',
                'services': [self.service.pk],
            },
        )
        self.assertHttpStatus(response, 302)
        major = MajorIncident.objects.get(short_description='Payroll is down')
        self.assertRedirects(response, major.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(major.priority, 0)
        self.assertEqual(list(major.services.all()), [self.service])
        self.assertEqual(major.opened_by, self.manager)

    def test_declare_from_an_incident(self):
        incident = make_ticket(short_description='Payroll will not open', service=self.service)
        page = self.client.get(url('majorincident_add'), {'incident': incident.number})
        self.assertHttpStatus(page, 200)
        form = page.context['form']
        self.assertEqual(form.initial['short_description'], 'Payroll will not open')
        self.assertEqual(form.initial['services'], [self.service.pk])
        self.assertContains(page, incident.number)
        data = {
            'short_description': 'Payroll will not open',
            'priority': 1,
            'severity': 1,
            'service_impact': 'major_outage',
            'services': [self.service.pk],
            'source_incident': incident.number,
        }
        self.assertHttpStatus(self.client.post(url('majorincident_add'), data), 302)
        major = MajorIncident.objects.get(source_incident=incident)
        self.assertTrue(MajorIncidentChild.objects.filter(major_incident=major, incident=incident).exists())
        # Declared once: the page says where the incident is worked now.
        again = self.client.get(url('majorincident_add'), {'incident': incident.number})
        self.assertContains(again, 'is already part of major incident')
        self.assertContains(again, major.number)

    def test_declare_from_a_candidate(self):
        candidate = CandidateFactory(size=3, service=self.service)
        page = self.client.get(url('majorincident_add'), {'candidate': candidate.pk})
        self.assertHttpStatus(page, 200)
        form = page.context['form']
        self.assertEqual(form.initial['candidate'], candidate.pk)
        self.assertEqual(form.initial['services'], [self.service.pk])
        data = {
            'short_description': 'Payroll flood',
            'priority': 1,
            'severity': 1,
            'service_impact': 'partial_outage',
            'services': [self.service.pk],
            'candidate': candidate.pk,
        }
        self.assertHttpStatus(self.client.post(url('majorincident_add'), data), 302)
        major = MajorIncident.objects.get(short_description='Payroll flood')
        candidate.refresh_from_db()
        self.assertEqual((candidate.status, candidate.major_incident), (CandidateStatus.DECLARED, major))
        self.assertEqual(major.child_links.count(), 3)
        again = self.client.get(url('majorincident_add'), {'candidate': candidate.pk})
        self.assertContains(again, 'is already part of major incident')

    def test_an_empty_title_is_a_form_error(self):
        response = self.client.post(url('majorincident_add'), {'short_description': '', 'priority': 1})
        self.assertHttpStatus(response, 200)
        self.assertIn('short_description', response.context['form'].errors)
        self.assertFalse(MajorIncident.objects.exists())


class RecordPageTests(ItsmTestCase):
    """Each card of the record page shows its data."""

    def setUp(self):
        self.service = make_public_service('Student portal')
        self.server = make_ci(CIClass.SERVER, name='portal-db-01')
        self.downstream = make_public_service('Library catalogue')
        link(self.downstream, RelationshipType.DEPENDS_ON, self.service)
        self.manager = make_incident_manager(first_name='Ines', last_name='Marsh')
        self.major = make_major(
            S.CONTAINMENT, services=[self.service], cis=[self.server], incident_manager=self.manager, priority=0
        )

    def page(self, user=None):
        self.client.force_login(user or self.manager)
        response = self.client.get(self.major.get_absolute_url())
        self.assertHttpStatus(response, 200)
        return response

    def test_status_strip(self):
        MajorIncident.objects.filter(pk=self.major.pk).update(next_update_due=timezone.now() - dt.timedelta(minutes=3))
        response = self.page()
        self.assertContains(response, 'Containment')
        self.assertContains(response, 'Urgent response')
        self.assertContains(response, 'id="major-outage"')
        self.assertContains(response, 'Update overdue')
        self.assertTrue(response.context['overdue'])

    def test_handed_off(self):
        estimate = timezone.now() + dt.timedelta(days=2)
        services.major_hand_off(
            major=self.major,
            actor=SYSTEM,
            handoff_owner='Portal team',
            handoff_reference='PORT-88',
            handoff_estimate=estimate,
        )
        response = self.page()
        self.assertContains(response, 'Handed off to Portal team')
        self.assertContains(response, 'PORT-88')

    def test_team(self):
        lead = make_user(Role.L3_ENGINEER, first_name='Tomas', last_name='Reed')
        supporter = make_user(Role.L2_ENGINEER, first_name='Ada', last_name='Quill')
        services.major_set_team(major=self.major, actor=SYSTEM, tech_lead=lead, support_staff=[supporter])
        response = self.page()
        for text in ('Ines Marsh', 'Tomas Reed', 'Ada Quill', 'Tech lead', 'Communications lead', 'Support staff'):
            self.assertContains(response, text)

    def test_scope_and_impact_analysis(self):
        response = self.page()
        self.assertContains(response, 'portal-db-01')
        impact = dict(response.context['impact'])
        self.assertEqual([item.name for item in impact[self.service]], ['Library catalogue'])
        self.assertContains(response, 'Library catalogue')

    def test_children_and_proposed_children(self):
        caller = make_user(first_name='Pia', last_name='Lund')
        ChildFactory(major_incident=self.major, caller=caller)
        waiting = make_ticket(short_description='Portal shows error 502', service=self.service)
        response = self.page(make_user(Role.SERVICE_DESK_AGENT))
        self.assertContains(response, 'Pia Lund')
        self.assertEqual(len(response.context['children']), 1)
        self.assertContains(response, 'id="major-link-form"')
        self.assertContains(response, f'{waiting.number} · Portal shows error 502')

    def test_updates_newest_first_with_audience_and_punctuality(self):
        UpdateFactory(major_incident=self.major, body='First: investigating', audience=UpdateAudience.INTERNAL)
        UpdateFactory(major_incident=self.major, body='Second: <b>identified</b>', audience=UpdateAudience.PUBLIC)
        response = self.page()
        content = response.content.decode()
        self.assertLess(content.index('Second:'), content.index('First: investigating'))
        self.assertIn('&lt;b&gt;identified&lt;/b&gt;', content)  # user content is escaped
        self.assertContains(response, 'Public (status page and its subscribers)')
        self.assertContains(response, 'On time')
        self.assertContains(response, 'id="major-update-form"')

    def test_recipients_add_and_remove(self):
        self.client.force_login(self.manager)
        data = {'email': 'dean@example.edu', 'name': 'The Dean'}
        response = self.client.post(url('recipient_add', self.major.number), data)
        self.assertHttpStatus(response, 302)
        recipient = Recipient.objects.get(major_incident=self.major, email='dean@example.edu')
        page = self.page()
        self.assertContains(page, 'The Dean')
        self.assertContains(page, 'Added by hand')
        response = self.client.post(url('recipient_delete', self.major.number, recipient.pk))
        self.assertHttpStatus(response, 302)
        self.assertFalse(Recipient.objects.filter(pk=recipient.pk).exists())

    def test_recipient_form_errors(self):
        self.client.force_login(self.manager)
        response = self.client.post(url('recipient_add', self.major.number), {'email': 'not an address'})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'is-invalid', status_code=400)
        response = self.client.post(url('recipient_add', self.major.number), {})
        self.assertContains(response, 'Give an e-mail address or pick a person.', status_code=400)

    def test_validations_and_review_link(self):
        major = make_major(S.REVIEW)
        ValidationFactory(major_incident=major)
        self.client.force_login(major.incident_manager)
        response = self.client.get(major.get_absolute_url())
        self.assertContains(response, 'Validated')
        self.assertContains(response, 'Pending')
        self.assertContains(response, 'Write the review')
        write_review(major)
        response = self.client.get(major.get_absolute_url())
        self.assertNotContains(response, 'Write the review')
        self.assertContains(response, url('review', major.number))

    def test_the_conversation_takes_work_notes_only(self):
        self.client.force_login(self.manager)
        page = self.page()
        self.assertNotContains(page, 'Comment to the requester')
        comment = url('majorincident_comment', self.major.number)
        response = self.client.post(comment, {'visibility': 'internal', 'body': 'Bridge call at 10:00'})
        self.assertHttpStatus(response, 302)
        self.assertTrue(self.timeline(self.major).filter(message__contains='Bridge call at 10:00').exists())
        response = self.client.post(comment, {'visibility': 'public', 'body': 'To nobody'})
        self.assertHttpStatus(response, 400)
        self.assertFalse(self.timeline(self.major).filter(message__contains='To nobody').exists())

    def test_posting_from_the_updates_card_with_htmx_refreshes_the_page_parts(self):
        self.client.force_login(self.manager)
        response = self.client.post(
            url('majorincident_post_update', self.major.number),
            {'audience': 'internal', 'status': 'identified', 'body': 'Disk controller replaced'},
            headers={'HX-Request': 'true'},
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Update posted on')
        self.assertContains(response, 'id="majorincident-summary"')
        self.assertContains(response, 'Disk controller replaced')
        response = self.client.post(
            url('majorincident_post_update', self.major.number),
            {'audience': 'internal', 'status': 'identified', 'body': ''},
            headers={'HX-Request': 'true'},
        )
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'Write what the update says', status_code=400)

    def test_query_count_does_not_grow_with_children_updates_and_recipients(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(self.manager)
        ChildFactory(major_incident=self.major)
        UpdateFactory(major_incident=self.major)
        RecipientFactory(major_incident=self.major)
        make_ticket(short_description='Proposed one', service=self.service)
        page = self.major.get_absolute_url()
        for user in (self.manager, agent):
            self.client.force_login(user)
            self.client.get(page)
            small = self.count_queries(lambda: self.assertHttpStatus(self.client.get(page), 200))
            for _ in range(9):
                ChildFactory(major_incident=self.major, caller=make_user())
                UpdateFactory(major_incident=self.major)
                RecipientFactory(major_incident=self.major)
            large = self.count_queries(lambda: self.assertHttpStatus(self.client.get(page), 200))
            self.assertEqual(small, large, f'the record page grew from {small} to {large} queries')


class ActionPageTests(ItsmTestCase):
    """Every action's form renders, as a page and as the htmx panel, for the people who may take it."""

    def test_each_action_form_renders(self):
        for state in (S.DETECTION, S.ASSESSMENT, S.RESOLUTION, S.REVIEW):
            major = make_major(state)
            self.client.force_login(major.incident_manager)
            page = self.client.get(major.get_absolute_url())
            offered = page.context['toolbar_actions'] + page.context['menu_actions']
            self.assertTrue(offered)
            for action in offered:
                with self.subTest(state=state, action=action.name):
                    self.assertHttpStatus(self.client.get(action.url), 200)
                    panel = self.client.get(action.url, headers={'HX-Request': 'true'})
                    self.assertHttpStatus(panel, 200)
                    self.assertContains(panel, 'id="majorincident-action-form"')

    def test_finished_records_offer_no_forms(self):
        for state in (S.CLOSED, S.CANCELLED):
            with self.subTest(state=state):
                major = make_major(state)
                self.client.force_login(major.incident_manager)
                page = self.client.get(major.get_absolute_url())
                self.assertHttpStatus(page, 200)
                for form_id in ('major-update-form', 'major-link-form', 'major-recipient-form'):
                    self.assertNotContains(page, f'id="{form_id}"')
                if state == S.CANCELLED:
                    self.assertContains(page, 'One user only: not a major incident.')
                else:
                    self.assertContains(page, url('review', major.number))

    def test_edit_panel_with_htmx(self):
        major = make_major(S.ASSESSMENT)
        self.client.force_login(major.incident_manager)
        response = self.client.get(url('majorincident_edit', major.number), headers={'HX-Request': 'true'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'name="update_interval_minutes"')
        self.assertNotContains(response, '<html')

    def test_a_recipient_picked_as_a_person(self):
        major = make_major(S.ASSESSMENT)
        dean = make_user(Role.MANAGER, first_name='Dana', last_name='Dean', email='dana.dean@example.edu')
        self.client.force_login(major.incident_manager)
        response = self.client.post(url('recipient_add', major.number), {'person': dean.pk})
        self.assertHttpStatus(response, 302)
        recipient = Recipient.objects.get(major_incident=major, email='dana.dean@example.edu')
        self.assertEqual((recipient.person, recipient.name), (dean, 'Dana Dean'))


class UpdatePreviewTests(ItsmTestCase):
    def test_preview_fills_the_template_for_this_record(self):
        major = make_major(S.ASSESSMENT, short_description='Timetabling down')
        template = UpdateTemplateFactory(subject='{number}: {title}', audience=UpdateAudience.PUBLIC)
        self.client.force_login(major.incident_manager)
        response = self.client.get(
            url('update_preview', major.number), {'template': template.pk, 'field_id': 'id_template'}
        )
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn(f'{major.number}: Timetabling down', content)
        self.assertIn('id="id_subject"', content)
        self.assertIn('hx-swap-oob="true"', content)
        self.assertIn('value="public" selected', content)
        self.assertHttpStatus(self.client.get(url('update_preview', major.number), {'template': ''}), 204)

    def test_the_update_form_offers_active_templates_with_preview(self):
        major = make_major(S.ASSESSMENT)
        UpdateTemplateFactory(name='Public first notice')
        UpdateTemplateFactory(name='Retired notice', active=False)
        self.client.force_login(major.incident_manager)
        response = self.client.get(major.get_absolute_url())
        self.assertContains(response, 'Public first notice')
        self.assertNotContains(response, 'Retired notice')
        self.assertContains(response, url('update_preview', major.number))


class UpdateTemplateViewTests(ViewTestCases.ModelViewTestCase):
    model = UpdateTemplate
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.INCIDENT_MANAGER,)
    read_only_roles = (Role.MANAGER,)

    def make_object(self, **kwargs):
        return UpdateTemplateFactory(**kwargs)

    def form_data(self):
        return {
            'name': 'Recipients: resolved',
            'audience': UpdateAudience.RECIPIENTS,
            'status': 'resolved',
            'subject': '{number} resolved',
            'body': '{services} work again.',
            'active': 'on',
        }
