"""A parent incident and its children: completing the parent completes its open children with its resolution (each
caller told), children the lifecycle will not complete are reported and left whole, and the API lists children."""

from django.core import mail
from django.urls import reverse

from incidents import services
from incidents.choices import PendingReason, ResolutionCode, TicketState
from incidents.models import Ticket
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

    def test_children_the_lifecycle_will_not_complete_are_reported_and_left_whole(self):
        accepted = self.make(S.ACCEPTED, 'Lyon printers offline', parent=self.parent)
        pending = self.make(S.PENDING, 'Lyon VPN slow', parent=self.parent)
        new = self.make(S.NEW, 'Lyon Wi-Fi down', parent=self.parent)
        before = {t.pk: Ticket.objects.filter(pk=t.pk).values().get() for t in (pending, new)}
        entries = {t.pk: self.timeline(t).count() for t in (pending, new)}
        parent = self.complete_parent()
        self.assertEqual(parent.state, S.COMPLETED)
        self.assertEqual(parent.children_completed, [accepted.number])
        self.assertEqual([line.split(' ')[0] for line in parent.children_not_completed], [pending.number, new.number])
        for child in (pending, new):
            self.assertEqual(Ticket.objects.filter(pk=child.pk).values().get(), before[child.pk])
            self.assertEqual(self.timeline(child).count(), entries[child.pk])
        note = self.timeline(self.parent, TimelineKind.WORK_NOTE).get()
        self.assertIn(f'Completed with this ticket: {accepted.number}.', note.message)
        self.assertIn(f'{pending.number} (Pending)', note.message)
        self.assertIn(f'{new.number} (New)', note.message)

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
        self.assertEqual(Ticket.objects.get(pk=held.pk).state, S.PENDING)


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
