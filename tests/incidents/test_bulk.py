"""Bulk operations of the queue: take, escalate, hold, complete and comment, each ticket through its own service and
guard, reported one by one, none left half-done."""

from unittest import mock

from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents.choices import PendingReason, ResolutionCode, TicketState
from incidents.models import Ticket
from itsm.choices import Role, Tier, TimelineKind
from itsm.models import TimelineEntry
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user

S = TicketState
QUEUE = reverse('incidents:queue')
ALL = f'{QUEUE}?q=all'


class BulkTestCase(ItsmTestCase):
    def setUp(self):
        self.desk, self.agent = make_group_with_agent(name='Service Desk')
        self.l2, self.engineer = make_group_with_agent(name='Network L2', tier=Tier.L2, role=Role.L2_ENGINEER)
        self.desk.escalation_group = self.l2
        self.desk.save()
        self.caller = make_user(first_name='Robin', last_name='Reed')
        self.client.force_login(self.agent)

    def ticket(self, state=S.NEW, group=None, agent=None, **fields):
        fields.setdefault('caller', self.caller)
        return make_ticket(state=state, group=group or self.desk, agent=agent or self.agent, **fields)

    def bulk(self, tickets, operation, **data):
        return self.client.post(ALL, {'tickets': [t.pk for t in tickets], 'operation': operation, **data}, follow=True)

    def state_of(self, ticket):
        return Ticket.objects.get(pk=ticket.pk).state


class BulkOperationTests(BulkTestCase):
    def test_take_reports_what_was_taken_and_what_was_refused_and_why(self):
        new, assigned = self.ticket(), self.ticket(S.ASSIGNED)
        theirs = self.ticket(S.ASSIGNED, group=self.l2, agent=self.engineer)
        accepted = self.ticket(S.ACCEPTED)
        response = self.bulk([new, assigned, theirs, accepted], 'take')
        self.assertRedirects(response, ALL)
        self.assertContains(response, '2 tickets taken by you:')
        self.assertContains(response, f'{theirs.number}: Only a member of Network L2 can take {theirs.number}.')
        self.assertContains(response, f'{accepted.number}: cannot take: it is Accepted')
        for ticket in (new, assigned):
            stored = Ticket.objects.get(pk=ticket.pk)
            self.assertEqual((stored.state, stored.assignee), (S.ACCEPTED, self.agent))
        self.assertEqual(self.state_of(theirs), S.ASSIGNED)

    def test_escalate_to_the_next_tier_or_a_chosen_group(self):
        a, b = self.ticket(S.ACCEPTED), self.ticket(S.ASSIGNED)
        response = self.bulk([a, b], 'escalate', reason='Needs the network team')
        self.assertContains(response, '2 tickets escalated to the next tier:')
        for ticket in (a, b):
            stored = Ticket.objects.get(pk=ticket.pk)
            self.assertEqual((stored.state, stored.assignment_group, stored.assignee), (S.ASSIGNED, self.l2, None))
        missing = self.client.post(ALL, {'tickets': [a.pk], 'operation': 'escalate', 'reason': ' '})
        self.assertContains(missing, 'A reason is required to escalate.', status_code=400)

    def test_hold_needs_what_it_waits_for_and_keeps_the_note(self):
        a, new = self.ticket(S.ACCEPTED), self.ticket()
        invalid = self.client.post(ALL, {'tickets': [a.pk], 'operation': 'pend', 'note': 'x'})
        self.assertContains(invalid, 'Say what the tickets are waiting for.', status_code=400)
        self.assertEqual(self.state_of(a), S.ACCEPTED)
        response = self.bulk([a, new], 'pend', pending_reason=PendingReason.VENDOR, note='Part ordered')
        self.assertContains(response, f'1 ticket put on hold: {a.number}.')
        self.assertContains(response, f'{new.number}: cannot put on hold: it is New')
        stored = Ticket.objects.get(pk=a.pk)
        self.assertEqual(
            (stored.state, stored.pending_reason, stored.pending_note), (S.PENDING, 'vendor', 'Part ordered')
        )

    def test_complete_needs_code_and_notes(self):
        a, b = self.ticket(S.ACCEPTED), self.ticket(S.ACCEPTED)
        invalid = self.client.post(ALL, {'tickets': [a.pk], 'operation': 'complete', 'resolution_notes': ''})
        self.assertContains(invalid, 'Choose the resolution code.', status_code=400)
        self.assertContains(invalid, 'Resolution notes are required to complete.', status_code=400)
        response = self.bulk(
            [a, b], 'complete', resolution_code=ResolutionCode.SOLVED_REMOTELY, resolution_notes='Reset the switch.'
        )
        self.assertContains(response, '2 tickets completed:')
        for ticket in (a, b):
            stored = Ticket.objects.get(pk=ticket.pk)
            self.assertEqual((stored.state, stored.resolution_notes), (S.COMPLETED, 'Reset the switch.'))

    def test_comment_or_work_note_on_each(self):
        a, b = self.ticket(S.ACCEPTED), self.ticket(S.ASSIGNED)
        response = self.bulk([a, b], 'comment', body='We are on it <b>now</b>', visibility='public')
        self.assertContains(response, '2 tickets commented:')
        self.bulk([a], 'comment', body='Checked the logs')
        for ticket in (a, b):
            comments = TimelineEntry.objects.for_object(ticket).filter(kind=TimelineKind.COMMENT)
            self.assertEqual(list(comments.values_list('message', flat=True)), ['We are on it <b>now</b>'])
        notes = TimelineEntry.objects.for_object(a).filter(kind=TimelineKind.WORK_NOTE)
        self.assertEqual(list(notes.values_list('message', flat=True)), ['Checked the logs'])
        empty = self.client.post(ALL, {'tickets': [a.pk], 'operation': 'comment', 'body': '  '})
        self.assertContains(empty, 'Write the comment or work note first.', status_code=400)

    def test_the_same_guard_as_the_single_action(self):
        """An incident manager outside the group sees the queue but may not take its tickets, one or many."""
        reader = make_user(Role.INCIDENT_MANAGER)
        ticket = self.ticket(S.ASSIGNED)
        self.client.force_login(reader)
        response = self.bulk([ticket], 'take')
        self.assertContains(response, f'{ticket.number}: Only a member of Service Desk can take {ticket.number}.')
        self.assertEqual(self.state_of(ticket), S.ASSIGNED)

    def test_a_ticket_that_fails_half_way_is_left_untouched(self):
        """Take from New runs two transitions: when the second fails, the first is rolled back with it."""
        first, second = self.ticket(), self.ticket()
        from itsm.workflow import Workflow

        real_run = Workflow.run

        def failing_accept(workflow, obj, name, **kwargs):
            if name == 'accept' and obj.pk == second.pk:
                raise ValidationError({'assignee': 'The directory is unreachable.'})
            return real_run(workflow, obj, name, **kwargs)

        with mock.patch.object(Workflow, 'run', failing_accept):
            response = self.bulk([first, second], 'take')
        self.assertContains(response, f'1 ticket taken by you: {first.number}.')
        self.assertContains(response, f'{second.number}: The directory is unreachable.')
        self.assertEqual(self.state_of(first), S.ACCEPTED)
        stored = Ticket.objects.get(pk=second.pk)
        self.assertEqual((stored.state, stored.assignment_group, stored.assignee), (S.NEW, None, None))
        self.assertFalse(TimelineEntry.objects.for_object(second).filter(kind=TimelineKind.TRANSITION).exists())

    def test_the_bar_offers_every_operation(self):
        response = self.client.get(QUEUE)
        for value in ('take', 'assign', 'escalate', 'pend', 'complete', 'comment', 'priority'):
            self.assertContains(response, f'<option value="{value}"')
        self.assertContains(response, 'data-pc-bulk="pend"')
