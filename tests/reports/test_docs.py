"""The measure definitions people read in reports/README.md are those the dashboards and the API show."""

from pathlib import Path

from django.core.management import call_command
from django.test import TestCase

from reports.measures import MEASURES
from reports.models import DailyRollup

README = Path(__file__).resolve().parents[2] / 'reports' / 'README.md'


def test_readme_holds_every_definition_word_for_word():
    text = README.read_text()
    table = text.split('<!-- definitions:start -->')[1].split('<!-- definitions:end -->')[0]
    for slug, measure in MEASURES.items():
        row = next((line for line in table.splitlines() if f'`{slug}`' in line), '')
        assert measure.definition in row, f'README definition of {slug} differs from reports/measures.py'
        assert measure.counted_on in row, f'README "counted on" of {slug} differs'


class RollupCommandTests(TestCase):
    def test_refresh_and_rebuild(self):
        from io import StringIO

        out = StringIO()
        call_command('reports_rollup', stdout=out)
        self.assertIn('days rolled up', out.getvalue())
        call_command('reports_rollup', '--rebuild', '--from', '2026-01-01', '--to', '2026-01-03', stdout=out)
        self.assertTrue(DailyRollup.objects.filter(dimension='day').exists())
