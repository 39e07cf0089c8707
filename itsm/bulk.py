"""Inserting many rows at once: COPY on PostgreSQL, `bulk_create` elsewhere.

`bulk_create` prepares every value through its field (`get_db_prep_save`) and sends multi-row `INSERT`s that
PostgreSQL parses and plans value by value: for the hundreds of thousands of rows a rollup rebuild writes, that
was more than half of the rebuild. COPY takes the same rows as text in one stream.

`insert_rows(model, columns, rows)` takes plain tuples (values as the fields hold them, by `attname`, so foreign
keys by id), which spares building a model instance per row. A field left out gets its `auto_now`/`auto_now_add`
time or its default, as `bulk_create` would give it; an automatic primary key is filled by the database.
"""

from __future__ import annotations

import io
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

from django.db import connection, models
from django.utils import timezone

__all__ = ['copies_beside_the_caller', 'copy_text', 'insert_rows']

NULL = '\\N'
_ESCAPES = str.maketrans({'\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r'})
CHUNK = 20_000  # rows per COPY (or `bulk_create`): bounds what is held in memory at once
COPIES_QUEUED = 2  # chunks formatted ahead of the COPY in flight (`copies_beside_the_caller`)


def copy_text(value: str) -> str:
    """A string as a COPY text-format field (backslash, tab and line breaks escaped)."""
    if '\\' in value or '\t' in value or '\n' in value or '\r' in value:
        return value.translate(_ESCAPES)
    return value


def _text(value: Any) -> str:
    return copy_text(str(value))


def _writer(field: models.Field) -> Callable[[Any], str]:
    """How one field's value becomes a COPY text-format field."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda v: _text(json.dumps(v, cls=encoder))
    if isinstance(field, models.BooleanField):
        return lambda v: 't' if v else 'f'
    if isinstance(field, models.DateTimeField | models.DateField):
        return lambda v: v.isoformat()
    if isinstance(field, models.DurationField):
        return lambda v: f'{v.total_seconds()} seconds'
    if isinstance(field, models.FloatField):
        return repr
    if isinstance(field, models.IntegerField):
        return str  # digits need no escaping
    return _text


def _auto_time(field: models.Field) -> bool:
    return bool(getattr(field, 'auto_now', False) or getattr(field, 'auto_now_add', False))


def _left_out(model: type[models.Model], columns: Sequence[str]) -> list[tuple[models.Field, Any]]:
    """The concrete fields not among `columns` (an automatic primary key aside) and the value each gets: the time
    for `auto_now`/`auto_now_add`, else the field's default as `bulk_create` takes it ('' for text)."""
    now = timezone.now()
    rest, missing = [], []
    for field in model._meta.concrete_fields:
        if field.attname in columns or (field.primary_key and isinstance(field, models.AutoField)):
            continue
        value = now if _auto_time(field) else field.get_default()
        if value is None and not field.null:
            missing.append(field.attname)
        rest.append((field, value))
    if missing:
        raise ValueError(f'{model.__name__}: {", ".join(missing)} cannot be left out (no default)')
    return rest


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (tuples of values in `columns` order, by attname) in the current transaction; returns how
    many."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = [name for name in columns if name not in fields]
    if unknown:
        raise ValueError(f'{model.__name__} has no column {", ".join(unknown)}')
    rest = _left_out(model, columns)
    rows = iter(rows)
    count = 0
    if connection.vendor != 'postgresql':
        constant = {field.attname: value for field, value in rest}
        while chunk := list(islice(rows, CHUNK)):
            objs = [model(**constant, **dict(zip(columns, row, strict=True))) for row in chunk]
            model._default_manager.bulk_create(objs)
            count += len(chunk)
        return count
    writers = [_writer(fields[name]) for name in columns]
    suffix = ''.join(f'\t{NULL if value is None else _writer(field)(value)}' for field, value in rest) + '\n'
    names = [fields[name].column for name in columns] + [field.column for field, _ in rest]
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f'COPY {table} ({", ".join(connection.ops.quote_name(n) for n in names)}) FROM STDIN'
    copier = getattr(_active, 'copier', None)
    with connection.cursor() as cursor:
        while chunk := list(islice(rows, CHUNK)):
            buffer = io.StringIO()
            write = buffer.write
            for row in chunk:
                write(
                    '\t'.join(
                        [NULL if value is None else convert(value) for convert, value in zip(writers, row, strict=True)]
                    )
                )
                write(suffix)
            buffer.seek(0)
            if copier is None:
                cursor.copy_expert(sql, buffer, 1 << 18)
            else:
                copier.submit(sql, buffer)
            count += len(chunk)
    return count


#
# COPY beside the caller
#

_active = threading.local()


class _Copier:
    """One thread that runs the COPYs handed to it, in order, on the caller's own database connection (so in its
    transaction). Every other statement of the caller waits until the COPYs before it have finished, so statements
    keep their order and never share the connection with a COPY in flight."""

    def __init__(self, raw_connection, wrap_errors):
        self._raw = raw_connection
        self._wrap_errors = wrap_errors  # the database's errors as Django's (IntegrityError, ...)
        self._queue: queue.Queue = queue.Queue(maxsize=COPIES_QUEUED)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name='bulk-copy', daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is None:
                    sql, buffer = item
                    with self._wrap_errors, self._raw.cursor() as cursor:
                        cursor.copy_expert(sql, buffer, 1 << 18)
            except BaseException as error:  # handed to the caller at its next statement or at the end
                self._error = error
            finally:
                self._queue.task_done()

    def submit(self, sql: str, buffer: io.StringIO) -> None:
        self._raise()
        self._queue.put((sql, buffer))

    def wait(self) -> None:
        self._queue.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def stop(self) -> None:
        """End the thread once the COPYs before have run (the caller's error, if any, stays the one raised)."""
        self._queue.put(None)
        self._thread.join()

    def statement(self, execute, sql, params, many, context):
        """A Django execute wrapper: the caller's statements run once the COPYs before them have."""
        self.wait()
        return execute(sql, params, many, context)


@contextmanager
def copies_beside_the_caller() -> Iterator[None]:
    """Within the block, `insert_rows` on PostgreSQL formats each chunk of rows and hands its COPY to a thread, then
    goes on with the next chunk, or whatever the caller does next, while PostgreSQL writes: for writes of millions
    of rows, the database's work and the Python work overlap on two cores.

    The COPYs run in the caller's connection and transaction, in order. Any other statement of the caller through
    Django waits for the COPYs before it, and an error of a COPY is raised at the caller's next statement or at
    the end of the block, whose transaction it has aborted. Rows streamed from a server-side cursor (`iterator()`)
    must not be read across an `insert_rows` in the block: those fetches do not wait. Elsewhere than on
    PostgreSQL, or nested, the block changes nothing."""
    if connection.vendor != 'postgresql' or getattr(_active, 'copier', None) is not None:
        yield
        return
    connection.ensure_connection()
    copier = _Copier(connection.connection, connection.wrap_database_errors)
    _active.copier = copier
    try:
        with connection.execute_wrapper(copier.statement):
            yield
    finally:
        _active.copier = None
        copier.stop()
    copier.wait()  # reached when the block ended well: a COPY's error is raised here
