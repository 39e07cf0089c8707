"""History entries store their field changes as short arrays and read them back as `{field, label, before, after}`;
entries written before the compact form read as they were."""

import json

import pytest
from django.db import connection

from itsm.audit import Actor, record
from itsm.choices import TimelineKind
from itsm.fields import compact_change, expand_change
from itsm.models import TimelineEntry
from tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db

CHANGES = [
    {'field': 'assignment_group', 'label': 'assignment group', 'before': None, 'after': 'Network'},
    {'field': 'groups', 'label': 'Roles', 'before': ['agent'], 'after': ['agent', 'manager']},
    {'field': 'priority', 'label': 'priority', 'before': 3, 'after': 2},
]


def _stored(entry: TimelineEntry):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT changes FROM {TimelineEntry._meta.db_table} WHERE id = %s', [entry.pk])
        value = cursor.fetchone()[0]
    return json.loads(value) if isinstance(value, str) else value


def test_changes_are_stored_as_arrays_with_the_label_only_when_it_is_not_the_fields_own():
    entry = record(SupportGroupFactory(), actor=Actor.system(), kind=TimelineKind.FIELD_CHANGE, changes=CHANGES)
    assert _stored(entry) == [
        ['assignment_group', None, 'Network'],
        ['groups', ['agent'], ['agent', 'manager'], 'Roles'],
        ['priority', 3, 2],
    ]
    assert TimelineEntry.objects.get(pk=entry.pk).changes == CHANGES
    assert list(TimelineEntry.objects.filter(pk=entry.pk).values_list('changes', flat=True)) == [CHANGES]


def test_entries_written_before_the_compact_form_read_as_they_were():
    entry = record(SupportGroupFactory(), actor=Actor.system(), kind=TimelineKind.FIELD_CHANGE)
    old_form = [{'after': 'L2', 'field': 'tier', 'label': 'tier', 'before': None}, {'note': 'not a field change'}]
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {TimelineEntry._meta.db_table} SET changes = %s WHERE id = %s', [json.dumps(old_form), entry.pk]
        )
    assert TimelineEntry.objects.get(pk=entry.pk).changes == old_form


def test_anything_but_a_field_change_is_stored_as_it_is():
    assert compact_change({'note': 'x'}) == {'note': 'x'}
    assert compact_change('text') == 'text'
    assert expand_change({'field': 'tier'}) == {'field': 'tier'}
    assert expand_change([1, 2, 3]) == [1, 2, 3]
    for change in CHANGES:
        assert expand_change(compact_change(change)) == change
