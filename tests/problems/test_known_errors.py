"""Known errors: recording them (from a problem or on their own), who sees what (requesters: active public ones only,
without the root cause), the offer while an incident is logged (agent form, portal form), on the incident page and on
the requester's ticket page, applying one to an incident, the "known error" resolution rule, and the panels of the CI,
service and problem pages."""

from __future__ import annotations

from unittest import mock

from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import NoReverseMatch, reverse

from incidents import services as ticket_services
from incidents.choices import ResolutionCode, TicketState
from incidents.models import Ticket
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from itsm.errors import Conflict, NotAllowed
from problems import known_errors
from problems.models import KnownError, KnownErrorUse, ProblemIncident
from tests.base import APITestCases, ItsmTestCase, ViewTestCases, load_related
from tests.cmdb.factories import make_ci, make_service
from tests.factories import make_group_with_agent, make_ticket, make_user
from tests.problems.factories import KnownErrorFactory, KnownErrorUseFactory, make_problem

S = TicketState
HX = {'HX-Request': 'true'}


def desk_ticket(state=S.ACCEPTED, **fields):
    """A ticket worked by a desk agent; returns (ticket, agent)."""
    group, agent = make_group_with_agent(name=f'Desk {Ticket.objects.count()}')
    return make_ticket(state=state, group=group, agent=agent, **fields), agent


# ------------------------------------------------------------------------------------------------ generic tests
class KnownErrorAPITests(APITestCases.ModelAPITestCase):
    model = KnownError
    basename = 'knownerror'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.PROBLEM_MANAGER,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)
    update_data = {'title': 'Mail client freezes after the update', 'public': True}
    supports_delete = False  # retired (POST retire/), not deleted: uses point at it

    def outsider(self):
        return self.roleless()  # requesters read public known errors

    def make_object(self, **kwargs):
        return KnownErrorFactory(**kwargs)

    def create_data(self):
        return {
            'title': 'VPN drops every ten minutes',
            'symptoms': 'The VPN client disconnects and reconnects.',
            'workaround': 'Switch the client to TCP in its settings.',
            'root_cause': 'A gateway timeout is too short.',
            'public': True,
            'cis': [make_ci().number],
            'services': [make_service().ci.number],
        }

    def filter_cases(self):
        ci, service = make_ci(), make_service().ci
        on_ci = KnownErrorFactory(cis=[ci], public=True, title='Printer spooler stalls')
        on_service = KnownErrorFactory(services=[service])
        retired = KnownErrorFactory(active=False)
        return [
            ({'ci': ci.number}, [on_ci]),
            ({'service': service.number}, [on_service]),
            ({'public': 'true'}, [on_ci]),
            ({'active': 'false'}, [retired]),
            ({'q': 'spooler'}, [on_ci]),
        ]


class KnownErrorUseAPITests(APITestCases.ModelAPITestCase):
    model = KnownErrorUse
    basename = 'knownerroruse'
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.SERVICE_DESK_AGENT,)
    read_only_roles = (Role.MANAGER,)
    supports_delete = False

    def make_object(self, **kwargs):
        return KnownErrorUseFactory(**kwargs)

    def create_data(self):
        return {'known_error': KnownErrorFactory().number, 'incident': make_ticket().number, 'public': False}

    def filter_cases(self):
        use, other = KnownErrorUseFactory(), KnownErrorUseFactory()
        return [
            ({'known_error': use.known_error.number}, [use]),
            ({'incident': other.incident.number}, [other]),
        ]

    def test_update_records_field_changes(self):
        use = self.make_object()
        response = self.api_client(self.writer()).patch(self.detail_url(use), {'public': True}, format='json')
        self.assertHttpStatus(response, 405)  # a use records what was done; it is not edited

    def test_read_only_fields_are_not_writable(self):
        use = self.make_object()
        response = self.api_client(self.writer()).patch(self.detail_url(use), {'id': use.pk + 1000}, format='json')
        self.assertHttpStatus(response, 405)
        self.assertTrue(KnownErrorUse.objects.filter(pk=use.pk).exists())


class KnownErrorViewTests(ViewTestCases.ModelViewTestCase):
    model = KnownError
    view_roles = (Role.SERVICE_DESK_AGENT,)
    write_roles = (Role.PROBLEM_MANAGER,)
    read_only_roles = (Role.SERVICE_DESK_AGENT,)
    denied_roles = (Role.REQUESTER,)  # requesters read public known errors in the portal, not on desk pages
    delete_action = 'retire'

    def make_object(self, **kwargs):
        return KnownErrorFactory(**kwargs)

    def form_data(self):
        return {
            'title': 'Badge reader rejects new badges',
            'symptoms': 'The reader blinks red for badges issued this month.',
            'workaround': 'Let the visitor in with the reception key and log the badge number.',
            'root_cause': '',
            'public': 'on',
            'problem': '',
            'cis': make_ci().number,
            'services': make_service().ci.number,
        }

    def assert_deleted(self, obj):
        self.assertFalse(KnownError.objects.get(pk=obj.pk).active, 'retiring keeps the known error, inactive')


class KnownErrorUseViewTests(ViewTestCases.ModelViewTestCase):
    """Uses are listed and shown; they are made by applying a known error, never added, edited or deleted."""

    model = KnownErrorUse
    view_roles = (Role.SERVICE_DESK_AGENT,)

    def make_object(self, **kwargs):
        return KnownErrorUseFactory(**kwargs)

    def assert_not_routed(self, action):
        with self.assertRaises(NoReverseMatch):
            reverse(f'problems:knownerroruse_{action}', kwargs={'pk': 1})

    def test_add(self):
        with self.assertRaises(NoReverseMatch):
            reverse('problems:knownerroruse_add')

    def test_add_without_permission_is_forbidden(self):
        self.test_add()

    def test_add_invalid_keeps_input_and_shows_errors(self):
        self.test_add()

    def test_edit(self):
        self.assert_not_routed('edit')

    def test_edit_without_permission_is_forbidden(self):
        self.assert_not_routed('edit')

    def test_delete(self):
        self.assert_not_routed('delete')


# ------------------------------------------------------------------------------------------------ services
class RecordingTests(ItsmTestCase):
    def test_problem_managers_and_incident_managers_record_agents_and_requesters_do_not(self):
        for role in (Role.PROBLEM_MANAGER, Role.INCIDENT_MANAGER):
            known = known_errors.known_error_create(
                actor=Actor(user=make_user(role)), title='Disk full', symptoms='Saving fails.', workaround='Purge /tmp.'
            )
            self.assertTrue(known.number.startswith('KE'))
        for role in (Role.SERVICE_DESK_AGENT, Role.REQUESTER):
            with self.assertRaises(NotAllowed):
                known_errors.known_error_create(
                    actor=Actor(user=make_user(role)), title='x', symptoms='y', workaround='z'
                )

    def test_a_workaround_and_symptoms_are_required(self):
        with self.assertRaises(ValidationError) as caught:
            known_errors.known_error_create(actor=Actor.system(), title='Disk full', symptoms='', workaround=' ')
        self.assertEqual(set(caught.exception.message_dict), {'symptoms', 'workaround'})

    def test_services_must_be_services(self):
        with self.assertRaises(ValidationError):
            known_errors.known_error_create(
                actor=Actor.system(), title='t', symptoms='s', workaround='w', services=[make_ci()]
            )

    def test_recorded_from_a_problem_it_names_it_in_the_problem_history(self):
        problem = make_problem()
        known = KnownErrorFactory(problem=problem)
        self.assertTrue(
            self.timeline(problem, TimelineKind.LINK).filter(data__known_error=known.number).exists(),
            'the problem history names its known error',
        )

    def test_prefill_takes_the_problem_analysis(self):
        ci, service = make_ci(), make_service().ci
        problem = make_problem(state='fix_in_progress', cis=[ci], services=[service], symptoms='Blank window.')
        values = known_errors.known_error_prefill(problem)
        self.assertEqual(values['symptoms'], 'Blank window.')
        self.assertEqual(values['root_cause'], problem.root_cause)
        self.assertEqual(values['workaround'], problem.workaround)
        self.assertEqual((values['cis'], values['services']), ([ci], [service]))

    def test_retire_twice_is_a_conflict(self):
        known = KnownErrorFactory(active=False)
        with self.assertRaises(Conflict):
            known_errors.known_error_retire(known_error=known, actor=Actor.system())


class VisibilityTests(ItsmTestCase):
    def setUp(self):
        self.ci = make_ci()
        self.public = KnownErrorFactory(cis=[self.ci], public=True, title='Public one')
        self.internal = KnownErrorFactory(cis=[self.ci], title='Desk only')
        self.retired = KnownErrorFactory(cis=[self.ci], public=True, active=False, title='Retired public')

    def test_requesters_see_only_active_public_ones_without_the_root_cause(self):
        requester = make_user(Role.REQUESTER)
        response = self.api_client(requester).get('/api/v1/known-errors/')
        self.assertHttpStatus(response, 200)
        self.assertEqual([row['number'] for row in response.data['results']], [self.public.number])
        self.assertNotIn('root_cause', response.data['results'][0])
        self.assertEqual(response.data['results'][0]['workaround'], self.public.workaround)
        for hidden in (self.internal, self.retired):
            self.assertHttpStatus(self.api_client(requester).get(f'/api/v1/known-errors/{hidden.number}/'), 404)
        self.assertHttpStatus(self.api_client(requester).get('/api/v1/known-error-uses/'), 403)
        self.assertEqual(
            known_errors.known_errors_for(ci_id=self.ci.pk, user=requester), [self.public], 'offers follow the rule'
        )

    def test_requesters_cannot_write(self):
        requester = make_user(Role.REQUESTER)
        data = {'title': 't', 'symptoms': 's', 'workaround': 'w'}
        self.assertHttpStatus(self.api_client(requester).post('/api/v1/known-errors/', data, format='json'), 403)
        url = f'/api/v1/known-errors/{self.public.number}/retire/'
        self.assertHttpStatus(self.api_client(requester).post(url), 403)

    def test_staff_see_all_and_the_root_cause(self):
        agent = make_user(Role.SERVICE_DESK_AGENT)
        response = self.api_client(agent).get('/api/v1/known-errors/', {'page_size': 50})
        self.assertEqual(len(response.data['results']), 3)
        self.assertIn('root_cause', response.data['results'][0])
        offered = known_errors.known_errors_for(ci_id=self.ci.pk, user=agent)
        self.assertEqual({k.pk for k in offered}, {self.public.pk, self.internal.pk}, 'retired ones are not offered')

    def test_retire_through_the_api(self):
        manager = make_user(Role.INCIDENT_MANAGER)
        response = self.api_client(manager).post(f'/api/v1/known-errors/{self.internal.number}/retire/')
        self.assertHttpStatus(response, 200)
        self.assertFalse(response.data['active'])
        again = self.api_client(manager).post(f'/api/v1/known-errors/{self.internal.number}/retire/')
        self.assertHttpStatus(again, 409)

    def test_text_matching_uses_meaningful_words(self):
        requester = make_user(Role.REQUESTER)
        self.assertEqual(known_errors.known_errors_matching_text('the public printer', user=requester), [self.public])
        self.assertEqual(known_errors.known_errors_matching_text('it is the one', user=requester), [])


# ------------------------------------------------------------------------------------------------ applying
class ApplyTests(ItsmTestCase):
    def setUp(self):
        self.ticket, self.agent = desk_ticket()
        self.problem = make_problem(state='fix_in_progress')
        self.known = KnownErrorFactory(problem=self.problem, public=True)

    def apply(self, public=True, user=None, known=None):
        return known_errors.known_error_apply(
            known_error=known or self.known, incident=self.ticket, actor=Actor(user=user or self.agent), public=public
        )

    def test_apply_records_the_use_links_the_problem_and_tells_the_caller(self):
        use = self.apply()
        self.assertEqual((use.known_error, use.incident, use.applied_by), (self.known, self.ticket, self.agent))
        self.assertEqual(ProblemIncident.objects.get(incident=self.ticket).problem, self.problem)
        comment = self.timeline(self.ticket, TimelineKind.COMMENT).last()
        self.assertIn(self.known.workaround, comment.message)
        self.assertTrue(comment.public)

    def test_as_a_work_note(self):
        self.apply(public=False)
        note = self.timeline(self.ticket, TimelineKind.WORK_NOTE).filter(message__contains=self.known.number).get()
        self.assertFalse(note.public)
        self.assertFalse(
            self.timeline(self.ticket, TimelineKind.COMMENT).filter(message__contains='Workaround').exists()
        )

    def test_an_incident_linked_to_another_problem_stays_there(self):
        other = make_problem()
        from problems.incident_links import link_incident

        link_incident(problem=other, incident=self.ticket, actor=Actor.system())
        use = self.apply()
        self.assertEqual(use.kept_problem, other)
        self.assertEqual(ProblemIncident.objects.get(incident=self.ticket).problem, other)
        entry = self.timeline(self.ticket, TimelineKind.LINK).filter(data__known_error=self.known.number).get()
        self.assertIn(other.number, entry.message)

    def test_refusals(self):
        with self.assertRaises(NotAllowed):
            self.apply(user=make_user(Role.REQUESTER))
        with self.assertRaises(NotAllowed):
            self.apply(user=make_user(Role.MANAGER))
        with self.assertRaises(Conflict):
            self.apply(known=KnownErrorFactory(active=False))
        self.apply()
        with self.assertRaises(Conflict):
            self.apply()
        self.assertEqual(KnownErrorUse.objects.count(), 1)

    def test_all_or_nothing(self):
        refused = mock.patch('problems.incident_links.link_incident', side_effect=Conflict('Link refused.'))
        with refused, self.assertRaises(Conflict):
            self.apply()
        self.assertFalse(KnownErrorUse.objects.exists())
        self.assertFalse(
            self.timeline(self.ticket, TimelineKind.COMMENT).filter(message__contains='Workaround').exists()
        )

    def test_apply_through_the_api(self):
        url = f'/api/v1/known-errors/{self.known.number}/apply/'
        response = self.api_client(self.agent).post(url, {'incident': self.ticket.number}, format='json')
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.data['linked_problem'], self.problem.number)
        again = self.api_client(self.agent).post(url, {'incident': self.ticket.number}, format='json')
        self.assertHttpStatus(again, 409)
        self.assertEqual(again.data['code'], 'already_applied')
        missing = self.api_client(self.agent).post(url, {'incident': 'INC9999999'}, format='json')
        self.assertHttpStatus(missing, 400)

    def test_apply_page(self):
        self.client.force_login(self.agent)
        url = reverse('problems:knownerror_apply', kwargs={'number': self.known.number})
        page = self.client.get(url, {'incident': self.ticket.number})
        self.assertContains(page, self.ticket.number)
        response = self.client.post(url, {'incident': self.ticket.number, 'public': 'false'})
        self.assertRedirects(response, self.ticket.get_absolute_url(), fetch_redirect_response=False)
        self.assertTrue(KnownErrorUse.objects.filter(incident=self.ticket).exists())
        again = self.client.post(url, {'incident': self.ticket.number, 'public': 'false'})
        self.assertContains(again, 'already applied', status_code=400)
        self.client.force_login(make_user(Role.REQUESTER))
        self.assertHttpStatus(self.client.get(url), 403)

    def test_a_refusal_from_the_incident_panel_goes_back_to_the_incident_with_the_reason(self):
        self.apply()
        self.client.force_login(self.agent)
        url = reverse('problems:knownerror_apply', kwargs={'number': self.known.number})
        response = self.client.post(url, {'incident': self.ticket.number, 'public': 'true', 'from_panel': '1'})
        self.assertRedirects(response, self.ticket.get_absolute_url(), fetch_redirect_response=False)
        page = load_related(self.client, self.client.get(self.ticket.get_absolute_url()))
        self.assertContains(page, f'{self.known.number} is already applied to {self.ticket.number}.')
        self.assertEqual(KnownErrorUse.objects.count(), 1)


class CompleteWithKnownErrorTests(ItsmTestCase):
    done = {'resolution_code': ResolutionCode.KNOWN_ERROR, 'resolution_notes': 'Workaround given.'}

    def test_known_error_code_needs_an_applied_known_error(self):
        ticket, agent = desk_ticket()
        with self.assertRaises(ValidationError) as caught:
            ticket_services.ticket_complete(ticket=ticket, actor=Actor(user=agent), **self.done)
        self.assertIn('resolution_code', caught.exception.message_dict)
        KnownErrorUseFactory(incident=ticket, actor=Actor(user=agent))
        completed = ticket_services.ticket_complete(ticket=ticket, actor=Actor(user=agent), **self.done)
        self.assertEqual(completed.state, S.COMPLETED)

    def test_the_api_and_the_page_say_why(self):
        ticket, agent = desk_ticket()
        url = f'/api/v1/incidents/{ticket.number}/complete/'
        response = self.api_client(agent).post(url, self.done, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('Apply a known error', str(response.data['resolution_code']))
        self.client.force_login(agent)
        page = self.client.post(reverse('incidents:ticket_complete', kwargs={'number': ticket.number}), self.done)
        self.assertContains(page, 'Apply a known error', status_code=400)
        self.assertEqual(Ticket.objects.get(pk=ticket.pk).state, S.ACCEPTED)


# ------------------------------------------------------------------------------------------------ offers
class AgentOfferTests(ItsmTestCase):
    def setUp(self):
        self.ci, self.service = make_ci(), make_service()
        self.on_ci = KnownErrorFactory(cis=[self.ci], title='Mail client freezes')
        self.on_service = KnownErrorFactory(services=[self.service.ci], title='Shared drive read-only')
        KnownErrorFactory(cis=[self.ci], active=False, title='Old retired one')
        self.agent = make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(self.agent)

    def offer(self, **params):
        return self.client.get(reverse('problems:knownerror_offer'), params, headers=HX)

    def test_the_form_asks_for_offers_on_ci_and_service_changes(self):
        page = self.client.get(reverse('incidents:ticket_add'))
        self.assertContains(page, reverse('problems:knownerror_offer'))
        self.assertContains(page, 'id="known-error-offer"')

    def test_offers_the_ci_and_service_known_errors_with_their_workarounds(self):
        response = self.offer(ci=self.ci.number.lower())
        self.assertContains(response, self.on_ci.number)
        self.assertContains(response, self.on_ci.workaround.replace('"', '&quot;'))
        self.assertNotContains(response, 'Old retired one')
        self.assertNotContains(response, self.on_service.number)
        response = self.offer(ci=self.ci.number, service=str(self.service.ci.pk))
        self.assertContains(response, self.on_service.number)
        self.assertContains(response, 'name="apply_known_error"')
        self.assertNotContains(self.offer(), 'known-error-offer')

    def test_a_reload_keeps_the_known_error_the_agent_chose(self):
        chosen = f'value="{self.on_ci.number}" checked'
        response = self.offer(ci=self.ci.number, apply_known_error=self.on_ci.number.lower())
        self.assertContains(response, chosen)
        self.assertNotContains(response, 'value="" checked')
        # A choice no longer offered (the CI changed) falls back to applying none.
        response = self.offer(service=str(self.service.ci.pk), apply_known_error=self.on_ci.number)
        self.assertNotContains(response, chosen)
        self.assertContains(response, 'value="" checked')

    def test_user_content_is_escaped(self):
        KnownErrorFactory(cis=[self.ci], title='<script>alert(1)</script>')
        self.assertNotContains(self.offer(ci=self.ci.number), '<script>alert(1)')

    def test_requesters_are_refused(self):
        self.client.force_login(make_user(Role.REQUESTER))
        self.assertHttpStatus(self.offer(ci=self.ci.number), 403)

    def test_opening_a_ticket_with_a_chosen_known_error_goes_on_to_applying_it(self):
        group, agent = make_group_with_agent(name='Desk for offers')
        self.client.force_login(agent)
        caller = make_user(Role.REQUESTER)
        data = {
            'kind': 'incident',
            'caller': caller.username,
            'channel': 'phone',
            'short_description': 'Mail client frozen',
            'impact': 'medium',
            'urgency': 'normal',
            'ci': self.ci.number,
            'apply_known_error': self.on_ci.number,
        }
        response = self.client.post(reverse('incidents:ticket_add'), data)
        self.assertHttpStatus(response, 302)
        ticket = Ticket.objects.get(short_description='Mail client frozen')
        self.assertTrue(response['Location'].startswith(reverse('problems:knownerror_apply', args=[self.on_ci.number])))
        self.assertIn(f'incident={ticket.number}', response['Location'])
        data.update(short_description='Mail client frozen again', apply_known_error='')  # "Apply none"
        response = self.client.post(reverse('incidents:ticket_add'), data)
        ticket = Ticket.objects.get(short_description='Mail client frozen again')
        self.assertRedirects(response, ticket.get_absolute_url(), fetch_redirect_response=False)

    def test_the_incident_page_offers_them_with_apply(self):
        ticket, agent = desk_ticket(ci=self.ci)
        self.client.force_login(agent)
        page = load_related(self.client, self.client.get(ticket.get_absolute_url()))
        self.assertContains(page, 'data-testid="known-errors-panel"')
        self.assertContains(page, reverse('problems:knownerror_apply', args=[self.on_ci.number]))
        KnownErrorUseFactory(known_error=self.on_ci, incident=ticket)
        page = load_related(self.client, self.client.get(ticket.get_absolute_url()))
        self.assertContains(page, 'Applied')
        self.assertNotContains(page, reverse('problems:knownerror_apply', args=[self.on_ci.number]))

    def test_the_incident_page_costs_the_same_whatever_the_known_errors(self):
        ticket, agent = desk_ticket(ci=self.ci)
        self.client.force_login(agent)
        url = ticket.get_absolute_url()

        def page():
            return load_related(self.client, self.client.get(url))

        page()
        few = self.count_queries(page)
        for _ in range(4):
            KnownErrorFactory(cis=[self.ci], services=[self.service.ci])
        self.assertContains(page(), 'data-testid="known-errors-panel"')
        self.assertEqual(self.count_queries(page), few)


class PortalTests(ItsmTestCase):
    def setUp(self):
        self.service = make_service(name='E-mail')
        self.public = KnownErrorFactory(
            services=[self.service.ci], public=True, title='Webmail login loops', workaround='Clear the cookies.'
        )
        self.internal = KnownErrorFactory(services=[self.service.ci], title='Internal relay queue')
        self.requester = make_user(Role.REQUESTER)
        self.client.force_login(self.requester)

    def test_the_form_asks_and_shows_public_known_errors_of_the_service(self):
        self.assertContains(
            self.client.get(reverse('incidents:portal_new')), reverse('problems:knownerror_portal_offer')
        )
        response = self.client.get(reverse('problems:knownerror_portal_offer'), {'service': self.service.ci.pk})
        self.assertContains(response, 'Known issue:')
        self.assertContains(response, 'Clear the cookies.')
        self.assertNotContains(response, 'Internal relay queue')

    def test_or_matching_their_words(self):
        url = reverse('problems:knownerror_portal_offer')
        self.assertContains(self.client.get(url, {'short_description': 'my webmail keeps asking'}), 'Webmail login')
        self.assertNotContains(self.client.get(url, {'short_description': 'relay queue'}), 'relay')

    def test_the_ticket_page_shows_known_issues_of_its_service(self):
        ticket = make_ticket(caller=self.requester, service=self.service.ci)
        self.assertContains(self.client.get(reverse('incidents:portal_ticket', args=[ticket.number])), 'hx-get')
        url = reverse('problems:knownerror_portal_ticket', args=[ticket.number])
        response = self.client.get(url, headers=HX)
        self.assertContains(response, 'Known issue:')
        self.assertContains(response, 'Clear the cookies.')
        self.assertNotContains(response, 'Internal relay queue')
        other = make_ticket(service=self.service.ci)
        url = reverse('problems:knownerror_portal_ticket', args=[other.number])
        self.assertHttpStatus(self.client.get(url, headers=HX), 404)

    def test_the_desk_pages_stay_closed_to_requesters(self):
        self.assertHttpStatus(self.client.get(reverse('problems:knownerror_list')), 403)
        self.assertHttpStatus(self.client.get(self.public.get_absolute_url()), 403)


# ------------------------------------------------------------------------------------------------ panels
class PanelTests(ItsmTestCase):
    def setUp(self):
        self.agent = make_user(Role.SERVICE_DESK_AGENT)
        self.client.force_login(self.agent)

    def test_ci_page_lists_its_known_errors_with_the_workaround(self):
        ci = make_ci()
        known = KnownErrorFactory(cis=[ci], workaround='Reboot the switch stack.')
        KnownErrorFactory(cis=[ci], active=False, title='Retired switch issue')
        response = self.client.get(reverse('cmdb:configurationitem_detail', args=[ci.number]))
        self.assertContains(response, 'data-testid="item-known-errors"')
        panel = response.content.decode().split('data-testid="item-known-errors"')[1].split('</ul>')[0]
        self.assertIn(known.number, panel)
        self.assertIn('Reboot the switch stack.', panel)
        self.assertNotIn('Retired switch issue', panel, 'a retired known error is no longer shown with a workaround')

    def test_service_page_lists_its_known_errors(self):
        service = make_service()
        known = KnownErrorFactory(services=[service.ci])
        response = self.client.get(reverse('cmdb:service_detail', args=[service.ci.number]))
        self.assertContains(response, known.number)

    def test_ci_and_service_pages_cost_the_same_whatever_the_known_errors(self):
        service = make_service()
        urls = [
            reverse('cmdb:configurationitem_detail', args=[service.ci.number]),
            reverse('cmdb:service_detail', args=[service.ci.number]),
        ]
        KnownErrorUseFactory(known_error=KnownErrorFactory(services=[service.ci]))
        for url in urls:
            self.client.get(url)
        few = [self.count_queries(lambda url=url: self.client.get(url)) for url in urls]
        for _ in range(4):
            KnownErrorUseFactory(known_error=KnownErrorFactory(services=[service.ci], cis=[service.ci]))
        many = [self.count_queries(lambda url=url: self.client.get(url)) for url in urls]
        self.assertEqual(few, many)

    def test_problem_page_offers_to_record_one_filled_from_the_problem(self):
        ci = make_ci()
        problem = make_problem(state='fix_in_progress', cis=[ci], symptoms='Blank window at start.')
        manager = make_user(Role.PROBLEM_MANAGER)
        self.client.force_login(manager)
        page = self.client.get(problem.get_absolute_url())
        add_url = f'{reverse("problems:knownerror_add")}?problem={problem.number}'
        self.assertContains(page, add_url)
        form = self.client.get(add_url)
        self.assertContains(form, 'Blank window at start.')
        self.assertContains(form, problem.workaround)
        self.assertContains(form, ci.number)
        data = {
            'title': problem.short_description,
            'symptoms': 'Blank window at start.',
            'workaround': problem.workaround,
            'root_cause': problem.root_cause,
            'problem': problem.number,
            'cis': ci.number,
            'services': '',
        }
        response = self.client.post(add_url, data)
        self.assertHttpStatus(response, 302)
        known = KnownError.objects.get(problem=problem)
        self.assertEqual(list(known.cis.all()), [ci])
        self.assertContains(self.client.get(problem.get_absolute_url()), known.number)

    def test_agents_see_the_panel_without_the_record_button(self):
        problem = make_problem()
        KnownErrorFactory(problem=problem)
        page = self.client.get(problem.get_absolute_url())
        self.assertContains(page, 'data-testid="problem-known-errors"')
        self.assertNotContains(page, 'Record a known error')


@override_settings(LANGUAGE_CODE='en')
class FormErrorTests(ItsmTestCase):
    def test_unknown_numbers_are_named(self):
        self.client.force_login(make_user(Role.PROBLEM_MANAGER))
        data = {'title': 't', 'symptoms': 's', 'workaround': 'w', 'cis': 'CI9999999', 'services': '', 'problem': 'PRB1'}
        response = self.client.post(reverse('problems:knownerror_add'), data)
        self.assertContains(response, 'No configuration item CI9999999.')
        self.assertContains(response, 'No problem PRB1.')
        self.assertFalse(KnownError.objects.exists())


class AdminTests(ItsmTestCase):
    def setUp(self):
        self.admin = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        self.client.force_login(self.admin)

    def test_known_errors_are_saved_through_the_service(self):
        ci = make_ci()
        data = {
            'title': 'Scanner stops after 50 pages',
            'symptoms': 'The scanner halts.',
            'workaround': 'Scan in batches of 40.',
            'root_cause': '',
            'public': 'on',
            'active': 'on',
            'problem': '',
            'cis': str(ci.pk),
            'services': '',
            '_save': 'Save',
        }
        self.assertHttpStatus(self.client.post(reverse('admin:problems_knownerror_add'), data), 302)
        known = KnownError.objects.get(title='Scanner stops after 50 pages')
        self.assertEqual((list(known.cis.all()), known.created_by), ([ci], self.admin))
        self.assertTrue(self.timeline(known, TimelineKind.CREATED).exists())
        url = reverse('admin:problems_knownerror_change', args=[known.pk])
        self.assertHttpStatus(self.client.post(url, {**data, 'active': ''}), 302)
        known.refresh_from_db()
        self.assertFalse(known.active)
        change = self.timeline(known, TimelineKind.FIELD_CHANGE).get()
        self.assertEqual([c['field'] for c in change.changes], ['active'])
        self.assertHttpStatus(self.client.get(reverse('admin:problems_knownerror_delete', args=[known.pk])), 403)

    def test_uses_are_read_only(self):
        use = KnownErrorUseFactory()
        self.assertHttpStatus(self.client.get(reverse('admin:problems_knownerroruse_changelist')), 200)
        self.assertHttpStatus(self.client.get(reverse('admin:problems_knownerroruse_add')), 403)
        self.assertHttpStatus(self.client.get(reverse('admin:problems_knownerroruse_change', args=[use.pk])), 200)


class QueryCountTests(ItsmTestCase):
    """The known error pages and fragments cost the same whatever the CIs, services and uses they show."""

    def setUp(self):
        self.ci, self.service = make_ci(), make_service().ci
        self.known = KnownErrorFactory(cis=[self.ci], services=[self.service], public=True)
        KnownErrorUseFactory(known_error=self.known)
        self.agent = make_user(Role.SERVICE_DESK_AGENT)

    def grow(self):
        for _ in range(3):
            self.known.cis.add(make_ci())
            KnownErrorUseFactory(known_error=self.known)
            KnownErrorFactory(cis=[self.ci], services=[self.service], public=True)

    def assertConstant(self, user, url, params=None):
        self.client.force_login(user)
        self.client.get(url, params or {}, headers=HX)
        few = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url, params or {}, headers=HX), 200))
        self.grow()
        many = self.count_queries(lambda: self.assertHttpStatus(self.client.get(url, params or {}, headers=HX), 200))
        self.assertEqual(few, many, f'{url}: queries grew from {few} to {many}')

    def test_detail_page(self):
        self.assertConstant(self.agent, self.known.get_absolute_url())

    def test_agent_offer(self):
        self.assertConstant(self.agent, reverse('problems:knownerror_offer'), {'ci': self.ci.number})

    def test_portal_offer(self):
        requester = make_user(Role.REQUESTER)
        self.assertConstant(requester, reverse('problems:knownerror_portal_offer'), {'service': self.service.pk})

    def test_problem_page(self):
        problem = make_problem()
        KnownErrorFactory(problem=problem)
        manager = make_user(Role.PROBLEM_MANAGER)
        self.client.force_login(manager)
        url = problem.get_absolute_url()
        self.client.get(url)
        few = self.count_queries(lambda: self.client.get(url))
        for _ in range(3):
            KnownErrorFactory(problem=problem)
        self.client.get(url)
        self.assertEqual(self.count_queries(lambda: self.client.get(url)), few)
