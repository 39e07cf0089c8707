"""The options of the dashboards' filter selects: one per (value, label) pair, the chosen one selected, labels
escaped."""

from django.template import Context, Template
from django.test import SimpleTestCase


def render(choices, selected) -> str:
    template = Template('{% load itsm %}{% choice_options choices selected %}')
    return template.render(Context({'choices': choices, 'selected': selected}))


class ChoiceOptionsTests(SimpleTestCase):
    def setUp(self):
        self.groups = [(3, 'Network & Wi-Fi'), (12, '<b>Desk</b> "L1"')]

    def test_one_option_per_pair_with_its_value_and_escaped_label(self):
        self.assertHTMLEqual(
            render(self.groups, None),
            '<option value="3">Network &amp; Wi-Fi</option>'
            '<option value="12">&lt;b&gt;Desk&lt;/b&gt; &quot;L1&quot;</option>',
        )

    def test_the_chosen_value_is_selected_and_no_other(self):
        html = render(self.groups, 12)
        self.assertInHTML('<option value="12" selected>&lt;b&gt;Desk&lt;/b&gt; &quot;L1&quot;</option>', html)
        self.assertInHTML('<option value="3">Network &amp; Wi-Fi</option>', html)
        self.assertEqual(html.count('selected'), 1)

    def test_a_choice_of_another_type_or_none_selects_nothing(self):
        self.assertNotIn('selected', render(self.groups, '12'))
        self.assertEqual(render([], 3), '')
