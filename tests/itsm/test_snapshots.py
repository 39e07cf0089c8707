"""The desk's rules read once per process and version (`itsm.snapshots`): SLAs, OLAs, routing rules and the priority
matrix are read again after a change, seen by the transaction that made it at once, and a change rolled back is
never kept. (Another process seeing a committed change: `tests/itsm/test_shared_state.py`.)"""

import contextlib

from django.db import connection, transaction
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext

from incidents.models import RoutingRule, Ticket
from incidents.priority import compute_priority
from incidents.routing import matching_rule
from incidents.services import priority_matrix_set
from itsm import snapshots
from itsm.audit import Actor
from itsm.models import ReferenceVersion, SupportGroup
from sla import selectors
from tests.base import ItsmTestCase
from tests.sla.factories import make_ola, make_sla


def rules_reads(captured) -> list[str]:
    """The statements that read the rules themselves (not their version)."""
    tables = ('sla_servicelevelagreement', 'sla_operationallevelagreement', 'incidents_routingrule')
    return [q['sql'] for q in captured.captured_queries if any(f'FROM "{t}"' in q['sql'] for t in tables)]


class SnapshotTests(ItsmTestCase):
    def setUp(self):
        self.group = SupportGroup.objects.create(name='Network')
        self.sla = make_sla(priority=3, response=60)
        self.ola = make_ola(self.group, accept=30)
        self.rule = RoutingRule.objects.create(name='API', channel='api', assignment_group=self.group)

    def ask_all(self):
        ticket = Ticket(kind='incident', channel='api')  # what routing reads of a ticket being opened
        return (
            selectors.sla_for(kind='incident', priority=3, service_id=None),
            selectors.ola_for(group_id=self.group.pk, priority=3),
            matching_rule(ticket),
        )

    def test_read_once_then_only_their_version_is_asked(self):
        with CaptureQueriesContext(connection) as first, transaction.atomic():
            self.assertEqual(self.ask_all(), (self.sla, self.ola, self.rule))
        with CaptureQueriesContext(connection) as second, transaction.atomic():
            self.assertEqual(self.ask_all(), (self.sla, self.ola, self.rule))

        self.assertEqual(len(rules_reads(first)), 3)
        self.assertEqual(rules_reads(second), [])
        versions = [q for q in second.captured_queries if 'itsm_referenceversion' in q['sql']]
        self.assertEqual(len(versions), 1, 'one read of the version per transaction')

    def test_a_change_saved_is_read_at_once(self):
        self.ask_all()
        self.sla.response_minutes = 15
        self.sla.save()
        self.group.active = False
        self.group.save()

        self.assertEqual(selectors.sla_for(kind='incident', priority=3, service_id=None).response_minutes, 15)
        self.assertIsNone(matching_rule(Ticket(kind='incident', channel='api')))  # its group is inactive now

    def test_a_deleted_rule_and_a_new_one_are_seen(self):
        self.ask_all()
        self.rule.delete()
        self.assertIsNone(matching_rule(Ticket(kind='incident', channel='api')))
        other = RoutingRule.objects.create(name='Everything', assignment_group=self.group)
        self.assertEqual(matching_rule(Ticket(kind='incident', channel='email')), other)

    def test_the_priority_matrix_set_by_its_service_applies_to_the_next_ticket(self):
        self.assertEqual(compute_priority('high', 'critical'), 1)
        priority_matrix_set(actor=Actor.system(), cells=[('high', 'critical', 0)])
        self.assertEqual(compute_priority('high', 'critical'), 0)

    def test_writes_that_bypass_save_are_seen_after_touch(self):
        self.ask_all()
        RoutingRule.objects.filter(pk=self.rule.pk).update(active=False)
        self.assertEqual(matching_rule(Ticket(kind='incident', channel='api')), self.rule)  # kept: not told
        snapshots.touch(snapshots.DESK_RULES)
        self.assertIsNone(matching_rule(Ticket(kind='incident', channel='api')))


class RolledBackChangeTests(TransactionTestCase):
    def test_a_change_rolled_back_is_seen_inside_its_transaction_and_never_after(self):
        sla = make_sla(priority=3, response=60)
        self.assertEqual(selectors.sla_for(kind='incident', priority=3, service_id=None).response_minutes, 60)
        committed = ReferenceVersion.objects.get(name=snapshots.DESK_RULES).token

        with contextlib.suppress(RuntimeError), transaction.atomic():
            sla.response_minutes = 5
            sla.save()
            inside = selectors.sla_for(kind='incident', priority=3, service_id=None)
            raise RuntimeError('undo')

        self.assertEqual(inside.response_minutes, 5)
        self.assertEqual(ReferenceVersion.objects.get(name=snapshots.DESK_RULES).token, committed)
        self.assertEqual(selectors.sla_for(kind='incident', priority=3, service_id=None).response_minutes, 60)
