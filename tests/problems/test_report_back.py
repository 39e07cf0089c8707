"""Report-back: a resolved problem tells its open incidents and their callers, resumes those awaiting it, and its
problem manager completes them in one action."""

from django.core import mail
from django.urls import reverse

from incidents import services as ticket_services
from incidents.choices import PendingReason, ResolutionCode, TicketState
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from problems import services
from problems.choices import ProblemState
from problems.incident_links import link_incident
from problems.report_back import complete_linked_incidents
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket

from .factories import make_problem


class ReportBackTests(ItsmTestCase):
    def setUp(self):
        self.group, self.agent = make_group_with_agent(name='Mail team')
        self.manager = self.make_user(Role.PROBLEM_MANAGER)
        self.problem = make_problem(state=ProblemState.FIX_IN_PROGRESS)

    def linked(self, state=TicketState.ACCEPTED):
        ticket = make_ticket(state=state, group=self.group, agent=self.agent)
        link_incident(problem=self.problem, incident=ticket, actor=Actor(user=self.agent))
        return ticket

    def resolve(self, change_reference=''):
        with self.captureOnCommitCallbacks(execute=True):
            return services.problem_resolve(
                problem=self.problem,
                actor=Actor(user=self.manager),
                resolution='Mail relay patched.',
                change_reference=change_reference,
            )

    def test_resolution_reaches_open_incidents_and_their_callers(self):
        working = self.linked()
        waiting = self.linked()
        waiting = ticket_services.ticket_pend(
            ticket=waiting, actor=Actor(user=self.agent), reason=PendingReason.PROBLEM, note='Awaiting PRB'
        )
        done = self.linked(state=TicketState.CLOSED)
        mail.outbox.clear()
        self.resolve(change_reference='CHG0001234')
        for ticket in (working, waiting):
            note = self.timeline(ticket, TimelineKind.WORK_NOTE).last()
            self.assertIn(f'{self.problem.number} resolved: Mail relay patched.', note.message)
            self.assertIn('CHG0001234', note.message)
            comment = self.timeline(ticket, TimelineKind.COMMENT).last()
            self.assertTrue(comment.public)
            self.assertIn('Mail relay patched.', comment.message)
        waiting.refresh_from_db()
        self.assertEqual((waiting.state, waiting.pending_reason), (TicketState.ACCEPTED, ''))
        self.assertFalse(self.timeline(done, TimelineKind.COMMENT).exists())
        told = {address for message in mail.outbox for address in message.to}
        self.assertIn(working.caller.email, told)
        self.assertIn(waiting.caller.email, told)
        self.assertNotIn(done.caller.email, told)

    def test_a_cancelled_problem_releases_the_incidents_awaiting_it(self):
        problem = make_problem()
        ticket = make_ticket(state=TicketState.ACCEPTED, group=self.group, agent=self.agent)
        link_incident(problem=problem, incident=ticket, actor=Actor(user=self.agent))
        ticket_services.ticket_pend(ticket=ticket, actor=Actor(user=self.agent), reason=PendingReason.PROBLEM)
        services.problem_cancel(problem=problem, actor=Actor(user=self.manager), reason='Not reproducible any more')
        ticket.refresh_from_db()
        self.assertEqual(ticket.state, TicketState.ACCEPTED)
        note = self.timeline(ticket, TimelineKind.WORK_NOTE).last()
        self.assertIn(f'{problem.number} was cancelled: Not reproducible any more', note.message)
        self.assertFalse(self.timeline(ticket, TimelineKind.COMMENT).exists())

    def test_the_caller_reads_it_in_the_portal(self):
        ticket = self.linked()
        self.resolve()
        self.client.force_login(ticket.caller)
        page = self.client.get(reverse('incidents:portal_ticket', kwargs={'number': ticket.number}))
        self.assertContains(page, 'Mail relay patched.')

    def test_complete_linked_incidents_completes_each_or_names_the_refusal(self):
        accepted = self.linked()
        new = self.linked(state=TicketState.NEW)
        self.resolve()
        done, refused = complete_linked_incidents(problem=self.problem, actor=Actor(user=self.manager))
        self.assertEqual(done, [accepted.number])
        self.assertEqual(len(refused), 1)
        self.assertTrue(refused[0].startswith(new.number))
        accepted.refresh_from_db()
        new.refresh_from_db()
        self.assertEqual((accepted.state, accepted.resolution_code), (TicketState.COMPLETED, 'solved_permanently'))
        self.assertIn(self.problem.number, accepted.resolution_notes)
        self.assertEqual(new.state, TicketState.NEW)
        note = self.timeline(self.problem, TimelineKind.WORK_NOTE).last()
        self.assertEqual(note.data['incidents_completed'], [accepted.number])

    def test_only_a_problem_manager_completes_and_only_once_resolved(self):
        self.linked()
        url = f'/api/v1/problems/{self.problem.number}/complete-incidents/'
        self.assertHttpStatus(self.api_client(self.manager).post(url, {}, format='json'), 409)
        self.resolve()
        self.assertHttpStatus(self.api_client(self.agent).post(url, {}, format='json'), 403)
        response = self.api_client(self.manager).post(url, {'resolution_code': 'duplicate'}, format='json')
        self.assertHttpStatus(response, 400)
        response = self.api_client(self.manager).post(url, {}, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(len(response.data['completed']), 1)

    def test_the_page_action_completes_them(self):
        ticket = self.linked()
        self.resolve()
        self.client.force_login(self.manager)
        page = self.client.get(self.problem.get_absolute_url())
        self.assertContains(page, 'data-testid="complete-linked-incidents"')
        url = reverse('problems:problem_complete_incidents', kwargs={'number': self.problem.number})
        response = self.client.post(url, {'resolution_code': ResolutionCode.SOLVED_PERMANENTLY})
        self.assertRedirects(response, self.problem.get_absolute_url(), fetch_redirect_response=False)
        ticket.refresh_from_db()
        self.assertEqual(ticket.state, TicketState.COMPLETED)
