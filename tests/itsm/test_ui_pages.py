"""Server-rendered pages of the core: sign-in, home, errors, people, support groups and search."""

from unittest import mock

from django.core.exceptions import ValidationError
from django.db.models import CharField, ProtectedError, Value
from django.db.models.functions import Cast, Concat, LPad
from django.template import loader
from django.test import RequestFactory
from django.urls import reverse

from itsm import search
from itsm.choices import Role, Tier, TimelineKind
from itsm.models import SupportGroup, User
from itsm.views import errors
from itsm.views.groups import SupportGroupCreateView, SupportGroupDeleteView
from tests.base import ItsmTestCase, ViewTestCases
from tests.factories import SupportGroupFactory, UserFactory, make_user

PASSWORD = 'pitcrew-test-pw'


class SignInTests(ItsmTestCase):
    def test_login_page_shows_only_the_form(self):
        response = self.client.get(reverse('itsm:login'))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Pitcrew')
        self.assertContains(response, 'name="username"')
        self.assertNotContains(response, 'id="global-search"')
        self.assertNotContains(response, 'pc-sidebar')

    def test_good_password_signs_in_and_goes_to_my_work(self):
        user = self.make_user(Role.SERVICE_DESK_AGENT, username='dana')
        response = self.client.post(reverse('itsm:login'), {'username': 'dana', 'password': PASSWORD})
        self.assertRedirects(response, f'{reverse("incidents:queue")}?q=mine')
        self.assertEqual(int(self.client.session['_auth_user_id']), user.pk)

    def test_wrong_password_shows_an_error_and_keeps_the_username(self):
        self.make_user(username='dana')
        response = self.client.post(reverse('itsm:login'), {'username': 'dana', 'password': 'wrong'})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Please enter a correct username and password')
        self.assertContains(response, 'value="dana"')
        self.assertNotIn('_auth_user_id', self.client.session)

    def test_pages_send_anonymous_people_to_login(self):
        response = self.client.get(reverse('itsm:home'))
        self.assertRedirects(response, f'{reverse("itsm:login")}?next=/')

    def test_logout_is_a_post(self):
        self.client.force_login(self.make_user())
        self.assertHttpStatus(self.client.get(reverse('itsm:logout')), 405)
        response = self.client.post(reverse('itsm:logout'), follow=True)
        self.assertContains(response, 'You are signed out.')
        self.assertNotIn('_auth_user_id', self.client.session)

    def test_base_layout_has_logout_form_and_htmx_csrf_header(self):
        self.client.force_login(self.make_user())
        response = self.client.get(reverse('itsm:home'), follow=True)
        content = response.content.decode()
        self.assertIn(f'action="{reverse("itsm:logout")}"', content)
        self.assertIn('hx-headers=\'{"X-CSRFToken": "', content)
        self.assertIn('vendor/htmx/htmx.min.js', content)
        self.assertNotIn('https://', content.split('<body')[0], 'no remote assets in <head>')


class PasswordChangeTests(ItsmTestCase):
    def test_change_password_keeps_the_session(self):
        user = self.make_user(username='dana')
        self.client.force_login(user)
        self.assertHttpStatus(self.client.get(reverse('itsm:password_change')), 200)
        response = self.client.post(
            reverse('itsm:password_change'),
            {'old_password': PASSWORD, 'new_password1': 'Brand-New-Secret-77', 'new_password2': 'Brand-New-Secret-77'},
        )
        self.assertRedirects(response, reverse('itsm:password_change_done'))
        user.refresh_from_db()
        self.assertTrue(user.check_password('Brand-New-Secret-77'))
        self.assertHttpStatus(self.client.get(reverse('itsm:profile')), 200)

    def test_wrong_old_password_is_refused(self):
        self.client.force_login(self.make_user())
        response = self.client.post(
            reverse('itsm:password_change'),
            {'old_password': 'nope', 'new_password1': 'Brand-New-Secret-77', 'new_password2': 'Brand-New-Secret-77'},
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'is-invalid')
        self.assertContains(response, 'Your old password was entered incorrectly')


class HomeTests(ItsmTestCase):
    def test_requester_is_sent_to_the_portal(self):
        self.client.force_login(self.make_user(Role.REQUESTER, first_name='Rita'))
        response = self.client.get(reverse('itsm:home'), follow=True)
        self.assertEqual(response.redirect_chain, [(reverse('incidents:portal'), 302)])
        self.assertContains(response, 'My requests')
        self.assertContains(response, reverse('itsm:profile'))
        self.assertNotContains(response, reverse('itsm:user_list'))
        self.assertNotContains(response, 'active people')

    def test_administrator_sees_counts_groups_and_admin_actions(self):
        admin = self.make_user(Role.ADMINISTRATOR, first_name='Ada')
        UserFactory.create_batch(3)
        SupportGroupFactory(name='Service desk', tier=Tier.L1, members=[admin])
        SupportGroupFactory(name='Network', tier=Tier.L2)
        self.client.force_login(admin)
        response = self.client.get(reverse('itsm:home'))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.context['people']['active'], 4)
        self.assertEqual(response.context['groups_active'], 2)
        self.assertContains(response, 'Administrator')
        self.assertContains(response, 'Service desk')
        self.assertContains(response, reverse('itsm:user_list'))
        self.assertContains(response, reverse('itsm:user_add'))
        self.assertContains(response, reverse('itsm:supportgroup_add'))

    def test_navigation_follows_permissions(self):
        self.client.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        menu = self.client.get(reverse('itsm:user_list')).context['nav_menu']
        items = {item['label']: item for section in menu for item in section['items']}
        self.assertTrue(items['People']['active'])
        self.assertFalse(items['Support groups']['active'])

    def test_profile_needs_no_permission(self):
        user = self.make_user(Role.REQUESTER, department='Finance')
        SupportGroupFactory(name='Finance champions', members=[user])
        self.client.force_login(user)
        response = self.client.get(reverse('itsm:profile'))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'Finance champions')
        self.assertContains(response, 'Requester')


class ErrorPageTests(ItsmTestCase):
    def test_403_page(self):
        self.client.force_login(self.make_user(Role.REQUESTER))
        response = self.client.get(reverse('itsm:user_list'))
        self.assertHttpStatus(response, 403)
        self.assertContains(response, 'You do not have permission to see this page', status_code=403)
        self.assertTemplateUsed(response, 'errors/403.html')

    def test_404_page(self):
        self.client.force_login(self.make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.get('/no/such/page/')
        self.assertContains(response, 'There is nothing at this address', status_code=404)
        response = self.client.get(reverse('itsm:user_detail', args=[987654]))
        self.assertHttpStatus(response, 404)

    def test_404_for_anonymous_offers_sign_in(self):
        response = self.client.get('/no/such/page/')
        self.assertContains(response, reverse('itsm:login'), status_code=404)

    def test_500_page_renders_without_request_or_context_processors(self):
        html = loader.get_template('errors/500.html').render()
        self.assertIn('Something went wrong on our side', html)
        response = errors.server_error(RequestFactory().get('/people/'))
        self.assertEqual(response.status_code, 500)
        self.assertIn(b'Something went wrong', response.content)


#
# People
#


class UserPageTests(ViewTestCases.ModelViewTestCase):
    model = User
    delete_action = 'deactivate'

    def make_object(self, **kwargs):
        n = User.objects.count()
        return UserFactory(first_name='Dana', last_name=f'Tester{n}', **kwargs)

    def form_data(self):
        return {
            'username': 'new.person',
            'first_name': 'New',
            'last_name': 'Person',
            'email': 'new.person@example.com',
            'phone': '+41 44 000 00 00',
            'department': 'Finance',
            'location': 'Zurich',
            'is_active': 'on',
            'roles': ['service_desk_agent', 'l2_engineer'],
            'password1': 'Correct-Horse-42',
            'password2': 'Correct-Horse-42',
        }

    def edit_data(self, obj):
        return {
            'username': obj.username,
            'first_name': obj.first_name,
            'last_name': obj.last_name,
            'email': obj.email,
            'department': 'Sales',
            'is_active': 'on',
            'roles': ['l2_engineer'],
        }

    def assert_deleted(self, obj):
        obj.refresh_from_db()
        self.assertFalse(obj.is_active, 'people are deactivated, not deleted')

    def test_create_sets_roles_and_password(self):
        self.login(Role.ADMINISTRATOR)
        response = self.client.post(self.url('add'), self.form_data())
        person = User.objects.get(username='new.person')
        self.assertRedirects(response, person.get_absolute_url())
        self.assertEqual(person.role_slugs(), {'service_desk_agent', 'l2_engineer'})
        self.assertTrue(person.check_password('Correct-Horse-42'))
        self.assertEqual(self.timeline(person, TimelineKind.CREATED).get().actor.has_role(Role.ADMINISTRATOR), True)

    def test_create_without_password_makes_an_unusable_one(self):
        self.login(Role.ADMINISTRATOR)
        data = {**self.form_data(), 'password1': '', 'password2': ''}
        self.assertHttpStatus(self.client.post(self.url('add'), data), 302)
        self.assertFalse(User.objects.get(username='new.person').has_usable_password())

    def test_password_errors_are_shown_and_input_kept(self):
        self.login(Role.ADMINISTRATOR)
        for password1, password2, message in [
            ('Correct-Horse-42', 'Other-Horse-42', 'The two passwords differ.'),
            ('12345678', '12345678', 'This password is too common.'),
        ]:
            with self.subTest(message=message):
                data = {**self.form_data(), 'password1': password1, 'password2': password2}
                response = self.client.post(self.url('add'), data)
                self.assertHttpStatus(response, 200)
                self.assertContains(response, message)
                self.assertContains(response, 'value="new.person"')
                self.assertContains(response, 'value="l2_engineer" id="id_roles_2" checked')
                self.assertNotContains(response, password1)
        self.assertFalse(User.objects.filter(username='new.person').exists())

    def test_duplicate_username_is_a_field_error(self):
        self.make_object(username='taken')
        self.login(Role.ADMINISTRATOR)
        response = self.client.post(self.url('add'), {**self.form_data(), 'username': 'taken'})
        self.assertHttpStatus(response, 200)
        self.assertIn('username', response.context['form'].errors)

    def test_edit_changes_roles_and_records_before_and_after(self):
        person = self.make_object(department='Finance')
        self.login(Role.ADMINISTRATOR)
        response = self.client.get(self.url('edit', person))
        self.assertContains(response, 'value="requester" id="id_roles_0" checked')
        self.client.post(self.url('edit', person), self.edit_data(person))
        person.refresh_from_db()
        self.assertEqual(person.role_slugs(), {'l2_engineer'})
        entry = self.timeline(person, TimelineKind.FIELD_CHANGE).last()
        department = next(c for c in entry.changes if c['field'] == 'department')
        self.assertEqual((department['before'], department['after']), ('Finance', 'Sales'))

    def test_detail_shows_roles_groups_and_timeline(self):
        person = self.make_object(roles=(Role.L2_ENGINEER,))
        SupportGroupFactory(name='Network L2', tier=Tier.L2, members=[person], manager=person)
        self.login(Role.SERVICE_DESK_AGENT)
        response = self.client.get(self.url('detail', person))
        self.assertContains(response, 'L2 engineer')
        self.assertContains(response, 'Network L2')
        self.assertContains(response, 'Manager')
        self.assertContains(response, 'History')
        self.assertNotContains(response, reverse('itsm:user_edit', args=[person.pk]))
        self.assertNotContains(response, reverse('itsm:user_deactivate', args=[person.pk]))

    def test_administrator_sees_edit_and_deactivate(self):
        person = self.make_object()
        self.login(Role.ADMINISTRATOR)
        response = self.client.get(self.url('detail', person))
        self.assertContains(response, reverse('itsm:user_edit', args=[person.pk]))
        self.assertContains(response, reverse('itsm:user_deactivate', args=[person.pk]))

    def test_deactivate_confirms_then_records(self):
        person = self.make_object()
        self.login(Role.ADMINISTRATOR)
        self.assertContains(self.client.get(self.url('deactivate', person)), 'Deactivate')
        response = self.client.post(self.url('deactivate', person), follow=True)
        self.assertContains(response, 'Deactivated: they can no longer sign in.')
        person.refresh_from_db()
        self.assertFalse(person.is_active)
        change = self.timeline(person, TimelineKind.FIELD_CHANGE).last().changes
        self.assertEqual(change[0]['field'], 'is_active')

    def test_deactivate_needs_change_permission_and_refuses_oneself(self):
        person = self.make_object()
        self.login(Role.SERVICE_DESK_AGENT)
        self.assertHttpStatus(self.client.post(self.url('deactivate', person)), 403)
        admin = self.login(Role.ADMINISTRATOR)
        response = self.client.post(self.url('deactivate', admin), follow=True)
        self.assertContains(response, 'You cannot deactivate your own account.')
        admin.refresh_from_db()
        self.assertTrue(admin.is_active)

    def test_list_filters_search_and_sort(self):
        self.make_object(username='alice7x', department='Finance')
        self.make_object(username='bob', department='Sales', roles=(Role.L2_ENGINEER,))
        self.login(Role.SERVICE_DESK_AGENT)
        rows = lambda **params: [u.username for u in self.client.get(self.url('list'), params).context['object_list']]  # noqa: E731
        self.assertEqual(rows(q='lice7'), ['alice7x'])  # a digit: no generated name of another person can match
        self.assertEqual(rows(role='l2_engineer'), ['bob'])
        self.assertEqual(rows(department='Sales'), ['bob'])
        usernames = rows(sort='-username')
        self.assertEqual(usernames, sorted(usernames, reverse=True))
        self.assertEqual(rows(sort='no_such_column'), rows())

    def test_htmx_request_gets_only_the_table(self):
        self.make_object(username='alice')
        self.login(Role.SERVICE_DESK_AGENT)
        response = self.client.get(self.url('list'), {'q': 'alice'}, headers={'HX-Request': 'true'})
        self.assertTemplateUsed(response, 'includes/_table.html')
        self.assertTemplateNotUsed(response, 'base.html')
        self.assertContains(response, 'alice')


#
# Support groups
#


class SupportGroupPageTests(ViewTestCases.ModelViewTestCase):
    model = SupportGroup

    def make_object(self, **kwargs):
        return SupportGroupFactory(**kwargs)

    def form_data(self):
        return {'name': 'Network L2', 'tier': Tier.L2, 'email': 'network@example.com', 'active': 'on'}

    def edit_data(self, obj):
        return {'name': obj.name, 'tier': Tier.L3, 'email': obj.email, 'active': 'on'}

    def test_detail_shows_tier_manager_members_and_escalation(self):
        manager = make_user(Role.L2_ENGINEER, first_name='Mia', last_name='Manager')
        member = make_user(Role.L2_ENGINEER, first_name='Max', last_name='Member')
        l3 = SupportGroupFactory(name='Network L3', tier=Tier.L3)
        group = SupportGroupFactory(
            name='Network L2', tier=Tier.L2, manager=manager, members=[manager, member], escalation_group=l3
        )
        SupportGroupFactory(name='Service desk', escalation_group=group)
        self.login(Role.SERVICE_DESK_AGENT)
        response = self.client.get(self.url('detail', group))
        for text in ['L2 – technical support', 'Mia Manager', 'Max Member', 'Network L3', 'Service desk']:
            self.assertContains(response, text)
        self.assertContains(response, 'Created')

    def test_create_with_members_and_manager(self):
        manager = make_user(Role.L2_ENGINEER)
        self.login(Role.ADMINISTRATOR)
        data = {**self.form_data(), 'manager': manager.pk, 'members': [manager.pk]}
        self.assertHttpStatus(self.client.post(self.url('add'), data), 302)
        group = SupportGroup.objects.get(name='Network L2')
        self.assertEqual(group.manager, manager)
        self.assertEqual(list(group.members.all()), [manager])

    def test_edit_records_changes_and_shows_them_in_history(self):
        group = self.make_object(tier=Tier.L1)
        self.login(Role.ADMINISTRATOR)
        self.client.post(self.url('edit', group), self.edit_data(group))
        group.refresh_from_db()
        self.assertEqual(group.tier, Tier.L3)
        response = self.client.get(self.url('detail', group))
        self.assertContains(response, 'pc-before')
        self.assertContains(response, 'L3 – experts and on-call')

    def test_a_group_cannot_escalate_to_itself(self):
        group = self.make_object()
        self.login(Role.ADMINISTRATOR)
        response = self.client.post(self.url('edit', group), {**self.edit_data(group), 'escalation_group': group.pk})
        self.assertHttpStatus(response, 200)
        self.assertIn('escalation_group', response.context['form'].errors)

    def test_service_refusal_lands_on_the_form_with_input_kept(self):
        self.login(Role.ADMINISTRATOR)
        refusal = ValidationError({'name': 'That name is reserved.', 'owner': 'Nobody owns it.'})
        with mock.patch.object(SupportGroupCreateView, 'service', side_effect=refusal):
            response = self.client.post(self.url('add'), self.form_data())
        self.assertHttpStatus(response, 200)
        form = response.context['form']
        self.assertEqual(form.errors['name'], ['That name is reserved.'])
        self.assertIn('Owner: Nobody owns it.', form.non_field_errors())
        self.assertContains(response, 'value="Network L2"')
        self.assertContains(response, 'is-invalid')

    def test_protected_group_is_kept_with_a_clear_message(self):
        group = self.make_object(name='Busy group')
        self.login(Role.ADMINISTRATOR)
        blocker = ProtectedError('protected', {self.make_object(name='Referrer')})
        with mock.patch.object(SupportGroupDeleteView, 'service', side_effect=blocker):
            response = self.client.post(self.url('delete', group))
        self.assertHttpStatus(response, 409)
        self.assertContains(response, 'cannot be deleted: it is still referenced by Referrer', status_code=409)
        self.assertTrue(SupportGroup.objects.filter(pk=group.pk).exists())

    def test_delete_confirmation_page(self):
        group = self.make_object(name='Old team')
        self.login(Role.ADMINISTRATOR)
        response = self.client.get(self.url('delete', group))
        self.assertContains(response, 'Delete the support group <strong>Old team</strong>?', html=False)

    def test_delete_writes_a_deleted_entry(self):
        group = self.make_object(name='Old team')
        self.login(Role.ADMINISTRATOR)
        response = self.client.post(self.url('delete', group), follow=True)
        self.assertContains(response, 'Support group “Old team” deleted.')
        self.assertTrue(self.timeline(group, TimelineKind.DELETED).exists())

    def test_delete_without_permission_is_forbidden(self):
        group = self.make_object()
        self.login(Role.SERVICE_DESK_AGENT)
        self.assertHttpStatus(self.client.post(self.url('delete', group)), 403)


#
# Search
#


class NumberedPeople(search.SearchTarget):
    """People with a made-up reference number (USR + pk), standing in for a numbered model."""

    def queryset_for(self, user):
        number = Concat(Value('USR'), LPad(Cast('pk', CharField()), 7, Value('0')))
        return User.objects.annotate(number=number)


class SearchPageTests(ItsmTestCase):
    def setUp(self):
        self.alice = make_user(Role.REQUESTER, username='alice', first_name='Alice', last_name='Archer')
        SupportGroupFactory(name='Alice fan club', description='Everyone who has called Alice.')

    def test_results_are_grouped_by_model(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.get(reverse('itsm:search'), {'q': 'alice'})
        self.assertHttpStatus(response, 200)
        labels = [group.label for group in response.context['results']]
        self.assertEqual(labels, ['People', 'Support groups'])
        self.assertContains(response, 'Alice Archer')
        self.assertContains(response, self.alice.get_absolute_url())
        self.assertContains(response, 'Alice fan club')

    def test_results_only_from_models_the_person_may_view(self):
        self.client.force_login(make_user(Role.REQUESTER))
        response = self.client.get(reverse('itsm:search'), {'q': 'alice'})
        self.assertEqual(response.context['results'], [])
        self.assertContains(response, 'No matches for “alice”')

    def test_an_exact_number_opens_the_record(self):
        target = NumberedPeople(model=User, fields=('username',), number_prefix='USR')
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        with mock.patch.dict(search._registry, {User: target}):
            response = self.client.get(reverse('itsm:search'), {'q': f'usr{self.alice.pk:07d}'})
            self.assertRedirects(response, self.alice.get_absolute_url())
            response = self.client.get(reverse('itsm:search'), {'q': 'USR9999999'})
            self.assertHttpStatus(response, 200)

    def test_top_bar_box_submits_to_search(self):
        self.client.force_login(make_user(Role.SERVICE_DESK_AGENT))
        response = self.client.get(reverse('itsm:home'), follow=True)
        self.assertContains(response, f'action="{reverse("itsm:search")}"')
        self.assertContains(response, 'name="q" id="global-search"')
