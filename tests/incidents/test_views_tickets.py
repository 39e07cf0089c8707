"""The agent's ticket pages: what the page shows, every action through htmx and plain forms, refusals, rights."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cmdb.choices import CIClass, Criticality
from incidents.choices import TicketState
from incidents.models import Category, ResponseTemplate, Ticket
from itsm.audit import Actor
from itsm.choices import Role, Tier, TimelineKind
from itsm.models import Attachment
from tests.base import ItsmTestCase, load_related
from tests.cmdb.factories import link, make_ci, make_service
from tests.factories import SupportGroupFactory, make_group_with_agent, make_ticket, make_user

S = TicketState
HX = {'HX-Request': 'true'}
INLINE = 'Pitcrew-Inline-Error'


class TicketPageTestCase(ItsmTestCase):
    def setUp(self):
        self.manager = make_user(Role.INCIDENT_MANAGER, username='mia', first_name='Mia', last_name='Manager')
        self.l2, self.engineer = make_group_with_agent(name='Desktop L2', tier=Tier.L2, role=Role.L2_ENGINEER)
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.desk.escalation_group = self.l2
        self.desk.manager = self.manager
        self.desk.save()
        self.requester = make_user(Role.REQUESTER, username='robin', first_name='Robin', last_name='Reed')

    def ticket(self, state=S.NEW, **fields):
        fields.setdefault('caller', self.requester)
        if state != S.NEW:
            fields.setdefault('group', self.desk)
            fields.setdefault('agent', self.agent)
        return make_ticket(state=state, **fields)

    def as_agent(self, user=None):
        self.client.force_login(user or self.agent)

    def action_url(self, ticket, action):
        return reverse(f'incidents:ticket_{action}', kwargs={'number': ticket.number})

    def post(self, ticket, action, data=None, htmx=True, **extra):
        headers = HX if htmx else {}
        return self.client.post(self.action_url(ticket, action), data or {}, headers=headers, **extra)

    def reload(self, ticket):
        return Ticket.objects.get(pk=ticket.pk)


class DetailPageTests(TicketPageTestCase):
    def test_new_ticket_offers_assign_but_not_later_steps(self):
        ticket = self.ticket(description='It beeps <twice>.')
        self.as_agent()
        response = self.client.get(ticket.get_absolute_url())
        self.assertHttpStatus(response, 200)
        self.assertContains(response, ticket.number)
        self.assertContains(response, 'It beeps &lt;twice&gt;.')
        self.assertContains(response, self.action_url(ticket, 'assign'))
        self.assertContains(response, 'Convert to case')
        self.assertContains(response, 'Override priority')
        for later in ('accept', 'complete', 'pend', 'confirm', 'reject', 'escalate'):
            self.assertNotContains(response, self.action_url(ticket, later))

    def test_accept_is_offered_to_members_of_the_assigned_group_only(self):
        ticket = self.ticket(S.ASSIGNED)
        self.as_agent()
        self.assertContains(self.client.get(ticket.get_absolute_url()), self.action_url(ticket, 'accept'))
        self.as_agent(self.engineer)
        page = self.client.get(ticket.get_absolute_url())
        self.assertNotContains(page, self.action_url(ticket, 'accept'))
        self.assertContains(page, self.action_url(ticket, 'escalate'))

    def test_accepted_ticket_offers_hold_escalate_complete_and_management(self):
        ticket = self.ticket(S.ACCEPTED)
        self.as_agent()
        page = self.client.get(ticket.get_absolute_url())
        for action in ('pend', 'escalate', 'complete', 'escalate_management'):
            self.assertContains(page, self.action_url(ticket, action))
        self.assertNotContains(page, self.action_url(ticket, 'assign'))

    def test_closed_ticket_offers_nothing(self):
        ticket = self.ticket(S.CLOSED)
        self.as_agent()
        page = self.client.get(ticket.get_absolute_url())
        self.assertHttpStatus(page, 200)
        self.assertEqual(page.context['toolbar_actions'] + page.context['menu_actions'], [])
        self.assertFalse(page.context['can_edit'])

    def test_readers_see_the_ticket_without_actions(self):
        ticket = self.ticket(S.ACCEPTED)
        self.client.force_login(make_user(Role.SERVICE_OWNER))
        page = self.client.get(ticket.get_absolute_url())
        self.assertHttpStatus(page, 200)
        self.assertEqual(page.context['toolbar_actions'], [])
        self.assertNotContains(page, 'ticket-comment-form')
        self.assertHttpStatus(self.post(ticket, 'pend', {'reason': 'vendor'}, htmx=False), 403)

    def test_shows_people_service_ci_impacted_services_milestones_and_children(self):
        payroll = make_service('Payroll', criticality=Criticality.HIGH)
        app = make_ci(CIClass.APPLICATION, name='Payroll engine')
        link(payroll.ci, 'depends_on', app)
        parent = self.ticket(short_description='Major outage in building B')
        ticket = self.ticket(S.ACCEPTED, ci=app, service=payroll.ci)
        Ticket.objects.filter(pk=ticket.pk).update(parent=parent)
        self.as_agent()
        page = load_related(self.client, self.client.get(ticket.get_absolute_url()))
        self.assertContains(page, 'Payroll engine')
        self.assertContains(page, 'Services the CI impacts')
        self.assertContains(page, 'Robin Reed')
        self.assertContains(page, 'Reassignments')
        self.assertContains(page, parent.number)
        parent_page = load_related(self.client, self.client.get(parent.get_absolute_url()))
        self.assertContains(parent_page, 'Children (1)')
        self.assertContains(parent_page, ticket.number)

    def test_the_related_records_come_after_the_page(self):
        payroll = make_service('Payroll')
        ticket = self.ticket(S.ACCEPTED, ci=payroll.ci, service=payroll.ci)
        self.as_agent()
        page = self.client.get(ticket.get_absolute_url())
        related = reverse('incidents:ticket_related', kwargs={'number': ticket.number})
        self.assertContains(page, f'hx-get="{related}" hx-trigger="load"')
        self.assertContains(page, 'Loading the SLA clocks')
        self.assertEqual(page.context['record_panels'], [])  # no other app's panel is read for the page
        fragment = self.client.get(related, headers=HX)
        self.assertTemplateUsed(fragment, 'incidents/ticket/_related.html')
        self.assertTemplateNotUsed(fragment, 'base.html')
        self.assertContains(fragment, 'data-testid="related-records"')
        self.assertContains(fragment, 'data-testid="incident-problem"')  # the problems app's panel
        self.assertContains(fragment, 'id="sla-panel-live" hx-swap-oob="true"')
        # A browser without scripts follows the slot's link to a page of its own.
        whole = self.client.get(related)
        self.assertTemplateUsed(whole, 'base.html')
        self.assertContains(whole, 'data-testid="related-records"')
        self.assertContains(whole, f'href="{ticket.get_absolute_url()}"')

    def test_the_related_records_are_guarded_like_the_page(self):
        ticket = self.ticket(S.ACCEPTED)
        related = reverse('incidents:ticket_related', kwargs={'number': ticket.number})
        self.assertRedirects(
            self.client.get(related, headers=HX),
            f'{reverse("itsm:login")}?next={related}',
            fetch_redirect_response=False,
        )
        self.client.force_login(self.requester)  # their own ticket: the portal shows it, not the desk's parts
        self.assertHttpStatus(self.client.get(related, headers=HX), 403)
        self.client.force_login(make_user())
        self.assertHttpStatus(self.client.get(related, headers=HX), 403)
        self.as_agent()
        missing = reverse('incidents:ticket_related', kwargs={'number': 'INC0999999'})
        self.assertHttpStatus(self.client.get(missing, headers=HX), 404)
        Ticket.objects.filter(pk=ticket.pk).update(security_incident=True)
        self.as_agent(make_user(Role.SERVICE_DESK_AGENT))  # outside the ticket's group and the security team
        self.assertHttpStatus(self.client.get(ticket.get_absolute_url()), 404)
        self.assertHttpStatus(self.client.get(related, headers=HX), 404)

    def test_timeline_marks_internal_entries(self):
        ticket = self.ticket()
        from incidents import services

        services.ticket_comment(ticket=ticket, actor=Actor(user=self.agent), body='Checked the spooler', internal=True)
        self.as_agent()
        page = self.client.get(ticket.get_absolute_url())
        self.assertContains(page, 'Checked the spooler')
        self.assertContains(page, 'Not shown to the requester')

    def test_incident_and_case_addresses(self):
        case = self.ticket(kind='case')
        self.as_agent()
        self.assertHttpStatus(self.client.get(reverse('incidents:case_detail', args=[case.number])), 200)
        wrong_kind = self.client.get(reverse('incidents:incident_detail', args=[case.number]))
        self.assertRedirects(wrong_kind, case.get_absolute_url())
        self.assertHttpStatus(self.client.get('/tickets/INC0999999/'), 404)

    def test_former_number_redirects_after_conversion(self):
        case = self.ticket(kind='case')
        old = case.number
        self.as_agent()
        response = self.post(case, 'convert')
        self.assertHttpStatus(response, 204)
        converted = self.reload(case)
        self.assertTrue(converted.number.startswith('INC'))
        self.assertEqual(response['HX-Redirect'], converted.get_absolute_url())
        self.assertRedirects(self.client.get(f'/tickets/{old}/'), converted.get_absolute_url())


class RightsTests(TicketPageTestCase):
    def test_requester_is_sent_to_the_portal_for_own_ticket_and_refused_otherwise(self):
        mine = self.ticket()
        theirs = make_ticket()
        self.client.force_login(self.requester)
        self.assertRedirects(
            self.client.get(mine.get_absolute_url()), reverse('incidents:portal_ticket', args=[mine.number])
        )
        self.assertHttpStatus(self.client.get(theirs.get_absolute_url()), 403)
        for name in ('incidents:queue', 'incidents:ticket_add', 'incidents:incident_list', 'incidents:case_list'):
            with self.subTest(name=name):
                self.assertHttpStatus(self.client.get(reverse(name)), 403)
        self.assertHttpStatus(self.post(mine, 'assign', {'group': self.desk.pk}, htmx=False), 403)
        self.assertEqual(self.reload(mine).state, S.NEW)

    def test_anonymous_is_sent_to_login_everywhere(self):
        ticket = self.ticket()
        for url in (
            ticket.get_absolute_url(),
            self.action_url(ticket, 'assign'),
            reverse('incidents:queue'),
            reverse('incidents:portal'),
            reverse('incidents:ticket_add'),
        ):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertHttpStatus(response, 302)
                self.assertIn(reverse('itsm:login'), response['Location'])

    def test_readers_cannot_open_the_queues_or_create(self):
        self.client.force_login(make_user(Role.MANAGER))
        self.assertHttpStatus(self.client.get(reverse('incidents:queue')), 403)
        self.assertHttpStatus(self.client.get(reverse('incidents:ticket_add')), 403)
        self.assertHttpStatus(self.client.get(reverse('incidents:incident_list')), 200)


class ActionTests(TicketPageTestCase):
    def test_action_form_as_htmx_fragment_and_as_full_page(self):
        ticket = self.ticket()
        self.as_agent()
        fragment = self.client.get(self.action_url(ticket, 'assign'), headers=HX)
        self.assertHttpStatus(fragment, 200)
        self.assertNotContains(fragment, '<html')
        self.assertContains(fragment, 'name="group"')
        page = self.client.get(self.action_url(ticket, 'assign'))
        self.assertContains(page, '<html')
        self.assertContains(page, 'id="ticket-action-form"')

    def test_whole_lifecycle_through_htmx(self):
        ticket = self.ticket()
        self.as_agent()
        response = self.post(ticket, 'assign', {'group': self.desk.pk, 'reason': 'Printer queue'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'hx-swap-oob="true"')
        self.assertContains(response, f'{ticket.number} is assigned to Service Desk.')
        self.assertEqual(self.reload(ticket).state, S.ASSIGNED)

        self.assertHttpStatus(self.post(ticket, 'accept'), 200)
        self.assertEqual(self.reload(ticket).assignee, self.agent)
        until = (timezone.localtime() + dt.timedelta(days=2)).strftime('%Y-%m-%dT%H:%M')
        self.assertHttpStatus(
            self.post(ticket, 'pend', {'reason': 'part', 'note': 'Toner ordered', 'until': until}), 200
        )
        pending = self.reload(ticket)
        self.assertEqual(
            (pending.state, pending.pending_reason, pending.pending_note), (S.PENDING, 'part', 'Toner ordered')
        )
        self.assertIsNotNone(pending.pending_until)
        self.assertHttpStatus(self.post(ticket, 'resume', {'note': 'Toner arrived'}), 200)
        self.assertHttpStatus(self.post(ticket, 'escalate', {'reason': 'Fuser unit broken'}), 200)
        escalated = self.reload(ticket)
        self.assertEqual(
            (escalated.state, escalated.assignment_group, escalated.reassignment_count), (S.ASSIGNED, self.l2, 1)
        )

        self.as_agent(self.engineer)
        self.assertHttpStatus(self.post(ticket, 'accept'), 200)
        done = {'resolution_code': 'solved_permanently', 'resolution_notes': 'Replaced the fuser.'}
        self.assertHttpStatus(self.post(ticket, 'complete', done), 200)
        self.assertHttpStatus(self.post(ticket, 'reject', {'reason': 'Still streaks'}), 200)
        self.assertEqual(self.reload(ticket).reopen_count, 1)
        self.assertHttpStatus(self.post(ticket, 'complete', done), 200)
        response = self.post(ticket, 'confirm')
        self.assertHttpStatus(response, 200)
        closed = self.reload(ticket)
        self.assertEqual(closed.state, S.CLOSED)
        actions = [e.data.get('action') for e in self.timeline(closed, TimelineKind.TRANSITION)]
        self.assertEqual(
            actions,
            ['assign', 'accept', 'pend', 'resume', 'escalate', 'accept', 'complete', 'reject', 'complete', 'confirm'],
        )

    def test_plain_post_redirects_with_a_message(self):
        ticket = self.ticket(S.ASSIGNED)
        self.as_agent()
        response = self.post(ticket, 'accept', htmx=False, follow=True)
        self.assertRedirects(response, ticket.get_absolute_url())
        self.assertContains(response, f'You accepted {ticket.number}')
        self.assertEqual(self.reload(ticket).state, S.ACCEPTED)

    def test_refused_transition_shows_the_reason_inline_and_keeps_the_input(self):
        ticket = self.ticket()
        self.as_agent()
        data = {'resolution_code': 'duplicate', 'resolution_notes': 'Same as INC0001001, see there.'}
        response = self.post(ticket, 'complete', data)
        self.assertHttpStatus(response, 409)
        self.assertEqual(response[INLINE], '1')
        self.assertContains(response, f'Cannot complete {ticket}: it is New.', status_code=409)
        self.assertContains(response, 'Same as INC0001001, see there.', status_code=409)
        self.assertContains(response, 'id="ticket-header" hx-swap-oob="true"', status_code=409)
        self.assertEqual(self.reload(ticket).state, S.NEW)

        page = self.post(ticket, 'complete', data, htmx=False)
        self.assertHttpStatus(page, 409)
        self.assertContains(page, '<html', status_code=409)
        self.assertContains(page, 'Same as INC0001001, see there.', status_code=409)

    def test_missing_input_is_400_on_the_field(self):
        ticket = self.ticket(S.ACCEPTED)
        self.as_agent()
        response = self.post(ticket, 'escalate', {'group': '', 'reason': ''})
        self.assertHttpStatus(response, 400)
        self.assertIn('reason', response.context['panel_form'].errors)
        response = self.post(ticket, 'complete', {'resolution_code': 'duplicate'})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'is-invalid', status_code=400)

    def test_service_refusal_lands_on_the_field(self):
        self.desk.escalation_group = None
        self.desk.save()
        ticket = self.ticket(S.ACCEPTED)
        self.as_agent()
        response = self.post(ticket, 'escalate', {'reason': 'Needs hardware'})
        self.assertHttpStatus(response, 400)
        self.assertEqual(
            response.context['panel_form'].errors['group'], ['Service Desk has no next tier: choose a group.']
        )

    def test_non_member_accept_is_refused_with_403(self):
        ticket = self.ticket(S.ASSIGNED)
        self.as_agent(self.engineer)
        response = self.post(ticket, 'accept')
        self.assertHttpStatus(response, 403)
        self.assertContains(response, 'Only a member of Service Desk', status_code=403)
        self.assertEqual(self.reload(ticket).state, S.ASSIGNED)

    def test_assign_to_a_person_outside_the_group_is_refused(self):
        ticket = self.ticket()
        self.as_agent()
        response = self.post(ticket, 'assign', {'group': self.desk.pk, 'assignee': self.engineer.pk})
        self.assertHttpStatus(response, 400)
        self.assertIn('is not a member of Service Desk', str(response.context['panel_form'].errors['assignee']))

    def test_override_priority_needs_a_reason(self):
        ticket = self.ticket()
        self.as_agent()
        self.assertHttpStatus(self.post(ticket, 'priority', {'priority': 1, 'reason': ''}), 400)
        self.assertHttpStatus(self.post(ticket, 'priority', {'priority': 1, 'reason': 'VIP at the board'}), 200)
        changed = self.reload(ticket)
        self.assertEqual((changed.priority, changed.priority_override_reason), (1, 'VIP at the board'))

    def test_link_and_unlink_parent(self):
        major = self.ticket(short_description='Building B without network')
        ticket = self.ticket()
        self.as_agent()
        response = self.post(ticket, 'parent', {'parent': 'INC0999999'})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'There is no ticket INC0999999.', status_code=400)
        self.assertHttpStatus(self.post(ticket, 'parent', {'parent': major.number.lower()}), 200)
        self.assertEqual(self.reload(ticket).parent, major)
        self.assertHttpStatus(self.post(major, 'parent', {'parent': ticket.number}), 400)
        self.assertHttpStatus(self.post(ticket, 'parent', {'parent': ''}), 200)
        self.assertIsNone(self.reload(ticket).parent)

    def test_escalate_to_management_keeps_the_ticket_in_place(self):
        ticket = self.ticket(S.ACCEPTED)
        self.as_agent()
        response = self.post(ticket, 'escalate_management', {'reason': 'SLA at risk'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'The manager of Service Desk has been told')
        self.assertEqual(self.reload(ticket).state, S.ACCEPTED)
        self.assertTrue(self.timeline(ticket, TimelineKind.WORK_NOTE).filter(message__contains='SLA at risk').exists())

    def test_confirm_and_reject_on_the_callers_behalf(self):
        ticket = self.ticket(S.COMPLETED)
        self.as_agent()
        self.assertHttpStatus(self.post(ticket, 'reject', {'reason': ''}), 400)
        self.assertHttpStatus(self.post(ticket, 'confirm', htmx=False), 302)
        self.assertEqual(self.reload(ticket).state, S.CLOSED)

    def test_row_accept_from_a_list_reports_back_there(self):
        ticket = self.ticket(S.ACCEPTED)
        self.as_agent()
        queue = reverse('incidents:queue') + '?q=unassigned'
        response = self.post(ticket, 'accept', {'next': queue}, htmx=False, follow=True)
        self.assertRedirects(response, queue)
        self.assertContains(response, f'Cannot accept {ticket}: it is Accepted.')


class EditTests(TicketPageTestCase):
    def test_edit_panel_through_htmx(self):
        ticket = self.ticket()
        self.as_agent()
        url = reverse('incidents:ticket_edit', args=[ticket.number])
        fragment = self.client.get(url, headers=HX)
        self.assertHttpStatus(fragment, 200)
        self.assertNotContains(fragment, '<html')
        data = {'caller': 'robin', 'channel': 'phone', 'short_description': '', 'impact': 'high', 'urgency': 'critical'}
        refused = self.client.post(url, data, headers=HX)
        self.assertHttpStatus(refused, 400)
        self.assertEqual(refused[INLINE], '1')
        self.assertContains(refused, 'value="robin"', status_code=400)
        data['short_description'] = 'Whole floor cannot print'
        saved = self.client.post(url, data, headers=HX)
        self.assertHttpStatus(saved, 200)
        self.assertContains(saved, 'Whole floor cannot print')
        changed = self.reload(ticket)
        self.assertEqual((changed.short_description, changed.priority), ('Whole floor cannot print', 1))

    def test_closed_ticket_cannot_be_edited(self):
        ticket = self.ticket(S.CLOSED)
        self.as_agent()
        url = reverse('incidents:ticket_edit', args=[ticket.number])
        data = {'caller': 'robin', 'channel': 'phone', 'short_description': 'x', 'impact': 'low', 'urgency': 'normal'}
        response = self.client.post(url, data)
        self.assertHttpStatus(response, 200)
        self.assertIn('is closed', str(response.context['form'].non_field_errors()))


class ConversationTests(TicketPageTestCase):
    def test_work_note_and_comment(self):
        ticket = self.ticket()
        self.as_agent()
        url = reverse('incidents:ticket_comment', args=[ticket.number])
        response = self.client.post(url, {'visibility': 'internal', 'body': 'Spooler restarted'}, headers=HX)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Work note added.')
        self.assertContains(response, 'Spooler restarted')  # the refreshed history
        response = self.client.post(url, {'visibility': 'public', 'body': 'Please try again'}, follow=True)
        self.assertContains(response, 'Comment sent to Robin Reed.')
        kinds = list(self.timeline(ticket).filter(kind__in=['comment', 'work_note']).values_list('kind', 'public'))
        self.assertEqual(kinds, [('work_note', False), ('comment', True)])

    def test_empty_comment_is_refused_inline(self):
        ticket = self.ticket()
        self.as_agent()
        url = reverse('incidents:ticket_comment', args=[ticket.number])
        response = self.client.post(url, {'visibility': 'public', 'body': '  '}, headers=HX)
        self.assertHttpStatus(response, 400)
        self.assertEqual(response[INLINE], '1')
        self.assertContains(response, 'is-invalid', status_code=400)

    def test_template_text_is_inserted_after_what_was_typed(self):
        ticket = self.ticket(S.ASSIGNED)
        template = ResponseTemplate.objects.create(
            name='Phone follow-up', kind='opening', text='Hello {caller_first_name}, {agent_name} here about {number}.'
        )
        self.as_agent()
        url = reverse('incidents:ticket_insert_template', args=[ticket.number])
        response = self.client.get(url, {'template': template.pk, 'body': 'Note <b>'}, headers=HX)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, f'Note &lt;b&gt;\n\nHello Robin, {self.agent} here about {ticket.number}.')
        page = self.client.get(ticket.get_absolute_url())
        self.assertContains(page, 'Opening line: Phone follow-up')

    def test_upload_list_and_refusals(self):
        ticket = self.ticket()
        self.as_agent()
        url = reverse('incidents:ticket_attach', args=[ticket.number])
        log = SimpleUploadedFile('printer.log', b'paper jam', content_type='text/plain')
        response = self.client.post(url, {'file': log}, headers=HX)
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'Files of type application/octet-stream are not accepted.', status_code=400)
        note = SimpleUploadedFile('notes.txt', b'paper jam', content_type='text/plain')
        response = self.client.post(url, {'file': note, 'internal': 'on'}, headers=HX)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'notes.txt')
        self.assertContains(response, 'Internal')
        self.assertFalse(Attachment.objects.get().public)
        with override_settings(ATTACHMENT_MAX_BYTES=4):
            big = SimpleUploadedFile('big.txt', b'0123456789', content_type='text/plain')
            response = self.client.post(url, {'file': big})
        self.assertHttpStatus(response, 400)
        self.assertContains(response, 'larger than the 0 MB limit', status_code=400)

    def test_download_for_staff(self):
        ticket = self.ticket()
        from incidents import services

        file = SimpleUploadedFile('notes.txt', b'paper jam', content_type='text/plain')
        attachment = services.ticket_attach(ticket=ticket, actor=Actor(user=self.agent), upload=file, public=False)
        self.as_agent()
        response = self.client.get(attachment.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b''.join(response.streaming_content), b'paper jam')
        self.assertIn('attachment;', response['Content-Disposition'])

    def test_the_stored_file_is_not_served_from_media_even_in_development(self):
        # The URL configuration is built with DEBUG on, as `make run` builds it: the file's storage path must not
        # answer, for anonymous visitors or anyone else; only the permission-checked download does.
        import importlib

        from django.conf import settings
        from django.urls import clear_url_caches

        import itsm.urls

        ticket = self.ticket()
        from incidents import services

        file = SimpleUploadedFile('secret.txt', b'internal only', content_type='text/plain')
        attachment = services.ticket_attach(ticket=ticket, actor=Actor(user=self.agent), upload=file, public=False)
        with override_settings(DEBUG=True):
            importlib.reload(itsm.urls)
            clear_url_caches()
            try:
                response = self.client.get(settings.MEDIA_URL + attachment.file.name)
                self.assertEqual(response.status_code, 404)
                self.as_agent()
                response = self.client.get(settings.MEDIA_URL + attachment.file.name)
                self.assertEqual(response.status_code, 404)
            finally:
                importlib.reload(itsm.urls)
                clear_url_caches()


class CreateFormTests(TicketPageTestCase):
    def test_priority_preview(self):
        self.as_agent()
        url = reverse('incidents:priority_preview')
        response = self.client.get(url, {'impact': 'high', 'urgency': 'critical'}, headers=HX)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, '>P1<')
        self.assertContains(response, 'Choose impact', count=0)
        self.assertContains(
            self.client.get(url, {'impact': 'bogus', 'urgency': 'critical'}), 'Choose impact and urgency'
        )

    def test_subcategories_follow_the_category(self):
        hardware = Category.objects.create(name='Peripherals')
        Category.objects.create(name='Printers', parent=hardware)
        software = Category.objects.create(name='Programs')
        Category.objects.create(name='Office suite', parent=software)
        self.as_agent()
        response = self.client.get(reverse('incidents:subcategory_options'), {'category': hardware.pk}, headers=HX)
        self.assertContains(response, 'Printers')
        self.assertNotContains(response, 'Office suite')

    def test_picking_a_ci_suggests_its_service(self):
        payroll = make_service('Payroll', criticality=Criticality.HIGH)
        app = make_ci(CIClass.APPLICATION, name='Payroll engine')
        link(payroll.ci, 'depends_on', app)
        self.as_agent()
        response = self.client.get(reverse('incidents:ci_service'), {'ci': app.number, 'service': ''}, headers=HX)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, f'<option value="{payroll.ci.pk}" selected>Payroll</option>', html=True)
        self.assertContains(response, 'supports <strong>Payroll</strong>')

    def test_the_channel_decides_what_impact_and_urgency_left_open_give(self):
        self.as_agent()
        cases = [
            ('email', {}, 4),  # reported by e-mail: P4 (domain §3)
            ('phone', {}, 3),  # anything else: low × normal
            ('email', {'impact': 'high', 'urgency': 'critical'}, 1),  # what the agent chose stands
        ]
        for number, (channel, chosen, priority) in enumerate(cases):
            with self.subTest(channel=channel, chosen=chosen):
                text = f'Mailbox full {number}'
                data = {'kind': 'incident', 'caller': 'robin', 'channel': channel, 'short_description': text}
                data.update({'impact': '', 'urgency': ''}, **chosen)
                self.assertHttpStatus(self.client.post(reverse('incidents:ticket_add'), data), 302)
                self.assertEqual(Ticket.objects.get(short_description=text).priority, priority)

    def test_the_priority_preview_follows_the_channel(self):
        self.as_agent()
        url = reverse('incidents:priority_preview')
        self.assertContains(self.client.get(url, {'channel': 'email', 'impact': '', 'urgency': ''}, headers=HX), '>P4<')
        self.assertContains(self.client.get(url, {'channel': 'phone', 'impact': '', 'urgency': ''}, headers=HX), '>P3<')

    def test_create_with_ci_only_gets_the_suggested_service_and_assignment(self):
        payroll = make_service('Payroll')
        app = make_ci(CIClass.APPLICATION, name='Payroll engine')
        link(payroll.ci, 'depends_on', app)
        self.as_agent()
        data = {
            'kind': 'incident',
            'caller': 'robin',
            'channel': 'phone',
            'short_description': 'Payslips missing',
            'ci': app.number,
            'impact': 'high',
            'urgency': 'critical',
            'assignment_group': self.desk.pk,
        }
        response = self.client.post(reverse('incidents:ticket_add'), data)
        self.assertHttpStatus(response, 302)
        ticket = Ticket.objects.get(short_description='Payslips missing')
        self.assertEqual((ticket.ci, ticket.service, ticket.state, ticket.priority), (app, payroll.ci, S.ASSIGNED, 1))
        self.assertEqual(ticket.opened_by, self.agent)

    def test_unknown_caller_and_ci_keep_the_input(self):
        self.as_agent()
        data = {
            'kind': 'case',
            'caller': 'nobody',
            'channel': 'phone',
            'short_description': 'Need a headset',
            'ci': 'CI9999999',
            'impact': 'low',
            'urgency': 'normal',
        }
        response = self.client.post(reverse('incidents:case_add'), data)
        self.assertHttpStatus(response, 200)
        errors = response.context['form'].errors
        self.assertIn('caller', errors)
        self.assertIn('ci', errors)
        self.assertContains(response, 'value="Need a headset"')
        self.assertFalse(Ticket.objects.exists())

    def test_people_and_ci_suggestions(self):
        make_ci(CIClass.SERVER, name='printsrv01')
        self.as_agent()
        people = self.client.get(reverse('incidents:people_options'), {'caller': 'rob'}, headers=HX)
        self.assertContains(people, 'value="robin"')
        cis = self.client.get(reverse('incidents:ci_options'), {'ci': 'printsrv'}, headers=HX)
        self.assertContains(cis, 'printsrv01')

    def test_assignee_select_narrows_to_the_group(self):
        other = make_user(Role.SERVICE_DESK_AGENT, first_name='Olga')
        SupportGroupFactory(name='Network', members=[other])
        self.as_agent()
        response = self.client.get(reverse('incidents:assignee_options'), {'group': self.desk.pk}, headers=HX)
        self.assertContains(response, str(self.agent))
        self.assertNotContains(response, 'Olga')


class ListTests(TicketPageTestCase):
    def test_incident_and_case_lists_filter_and_search(self):
        incident = self.ticket(short_description='Scanner offline', channel='email')
        case = self.ticket(kind='case', short_description='New scanner wanted')
        self.as_agent()
        incidents = self.client.get(reverse('incidents:incident_list'))
        self.assertContains(incidents, incident.number)
        self.assertNotContains(incidents, case.number)
        everything = self.client.get(reverse('incidents:ticket_list'), {'q': 'scanner'}, headers=HX)
        self.assertContains(everything, incident.number)
        self.assertContains(everything, case.number)
        self.assertNotContains(everything, '<html')
        by_channel = self.client.get(reverse('incidents:ticket_list'), {'channel': 'email'})
        self.assertContains(by_channel, incident.number)
        self.assertNotContains(by_channel, case.number)
