"""Import mappings: how the columns of another service desk's CSV export become Pitcrew tickets.

A mapping is a TOML file (read with the standard library's `tomllib`). It names the source system, says how to
read its CSV (missing-value markers, date formats, time zone, booleans), whether rows are events to be grouped
into tickets (`[events]`) or one row per ticket, and gives each ticket field its column, value map, default or
templates. `parse_mapping` checks all of it before a single row is read and names the offending key in its
error, so a typo fails at once instead of importing thousands of half-filled tickets. README.md ("Importing
tickets") documents the format with an example.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cmdb.choices import CIClass
from incidents.choices import PendingReason, ResolutionCode, TicketChannel, TicketState
from itsm.choices import Impact, TicketKind, Urgency

__all__ = [
    'SHIPPED_DIR',
    'TARGETS',
    'FieldSpec',
    'Mapping',
    'MappingError',
    'load_mapping',
    'parse_mapping',
    'shipped_mapping',
    'shipped_names',
]

SHIPPED_DIR = Path(__file__).resolve().parent / 'mappings'

# What a value becomes: the kind decides how a cell is converted and what a value map may map to.
TEXT, INTEGER, BOOLEAN, DATETIME, CHOICE, PRIORITY = 'text', 'integer', 'boolean', 'datetime', 'choice', 'priority'
PERSON, GROUP, CATEGORY, SUBCATEGORY, CI = 'person', 'group', 'category', 'subcategory', 'ci'
EXTRA_KINDS = (TEXT, INTEGER, BOOLEAN, DATETIME)
# A person is found again by "system:label" in User.external_id (120 characters, the system up to 40).
PERSON_LENGTH = 79


@dataclass(frozen=True)
class Target:
    """A ticket field a mapping may fill."""

    name: str
    kind: str
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    help: str = ''


def _choice(name: str, choices, help: str = '') -> Target:  # noqa: A002 - the dataclass field's name
    return Target(name, CHOICE, tuple(choices.values), help=help)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target('source_number', TEXT, max_length=60, help="the ticket's number in the source system (required)"),
        _choice('kind', TicketKind),
        Target('short_description', TEXT, max_length=200),
        Target('description', TEXT),
        _choice('state', TicketState),
        _choice('pending_reason', PendingReason),
        Target('caller', PERSON, max_length=PERSON_LENGTH, help='the affected person (required)'),
        Target('opened_by', PERSON, max_length=PERSON_LENGTH),
        _choice('channel', TicketChannel),
        Target('category', CATEGORY, max_length=80),
        Target('subcategory', SUBCATEGORY, max_length=80),
        Target('symptom', TEXT, max_length=120),
        Target('ci', CI, max_length=200),
        Target('location', TEXT, max_length=120),
        _choice('impact', Impact),
        _choice('urgency', Urgency),
        Target('priority', PRIORITY, help='0-4 or P0-P4; kept as recorded, overriding the matrix'),
        Target('assignment_group', GROUP, max_length=120),
        Target('assignee', PERSON, max_length=PERSON_LENGTH),
        Target('resolved_by', PERSON, max_length=PERSON_LENGTH),
        _choice('resolution_code', ResolutionCode),
        Target('resolution_notes', TEXT),
        Target('reassignment_count', INTEGER),
        Target('reopen_count', INTEGER),
        Target('problem_reference', TEXT, max_length=60),
        Target('change_reference', TEXT, max_length=60),
        Target('caused_by_change', TEXT, max_length=60),
        Target('knowledge_used', BOOLEAN),
        Target('made_sla', BOOLEAN, help='whether the source says the ticket met its SLA'),
        Target('opened_at', DATETIME),
        Target('assigned_at', DATETIME),
        Target('accepted_at', DATETIME),
        Target('completed_at', DATETIME),
        Target('closed_at', DATETIME),
    )
}
REQUIRED = ('caller',)
CI_DEFAULT_CLASS = CIClass.APPLICATION

SECTIONS = {'source', 'csv', 'events', 'fields', 'extra'}
SOURCE_KEYS = {'system', 'label', 'kind', 'description'}
CSV_KEYS = {'delimiter', 'encoding', 'missing', 'datetime_formats', 'timezone', 'true', 'false'}
EVENT_KEYS = {'group_by', 'order_by', 'at', 'actor'}
FIELD_KEYS = {'column', 'template', 'map', 'default', 'class'}
EXTRA_KEYS = {'column', 'template', 'map', 'default', 'type'}
SYSTEM_NAME = re.compile(r'^[a-z0-9][a-z0-9_.-]{0,39}$')
EXTRA_NAME = re.compile(r'^[a-z][a-z0-9_]{0,59}$')
PRIORITY_TEXT = re.compile(r'^[Pp]?([0-4])$')


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the key."""


class Missing:
    """No default given (distinct from a default of nothing, which `default = ""` says)."""

    def __repr__(self) -> str:
        return 'MISSING'


MISSING = Missing()


@dataclass(frozen=True)
class FieldSpec:
    """Where one ticket field (or `extra` value) comes from and how its cells are converted."""

    key: str  # 'fields.state' or 'extra.vendor', for messages
    name: str
    kind: str
    column: str = ''
    templates: tuple[str, ...] = ()
    value_map: dict[str, Any] | None = None
    default: Any = MISSING
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    ci_class: str = ''

    @cached_property
    def columns(self) -> tuple[str, ...]:
        if self.column:
            return (self.column,)
        names: list[str] = []
        for template in self.templates:
            names += [name for name in placeholders(template) if name]
        return tuple(dict.fromkeys(names))


# A placeholder names a column exactly as the export spells it, colons and dots included (`{case:concept:name}`
# from an XES export); `{{` and `}}` are literal braces. Python's str.format would read `:` as a format spec.
PLACEHOLDER = re.compile(r'\{\{|\}\}|\{([^{}]*)\}|[{}]')


def placeholders(template: str) -> list[str]:
    """The column names a template reads, in order; ValueError for a brace that opens or closes nothing."""
    names = []
    for match in PLACEHOLDER.finditer(template):
        text = match.group(0)
        if text in ('{{', '}}'):
            continue
        if match.group(1) is None:
            raise ValueError(f'single "{text}" at position {match.start()}: write {text}{text} for a brace')
        names.append(match.group(1))
    return names


def fill(template: str, values: dict[str, str]) -> str:
    """The template with each placeholder replaced by its column's value; KeyError when a column has none."""

    def replace(match: re.Match) -> str:
        text = match.group(0)
        return text[0] if text in ('{{', '}}') else values[match.group(1)]

    return PLACEHOLDER.sub(replace, template)


@dataclass(frozen=True)
class Mapping:
    """A parsed, validated mapping."""

    name: str
    path: str
    system: str
    label: str
    kind: str
    delimiter: str
    encoding: str
    missing: frozenset[str]
    datetime_formats: tuple[str, ...]
    timezone: dt.tzinfo
    true_values: frozenset[str]
    false_values: frozenset[str]
    group_by: str
    order_by: tuple[str, ...]
    event_at: str
    event_actor: str
    fields: dict[str, FieldSpec]
    extra: dict[str, FieldSpec]
    fingerprint: str
    description: str = ''
    _parse_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def events(self) -> bool:
        """True when rows are events to group into tickets; False for one row per ticket."""
        return bool(self.group_by)

    def columns(self) -> dict[str, str]:
        """Every column the mapping reads, with the first key that reads it."""
        used: dict[str, str] = {}
        for key, column in (
            ('events.group_by', self.group_by),
            ('events.at', self.event_at),
            ('events.actor', self.event_actor),
        ):
            if column:
                used.setdefault(column, key)
        for key in self.order_by:
            used.setdefault(key, 'events.order_by')
        for spec in [*self.fields.values(), *self.extra.values()]:
            for column in spec.columns:
                used.setdefault(column, spec.key)
        return used

    def column_kind(self, column: str) -> str:
        """How to compare a column's values when ordering events: as times, whole numbers or text."""
        if column == self.event_at:
            return DATETIME
        for spec in [*self.fields.values(), *self.extra.values()]:
            if spec.column == column and spec.kind in (DATETIME, INTEGER) and not spec.value_map:
                return spec.kind
        return TEXT

    def parse_datetime(self, text: str) -> dt.datetime:
        """A timestamp in one of the mapping's formats (ISO 8601 when none is given), made aware in its zone."""
        cached = self._parse_cache.get(text)
        if cached is not None:
            return cached
        moment = _parse_moment(text, self.datetime_formats, self.timezone)
        if len(self._parse_cache) > 20_000:  # the same times recur on an incident's rows; keep memory bounded
            self._parse_cache.clear()
        self._parse_cache[text] = moment
        return moment


def _parse_moment(text: str, formats: tuple[str, ...], zone: dt.tzinfo) -> dt.datetime:
    moment = None
    for fmt in formats:
        try:
            moment = dt.datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if moment is None and not formats:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            moment = None
    if moment is None:
        expected = ' or '.join(formats) if formats else 'ISO 8601 (2026-03-02T14:30)'
        raise ValueError(f'"{text}" is not a date and time like {expected}')
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


#
# Loading
#


def shipped_names() -> list[str]:
    return sorted(path.stem for path in SHIPPED_DIR.glob('*.toml'))


def shipped_mapping(name: str) -> Mapping:
    """A mapping shipped with Pitcrew (`imports/mappings/NAME.toml`), e.g. `servicenow-event-log`."""
    path = SHIPPED_DIR / f'{name}.toml'
    if not re.fullmatch(r'[a-z0-9][a-z0-9_.-]*', name) or not path.is_file():
        raise MappingError(f'No shipped mapping "{name}": choose one of {", ".join(shipped_names())}.')
    return load_mapping(path)


@lru_cache(maxsize=32)
def _read(path: str, mtime: float) -> tuple[bytes, dict]:
    content = Path(path).read_bytes()
    try:
        return content, tomllib.loads(content.decode('utf-8'))
    except UnicodeDecodeError:
        raise MappingError(f'{Path(path).name}: the file is not UTF-8 text.') from None
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f'{Path(path).name}: not valid TOML: {error}.') from None


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file."""
    path = Path(path)
    if not path.is_file():
        raise MappingError(f'{path}: no such mapping file.')
    content, data = _read(str(path.resolve()), path.stat().st_mtime)
    return parse_mapping(data, name=path.stem, path=str(path), fingerprint=hashlib.sha256(content).hexdigest())


#
# Validation
#


class _Checker:
    def __init__(self, name: str):
        self.name = name

    def fail(self, key: str, message: str):
        raise MappingError(f'{self.name}: {key}: {message}')

    def table(self, data: dict, key: str, allowed: set[str], *, required: bool = False) -> dict:
        value = data.get(key.rsplit('.', 1)[-1])
        if value is None:
            if required:
                self.fail(key, 'missing section.')
            return {}
        if not isinstance(value, dict):
            self.fail(key, 'must be a table.')
        unknown = sorted(set(value) - allowed)
        if unknown:
            self.fail(f'{key}.{unknown[0]}', f'unknown key; expected one of {", ".join(sorted(allowed))}.')
        return value

    def text(self, data: dict, key: str, default: str | None = None) -> str:
        value = data.get(key.rsplit('.', 1)[-1], default)
        if value is None:
            self.fail(key, 'required.')
        if not isinstance(value, str):
            self.fail(key, f'must be a string, not {type(value).__name__}.')
        return value

    def texts(self, data: dict, key: str, default: list[str]) -> tuple[str, ...]:
        value = data.get(key.rsplit('.', 1)[-1], default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(key, 'must be a list of strings.')
        return tuple(value)


def parse_mapping(data: dict, *, name: str = 'mapping', path: str = '', fingerprint: str = '') -> Mapping:
    """Validate a mapping read from TOML; raises MappingError naming the first wrong key."""
    check = _Checker(f'{name}.toml' if not name.endswith('.toml') else name)
    unknown = sorted(set(data) - SECTIONS)
    if unknown:
        check.fail(unknown[0], f'unknown section; expected {", ".join(sorted(SECTIONS))}.')

    source = check.table(data, 'source', SOURCE_KEYS, required=True)
    system = check.text(source, 'source.system')
    if not SYSTEM_NAME.match(system):
        check.fail('source.system', f'"{system}" must be lower-case letters, digits, ".", "-" or "_" (40 at most).')
    label = check.text(source, 'source.label', system)
    if not 0 < len(label) <= 60:
        check.fail('source.label', 'give a name of 1 to 60 characters.')
    kind = check.text(source, 'source.kind', TicketKind.INCIDENT)
    if kind not in TicketKind.values:
        check.fail('source.kind', f'"{kind}" is not a ticket kind; use {" or ".join(TicketKind.values)}.')
    description = check.text(source, 'source.description', '')

    csv_ = check.table(data, 'csv', CSV_KEYS)
    delimiter = check.text(csv_, 'csv.delimiter', ',')
    if len(delimiter) != 1:
        check.fail('csv.delimiter', 'must be a single character.')
    encoding = check.text(csv_, 'csv.encoding', 'utf-8-sig')
    try:
        ''.encode(encoding)
    except LookupError:
        check.fail('csv.encoding', f'unknown encoding "{encoding}".')
    missing = frozenset({'', *check.texts(csv_, 'csv.missing', [])})
    formats = check.texts(csv_, 'csv.datetime_formats', [])
    for index, fmt in enumerate(formats):
        if '%' not in fmt:
            check.fail(f'csv.datetime_formats[{index}]', f'"{fmt}" has no strftime directive such as %d or %H.')
    zone_name = check.text(csv_, 'csv.timezone', 'UTC')
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        check.fail('csv.timezone', f'"{zone_name}" is not an IANA time zone such as Europe/Berlin.')
    true_values = frozenset(v.lower() for v in check.texts(csv_, 'csv.true', ['true', 'yes', '1']))
    false_values = frozenset(v.lower() for v in check.texts(csv_, 'csv.false', ['false', 'no', '0']))
    if true_values & false_values:
        check.fail('csv.true', f'"{sorted(true_values & false_values)[0]}" is listed as both true and false.')

    events = check.table(data, 'events', EVENT_KEYS)
    group_by = order_by = event_at = event_actor = ''
    if events:
        group_by = check.text(events, 'events.group_by')
        order_by = check.texts(events, 'events.order_by', [])
        event_at = check.text(events, 'events.at')
        event_actor = check.text(events, 'events.actor', '')
    for key, value in (('events.group_by', group_by), ('events.at', event_at)):
        if events and not value.strip():
            check.fail(key, 'must name a column.')

    raw_fields = check.table(data, 'fields', set(TARGETS), required=True)
    fields = {name: _field_spec(check, name, spec) for name, spec in raw_fields.items()}
    for required in REQUIRED:
        if required not in fields:
            check.fail(f'fields.{required}', f'required: {TARGETS[required].help}.')
    # The source number is how the next run finds a ticket again, so it is one column read as it stands.
    number = fields.get('source_number')
    if number is None and not events:
        check.fail('fields.source_number', f'required: {TARGETS["source_number"].help}.')
    if number is not None and (not number.column or number.value_map is not None or number.default is not MISSING):
        check.fail('fields.source_number', 'must be a column, without map or default.')
    if number is not None and events and number.column != group_by:
        check.fail('fields.source_number', f'must be the events.group_by column ("{group_by}"): one ticket per value.')
    if not events and 'opened_at' not in fields:
        check.fail('fields.opened_at', 'required when each row is one ticket (no [events] section).')
    if 'subcategory' in fields and 'category' not in fields:
        check.fail('fields.subcategory', 'needs fields.category: a subcategory belongs to a category.')

    raw_extra = data.get('extra', {})
    if not isinstance(raw_extra, dict):
        check.fail('extra', 'must be a table.')
    extra = {}
    for key, spec in raw_extra.items():
        if not EXTRA_NAME.match(key):
            check.fail(f'extra.{key}', 'names are lower-case letters, digits and "_", starting with a letter.')
        extra[key] = _extra_spec(check, key, spec)

    return Mapping(
        name=name.removesuffix('.toml'),
        path=path,
        system=system,
        label=label,
        kind=kind,
        description=description,
        delimiter=delimiter,
        encoding=encoding,
        missing=missing,
        datetime_formats=formats,
        timezone=zone,
        true_values=true_values,
        false_values=false_values,
        group_by=group_by,
        order_by=order_by,
        event_at=event_at,
        event_actor=event_actor,
        fields=fields,
        extra=extra,
        fingerprint=fingerprint or hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest(),
    )


def _source(check: _Checker, key: str, spec: Any, allowed: set[str]) -> tuple[dict, str, tuple[str, ...]]:
    """The common part of a field or extra entry: a column name, or a table with a column or templates."""
    if isinstance(spec, str):
        spec = {'column': spec}
    if not isinstance(spec, dict):
        check.fail(key, 'give a column name or a table such as { column = "state", map = { ... } }.')
    unknown = sorted(set(spec) - allowed)
    if unknown:
        check.fail(f'{key}.{unknown[0]}', f'unknown key; expected one of {", ".join(sorted(allowed))}.')
    column = spec.get('column', '')
    if not isinstance(column, str):
        check.fail(f'{key}.column', 'must be a string.')
    templates = spec.get('template', ())
    if isinstance(templates, str):
        templates = (templates,)
    if not isinstance(templates, list | tuple) or not all(isinstance(t, str) for t in templates):
        check.fail(f'{key}.template', 'must be a string or a list of strings.')
    for index, template in enumerate(templates):
        try:
            names = placeholders(template)
        except ValueError as error:
            check.fail(f'{key}.template[{index}]', f'{error}.')
        if any(not name or not name.strip() for name in names):
            check.fail(f'{key}.template[{index}]', 'placeholders name a column: {number}, not {}.')
    if column and templates:
        check.fail(key, 'give either column or template, not both.')
    if not column and not templates and 'default' not in spec:
        check.fail(key, 'give a column, a template or a default.')
    if 'map' in spec and not column:
        check.fail(f'{key}.map', 'a value map needs a column.')
    return spec, column, tuple(templates)


def _field_spec(check: _Checker, name: str, spec: Any) -> FieldSpec:
    key = f'fields.{name}'
    target = TARGETS[name]
    spec, column, templates = _source(check, key, spec, FIELD_KEYS)
    if templates and target.kind not in (TEXT, PERSON, GROUP, CATEGORY, SUBCATEGORY, CI):
        check.fail(f'{key}.template', f'templates make text; {name} is a {target.kind}.')
    ci_class = ''
    if 'class' in spec:
        if target.kind != CI:
            check.fail(f'{key}.class', 'only fields.ci has a CI class.')
        ci_class = spec['class']
        if ci_class not in CIClass.values:
            check.fail(f'{key}.class', f'"{ci_class}" is not a CI class; use one of {", ".join(CIClass.values)}.')
    elif target.kind == CI:
        ci_class = CI_DEFAULT_CLASS
    value_map = None
    if 'map' in spec:
        if target.kind == DATETIME:
            check.fail(f'{key}.map', 'dates are read with csv.datetime_formats, not mapped.')
        value_map = _value_map(check, f'{key}.map', spec['map'], target.kind, target.choices)
    default = MISSING
    if 'default' in spec:
        default = _convert_setting(check, f'{key}.default', spec['default'], target.kind, target.choices)
    return FieldSpec(
        key=key,
        name=name,
        kind=target.kind,
        column=column,
        templates=templates,
        value_map=value_map,
        default=default,
        choices=target.choices,
        max_length=target.max_length,
        ci_class=ci_class,
    )


def _extra_spec(check: _Checker, name: str, spec: Any) -> FieldSpec:
    key = f'extra.{name}'
    spec, column, templates = _source(check, key, spec, EXTRA_KEYS)
    kind = spec.get('type', TEXT)
    if kind not in EXTRA_KINDS:
        check.fail(f'{key}.type', f'"{kind}" is not a type; use one of {", ".join(EXTRA_KINDS)}.')
    if templates and kind != TEXT:
        check.fail(f'{key}.template', 'templates make text; set type = "text".')
    value_map = None
    if 'map' in spec:
        if kind == DATETIME:
            check.fail(f'{key}.map', 'dates are read with csv.datetime_formats, not mapped.')
        value_map = _value_map(check, f'{key}.map', spec['map'], kind, ())
    default = MISSING
    if 'default' in spec:
        default = _convert_setting(check, f'{key}.default', spec['default'], kind, ())
    return FieldSpec(
        key=key, name=name, kind=kind, column=column, templates=templates, value_map=value_map, default=default
    )


def _value_map(check: _Checker, key: str, value: Any, kind: str, choices: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        check.fail(key, 'must be a table of source value = Pitcrew value, e.g. { "Phone" = "phone" }.')
    return {
        source: _convert_setting(check, f'{key}."{source}"', target, kind, choices) for source, target in value.items()
    }


def _convert_setting(check: _Checker, key: str, value: Any, kind: str, choices: tuple[str, ...]) -> Any:
    """A value written in the mapping (map target or default), checked against what the field accepts.
    An empty string means "no value"."""
    if value == '':
        return None
    if kind == CHOICE:
        if value not in choices:
            check.fail(key, f'"{value}" is not one of {", ".join(choices)}.')
        return value
    if kind == PRIORITY:
        match = PRIORITY_TEXT.match(str(value)) if isinstance(value, int | str) else None
        if match is None or isinstance(value, bool):
            check.fail(key, f'{value!r} is not a priority; use 0-4 or "P0"-"P4".')
        return int(match.group(1))
    if kind == INTEGER:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            check.fail(key, f'{value!r} is not a whole number of at least 0.')
        return value
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            check.fail(key, f'{value!r} is not true or false.')
        return value
    if kind == DATETIME:
        check.fail(key, 'dates come from the file; they have no default or map.')
    if not isinstance(value, str):
        check.fail(key, f'{value!r} must be a string.')
    return value
