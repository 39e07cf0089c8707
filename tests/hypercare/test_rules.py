"""Rules: a change of the rule's type that closes successfully puts the services it names into hypercare (an open
period is extended, never overlapped); other types, failed changes and other services do not."""

import datetime as dt

from django.utils import timezone

from changes import services as change_services
from changes.choices import ChangeOutcome, ChangeState
from changes.models import Change
from hypercare.models import HypercarePeriod
from itsm.audit import Actor
from itsm.choices import TimelineKind
from tests.base import ItsmTestCase
from tests.changes.factories import drive, make_change

from .factories import make_period, make_rule, service_ci

SYSTEM = Actor.system()


def close(change: Change, outcome: str = ChangeOutcome.SUCCESSFUL) -> Change:
    change = drive(change, ChangeState.REVIEW)
    change_services.change_close(change=change, actor=SYSTEM, outcome=outcome, review_notes='Reviewed.')
    return Change.objects.get(pk=change.pk)


class RuleTests(ItsmTestCase):
    def setUp(self):
        self.service = service_ci()
        self.rule = make_rule(change_type='normal', duration_days=10)

    def test_a_successful_change_of_the_type_starts_hypercare(self):
        change = close(make_change(services=[self.service]))
        period = HypercarePeriod.objects.get(service=self.service)
        self.assertEqual((period.change, period.rule, period.state), (change, self.rule, 'active'))
        self.assertAlmostEqual(
            (period.ends_at - period.starts_at).total_seconds(), dt.timedelta(days=10).total_seconds(), delta=5
        )
        self.assertTrue(self.timeline(change, TimelineKind.LINK).filter(message__contains='hypercare').exists())
        self.assertTrue(self.timeline(self.service).filter(message__startswith='Hypercare now').exists())

    def test_an_open_period_is_extended_not_overlapped(self):
        period = make_period(self.service, days=3)
        close(make_change(services=[self.service]))
        self.assertEqual(HypercarePeriod.objects.filter(service=self.service).count(), 1)
        period.refresh_from_db()
        self.assertGreater(period.ends_at, timezone.now() + dt.timedelta(days=9))
        # A longer period already open is left as it is.
        other = service_ci()
        long = make_period(other, days=30)
        close(make_change(services=[other]))
        self.assertEqual(HypercarePeriod.objects.get(pk=long.pk).ends_at, long.ends_at)

    def test_other_types_failed_changes_and_other_services_do_not(self):
        close(make_change(services=[self.service], change_type='emergency', justification='Outage.'))
        close(make_change(services=[self.service]), outcome=ChangeOutcome.FAILED)
        elsewhere = service_ci()
        make_rule(change_type='normal', service=elsewhere, duration_days=5, name='Only elsewhere')
        self.rule.active = False
        self.rule.save()
        close(make_change(services=[self.service]))
        self.assertFalse(HypercarePeriod.objects.filter(service=self.service).exists())
        close(make_change(services=[elsewhere]))
        self.assertTrue(HypercarePeriod.objects.filter(service=elsewhere).exists())
