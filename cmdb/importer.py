"""Import of CIs and relationships from CSV, the format discovery tools export.

CIs are matched on their natural key (class, name): a known CI is updated, an unknown one created, so running
the same file twice changes nothing the second time. Blank cells leave a value as it is. Relationships name
their ends by number (CI0000101) or as `class:name` (server:web01) and are created when missing.

All of it runs in one transaction: a dry run, or any row in error, rolls the whole import back, and the
report names every row in error by its line number (the header is line 1).

CI file columns: `class` and `name` (required), `status`, `environment`, `owner` (username), `support_group`
(name), `location`, `vendor`, `version`, `description`, and one `attr.<name>` column per class attribute.
Relationship file columns: `source`, `type`, `target` (required) and `description`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from itsm import audit
from itsm.audit import Actor
from itsm.errors import ApplicationError
from itsm.models import SupportGroup, User

from . import services
from .choices import CIClass
from .models import ConfigurationItem, Relationship
from .schema import coerce_attributes

__all__ = ['CI_COLUMNS', 'RELATIONSHIP_COLUMNS', 'ImportReport', 'ImportRow', 'import_csv']

CI_COLUMNS = [
    'class',
    'name',
    'status',
    'environment',
    'owner',
    'support_group',
    'location',
    'vendor',
    'version',
    'description',
]
CI_REQUIRED = ['class', 'name']
RELATIONSHIP_COLUMNS = ['source', 'type', 'target', 'description']
RELATIONSHIP_REQUIRED = ['source', 'type', 'target']
ATTRIBUTE_PREFIX = 'attr.'
NUMBER = re.compile(r'^CI\d{7}$', re.IGNORECASE)
IMPORT_MESSAGE = 'Imported from CSV.'

CREATE, UPDATE, UNCHANGED, ERROR = 'create', 'update', 'unchanged', 'error'


@dataclass
class ImportRow:
    """The outcome of one CSV row."""

    file: str  # 'cis' or 'relationships'
    line: int
    action: str  # create, update, unchanged or error
    key: str
    number: str = ''
    message: str = ''

    def as_dict(self) -> dict[str, Any]:
        return {
            'file': self.file,
            'line': self.line,
            'action': self.action,
            'key': self.key,
            'number': self.number,
            'message': self.message,
        }


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or an import with errors, would have done)."""

    dry_run: bool
    rows: list[ImportRow] = field(default_factory=list)

    @property
    def errors(self) -> list[ImportRow]:
        return [row for row in self.rows if row.action == ERROR]

    @property
    def committed(self) -> bool:
        return not self.dry_run and not self.errors

    def count(self, file: str, action: str) -> int:
        return sum(1 for row in self.rows if row.file == file and row.action == action)

    def totals(self) -> dict[str, dict[str, int]]:
        return {
            file: {action: self.count(file, action) for action in (CREATE, UPDATE, UNCHANGED, ERROR)}
            for file in ('cis', 'relationships')
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            'dry_run': self.dry_run,
            'committed': self.committed,
            'totals': self.totals(),
            'errors': [row.as_dict() for row in self.errors],
            'rows': [row.as_dict() for row in self.rows],
        }


def _text(source: str | bytes | IO | None) -> str:
    if source is None:
        return ''
    if hasattr(source, 'read'):
        source = source.read()
    if isinstance(source, bytes):
        try:
            source = source.decode('utf-8-sig')
        except UnicodeDecodeError:
            raise ValidationError('The file is not UTF-8 encoded CSV.') from None
    if '\x00' in source:
        # No text column can store NUL (PostgreSQL refuses it): a file holding one is binary, not CSV.
        line = source.count('\n', 0, source.index('\x00')) + 1
        raise ValidationError(f'Line {line}: the file contains a NUL character; it is not a CSV text file.')
    return source.lstrip('\ufeff')


def _reader(text: str, *, required: list[str], allowed: list[str], attributes: bool) -> csv.DictReader:
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or '').strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in required if name not in header]
    if missing:
        raise ValidationError(f'Line 1: missing column(s) {", ".join(missing)}; expected {", ".join(allowed)}.')
    unknown = [
        name for name in header if name not in allowed and not (attributes and name.startswith(ATTRIBUTE_PREFIX))
    ]
    if unknown:
        raise ValidationError(f'Line 1: unknown column(s) {", ".join(unknown)}; expected {", ".join(allowed)}.')
    reader.fieldnames = header
    return reader


def _rows(reader: csv.DictReader):
    """The reader's rows; a line the csv module cannot read (a field over its size limit, an unclosed quote at the
    end) stops the import with the line's number rather than an error page."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValidationError(f'Line {reader.line_num + 1}: cannot be read as CSV ({error}).') from None


def _describe(error: ValidationError | ApplicationError) -> str:
    if isinstance(error, ApplicationError):
        return error.detail
    if hasattr(error, 'error_dict'):
        parts = []
        for name, errors in error.error_dict.items():
            for message in ValidationError(errors).messages:
                parts.append(message if name == '__all__' else f'{name}: {message}')
        return ' '.join(parts)
    return ' '.join(error.messages)


class _Importer:
    def __init__(self, *, actor: Actor, report: ImportReport, change_reference: str):
        self.actor = actor
        self.report = report
        self.change_reference = change_reference
        self.people: dict[str, User | None] = {}
        self.groups: dict[str, SupportGroup | None] = {}

    def person(self, username: str) -> User:
        if username not in self.people:
            self.people[username] = User.objects.filter(username=username).first()
        if self.people[username] is None:
            raise ValidationError({'owner': f'no person with username "{username}".'})
        return self.people[username]

    def group(self, name: str) -> SupportGroup:
        if name not in self.groups:
            self.groups[name] = SupportGroup.objects.filter(name=name).first()
        if self.groups[name] is None:
            raise ValidationError({'support_group': f'no support group named "{name}".'})
        return self.groups[name]

    def run_rows(self, file: str, reader: csv.DictReader, handle) -> None:
        for row in _rows(reader):
            line = reader.line_num
            cells = {k: (v or '').strip() for k, v in row.items() if k is not None}
            if not any(cells.values()):
                continue
            key = self.key_of(file, cells)
            try:
                # A savepoint per row: a failing row leaves nothing behind, and the next rows still get checked.
                with transaction.atomic():
                    action, number, message = handle(cells)
            except (ValidationError, ApplicationError) as error:
                self.report.rows.append(ImportRow(file, line, ERROR, key, message=_describe(error)))
            else:
                self.report.rows.append(ImportRow(file, line, action, key, number, message))

    @staticmethod
    def key_of(file: str, cells: dict[str, str]) -> str:
        if file == 'cis':
            return f'{cells.get("class", "")}:{cells.get("name", "")}'
        return f'{cells.get("source", "")} {cells.get("type", "")} {cells.get("target", "")}'

    # -- CIs
    def ci_values(self, cells: dict[str, str], ci_class: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in ('status', 'environment', 'location', 'vendor', 'version', 'description'):
            if cells.get(name):
                values[name] = cells[name]
        if cells.get('owner'):
            values['owner'] = self.person(cells['owner'])
        if cells.get('support_group'):
            values['support_group'] = self.group(cells['support_group'])
        raw = {k.removeprefix(ATTRIBUTE_PREFIX): v for k, v in cells.items() if k.startswith(ATTRIBUTE_PREFIX) and v}
        if raw:
            values['attributes'] = coerce_attributes(ci_class, raw)
        return values

    def import_ci(self, cells: dict[str, str]) -> tuple[str, str, str]:
        ci_class, name = cells.get('class', '').lower(), cells.get('name', '')
        if ci_class not in CIClass.values:
            raise ValidationError({'class': f'"{ci_class}" is not a CI class ({", ".join(CIClass.values)}).'})
        if not name:
            raise ValidationError({'name': 'required.'})
        values = self.ci_values(cells, ci_class)
        existing = ConfigurationItem.objects.filter(ci_class=ci_class, name=name).first()
        if existing is None:
            ci = services.ci_create(
                actor=self.actor,
                name=name,
                ci_class=ci_class,
                message=IMPORT_MESSAGE,
                change_reference=self.change_reference,
                **values,
            )
            return CREATE, ci.number, ''
        if 'attributes' in values:
            values['attributes'] = {**existing.attributes, **values['attributes']}
        before = audit.snapshot(existing)
        ci = services.ci_update(
            ci=existing, actor=self.actor, change_reference=self.change_reference, message=IMPORT_MESSAGE, **values
        )
        changed = [c['field'] for c in audit.diff(ci, before, audit.snapshot(ci))]
        if not changed:
            return UNCHANGED, ci.number, ''
        return UPDATE, ci.number, f'changed: {", ".join(changed)}'

    # -- relationships
    def resolve(self, end: str, value: str) -> ConfigurationItem:
        if NUMBER.match(value):
            ci = ConfigurationItem.objects.filter(number=value.upper()).first()
        elif ':' in value and value.split(':', 1)[0].lower() in CIClass.values:
            ci_class, name = value.split(':', 1)
            ci = ConfigurationItem.objects.filter(ci_class=ci_class.lower(), name=name.strip()).first()
        else:
            raise ValidationError({end: f'"{value}" is neither a CI number (CI0000101) nor class:name (server:web01).'})
        if ci is None:
            raise ValidationError({end: f'no CI {value}.'})
        return ci

    def import_relationship(self, cells: dict[str, str]) -> tuple[str, str, str]:
        source = self.resolve('source', cells.get('source', ''))
        target = self.resolve('target', cells.get('target', ''))
        type_ = cells.get('type', '').lower()
        if Relationship.objects.filter(source=source, target=target, type=type_).exists():
            return UNCHANGED, '', ''
        link = services.relationship_create(
            source=source,
            type=type_,
            target=target,
            description=cells.get('description', ''),
            actor=self.actor,
            change_reference=self.change_reference,
        )
        return CREATE, str(link), ''


@transaction.atomic
def import_csv(
    *,
    actor: Actor,
    cis: str | bytes | IO | None = None,
    relationships: str | bytes | IO | None = None,
    dry_run: bool = False,
    change_reference: str = '',
) -> ImportReport:
    """Import CIs, then relationships (which may name CIs created by the same import), all or nothing.

    Returns the report; nothing is kept when `dry_run` is set or any row fails. A file that cannot be read
    (bad header, not UTF-8) raises ValidationError before any row is looked at.
    """
    report = ImportReport(dry_run=dry_run)
    ci_text, relationship_text = _text(cis), _text(relationships)
    if not ci_text.strip() and not relationship_text.strip():
        raise ValidationError('Give a CSV file of CIs, of relationships, or both.')
    readers = []
    if ci_text.strip():
        readers.append(
            ('cis', _reader(ci_text, required=CI_REQUIRED, allowed=CI_COLUMNS, attributes=True), 'import_ci')
        )
    if relationship_text.strip():
        reader = _reader(
            relationship_text, required=RELATIONSHIP_REQUIRED, allowed=RELATIONSHIP_COLUMNS, attributes=False
        )
        readers.append(('relationships', reader, 'import_relationship'))
    importer = _Importer(actor=actor, report=report, change_reference=change_reference)
    for file, reader, method in readers:
        importer.run_rows(file, reader, getattr(importer, method))
    if not report.committed:
        transaction.set_rollback(True)
        for row in report.rows:
            if row.action == CREATE:
                row.number = ''  # handed out inside the rolled-back transaction: not a real number
    return report
