"""Mapping files: the shipped ones parse, and every mistake is refused with the file and the key named."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pytest

from imports.mapping import (
    MappingError,
    fill,
    load_mapping,
    parse_mapping,
    placeholders,
    shipped_mapping,
    shipped_names,
)
from imports.plans import _convert

from .helpers import run_import

MINIMAL = {
    'source': {'system': 'glpi', 'label': 'GLPI'},
    'csv': {'datetime_formats': ['%Y-%m-%d %H:%M']},
    'fields': {'source_number': 'ID', 'caller': 'Requester', 'opened_at': 'Opening date'},
}


def mapping_with(**changes):
    data = copy.deepcopy(MINIMAL)
    for path, value in changes.items():
        *parents, key = path.split('__')
        target = data
        for name in parents:
            target = target.setdefault(name, {})
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return data


def test_shipped_mappings_parse():
    assert shipped_names() == ['jira-service-management', 'servicenow-event-log']
    servicenow = shipped_mapping('servicenow-event-log')
    assert (servicenow.system, servicenow.events, servicenow.group_by) == ('servicenow', True, 'number')
    assert servicenow.fields['state'].value_map['Awaiting Vendor'] == 'pending'
    assert servicenow.fields['priority'].value_map['1 - Critical'] == 1
    jsm = shipped_mapping('jira-service-management')
    assert (jsm.events, jsm.kind, jsm.fields['kind'].value_map['Service Request']) == (False, 'incident', 'case')


def test_minimal_mapping():
    mapping = parse_mapping(MINIMAL, name='glpi')
    assert (mapping.name, mapping.system, mapping.label, mapping.events) == ('glpi', 'glpi', 'GLPI', False)
    assert mapping.missing == frozenset({''})


@pytest.mark.parametrize(
    ('changes', 'message'),
    [
        ({'sourc': {}}, 'glpi.toml: sourc: unknown section'),
        ({'source': None}, 'glpi.toml: source: missing section.'),
        ({'source__system': 'GLPI 10'}, 'source.system: "GLPI 10" must be lower-case letters'),
        ({'source__kind': 'problem'}, 'source.kind: "problem" is not a ticket kind'),
        ({'source__colour': 'red'}, 'source.colour: unknown key'),
        ({'csv__delimiter': ';;'}, 'csv.delimiter: must be a single character.'),
        ({'csv__encoding': 'klingon'}, 'csv.encoding: unknown encoding "klingon".'),
        ({'csv__timezone': 'Mars/Olympus'}, 'csv.timezone: "Mars/Olympus" is not an IANA time zone'),
        ({'csv__datetime_formats': ['dd/mm/yyyy']}, 'csv.datetime_formats[0]: "dd/mm/yyyy" has no strftime directive'),
        ({'csv__missing': [1]}, 'csv.missing: must be a list of strings.'),
        ({'csv__true': ['y'], 'csv__false': ['y']}, 'csv.true: "y" is listed as both true and false.'),
        ({'fields__statte': 'Status'}, 'fields.statte: unknown key; expected one of'),
        ({'fields__caller': None}, 'fields.caller: required: the affected person'),
        ({'fields__source_number': None}, 'fields.source_number: required'),
        ({'fields__opened_at': None}, 'fields.opened_at: required when each row is one ticket'),
        ({'fields__source_number': {'template': '{ID}'}}, 'fields.source_number: must be a column'),
        (
            {'fields__state': {'column': 'Status', 'map': {'Open': 'opened'}}},
            'fields.state.map."Open": "opened" is not one of new, assigned, accepted, pending, completed, closed.',
        ),
        (
            {'fields__priority': {'column': 'Prio', 'map': {'Urgent': 'P7'}}},
            'fields.priority.map."Urgent": \'P7\' is not a priority; use 0-4 or "P0"-"P4".',
        ),
        (
            {'fields__reopen_count': {'column': 'Reopens', 'default': -1}},
            'fields.reopen_count.default: -1 is not a whole number of at least 0.',
        ),
        (
            {'fields__knowledge_used': {'column': 'KB', 'map': {'x': 'yes'}}},
            'fields.knowledge_used.map."x": \'yes\' is not true or false.',
        ),
        ({'fields__state': {'column': 'Status', 'map': []}}, 'fields.state.map: must be a table'),
        (
            {'fields__state': {'column': 'Status', 'template': '{Status}'}},
            'fields.state: give either column or template, not both.',
        ),
        ({'fields__state': {'map': {'Open': 'new'}}}, 'fields.state: give a column, a template or a default.'),
        (
            {'fields__state': {'template': '{Status}', 'map': {'Open': 'new'}}},
            'fields.state.map: a value map needs a column.',
        ),
        (
            {'fields__priority': {'template': '{Prio}'}},
            'fields.priority.template: templates make text; priority is a priority.',
        ),
        (
            {'fields__short_description': {'template': 'Ticket {}'}},
            'fields.short_description.template[0]: placeholders name a column',
        ),
        ({'fields__short_description': {'template': 'Ticket {ID'}}, 'fields.short_description.template[0]:'),
        ({'fields__subcategory': 'Sub'}, 'fields.subcategory: needs fields.category'),
        ({'fields__ci': {'column': 'CI', 'class': 'spaceship'}}, 'fields.ci.class: "spaceship" is not a CI class'),
        (
            {'fields__symptom': {'column': 'S', 'class': 'server'}},
            'fields.symptom.class: only fields.ci has a CI class.',
        ),
        (
            {'fields__closed_at': {'column': 'Closed', 'default': 'never'}},
            'fields.closed_at.default: dates come from the file',
        ),
        ({'fields__state': 42}, 'fields.state: give a column name or a table'),
        ({'fields__state': {'column': 'Status', 'when': 'x'}}, 'fields.state.when: unknown key'),
        ({'extra__Vendor': 'Vendor'}, 'extra.Vendor: names are lower-case letters'),
        ({'extra__vendor': {'column': 'Vendor', 'type': 'money'}}, 'extra.vendor.type: "money" is not a type'),
        ({'events__group_by': 'ID'}, 'events.at: required.'),
        ({'events__group_by': 'ID', 'events__at': 'Updated', 'events__order': 'x'}, 'events.order: unknown key'),
        (
            {'events__group_by': 'Ticket', 'events__at': 'Updated'},
            'fields.source_number: must be the events.group_by column ("Ticket")',
        ),
    ],
)
def test_mapping_errors_name_the_key(changes, message):
    with pytest.raises(MappingError) as raised:
        parse_mapping(mapping_with(**changes), name='glpi')
    assert message in str(raised.value)


def write(text: str) -> Path:
    path = Path(tempfile.mkdtemp()) / 'mine.toml'
    path.write_text(text)
    return path


def test_invalid_toml_names_the_file():
    with pytest.raises(MappingError, match=r'mine.toml: not valid TOML: .*line 2'):
        load_mapping(write('[source]\nsystem = \n'))


def test_missing_mapping_file():
    with pytest.raises(MappingError, match='no such mapping file'):
        load_mapping('/nonexistent/mapping.toml')


@pytest.mark.django_db
def test_command_reports_mapping_errors(tmp_path):
    path = write('[source]\nsystem = "glpi"\n[fields]\nsource_number = "ID"\n')
    _, _, error = run_import(tmp_path / 'any.csv', '--mapping', str(path))
    assert 'mine.toml: fields.caller: required' in str(error)


def test_readme_example_mapping_parses():
    readme = (Path(__file__).resolve().parents[2] / 'README.md').read_text()
    section = readme.split('## Importing tickets', 1)[1].split('\n## ', 1)[0]
    example = section.split('```toml\n', 1)[1].split('```', 1)[0]
    mapping = load_mapping(write(example))
    assert (mapping.system, mapping.delimiter, mapping.events) == ('glpi', ';', False)
    assert mapping.fields['state'].value_map['Solved'] == 'completed'


def test_placeholders_name_columns_exactly_as_exported():
    assert placeholders('{case:concept:name} by {org:resource} {{literal}}') == ['case:concept:name', 'org:resource']
    values = {'case:concept:name': 'Case 7', 'org:resource': 'Sam'}
    assert fill('{case:concept:name} by {org:resource} {{literal}}', values) == 'Case 7 by Sam {literal}'
    with pytest.raises(KeyError):
        fill('{missing}', values)
    with pytest.raises(ValueError, match='single "}"'):
        placeholders('oops}')


def test_a_template_reads_a_column_whose_name_holds_a_colon():
    changes = {'fields__short_description': {'template': '{case:concept:name} ({lifecycle:transition})'}}
    mapping = parse_mapping(mapping_with(**changes), name='glpi')
    spec = mapping.fields['short_description']
    assert spec.columns == ('case:concept:name', 'lifecycle:transition')
    cells = {'case:concept:name': 'Printer jam', 'lifecycle:transition': 'start'}
    assert _convert(mapping, spec, cells) == 'Printer jam (start)'
