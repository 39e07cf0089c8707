"""The admin site: core models are maintainable there, history is read-only, and edits reach the timeline."""

from django.urls import reverse

from itsm.choices import Channel, Role, Tier, TimelineKind
from itsm.models import NumberSequence, SupportGroup, TimelineEntry, User
from tests.base import ItsmTestCase
from tests.factories import SupportGroupFactory, make_ticket, make_user


class AdminSiteTests(ItsmTestCase):
    def setUp(self):
        self.admin = make_user(Role.ADMINISTRATOR, username='root', is_staff=True, is_superuser=True)
        self.client.force_login(self.admin)

    def test_changelists_and_change_pages_load(self):
        group = SupportGroupFactory(name='Network L2')
        NumberSequence.objects.create(prefix='TST', last=101)
        for name, args in [
            ('admin:itsm_user_changelist', []),
            ('admin:itsm_user_change', [self.admin.pk]),
            ('admin:itsm_user_add', []),
            ('admin:itsm_supportgroup_changelist', []),
            ('admin:itsm_supportgroup_change', [group.pk]),
            ('admin:itsm_numbersequence_changelist', []),
            ('admin:itsm_timelineentry_changelist', []),
        ]:
            with self.subTest(page=name):
                self.assertHttpStatus(self.client.get(reverse(name, args=args)), 200)

    def test_user_admin_shows_service_desk_fields_and_cannot_delete(self):
        response = self.client.get(reverse('admin:itsm_user_change', args=[self.admin.pk]))
        for field in ['phone', 'department', 'location', 'vip', 'external_id']:
            self.assertContains(response, f'name="{field}"')
        response = self.client.post(reverse('admin:itsm_user_delete', args=[self.admin.pk]))
        self.assertHttpStatus(response, 403)

    def test_timeline_is_read_only(self):
        group = SupportGroupFactory()
        entry = TimelineEntry.objects.for_object(group).get()
        self.assertHttpStatus(self.client.get(reverse('admin:itsm_timelineentry_add')), 403)
        response = self.client.get(reverse('admin:itsm_timelineentry_change', args=[entry.pk]))
        self.assertHttpStatus(response, 200)
        self.assertNotContains(response, 'name="_save"')
        self.assertHttpStatus(self.client.post(reverse('admin:itsm_timelineentry_delete', args=[entry.pk])), 403)
        response = self.client.get(reverse('admin:itsm_timelineentry_changelist'), {'kind': TimelineKind.CREATED})
        self.assertContains(response, 'By kind')
        self.assertContains(response, 'By channel')

    def test_number_sequences_are_read_only(self):
        # The table counter (SQLite's numbering; PostgreSQL numbers from sequences and keeps rows from before them).
        NumberSequence.objects.create(prefix='TST', last=101)
        self.assertHttpStatus(self.client.get(reverse('admin:itsm_numbersequence_add')), 403)
        response = self.client.post(reverse('admin:itsm_numbersequence_change', args=['TST']), {'last': 1})
        self.assertHttpStatus(response, 403)
        self.assertEqual(NumberSequence.objects.get(prefix='TST').last, 101)

    def test_number_list_shows_the_last_number_handed_out(self):
        # On PostgreSQL the numbers come from sequences, which the table does not follow.
        make_ticket()
        latest = make_ticket()
        NumberSequence.objects.update_or_create(prefix='OLD', defaults={'last': 7})
        response = self.client.get(reverse('admin:itsm_numbersequence_changelist'))
        self.assertContains(response, f'<td>{latest.number}</td>', html=False)
        self.assertContains(response, '<td>OLD0000007</td>', html=False)

    def test_number_list_is_for_staff_of_the_admin_site_only(self):
        agent = make_user(Role.SERVICE_DESK_AGENT, username='agent', is_staff=True)
        self.client.force_login(agent)
        self.assertHttpStatus(self.client.get(reverse('admin:itsm_numbersequence_changelist')), 403)

    def test_group_edit_in_admin_is_recorded(self):
        group = SupportGroupFactory(name='Network', tier=Tier.L1)
        data = {'name': 'Network', 'tier': Tier.L2, 'description': '', 'email': group.email, 'active': 'on'}
        response = self.client.post(reverse('admin:itsm_supportgroup_change', args=[group.pk]), data)
        self.assertHttpStatus(response, 302)
        entry = self.timeline(group, TimelineKind.FIELD_CHANGE).get()
        self.assertEqual(entry.actor, self.admin)
        self.assertEqual(entry.channel, Channel.UI)
        self.assertEqual([(c['field'], c['before'], c['after']) for c in entry.changes], [('tier', 'L1', 'L2')])

    def test_group_delete_in_admin_leaves_a_deleted_entry(self):
        group = SupportGroupFactory(name='Old team')
        response = self.client.post(reverse('admin:itsm_supportgroup_delete', args=[group.pk]), {'post': 'yes'})
        self.assertHttpStatus(response, 302)
        self.assertFalse(SupportGroup.objects.filter(pk=group.pk).exists())
        self.assertTrue(self.timeline(group, TimelineKind.DELETED).exists())

    def test_staff_without_superuser_needs_permissions(self):
        agent = make_user(Role.SERVICE_DESK_AGENT, is_staff=True)
        self.client.force_login(agent)
        self.assertHttpStatus(self.client.get(reverse('admin:itsm_user_changelist')), 200)
        self.assertHttpStatus(self.client.get(reverse('admin:itsm_user_add')), 403)
        self.assertTrue(User.objects.filter(pk=agent.pk).exists())
