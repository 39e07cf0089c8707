"""Writing generated rows fast: COPY on PostgreSQL, `bulk_create` elsewhere, from the same rows.

The generators produce plain tuples in the order of a `Table`'s columns, with times as whole seconds since the
epoch (UTC), durations as seconds and JSON as text. `CopyWriter` turns them into COPY text lines and streams
them on a second thread, so PostgreSQL loads one chunk while Python generates the next (the machine's two cores
both work). `BulkWriter` turns them into model instances for `bulk_create` (SQLite, small data sets).

Columns a generator does not set get the model field's default, so a field added to a model later does not
break the generator (a new NOT NULL field without a default gets an empty string).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

from itsm.bulk import NULL, copy_text

TEXT, PLAIN, TIME, DURATION, JSON, BOOL = 'text', 'plain', 'time', 'duration', 'json', 'bool'


class Timestamps:
    """Whole seconds since the epoch (UTC) as PostgreSQL text, as ISO 8601 JSON strings or as datetimes.

    The text forms join a cached date and a cached time of day: formatting millions of datetimes would cost more
    than generating the rows.
    """

    def __init__(self):
        times = [f'{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}' for s in range(86400)]
        text_times = [f'{t}+00' for t in times]
        json_times = [f'T{t}+00:00"' for t in times]
        text_days: dict[int, str] = {}
        json_days: dict[int, str] = {}

        def day(number: int) -> str:
            return (dt.date(1970, 1, 1) + dt.timedelta(days=number)).isoformat()

        def text(seconds: int | None) -> str:
            if seconds is None:
                return NULL
            number, second = divmod(seconds, 86400)
            try:
                return text_days[number] + text_times[second]
            except KeyError:
                text_days[number] = day(number) + ' '
                return text_days[number] + text_times[second]

        def json_text(seconds: int | None) -> str:
            """As `datetime.isoformat()` writes an aware UTC value, quoted (`null` for None)."""
            if seconds is None:
                return 'null'
            number, second = divmod(seconds, 86400)
            try:
                return json_days[number] + json_times[second]
            except KeyError:
                json_days[number] = '"' + day(number)
                return json_days[number] + json_times[second]

        self.text, self.json = text, json_text

    @staticmethod
    def value(seconds: int | None) -> dt.datetime | None:
        return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


TIMESTAMPS = Timestamps()


def _kind(field: models.Field) -> str:
    if isinstance(field, models.DateTimeField):
        return TIME
    if isinstance(field, models.DurationField):
        return DURATION
    if isinstance(field, models.JSONField):
        return JSON
    if isinstance(field, models.BooleanField):
        return BOOL
    if isinstance(field, models.CharField | models.TextField) and not field.is_relation:
        return TEXT
    return PLAIN


def _line_function(kinds: Sequence[str], suffix: str):
    """A function turning a row into one COPY text line, compiled once per table: a single f-string with the
    conversion of each column inlined (a function call per value would cost more than the rest of the work).
    The expressions hold no quotes or backslashes, so `repr` can quote the template whatever the literals hold."""
    parts = []
    for index, kind in enumerate(kinds):
        value = f'r[{index}]'
        if kind == TIME:
            parts.append(f'{{ts({value})}}')
        elif kind == BOOL:
            parts.append(f'{{N if {value} is None else (T if {value} else F)}}')
        elif kind == DURATION:
            parts.append(f'{{N if {value} is None else str({value}) + S}}')
        elif kind in (TEXT, JSON):
            parts.append(f'{{N if {value} is None else esc({value})}}')
        else:
            parts.append(f'{{N if {value} is None else {value}}}')
    template = '\t'.join(parts) + suffix.replace('{', '{{').replace('}', '}}')
    source = f'def line(r):\n    return f{template!r}\n'
    namespace = {'N': NULL, 'T': 't', 'F': 'f', 'S': ' seconds', 'ts': TIMESTAMPS.text, 'esc': copy_text}
    exec(compile(source, '<copy line>', 'exec'), namespace)  # the source is built above from fixed parts
    return namespace['line']


def _to_value(kind: str):
    if kind == TIME:
        return Timestamps.value
    if kind == DURATION:
        return lambda v: None if v is None else dt.timedelta(seconds=v)
    if kind == JSON:
        return lambda v: None if v is None else json.loads(v)
    return lambda v: v


def _default_text(field: models.Field) -> str:
    value = field.get_default() if field.has_default() else (None if field.null else '')
    if value is None:
        return NULL
    if isinstance(value, bool):
        return 't' if value else 'f'
    if isinstance(value, list | dict):
        return copy_text(json.dumps(value))
    if isinstance(value, dt.timedelta):
        return f'{value.total_seconds()} seconds'
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return copy_text(str(value))


class Table:
    """The columns a generator fills for one model, in row order (attnames: `caller_id`, not `caller`)."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        self.model = model
        self.columns = tuple(columns)
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(self.columns) - set(fields)
        if unknown:
            raise ValueError(f'{model.__name__} has no column {", ".join(sorted(unknown))}')
        kinds = [_kind(fields[name]) for name in self.columns]
        self._value = [_to_value(kind) for kind in kinds]
        self.rest = [f for f in model._meta.concrete_fields if f.attname not in self.columns]
        suffix = '\t'.join(_default_text(f) for f in self.rest)
        self.line = _line_function(kinds, ('\t' + suffix if self.rest else '') + '\n')
        names = [fields[name].column for name in self.columns] + [f.column for f in self.rest]
        self.copy_sql = (
            f'COPY {model._meta.db_table} ({", ".join(connection.ops.quote_name(n) for n in names)}) FROM STDIN'
        )

    def __repr__(self) -> str:
        return f'Table({self.model.__name__})'

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table

    def instance(self, row: Sequence[Any]) -> models.Model:
        values = {name: convert(value) for name, convert, value in zip(self.columns, self._value, row, strict=True)}
        return self.model(**values)


class Writer(ABC):
    """`with writer:` closes it (writes what is pending) when the block ends normally, abandons it otherwise."""

    @abstractmethod
    def add(self, table: Table, row: Sequence[Any]) -> None:
        """Queue one row of `table` (values in the table's column order)."""

    @abstractmethod
    def close(self) -> None:
        """Write what is pending."""

    @abstractmethod
    def abandon(self) -> None:
        """Stop without writing more; the caller's transaction rolls back what was written."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()


class BulkWriter(Writer):
    """Rows into `bulk_create` batches, flushed table by table in the order the tables were given."""

    def __init__(self, tables: Iterable[Table], *, batch: int = 2000):
        self.rows: dict[Table, list[models.Model]] = {table: [] for table in tables}
        self.batch = batch
        self.written = 0

    def add(self, table: Table, row: Sequence[Any]) -> None:
        rows = self.rows[table]
        rows.append(table.instance(row))
        if len(rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        for table, rows in self.rows.items():
            if rows:
                table.model.objects.bulk_create(rows, batch_size=self.batch)
                self.written += len(rows)
                rows.clear()

    def close(self) -> None:
        self.flush()

    def abandon(self) -> None:
        for rows in self.rows.values():
            rows.clear()


class CopyWriter(Writer):
    """Rows into COPY … FROM STDIN on the current connection (inside the caller's transaction).

    Lines collect in one buffer per table; every `chunk` rows the buffers go to a loader thread, which COPYs
    them while the generator fills the next ones. The loader uses the same connection, so everything lands in
    the caller's transaction: nothing else may use the connection until `close()`.
    """

    def __init__(self, tables: Iterable[Table], *, chunk: int = 50_000, defer_indexes: bool = False):
        self.tables = list(tables)
        self.chunk = chunk
        self.indexes = self._drop_indexes() if defer_indexes else []
        self.raw = connection.connection
        self.buffers = self._empty()
        self.pending = 0
        self.written = 0
        self.index_seconds = 0.0
        self.error: BaseException | None = None
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._load, name='synthetic-copy', daemon=True)
        self.thread.start()

    def _drop_indexes(self) -> list[str]:
        """Drop the tables' secondary indexes (not those behind a primary key or unique constraint) and return
        the statements that build them again: one sorted build after the load beats millions of inserts."""
        statements = []
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(
                    """SELECT index.relname, pg_get_indexdef(index.oid) FROM pg_index x
                       JOIN pg_class index ON index.oid = x.indexrelid
                       WHERE x.indrelid = %s::regclass
                         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
                    [table.db_table],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f'DROP INDEX {connection.ops.quote_name(name)}')
                    statements.append(definition)
        return statements

    def _build_indexes(self) -> None:
        started = time.monotonic()
        with connection.cursor() as cursor:
            for statement in self.indexes:
                cursor.execute(statement)
        if self.indexes:
            self.index_seconds = time.monotonic() - started
        self.indexes = []

    def _empty(self) -> dict[Table, io.StringIO]:
        return {table: io.StringIO() for table in self.tables}

    def add(self, table: Table, row: Sequence[Any]) -> None:
        self.buffers[table].write(table.line(row))
        self.pending += 1
        if self.pending >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if self.error is not None:
            raise self.error
        if self.pending:
            self.queue.put(self.buffers)
            self.written += self.pending
            self.buffers, self.pending = self._empty(), 0

    def _load(self) -> None:
        cursor = self.raw.cursor()
        while True:
            buffers = self.queue.get()
            if buffers is None:
                break
            if self.error is not None:
                continue  # drain the queue so the generator never blocks on a dead loader
            try:
                for table, buffer in buffers.items():
                    if buffer.tell():
                        buffer.seek(0)
                        cursor.copy_expert(table.copy_sql, buffer, size=1 << 18)
            except BaseException as error:  # handed to the generating thread, which raises it
                self.error = error
        cursor.close()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error
        self._build_indexes()

    def abandon(self) -> None:
        self.queue.put(None)
        self.thread.join()


def writer_for(tables: Iterable[Table], *, defer_indexes: bool = False) -> Writer:
    """COPY on PostgreSQL, `bulk_create` elsewhere."""
    if connection.vendor == 'postgresql':
        return CopyWriter(tables, defer_indexes=defer_indexes)
    return BulkWriter(tables)
