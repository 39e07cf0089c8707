"""`PlainSelect` writes the HTML Django's `Select` writes through its templates."""

from django import forms
from django.test import SimpleTestCase

from itsm.forms import PlainSelect

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
