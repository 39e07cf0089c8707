"""The global search registry: which models are searched, for whom, and reference-number lookups."""

from unittest import mock

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, LPad

from itsm import search
from itsm.choices import Role
from itsm.models import SupportGroup, User
from tests.base import ItsmTestCase
from tests.factories import SupportGroupFactory, make_user


class NumberedPeople(search.SearchTarget):
    """People with a made-up reference number (USR + pk), standing in for a numbered model."""

    def queryset_for(self, user):
        return User.objects.annotate(number=Concat(Value('USR'), LPad(Cast('pk', CharField()), 7, Value('0'))))


class RegistryTests(ItsmTestCase):
    def setUp(self):
        self.agent = make_user(Role.SERVICE_DESK_AGENT)
        self.requester = make_user(Role.REQUESTER)

    def test_core_models_are_registered(self):
        models = {target.model for target in search.targets()}
        self.assertLessEqual({User, SupportGroup}, models)

    def test_register_adds_the_number_field_for_numbered_models(self):
        with mock.patch.dict(search._registry, clear=True):
            target = search.register(User, fields=['username'], number_prefix='usr')
            self.assertEqual(target.number_prefix, 'USR')
            self.assertEqual(target.fields, ('number', 'username'))
            self.assertEqual(search.targets(), [target])

    def test_every_word_must_match_some_field(self):
        make_user(username='alice', first_name='Alice', last_name='Archer', department='Finance')
        make_user(username='alan', first_name='Alan', last_name='Archer', department='Sales')
        hits = lambda q: {u.username for group in search.search(self.agent, q) for u in group.hits}  # noqa: E731
        self.assertEqual(hits('archer'), {'alice', 'alan'})
        self.assertEqual(hits('archer finance'), {'alice'})
        self.assertEqual(hits('   '), set())

    def test_only_models_the_person_may_view(self):
        SupportGroupFactory(name='Payroll support')
        self.assertEqual([g.label for g in search.search(self.agent, 'payroll')], ['Support groups'])
        self.assertEqual(search.search(self.requester, 'payroll'), [])

    def test_visible_to_limits_the_hits(self):
        shown = make_user(username='shown.person')
        make_user(username='hidden.person')
        queryset = mock.Mock()
        queryset.visible_to.side_effect = lambda user: User.objects.filter(pk=shown.pk)
        with mock.patch.object(User._default_manager, 'all', return_value=queryset):
            results = search.search(self.agent, 'person')
        people = next(group for group in results if group.target.model is User)
        self.assertEqual(people.hits, [shown])
        queryset.visible_to.assert_called_once_with(self.agent)

    def test_hits_are_capped_with_a_more_flag(self):
        for n in range(4):
            SupportGroupFactory(name=f'Capped group {n}')
        (group,) = search.search(self.agent, 'capped', limit=3)
        self.assertEqual(len(group.hits), 3)
        self.assertTrue(group.more)

    def test_summary_shows_what_the_title_does_not(self):
        person = make_user(username='ann', first_name='Ann', last_name='Lee', email='ann@example.com')
        target = search._registry[User]
        self.assertEqual(target.summary(person), 'ann · ann@example.com')

    def test_find_by_number(self):
        person = make_user(username='numbered')
        target = NumberedPeople(model=User, fields=('username',), number_prefix='USR')
        number = f'USR{person.pk:07d}'
        with mock.patch.dict(search._registry, {User: target}):
            self.assertEqual(search.find_by_number(self.agent, number.lower()), person)
            self.assertEqual(search.find_by_number(self.agent, f'  {number} '), person)
            self.assertIsNone(search.find_by_number(self.agent, 'USR9999999'))
            self.assertIsNone(search.find_by_number(self.agent, 'CHG0000001'), 'unknown prefix')
            self.assertIsNone(search.find_by_number(self.agent, f'{number} extra'), 'not just a number')
            self.assertIsNone(search.find_by_number(self.requester, number), 'no permission to view')
