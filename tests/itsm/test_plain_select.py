"""`PlainSelect` writes the HTML Django's `Select` writes through its templates."""

from django import forms
from django.test import SimpleTestCase, TestCase

from itsm.forms import PlainSelect
from itsm.models import SupportGroup
from tests.factories import SupportGroupFactory

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
