"""Major-incident forms: what they offer, and the errors they give (in the form, and from the services through the
pages), with the input kept."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from cmdb.choices import CIClass
from itsm.choices import Role
from major_incidents.choices import MajorIncidentState, UpdateAudience
from major_incidents.forms import (
    HandOffForm,
    LinkChildrenForm,
    MajorDeclareForm,
    MajorEditForm,
    ResolveForm,
    TeamForm,
    UpdateForm,
    declare_initial,
)
from major_incidents.models import MajorIncident, MajorIncidentUpdate
from tests.base import ItsmTestCase
from tests.cmdb.factories import make_ci
from tests.factories import make_ticket, make_user
from tests.major_incidents.factories import (
    CandidateFactory,
    ChildFactory,
    UpdateTemplateFactory,
    make_incident_manager,
    make_major,
    make_public_service,
)

S = MajorIncidentState


def url(name: str, *args) -> str:
    return reverse(f'major_incidents:{name}', args=args)


class TeamFormTests(ItsmTestCase):
    def setUp(self):
        self.major = make_major(S.DETECTION)
        self.manager = self.major.incident_manager

    def form(self, data=None):
        return TeamForm(data, record=self.major, user=self.manager)

    def test_people_are_limited_to_active_staff(self):
        lead = make_user(Role.L3_ENGINEER)
        requester = make_user(Role.REQUESTER)
        gone = make_user(Role.L2_ENGINEER, is_active=False)
        offered = set(self.form().fields['tech_lead'].queryset)
        self.assertIn(lead, offered)
        self.assertNotIn(requester, offered)
        self.assertNotIn(gone, offered)
        self.assertEqual(set(self.form().fields['incident_manager'].queryset), {self.manager})

    def test_people_not_staff_are_refused(self):
        requester = make_user(Role.REQUESTER)
        form = self.form(
            {'incident_manager': self.manager.pk, 'tech_lead': requester.pk, 'support_staff': [requester.pk]}
        )
        self.assertFalse(form.is_valid())
        self.assertIn('requesters and inactive people cannot take a role', form.errors['tech_lead'][0])
        self.assertIn('support_staff', form.errors)

    def test_prefilled_from_the_record_and_sent_as_service_keywords(self):
        supporter = make_user(Role.L2_ENGINEER)
        form = self.form()
        self.assertEqual(form.initial['incident_manager'], self.manager.pk)
        form = self.form({'incident_manager': self.manager.pk, 'support_staff': [supporter.pk], 'note': 'Bridge open'})
        self.assertTrue(form.is_valid(), form.errors)
        kwargs = form.service_kwargs()
        self.assertEqual(kwargs['support_staff'], [supporter])
        self.assertEqual(kwargs['incident_manager'], self.manager)
        self.assertEqual(
            set(kwargs),
            {
                'incident_manager',
                'tech_lead',
                'communications_lead',
                'service_owner',
                'business_owner',
                'support_staff',
                'note',
            },
        )

    def test_activating_through_the_page(self):
        lead = make_user(Role.L3_ENGINEER)
        self.client.force_login(self.manager)
        response = self.client.post(
            url('majorincident_activate', self.major.number),
            {'incident_manager': self.manager.pk, 'tech_lead': lead.pk, 'communications_lead': lead.pk},
        )
        self.assertHttpStatus(response, 302)
        major = MajorIncident.objects.get(pk=self.major.pk)
        self.assertEqual((major.state, major.tech_lead, major.communications_lead), (S.ACTIVATION, lead, lead))

    def test_a_requester_in_the_team_is_a_form_error_on_the_page(self):
        requester = make_user(Role.REQUESTER, first_name='Rita')
        self.client.force_login(self.manager)
        response = self.client.post(
            url('majorincident_activate', self.major.number),
            {'incident_manager': self.manager.pk, 'tech_lead': requester.pk},
        )
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'cannot take a role', status_code=400)
        self.assertEqual(MajorIncident.objects.get(pk=self.major.pk).state, S.DETECTION)


class UpdateFormTests(ItsmTestCase):
    def setUp(self):
        self.major = make_major(S.ASSESSMENT)
        self.manager = self.major.incident_manager

    def test_offers_the_active_templates_of_each_audience(self):
        public = UpdateTemplateFactory(name='Public notice', audience=UpdateAudience.PUBLIC)
        internal = UpdateTemplateFactory(name='Bridge note', audience=UpdateAudience.INTERNAL)
        UpdateTemplateFactory(name='Old notice', active=False)
        form = UpdateForm(record=self.major, user=self.manager)
        groups = dict(form.fields['template'].choices[1:])
        # The desk's default templates are offered too; each template under its own audience.
        self.assertIn((str(public.pk), 'Public notice'), groups[UpdateAudience.PUBLIC.label])
        self.assertIn((str(internal.pk), 'Bridge note'), groups[UpdateAudience.INTERNAL.label])
        self.assertNotIn((str(public.pk), 'Public notice'), groups[UpdateAudience.INTERNAL.label])
        self.assertNotIn('Old notice', str(form['template']))
        self.assertIn('Preview', str(form['template']))

    def test_an_empty_body_is_refused(self):
        form = UpdateForm({'audience': 'internal', 'status': 'investigating', 'body': ''}, record=self.major, user=None)
        self.assertFalse(form.is_valid())
        self.assertIn('Write what the update says', form.errors['body'][0])

    def test_an_empty_body_on_the_page_posts_nothing_and_keeps_the_input(self):
        self.client.force_login(self.manager)
        response = self.client.post(
            url('majorincident_post_update', self.major.number),
            {'audience': 'public', 'status': 'identified', 'subject': 'Storage fault', 'body': '  '},
        )
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'Write what the update says', status_code=400)
        self.assertContains(response, 'value="Storage fault"', status_code=400)
        self.assertFalse(MajorIncidentUpdate.objects.filter(major_incident=self.major).exists())

    def test_posting_with_a_template(self):
        template = UpdateTemplateFactory(audience=UpdateAudience.INTERNAL)
        self.client.force_login(self.manager)
        response = self.client.post(
            url('majorincident_post_update', self.major.number),
            {'audience': 'internal', 'status': 'identified', 'template': template.pk, 'body': 'Cause found.'},
        )
        self.assertHttpStatus(response, 302)
        update = MajorIncidentUpdate.objects.get(major_incident=self.major)
        self.assertEqual((update.template, update.body, update.posted_by), (template, 'Cause found.', self.manager))

    def test_others_may_not_post(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.post(
            url('majorincident_post_update', self.major.number),
            {'audience': 'internal', 'status': 'identified', 'body': 'Not mine to say'},
        )
        self.assertHttpStatus(response, 403)
        self.assertFalse(MajorIncidentUpdate.objects.filter(major_incident=self.major).exists())


class EditFormTests(ItsmTestCase):
    def setUp(self):
        self.major = make_major(S.ASSESSMENT, priority=0)
        self.manager = self.major.incident_manager

    def data(self, **changes):
        data = {
            'short_description': self.major.short_description,
            'priority': self.major.priority,
            'severity': self.major.severity,
            'service_impact': self.major.service_impact,
            'services': [s.pk for s in self.major.services.all()],
            'cis': '',
            'outage_started_at': timezone.localtime(self.major.outage_started_at).strftime('%Y-%m-%dT%H:%M'),
            'update_interval_minutes': self.major.update_interval_minutes,
        }
        return {**data, **changes}

    def test_a_bad_interval_is_refused_by_the_form(self):
        for minutes, message in ((2, 'more often than every 5 minutes'), (5000, 'at least once a day')):
            with self.subTest(minutes=minutes):
                form = MajorEditForm(self.data(update_interval_minutes=minutes), instance=self.major)
                self.assertFalse(form.is_valid())
                self.assertIn(message, form.errors['update_interval_minutes'][0])

    def test_an_interval_beyond_the_cadence_is_refused_by_the_service_on_the_field(self):
        self.client.force_login(self.manager)
        response = self.client.post(
            url('majorincident_edit', self.major.number), self.data(update_interval_minutes=600)
        )
        self.assertHttpStatus(response, 200)
        self.assertIn('update_interval_minutes', response.context['form'].errors)
        self.assertContains(response, 'value="600"')
        self.assertEqual(MajorIncident.objects.get(pk=self.major.pk).update_interval_minutes, 30)

    def test_priorities_are_p0_to_p2(self):
        self.assertEqual(
            [value for value, _ in MajorEditForm(instance=self.major).fields['priority'].choices], [0, 1, 2]
        )
        form = MajorEditForm(self.data(priority=3), instance=self.major)
        self.assertFalse(form.is_valid())
        self.assertIn('priority', form.errors)

    def test_unknown_configuration_items_are_named(self):
        form = MajorEditForm(self.data(cis='CI9999999'), instance=self.major)
        self.assertFalse(form.is_valid())
        self.assertIn('CI9999999', form.errors['cis'][0])


class DeclareFormTests(ItsmTestCase):
    def test_prefill_from_an_incident(self):
        service = make_public_service('Registry')
        server = make_ci(CIClass.SERVER, name='registry-app-01')
        incident = make_ticket(short_description='Registry is slow', service=service, ci=server)
        initial = declare_initial(incident=incident)
        self.assertEqual(initial['short_description'], 'Registry is slow')
        self.assertEqual(initial['services'], [service.pk])
        self.assertEqual(initial['cis'], [server])
        self.assertEqual(initial['source_incident'], incident.number)
        self.assertEqual(initial['outage_started_at'], incident.opened_at)

    def test_prefill_from_a_candidate_starts_the_outage_at_its_first_incident(self):
        candidate = CandidateFactory(size=2)
        first = min(t.opened_at for t in candidate.incidents.all())
        initial = declare_initial(candidate=candidate)
        self.assertEqual(initial['candidate'], candidate.pk)
        self.assertEqual(initial['outage_started_at'], first)
        self.assertEqual(initial['services'], [candidate.service_id])

    def test_unknown_source_and_people_not_incident_managers(self):
        engineer = make_user(Role.L2_ENGINEER)
        form = MajorDeclareForm(
            {
                'short_description': 'Payroll is down',
                'priority': 1,
                'severity': 1,
                'service_impact': 'major_outage',
                'source_incident': 'INC9999999',
                'incident_manager': engineer.pk,
            }
        )
        self.assertFalse(form.is_valid())
        self.assertIn('There is no incident INC9999999.', form.errors['source_incident'])
        self.assertIn('incident_manager', form.errors)
        manager = make_incident_manager()
        form = MajorDeclareForm(
            {
                'short_description': 'Payroll is down',
                'priority': 1,
                'severity': 1,
                'service_impact': 'major_outage',
                'incident_manager': manager.pk,
            }
        )
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.service_fields()['incident_manager'], manager)
        self.assertNotIn('outage_started_at', form.service_fields())


class LinkChildrenFormTests(ItsmTestCase):
    def setUp(self):
        self.service = make_public_service('Timetabling')
        self.major = make_major(S.ASSESSMENT, services=[self.service])
        self.agent = make_user(Role.SERVICE_DESK_AGENT)

    def test_proposes_open_incidents_on_the_services_and_takes_other_numbers(self):
        proposed = make_ticket(short_description='Timetable blank', service=self.service)
        elsewhere = make_ticket(short_description='Also affected')
        ChildFactory(major_incident=self.major)
        form = LinkChildrenForm(record=self.major, user=self.agent)
        self.assertEqual([value for value, _ in form.fields['proposed'].choices], [proposed.number])
        form = LinkChildrenForm(
            {'proposed': [proposed.number], 'others': f'{elsewhere.number.lower()}, '},
            record=self.major,
            user=self.agent,
        )
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.service_kwargs(), {'incidents': [proposed, elsewhere]})

    def test_nothing_chosen_or_unknown_numbers(self):
        form = LinkChildrenForm({}, record=self.major, user=self.agent)
        self.assertFalse(form.is_valid())
        self.assertIn('Pick at least one incident to link.', form.non_field_errors())
        form = LinkChildrenForm({'others': 'INC9999999'}, record=self.major, user=self.agent)
        self.assertFalse(form.is_valid())
        self.assertIn('There is no incident INC9999999.', form.errors['others'])


class SmallActionFormTests(ItsmTestCase):
    def test_resolve_needs_the_resolution(self):
        major = make_major(S.RESOLUTION)
        form = ResolveForm({'resolution': ''}, record=major, user=major.incident_manager)
        self.assertFalse(form.is_valid())
        self.assertIn('resolution', form.errors)

    def test_hand_off_needs_the_owner_and_reads_the_estimate(self):
        major = make_major(S.ASSESSMENT)
        form = HandOffForm({'handoff_estimate': 'tomorrow'}, record=major, user=major.incident_manager)
        self.assertFalse(form.is_valid())
        self.assertEqual(set(form.errors), {'handoff_owner', 'handoff_estimate'})
        form = HandOffForm(
            {'handoff_owner': 'Identity team', 'handoff_reference': 'IAM-12', 'handoff_estimate': '2030-01-02T09:30'},
            record=major,
            user=major.incident_manager,
        )
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.service_kwargs()['handoff_estimate'].hour, 9)
