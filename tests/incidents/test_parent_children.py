"""A parent incident and its children: completing the parent completes its open children with its resolution,
whatever their state (each caller told); a child that cannot be completed is reported and left whole; the API lists
children."""

from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents import services
from incidents.choices import PendingReason, ResolutionCode, TicketState
from incidents.models import Ticket
from itsm import hooks
from itsm.audit import Actor
from itsm.choices import Role, TimelineKind
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_ticket, make_user

S = TicketState


class CompleteWithParentTests(ItsmTestCase):
    def setUp(self):
        self.group, self.agent = make_group_with_agent(name='Network Operations')
        self.parent = self.make(S.ACCEPTED, 'WAN link to Lyon down')

    def make(self, state, text, parent=None, **fields):
        caller = make_user(Role.REQUESTER, email=f'caller{Ticket.objects.count()}@example.com')
        return make_ticket(
            state=state,
            group=self.group,
            agent=self.agent,
            caller=caller,
            short_description=text,
            parent=parent,
            **fields,
        )

    def complete_parent(self):
        with self.captureOnCommitCallbacks(execute=True):
            return services.ticket_complete(
                ticket=self.parent,
                actor=Actor(user=self.agent),
                resolution_code=ResolutionCode.SOLVED_PERMANENTLY,
                resolution_notes='Carrier replaced the faulty line card.',
            )

    def test_open_children_are_completed_with_the_parents_resolution(self):
        first = self.make(S.ACCEPTED, 'Lyon cannot reach ERP', parent=self.parent)
        second = self.make(S.ACCEPTED, 'Lyon phones down', parent=self.parent)
        mail.outbox.clear()
        parent = self.complete_parent()
        self.assertEqual(parent.children_completed, [first.number, second.number])
        self.assertEqual(parent.children_not_completed, [])
        for child in (first, second):
            child.refresh_from_db()
            self.assertEqual(child.state, S.COMPLETED)
            self.assertEqual(child.resolution_code, ResolutionCode.SOLVED_PERMANENTLY)
            self.assertEqual(child.resolution_notes, 'Carrier replaced the faulty line card.')
            self.assertIsNotNone(child.completed_at)
            entry = self.timeline(child, TimelineKind.TRANSITION).order_by('at', 'pk').last()
            self.assertTrue(entry.message.startswith(f'Completed with parent {self.parent.number}'), entry.message)
        # Each caller hears of their own ticket's completion, as for any completion.
        told = sorted((m.to[0], m.subject.split(']')[0].strip('[')) for m in mail.outbox)
        expected = sorted((t.caller.email, t.number) for t in (self.parent, first, second))
        self.assertEqual(told, expected)

    def test_children_nobody_took_or_on_hold_complete_with_the_parent_too(self):
        new = make_ticket(short_description='Lyon Wi-Fi down', parent=self.parent, caller=make_user(Role.REQUESTER))
        assigned = self.make(S.ASSIGNED, 'Lyon badge readers down', parent=self.parent)
        pending = self.make(S.PENDING, 'Lyon VPN slow', parent=self.parent)
        mail.outbox.clear()
        parent = self.complete_parent()
        self.assertEqual(parent.children_completed, [new.number, assigned.number, pending.number])
        for child in (new, assigned, pending):
            child.refresh_from_db()
            self.assertEqual(child.state, S.COMPLETED)
            self.assertEqual(child.resolution_notes, 'Carrier replaced the faulty line card.')
        self.assertEqual((pending.pending_reason, pending.pending_until), ('', None))
        told = {m.subject.split(']')[0].strip('[') for m in mail.outbox}
        self.assertTrue({new.number, assigned.number, pending.number} <= told, told)

    def test_a_child_that_cannot_complete_is_reported_and_left_whole(self):
        accepted = self.make(S.ACCEPTED, 'Lyon printers offline', parent=self.parent)
        stuck = self.make(S.PENDING, 'Lyon VPN slow', parent=self.parent)
        before = Ticket.objects.filter(pk=stuck.pk).values().get()
        entries = self.timeline(stuck).count()

        def refuse_one(record, **kwargs):  # a subscriber's refusal rolls that child's completion back, alone
            if record.pk == stuck.pk and kwargs.get('target') == S.COMPLETED:
                raise ValidationError('The VPN vendor still holds this one.')

        hooks.subscribe(hooks.TRANSITIONED, refuse_one)
        self.addCleanup(hooks.unsubscribe, hooks.TRANSITIONED, refuse_one)
        parent = self.complete_parent()
        self.assertEqual(parent.state, S.COMPLETED)
        self.assertEqual(parent.children_completed, [accepted.number])
        self.assertEqual(
            parent.children_not_completed, [f'{stuck.number} (Pending): The VPN vendor still holds this one.']
        )
        self.assertEqual(Ticket.objects.filter(pk=stuck.pk).values().get(), before)
        self.assertEqual(self.timeline(stuck).count(), entries)
        note = self.timeline(self.parent, TimelineKind.WORK_NOTE).get()
        self.assertIn(f'Completed with this ticket: {accepted.number}.', note.message)
        self.assertIn(f'{stuck.number} (Pending)', note.message)

    def test_finished_children_and_other_tickets_are_untouched(self):
        done = self.make(S.COMPLETED, 'Lyon fixed earlier', parent=self.parent)
        stranger = self.make(S.ACCEPTED, 'Unrelated printer jam')
        parent = self.complete_parent()
        self.assertEqual((parent.children_completed, parent.children_not_completed), ([], []))
        stranger.refresh_from_db()
        self.assertEqual(stranger.state, S.ACCEPTED)
        self.assertEqual(Ticket.objects.get(pk=done.pk).resolution_notes, 'Cleared it.')
        self.assertFalse(self.timeline(self.parent, TimelineKind.WORK_NOTE).exists())

    def test_grandchildren_follow(self):
        child = self.make(S.ACCEPTED, 'Lyon ERP down', parent=self.parent)
        grandchild = self.make(S.ACCEPTED, 'Lyon ERP reports missing', parent=child)
        self.complete_parent()
        grandchild.refresh_from_db()
        self.assertEqual(grandchild.state, S.COMPLETED)
        entry = self.timeline(grandchild, TimelineKind.TRANSITION).order_by('at', 'pk').last()
        self.assertIn(f'Completed with parent {child.number}', entry.message)

    def test_completing_through_the_api_completes_the_children(self):
        child = self.make(S.ACCEPTED, 'Lyon cannot reach ERP', parent=self.parent)
        held = self.make(S.ACCEPTED, 'Lyon badge readers', parent=self.parent)
        services.ticket_pend(ticket=held, actor=Actor(user=self.agent), reason=PendingReason.VENDOR)
        url = reverse('api:incident-complete', args=[self.parent.number])
        body = {'resolution_code': 'solved_permanently', 'resolution_notes': 'Line card replaced.'}
        response = self.api_client(self.agent).post(url, body, format='json')
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['children'], [child.number, held.number])
        self.assertEqual(Ticket.objects.get(pk=child.pk).state, S.COMPLETED)
        self.assertEqual(Ticket.objects.get(pk=held.pk).state, S.COMPLETED)  # on hold: completed with it too


class ChildrenInTheAPITests(ItsmTestCase):
    def setUp(self):
        self.group, self.agent = make_group_with_agent(name='Network Operations')
        self.parent = make_ticket(state=S.ACCEPTED, group=self.group, agent=self.agent)

    def test_a_ticket_lists_its_children(self):
        a = make_ticket(parent=self.parent)
        b = make_ticket(parent=self.parent)
        url = reverse('api:incident-detail', args=[self.parent.number])
        response = self.api_client(self.agent).get(url)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['children'], [a.number, b.number])
        self.assertEqual(
            self.api_client(self.agent).get(reverse('api:incident-detail', args=[a.number])).data['children'], []
        )
        listed = self.api_client(self.agent).get(reverse('api:incident-list'), {'parent': self.parent.number})
        self.assertEqual({row['number'] for row in listed.data['results']}, {a.number, b.number})

    def test_a_requester_sees_only_their_own_children(self):
        caller = make_user(Role.REQUESTER)
        mine = make_ticket(parent=self.parent, caller=caller)
        make_ticket(parent=self.parent)
        parent_of_mine = Ticket.objects.get(pk=self.parent.pk)
        parent_of_mine.caller = caller
        parent_of_mine.save(update_fields=['caller'])
        response = self.api_client(caller).get(reverse('api:incident-detail', args=[self.parent.number]))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data['children'], [mine.number])

    def test_list_queries_do_not_grow_with_children(self):
        client = self.api_client(self.agent)
        url = reverse('api:incident-list')
        make_ticket(parent=self.parent)
        client.get(url)
        small = self.count_queries(lambda: self.assertHttpStatus(client.get(url), 200))
        for _ in range(4):
            parent = make_ticket(state=S.ACCEPTED, group=self.group, agent=self.agent)
            make_ticket(parent=parent)
            make_ticket(parent=parent)
        large = self.count_queries(lambda: self.assertHttpStatus(client.get(url), 200))
        self.assertEqual(small, large)
