"""Who is informed of a change: owners of its CIs and services, the RACI "consulted" and "informed" of its
services, its CAB, requester and owner; told at submission, authorisation, scheduling, start and end of
implementation; listed on the change page with why, in a number of queries that does not grow."""

from __future__ import annotations

from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from changes import notifications
from changes.choices import ChangeState
from changes.models import Cab, Change
from cmdb.choices import RaciActivity, RaciRole
from itsm import hooks
from itsm.audit import Actor
from itsm.choices import Role
from tests.base import ItsmTestCase
from tests.cmdb.factories import assign, make_ci, make_service
from tests.factories import SupportGroupFactory, make_user

from .factories import make_change

S = ChangeState


class Desk:
    def __init__(self, count: int = 1, group: str = 'Network team'):
        self.requester = make_user(Role.L2_ENGINEER, email='req@example.com')
        self.owner = make_user(Role.L3_ENGINEER, email='owner@example.com')
        self.ci_owner = make_user(Role.L2_ENGINEER, email='ci-owner@example.com')
        self.service_owner = make_user(Role.SERVICE_OWNER, email='svc-owner@example.com')
        self.accountable = make_user(Role.SERVICE_OWNER, email='accountable@example.com')
        self.consulted = make_user(Role.L3_ENGINEER, email='consulted@example.com')
        self.informed_group = SupportGroupFactory(name=group, email='network@example.com')
        self.responsible = make_user(Role.L2_ENGINEER, email='responsible@example.com')
        self.cab_member = make_user(Role.CAB_MEMBER, email='cab@example.com')
        self.outsider = make_user(Role.L2_ENGINEER, email='outsider@example.com')
        self.cab = Cab.objects.create(name=f'{group} CAB')
        self.cab.members.add(self.cab_member, self.owner)
        self.change = Change.objects.create(
            short_description='Upgrade the mail cluster',
            requester=self.requester,
            owner=self.owner,
            cab=self.cab,
            opened_at=timezone.now(),
        )
        for _ in range(count):
            ci = make_ci(owner=self.ci_owner, environment='production')
            service = make_service(service_owner=self.service_owner)
            assign(service, RaciRole.ACCOUNTABLE, activity=RaciActivity.CHANGE_APPROVAL, person=self.accountable)
            assign(service, RaciRole.RESPONSIBLE, activity=RaciActivity.CHANGE_APPROVAL, person=self.responsible)
            assign(service, RaciRole.CONSULTED, activity=RaciActivity.CHANGE_APPROVAL, person=self.consulted)
            assign(service, RaciRole.INFORMED, activity=RaciActivity.CHANGE_APPROVAL, group=self.informed_group)
            self.change.cis.add(ci)
            self.change.services.add(service.ci)
        self.service = service


INFORMED = {
    'req@example.com',
    'owner@example.com',
    'ci-owner@example.com',
    'svc-owner@example.com',
    'consulted@example.com',
    'network@example.com',
    'cab@example.com',
}


class RecipientTests(ItsmTestCase):
    def test_everyone_affected_is_listed_once_with_why(self):
        desk = Desk()
        recipients = notifications.recipients_for(desk.change)
        by_name = {r.name: r.why for r in recipients}
        self.assertEqual(len(by_name), len(recipients))
        self.assertEqual(by_name[str(desk.requester)], ['Requested the change'])
        self.assertEqual(by_name[str(desk.owner)], ['Owns the change', 'Member of the CAB'])
        self.assertEqual(by_name[str(desk.cab_member)], ['Member of the CAB'])
        self.assertEqual(by_name[str(desk.service_owner)], [f'Owns the service {desk.service.ci.name}'])
        self.assertEqual(by_name[str(desk.consulted)], [f'Consulted on change approval of {desk.service.ci.name}'])
        self.assertEqual(by_name['Network team'], [f'Informed on change approval of {desk.service.ci.name}'])
        ci = desk.change.cis.get()
        self.assertEqual(by_name[str(desk.ci_owner)], [f'Owns {ci.number} {ci.name}'])
        # Accountable and responsible are not "consulted" or "informed"; outsiders are nobody's concern.
        for person in (desk.accountable, desk.responsible, desk.outsider):
            self.assertNotIn(str(person), by_name)
        self.assertEqual(set(notifications.informed(desk.change)), INFORMED)

    def test_a_group_without_address_reaches_its_active_members(self):
        desk = Desk()
        desk.informed_group.email = ''
        desk.informed_group.save()
        member, gone = make_user(email='member@example.com'), make_user(email='gone@example.com', is_active=False)
        desk.informed_group.members.add(member, gone)
        addresses = set(notifications.informed(desk.change))
        self.assertIn('member@example.com', addresses)
        self.assertNotIn('gone@example.com', addresses)

    def test_queries_do_not_grow_with_cis_services_and_raci(self):
        small, large = Desk(count=1), Desk(count=5, group='Other team')

        def queries(change):
            change = Change.objects.get(pk=change.pk)
            with CaptureQueriesContext(connection) as ctx:
                notifications.recipients_for(change)
            return len(ctx)

        self.assertEqual(queries(small.change), queries(large.change))
        self.assertLessEqual(queries(large.change), 6)


class NotificationTests(ItsmTestCase):
    def run_transition(self, change, action: str, source: str, target: str):
        mail.outbox.clear()
        # Each transition in a transaction of its own, as the change services run it.
        with self.captureOnCommitCallbacks(execute=True), transaction.atomic():
            hooks.emit(
                hooks.TRANSITIONED,
                change,
                actor=Actor(user=change.owner),
                action=action,
                source=source,
                target=target,
                notify=True,
            )
        return mail.outbox

    def test_each_event_reaches_everyone_informed(self):
        desk = Desk()
        steps = [
            ('submit', S.DRAFT, S.SUBMITTED, 'Change submitted'),
            ('schedule', S.AUTHORIZATION, S.SCHEDULED, 'Change scheduled'),
            ('schedule', S.ASSESSMENT, S.SCHEDULED, 'Change scheduled'),
            ('reschedule', S.SCHEDULED, S.SCHEDULED, 'Change scheduled'),
            ('start', S.SCHEDULED, S.IMPLEMENTATION, 'Change implementation started'),
            ('complete', S.IMPLEMENTATION, S.REVIEW, 'Change implementation finished'),
        ]
        for action, source, target, label in steps:
            with self.subTest(action=action, source=source):
                outbox = self.run_transition(desk.change, action, source, target)
                self.assertEqual(len(outbox), 1)
                self.assertEqual(set(outbox[0].to), INFORMED)
                self.assertIn(f'[{desk.change.number}] {label}', outbox[0].subject)
                self.assertIn(desk.change.get_absolute_url(), outbox[0].body)
        entries = self.timeline(desk.change, 'notification')
        self.assertEqual(entries.count(), len(steps))

    def test_the_lifecycle_sends_each_message_once_in_order(self):
        desk = Desk()
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            change = make_change(
                S.REVIEW,
                requester=desk.requester,
                owner=desk.owner,
                services=[desk.service.ci],
            )
        subjects = [m.subject.split('] ', 1)[1].split(':', 1)[0] for m in mail.outbox if change.number in m.subject]
        self.assertEqual(
            subjects,
            [
                'Change submitted',
                'Change authorised',
                'Change scheduled',
                'Change implementation started',
                'Change implementation finished',
            ],
        )
        told = set(mail.outbox[1].to)
        self.assertIn('svc-owner@example.com', told)
        self.assertIn('network@example.com', told)
        self.assertTrue(told & {m.email for m in change.cab.members.all()})

    def test_other_steps_and_silent_runs_tell_nobody(self):
        desk = Desk()
        self.assertEqual(self.run_transition(desk.change, 'assess', S.SUBMITTED, S.ASSESSMENT), [])
        self.assertEqual(self.run_transition(desk.change, 'cancel', S.SCHEDULED, S.CANCELLED), [])
        mail.outbox.clear()
        # Each transition in a transaction of its own, as the change services run it.
        with self.captureOnCommitCallbacks(execute=True), transaction.atomic():
            hooks.emit(
                hooks.TRANSITIONED,
                desk.change,
                actor=Actor(user=None),
                action='submit',
                source='draft',
                target='submitted',
                notify=False,
            )
        self.assertEqual(mail.outbox, [])


class RecipientsPanelTests(ItsmTestCase):
    def test_the_change_page_lists_who_is_informed_and_why(self):
        desk = Desk()
        self.client.force_login(make_user(Role.CHANGE_MANAGER))
        response = self.client.get(desk.change.get_absolute_url())
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Who is informed')
        self.assertContains(response, f'Informed on change approval of {desk.service.ci.name}')
        self.assertContains(response, 'Network team')

    def test_names_are_escaped(self):
        desk = Desk()
        desk.informed_group.name = '<b>Net</b>'
        desk.informed_group.save()
        self.client.force_login(make_user(Role.CHANGE_MANAGER))
        response = self.client.get(desk.change.get_absolute_url())
        self.assertContains(response, '&lt;b&gt;Net&lt;/b&gt;')
        self.assertNotContains(response, '<b>Net</b>')

    def test_the_page_costs_the_same_whatever_the_recipients(self):
        small, large = Desk(count=1), Desk(count=4, group='Other team')
        self.client.force_login(make_user(Role.CHANGE_MANAGER))
        self.client.get(small.change.get_absolute_url())  # warm the caches (content types, sessions)

        def queries(change):
            with CaptureQueriesContext(connection) as ctx:
                self.assertHttpStatus(self.client.get(change.get_absolute_url()), 200)
            return len(ctx)

        self.assertEqual(queries(small.change), queries(large.change))
