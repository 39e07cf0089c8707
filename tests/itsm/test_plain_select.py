"""`PlainSelect` writes the HTML Django's `Select` writes through its templates."""

from django import forms
from django.db import connection
from django.test import SimpleTestCase, TestCase
from django.test.utils import CaptureQueriesContext

from itsm.choices import Role
from itsm.forms import PERSON_LABEL, ListedModelChoiceField, PlainSelect
from itsm.models import SupportGroup, User
from tests.factories import SupportGroupFactory, make_user

CHOICES = [
    ('', '— anyone —'),
    ('1', 'Ann <Admin> & "Ops"'),
    ('2', 'Bob'),
    ('Team', [('3', 'Cy'), ('4', 'Dee')]),
]


class PlainSelectTests(SimpleTestCase):
    def assert_same(self, value, attrs=None, choices=CHOICES):
        django = forms.Select(attrs={'class': 'form-select-sm'}, choices=choices)
        plain = PlainSelect(attrs={'class': 'form-select-sm'}, choices=choices)
        expected = django.render('assignee', value, attrs)
        self.assertHTMLEqual(plain.render('assignee', value, attrs), expected)
        return plain.render('assignee', value, attrs)

    def test_the_same_html_as_djangos_select(self):
        self.assert_same(None)
        self.assert_same('2', attrs={'id': 'id_assignee', 'required': True, 'disabled': False})
        self.assert_same('4', attrs={'data-x': 'a"b'})

    def test_labels_and_values_are_escaped(self):
        html = self.assert_same('1')
        self.assertIn('Ann &lt;Admin&gt; &amp; &quot;Ops&quot;', html)
        self.assertNotIn('<Admin>', html)

    def test_unnamed_groups_none_and_numbers_as_django_writes_them(self):
        choices = [(None, '—'), (1, 'One'), ('', [(2, 'Two'), (3, 'Three')]), ('Later', [(4, 'Four')])]
        self.assert_same(3, choices=choices)
        self.assert_same(None, choices=choices)
        self.assert_same('4', choices=choices)

    def test_only_the_first_matching_option_is_selected(self):
        html = self.assert_same('2', choices=[('2', 'Bob'), ('2', 'Bob again')])
        self.assertEqual(html.count('selected'), 1)

    def test_a_bound_form_field_renders_with_it(self):
        field = forms.ChoiceField(choices=CHOICES[:3], widget=PlainSelect)
        form = type('F', (forms.Form,), {'who': field})(data={'who': '2'})
        self.assertIn('<option value="2" selected>Bob</option>', str(form['who']))


class ModelChoicesTests(TestCase):
    def test_records_as_choices_render_as_djangos_select_does(self):
        names = ('Network <L2>', 'Service Desk', 'Database')
        groups = [SupportGroupFactory(name=name, email=f'group{n}@example.com') for n, name in enumerate(names)]
        queryset = SupportGroup.objects.filter(pk__in=[g.pk for g in groups]).order_by('name')
        for value in (None, groups[1].pk, str(groups[0].pk)):
            with self.subTest(value=value):
                plain = forms.ModelChoiceField(queryset=queryset, widget=PlainSelect, empty_label='— group —')
                django = forms.ModelChoiceField(queryset=queryset, widget=forms.Select, empty_label='— group —')
                expected = django.widget.render('group', value, {'id': 'id_group'})
                self.assertHTMLEqual(plain.widget.render('group', value, {'id': 'id_group'}), expected)
        self.assertIn('Network &lt;L2&gt;', plain.widget.render('group', None))

    def test_listed_choices_read_only_their_label_columns_in_one_query_and_validate_whole_rows(self):
        people = [
            make_user(Role.SERVICE_DESK_AGENT, username='ann', first_name='Ann', last_name='<Ops>'),
            make_user(Role.SERVICE_DESK_AGENT, username='bob', first_name='', last_name=''),
        ]
        queryset = User.objects.filter(pk__in=[p.pk for p in people]).order_by('username')
        listed = ListedModelChoiceField(queryset, widget=PlainSelect, **PERSON_LABEL)
        django = forms.ModelChoiceField(queryset, widget=forms.Select)
        with CaptureQueriesContext(connection) as captured:
            html = listed.widget.render('assignee', people[1].pk)
        self.assertHTMLEqual(html, django.widget.render('assignee', people[1].pk))
        self.assertIn('Ann &lt;Ops&gt;', html)  # the full name, else the username, as `User.__str__`
        self.assertEqual(len(captured.captured_queries), 1)
        sql = captured.captured_queries[0]['sql']
        self.assertIn('"first_name"', sql)
        self.assertNotIn('"email"', sql)
        self.assertNotIn('CURSOR', sql.upper())
        chosen = listed.clean(str(people[0].pk))
        self.assertEqual((chosen, chosen.email), (people[0], people[0].email))  # validated rows are read whole
        self.assertEqual(chosen.get_deferred_fields(), set())

    def test_a_persons_name_from_its_columns_is_what_str_gives(self):
        for first, last in (('Ann', 'Lee'), ('Ann', ''), ('', 'Lee'), ('', ''), (' ', ' ')):
            with self.subTest(first=first, last=last):
                person = User(username='ann.lee', first_name=first, last_name=last)
                self.assertEqual(User.name_of(first, last, 'ann.lee'), str(person))
