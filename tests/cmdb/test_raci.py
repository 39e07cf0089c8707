"""RACI per service activity: exactly one A per activity, enforced by the service layer; recipients derived."""

from django.core.exceptions import ValidationError

from cmdb import services
from cmdb.choices import RaciActivity, RaciRole
from cmdb.models import RaciAssignment
from cmdb.selectors import raci_matrix, recipients_for_services, service_recipients
from itsm.audit import Actor
from itsm.choices import Role
from itsm.errors import NotAllowed
from tests.base import ItsmTestCase
from tests.factories import SupportGroupFactory

from .factories import assign, make_service

A, R, C, I = RaciRole.ACCOUNTABLE, RaciRole.RESPONSIBLE, RaciRole.CONSULTED, RaciRole.INFORMED  # noqa: E741
INCIDENTS, CHANGES = RaciActivity.INCIDENT_RESOLUTION, RaciActivity.CHANGE_APPROVAL
SYSTEM = Actor.system()


class ExactlyOneAccountableTests(ItsmTestCase):
    def setUp(self):
        self.service = make_service(name='Managed mail')
        self.owner = self.make_user(Role.SERVICE_OWNER, first_name='Vera', last_name='Owner')
        self.other = self.make_user(Role.MANAGER, first_name='Otto', last_name='Other')

    def test_the_a_comes_first(self):
        with self.assertRaisesMessage(ValidationError, 'Nobody is accountable for incident resolution yet'):
            assign(self.service, R, person=self.other)
        assign(self.service, A, person=self.owner)
        assign(self.service, R, person=self.other)
        self.assertEqual(self.service.raci.count(), 2)

    def test_a_second_a_is_refused_naming_the_holder(self):
        assign(self.service, A, person=self.owner)
        with self.assertRaisesMessage(ValidationError, 'Vera Owner is already accountable for incident resolution'):
            assign(self.service, A, person=self.other)
        self.assertEqual(self.service.raci.filter(role=A).count(), 1)

    def test_each_activity_has_its_own_a(self):
        assign(self.service, A, person=self.owner)
        assign(self.service, A, activity=CHANGES, person=self.other)
        self.assertEqual(self.service.raci.filter(role=A).count(), 2)

    def test_the_a_is_handed_over_by_changing_it(self):
        accountable = assign(self.service, A, person=self.owner)
        assign(self.service, R, person=self.other)
        services.raci_update(assignment=accountable, person=self.other, actor=SYSTEM)
        self.assertEqual(self.service.raci.get(role=A).person, self.other)
        self.assertTrue(self.timeline(accountable, 'field_change').exists())

    def test_demoting_the_a_while_others_remain_is_refused(self):
        accountable = assign(self.service, A, person=self.owner)
        assign(self.service, I, person=self.other)
        with self.assertRaisesMessage(ValidationError, 'give the A to someone else first'):
            services.raci_update(assignment=accountable, role=R, actor=SYSTEM)
        with self.assertRaisesMessage(ValidationError, 'give the A to someone else first'):
            services.raci_remove(assignment=accountable, actor=SYSTEM)
        self.assertEqual(RaciAssignment.objects.get(pk=accountable.pk).role, A)

    def test_promoting_to_a_second_a_is_refused(self):
        assign(self.service, A, person=self.owner)
        consulted = assign(self.service, C, person=self.other)
        with self.assertRaisesMessage(ValidationError, 'exactly one A per activity'):
            services.raci_update(assignment=consulted, role=A, actor=SYSTEM)

    def test_the_a_goes_last(self):
        accountable = assign(self.service, A, person=self.owner)
        informed = assign(self.service, I, person=self.other)
        services.raci_remove(assignment=informed, actor=SYSTEM)
        services.raci_remove(assignment=accountable, actor=SYSTEM)
        self.assertFalse(self.service.raci.exists())

    def test_the_database_backs_the_rule(self):
        assign(self.service, A, person=self.owner)
        second = RaciAssignment(service=self.service, activity=INCIDENTS, role=A, person=self.other)
        with self.assertRaisesMessage(ValidationError, 'exactly one A per activity'):
            second.full_clean()

    def test_a_person_or_a_group_not_both_nor_neither(self):
        group = SupportGroupFactory()
        with self.assertRaisesMessage(ValidationError, 'a person or to a support group'):
            assign(self.service, A, person=self.owner, group=group)
        with self.assertRaisesMessage(ValidationError, 'a person or to a support group'):
            assign(self.service, A)

    def test_only_its_owner_or_a_cmdb_writer_changes_a_services_raci(self):
        mine = make_service(service_owner=self.owner)
        services.raci_assign(service=mine, activity=INCIDENTS, role=A, person=self.owner, actor=Actor(self.owner))
        with self.assertRaises(NotAllowed):
            services.raci_assign(
                service=self.service, activity=INCIDENTS, role=A, person=self.owner, actor=Actor(self.owner)
            )
        admin = self.make_user(Role.CHANGE_MANAGER)
        services.raci_assign(service=self.service, activity=INCIDENTS, role=A, person=self.owner, actor=Actor(admin))

    def test_an_owner_cannot_move_an_entry_onto_a_service_they_do_not_own(self):
        mine = make_service(service_owner=self.owner)
        entry = services.raci_assign(
            service=mine, activity=INCIDENTS, role=A, person=self.owner, actor=Actor(self.owner)
        )
        for moved in (
            lambda: services.raci_update(assignment=entry, actor=Actor(self.owner), service=self.service),
            lambda: self.api_client(self.owner).patch(
                f'/api/v1/raci-assignments/{entry.pk}/', {'service': self.service.ci.number}, format='json'
            ),
        ):
            try:
                response = moved()
            except NotAllowed:
                pass
            else:
                self.assertHttpStatus(response, 403)
            entry.refresh_from_db()
            self.assertEqual(entry.service, mine)
        # Nor change or remove one of a service they do not own, whatever object they pass in.
        theirs = assign(self.service, A, person=self.other)
        with self.assertRaises(NotAllowed):
            services.raci_update(assignment=theirs, actor=Actor(self.owner), notes='mine now')
        with self.assertRaises(NotAllowed):
            services.raci_remove(assignment=theirs, actor=Actor(self.owner))
        # Someone who may change both services moves it.
        writer = self.make_user(Role.CHANGE_MANAGER)
        services.raci_update(assignment=theirs, actor=Actor(writer), service=mine, role=C)
        self.assertEqual(RaciAssignment.objects.get(pk=theirs.pk).service, mine)

    def test_matrix_rows(self):
        assign(self.service, A, person=self.owner)
        rows = {row['activity']: row for row in raci_matrix(self.service)}
        self.assertEqual(list(rows), RaciActivity.values)
        self.assertEqual([a.person for a in rows[INCIDENTS]['A']], [self.owner])
        self.assertEqual(rows[CHANGES]['A'], [])


class RecipientTests(ItsmTestCase):
    def test_recipients_come_from_the_raci_once_each_accountable_first(self):
        service = make_service(name='E-mail services')
        vera = self.make_user(Role.SERVICE_OWNER, first_name='Vera', last_name='Owner', email='vera@example.com')
        sam = self.make_user(Role.SERVICE_DESK_AGENT, first_name='Sam', last_name='Desk', email='sam@example.com')
        gone = self.make_user(Role.L2_ENGINEER, first_name='Gone', last_name='Away', email='gone@example.com')
        gone.is_active = False
        gone.save()
        messaging = SupportGroupFactory(name='Messaging', email='messaging@example.com')
        no_address = SupportGroupFactory(name='Night shift', email='')
        no_address.members.set([sam, gone])
        assign(service, A, person=vera)
        assign(service, R, group=messaging)
        assign(service, I, group=no_address)  # reached through its active members
        assign(service, C, person=gone)  # inactive people are not written to
        assign(service, A, activity=CHANGES, person=vera)
        assign(service, I, activity=CHANGES, person=sam)
        found = service_recipients(service)
        self.assertEqual(
            [(r.email, r.role_text) for r in found],
            [('vera@example.com', 'A'), ('messaging@example.com', 'R'), ('sam@example.com', 'I')],
        )
        self.assertEqual(found[0].activities, {INCIDENTS, CHANGES})
        self.assertEqual(
            [r.email for r in service_recipients(service, activity=INCIDENTS, roles=[A, R])],
            ['vera@example.com', 'messaging@example.com'],
        )

    def test_recipients_of_several_services_in_constant_queries(self):
        def build(n):
            made = []
            for _ in range(n):
                service = make_service()
                assign(service, A, person=self.make_user(Role.SERVICE_OWNER))
                group = SupportGroupFactory(email='')
                group.members.set([self.make_user(Role.L2_ENGINEER)])
                assign(service, R, group=group)
                made.append(service)
            return made

        few, many = build(2), build(6)
        small = self.count_queries(lambda: recipients_for_services(few))
        large = self.count_queries(lambda: recipients_for_services(few + many))
        self.assertEqual(small, large)
        self.assertEqual(len(recipients_for_services(few + many)), 16)
