"""The dashboards' `figure` filter: a value with its unit, a dash for nothing to measure, text escaped."""

from django.template import Context, Template
from django.test import SimpleTestCase


def figure(value, unit: str = '') -> str:
    text = '{% load reports %}' + ('{{ value|figure:unit }}' if unit else '{{ value|figure }}')
    return Template(text).render(Context({'value': value, 'unit': unit}))


class FigureTests(SimpleTestCase):
    def test_units_follow_the_value(self):
        self.assertEqual(figure(11.25, 'hours'), '11.25<span class="pc-unit">&#8239;h</span>')
        self.assertEqual(figure(66.7, '%'), '66.7<span class="pc-unit">&#8239;%</span>')
        self.assertEqual(figure(3.0, 'hours'), '3.0<span class="pc-unit">&#8239;h</span>')

    def test_counts_have_no_unit_and_whole_floats_drop_their_point(self):
        self.assertEqual(figure(42), '42')
        self.assertEqual(figure(42.0, 'tickets'), '42')
        self.assertEqual(figure(1.5, 'per ticket'), '1.5')

    def test_nothing_to_measure_is_a_dash(self):
        for value in (None, ''):
            with self.subTest(value=value):
                self.assertIn('title="No tickets to measure">—</span>', figure(value, 'hours'))

    def test_text_and_units_are_escaped(self):
        self.assertEqual(figure('<b>x</b>'), '&lt;b&gt;x&lt;/b&gt;')
        self.assertEqual(figure(1, '<i>'), '1<span class="pc-unit">&#8239;&lt;i&gt;</span>')
