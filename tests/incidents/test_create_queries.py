"""What an API create of an incident costs in queries on PostgreSQL, and that its side effects wait for the commit.

The test's transaction turns the create's own into a savepoint: those two statements (SAVEPOINT, RELEASE) are left
out of the count, as production runs BEGIN/COMMIT, which are not queries."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import RoutingRule, Ticket
from itsm.choices import Role, TimelineKind
from itsm.outbox import OutboxMessage
from sla.models import SlaClock
from tests.base import ItsmTestCase
from tests.factories import make_group_with_agent, make_user
from tests.sla.factories import all_priorities, make_ola

pytestmark = pytest.mark.postgres

CREATE_QUERIES = 7


class IncidentCreateQueryTests(ItsmTestCase):
    def setUp(self):
        self.group, self.agent = make_group_with_agent()
        all_priorities()
        self.caller = make_user(Role.REQUESTER, username='caller.one')

    def create_incidents(self, count: int = 3) -> list[int]:
        """Queries of each create but the first (which warms the per-process caches, as a running server has)."""
        client = self.api_client(self.agent)
        counts = []
        for n in range(count):
            payload = {'short_description': f'Printer {n} jammed', 'caller': self.caller.username, 'impact': 'low'}
            with self.captureOnCommitCallbacks() as after_commit, CaptureQueriesContext(connection) as captured:
                response = client.post('/api/v1/incidents/', payload, format='json')
            self.assertHttpStatus(response, 201)
            self.assertTrue(after_commit, 'the delivery of notifications and webhooks waits for the commit')
            statements = [q['sql'] for q in captured.captured_queries]
            savepoints = [sql for sql in statements if sql.startswith(('SAVEPOINT', 'RELEASE SAVEPOINT'))]
            self.assertEqual(len(savepoints), 2, savepoints)  # the create's transaction, nothing nested in it
            counts.append(len(statements) - len(savepoints))
        return counts[1:]

    def test_an_api_create_with_its_sla_clocks_and_notification_runs_at_most_seven_queries(self):
        counts = self.create_incidents()

        self.assertLessEqual(max(counts), CREATE_QUERIES, counts)
        ticket = Ticket.objects.order_by('-pk').first()
        self.assertEqual(SlaClock.objects.for_record(ticket).count(), 2)  # response and resolution, one insert
        self.assertEqual(self.timeline(ticket, TimelineKind.CREATED).count(), 1)
        self.assertTrue(OutboxMessage.objects.filter(object_id=ticket.pk, event='received').exists())

    def test_a_routed_create_inserts_the_ticket_assigned_with_all_its_clocks_at_once(self):
        make_ola(self.group)
        RoutingRule.objects.create(name='API tickets', channel='api', assignment_group=self.group)

        counts = self.create_incidents()
        with CaptureQueriesContext(connection) as captured:
            self.create_incidents(count=1)

        # The routing's assignment adds its timeline entry and its notification; the ticket is not written twice
        # and the OLA's clocks go in with the SLA's.
        self.assertLessEqual(max(counts), CREATE_QUERIES + 2, counts)
        statements = [q['sql'] for q in captured.captured_queries]
        self.assertEqual([sql for sql in statements if sql.startswith('UPDATE')], [])
        self.assertEqual(len([sql for sql in statements if sql.startswith('INSERT INTO "sla_slaclock"')]), 1)
        ticket = Ticket.objects.order_by('-pk').first()
        self.assertEqual((ticket.assignment_group, ticket.state), (self.group, 'assigned'))
        self.assertEqual(SlaClock.objects.for_record(ticket).count(), 4)  # the SLA's two and the group's OLA two
        opened, routed = self.timeline(ticket).order_by('pk')
        self.assertEqual(opened.kind, TimelineKind.CREATED)
        opened_with = {change['field']: change['after'] for change in opened.changes}
        self.assertEqual(opened_with['state'], 'new')  # as opened: the assignment is the next entry's
        self.assertNotIn('assignment_group', opened_with)
        self.assertEqual(
            (routed.kind, routed.message), (TimelineKind.TRANSITION, f'Routed to {self.group} by rule "API tickets"')
        )
        self.assertEqual(routed.data, {'action': 'assign', 'from': 'new', 'to': 'assigned'})
        self.assertEqual(
            [(c['field'], c['before'], c['after']) for c in routed.changes][:1],
            [('assignment_group', None, str(self.group))],
        )

    def test_a_routed_create_sends_one_message_for_both_its_notifications_and_its_prediction(self):
        make_ola(self.group)
        RoutingRule.objects.create(name='API tickets', channel='api', assignment_group=self.group)
        payload = {'short_description': 'Printer jammed', 'caller': self.caller.username, 'impact': 'low'}

        with (
            mock.patch('itsm.tasks.run_tasks_task.delay') as batch,
            mock.patch('itsm.tasks.deliver_notification_task.delay') as deliver,
            self.captureOnCommitCallbacks(execute=True),
        ):
            response = self.api_client(self.agent).post('/api/v1/incidents/', payload, format='json')

        self.assertHttpStatus(response, 201)
        ticket = Ticket.objects.get(number=response.json()['number'])
        rows = OutboxMessage.objects.filter(object_id=ticket.pk).order_by('pk')
        self.assertEqual([row.event for row in rows], ['received', 'assigned'])
        deliver.assert_not_called()  # it travels in the one message
        batch.assert_called_once_with(
            [
                ['itsm.tasks.deliver_notification_task', [[row.pk for row in rows]]],
                ['predictions.tasks.prediction_refresh_task', [ticket.pk]],
            ]
        )

    def test_the_answer_shows_the_clocks_as_the_ticket_page_reads_them(self):
        make_ola(self.group)
        RoutingRule.objects.create(name='API tickets', channel='api', assignment_group=self.group)
        client = self.api_client(self.agent)
        payload = {'short_description': 'Printer jammed', 'caller': self.caller.username, 'impact': 'low'}

        created = client.post('/api/v1/incidents/', payload, format='json').json()
        read = client.get(f'/api/v1/incidents/{created["number"]}/').json()

        def clocks(answer):  # what moves with the time of asking left out
            ticking = ('elapsed_business_seconds', 'remaining_business_seconds')
            return [{k: v for k, v in clock.items() if k not in ticking} for clock in answer['sla']]

        self.assertEqual(len(created['sla']), 4)
        self.assertEqual(clocks(created), clocks(read))
        self.assertEqual((created['children'], created['prediction']), ([], None))
