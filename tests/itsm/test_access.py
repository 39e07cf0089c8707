"""A person's roles and permissions come from one query and say what Django's own backend says."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from itsm.audit import Actor
from itsm.choices import Role
from itsm.models import User
from itsm.services import user_update
from tests.base import ItsmTestCase


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


class AccessTests(ItsmTestCase):
    def setUp(self):
        self.agent = self.make_user(Role.SERVICE_DESK_AGENT, Role.PROBLEM_MANAGER)
        self.agent.user_permissions.add(Permission.objects.get(codename='view_user'))
        Group.objects.get(name=Role.PROBLEM_MANAGER).permissions.add(Permission.objects.get(codename='add_group'))

    def test_roles_and_permissions_are_one_query(self):
        agent = fresh(self.agent)
        with self.assertNumQueries(1):
            self.assertTrue(agent.has_role(Role.PROBLEM_MANAGER))
            self.assertFalse(agent.has_role(Role.ADMINISTRATOR))
            self.assertTrue(agent.has_perm('itsm.view_user'))
            self.assertTrue(agent.has_perm('auth.add_group'))
            self.assertFalse(agent.has_perm('auth.delete_group'))
        # In the other order too: the permission check reads the roles with it.
        agent = fresh(self.agent)
        with self.assertNumQueries(1):
            self.assertTrue(agent.has_perm('itsm.view_user'))
            self.assertEqual(agent.role_slugs(), {Role.SERVICE_DESK_AGENT, Role.PROBLEM_MANAGER})

    def test_the_permissions_are_those_of_djangos_backend(self):
        ours, django = fresh(self.agent), fresh(self.agent)
        self.assertTrue(ours.get_all_permissions())
        self.assertEqual(ours.get_all_permissions(), ModelBackend().get_all_permissions(django))
        self.assertEqual(ours.get_user_permissions(), {'itsm.view_user'})
        self.assertEqual(ours.get_group_permissions(), ModelBackend().get_group_permissions(fresh(self.agent)))

    def test_a_superuser_keeps_every_permission_and_their_roles(self):
        root = fresh(self.make_user(Role.ADMINISTRATOR, is_superuser=True))
        self.assertTrue(root.has_perm('auth.delete_group'))
        self.assertEqual(root.role_slugs(), {Role.ADMINISTRATOR})

    def test_an_inactive_person_has_no_permission(self):
        User.objects.filter(pk=self.agent.pk).update(is_active=False)
        self.assertFalse(fresh(self.agent).has_perm('itsm.view_user'))

    def test_new_roles_are_seen_at_once_by_the_same_instance(self):
        agent = fresh(self.agent)
        self.assertFalse(agent.has_perm('auth.delete_group'))
        Group.objects.get(name=Role.ADMINISTRATOR).permissions.add(Permission.objects.get(codename='delete_group'))
        admin = self.make_user(Role.ADMINISTRATOR)
        user_update(user=agent, actor=Actor(user=admin), roles=[Role.ADMINISTRATOR])
        self.assertTrue(agent.has_role(Role.ADMINISTRATOR))
        self.assertTrue(agent.has_perm('auth.delete_group'))

    def test_prefetched_roles_cost_no_query(self):
        people = list(User.objects.filter(pk=self.agent.pk).prefetch_related('groups'))
        with self.assertNumQueries(0):
            self.assertTrue(people[0].has_role(Role.SERVICE_DESK_AGENT))

    def test_support_groups_come_with_the_permissions(self):
        from itsm.selectors import in_security_group, member_group_ids
        from tests.factories import SupportGroupFactory

        desk = SupportGroupFactory(name='Desk', members=[self.agent])
        old_desk = SupportGroupFactory(name='Old desk', members=[self.agent], active=False)
        csirt = SupportGroupFactory(name='CSIRT', members=[self.agent], security=True, active=False)
        agent = fresh(self.agent)
        with self.assertNumQueries(1):
            self.assertTrue(agent.has_perm('itsm.view_user'))
            self.assertEqual(member_group_ids(agent), {desk.pk, old_desk.pk, csirt.pk})
            self.assertFalse(in_security_group(agent))  # the security group is retired
        csirt.active = True
        csirt.save()
        agent = fresh(self.agent)
        self.assertTrue(agent.has_perm('itsm.view_user'))
        self.assertTrue(in_security_group(agent))
