"""Reference numbers (INC0001001): unique and never reused, across every web and worker process.

On PostgreSQL each prefix has its own sequence (`itsm_number_<prefix>`): `nextval` holds no lock until the
transaction ends, so concurrent creates never wait on each other. A sequence does not roll back, so a create that
fails leaves a gap in the numbers; no number is ever handed out twice. SQLite (the embedded default, one writer at
a time) keeps the `NumberSequence` table counter, which rolls back with the transaction.
"""

import re
import threading

from django.db import connection, connections, transaction

from .models import NumberSequence

NUMBER_WIDTH = 7
SEQUENCE_PREFIX = 'itsm_number_'
# Prefixes become part of a sequence's name: letters and digits only, as every model's prefix is.
PREFIX_PATTERN = re.compile(r'^[A-Za-z0-9]{1,8}$')

# Sequences known to exist, per database: (database name, prefix). Filled once a sequence is committed.
_known_sequences: set[tuple[str, str]] = set()
_known_lock = threading.Lock()


def format_number(prefix: str, value: int) -> str:
    return f'{prefix}{value:0{NUMBER_WIDTH}d}'


def sequence_name(prefix: str) -> str:
    return f'{SEQUENCE_PREFIX}{prefix}'


def _sequence_reference(prefix: str) -> str:
    # Quoted, as `nextval` reads its text argument as an identifier that would otherwise be folded to lower case.
    return connection.ops.quote_name(sequence_name(prefix))


def uses_sequences() -> bool:
    return connection.vendor == 'postgresql'


def next_number(prefix: str, *, start: int = 101) -> str:
    """Take the next number for `prefix`."""
    return next_numbers(prefix, 1, start=start)[0]


def next_numbers(prefix: str, count: int, *, start: int = 101) -> list[str]:
    """Take `count` numbers for `prefix`, in increasing order (bulk imports and generators).

    On PostgreSQL they come from the prefix's sequence in one query and are consecutive unless another process
    takes numbers at the same moment; on SQLite they are consecutive.
    """
    if not PREFIX_PATTERN.match(prefix or ''):
        raise ValueError(f'A numbered model needs a number_prefix of letters and digits, not {prefix!r}.')
    if count <= 0:
        return []
    if uses_sequences():
        values = _take_from_sequence(prefix, count, start)
    else:
        values = _take_from_table(prefix, count, start)
    return [format_number(prefix, value) for value in values]


def _take_from_table(prefix: str, count: int, start: int) -> list[int]:
    # The row stays locked until the surrounding transaction ends; a rollback also undoes the increment.
    with transaction.atomic():
        NumberSequence.objects.bulk_create([NumberSequence(prefix=prefix, last=start - 1)], ignore_conflicts=True)
        sequence = NumberSequence.objects.select_for_update().get(prefix=prefix)
        first = sequence.last + 1
        sequence.last += count
        sequence.save(update_fields=['last'])
    return list(range(first, first + count))


def _take_from_sequence(prefix: str, count: int, start: int) -> list[int]:
    ensure_sequence(prefix, start=start)
    with connection.cursor() as cursor:
        if count == 1:
            cursor.execute('SELECT nextval(%s)', [_sequence_reference(prefix)])
        else:
            cursor.execute('SELECT nextval(%s) FROM generate_series(1, %s)', [_sequence_reference(prefix), count])
        return sorted(row[0] for row in cursor.fetchall())


def ensure_sequence(prefix: str, *, start: int = 101) -> None:
    """Create `prefix`'s sequence if it does not exist yet, on a connection of its own.

    Created outside the caller's transaction, the sequence is committed at once: a create that rolls back does not
    take it away, and a concurrent create does not wait for the first one's commit to see it. A prefix counted in
    the table before (a database from before sequences) continues after its last number.
    """
    key = (connection.settings_dict['NAME'], prefix)
    if key in _known_sequences:
        return
    with _known_lock:
        if key in _known_sequences:
            return
        own = connections.create_connection(connection.alias)
        try:
            with own.cursor() as cursor:
                cursor.execute('SELECT last FROM itsm_numbersequence WHERE prefix = %s', [prefix])
                counted = cursor.fetchone()
                first = max(start, counted[0] + 1) if counted else start
                cursor.execute(
                    f'CREATE SEQUENCE IF NOT EXISTS {own.ops.quote_name(sequence_name(prefix))} '
                    f'AS bigint MINVALUE 1 START WITH {int(first)}'
                )
        finally:
            own.close()
        _known_sequences.add(key)


def move_sequence_past(prefix: str, last: int, *, start: int = 101) -> None:
    """Make the next number of `prefix` come after `last` (bulk loads that wrote numbers themselves); never moves
    a sequence backwards. A no-op on SQLite, where the loader moves the table counter."""
    if not uses_sequences() or last < 1:
        return
    ensure_sequence(prefix, start=start)
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT setval(%s, %s) WHERE %s >= (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END '
            f'FROM {_sequence_reference(prefix)})',
            [_sequence_reference(prefix), last, last],
        )


def peek_next_value(prefix: str, *, start: int = 101) -> int:
    """The value the next number of `prefix` will have, without taking it."""
    if not uses_sequences():
        last = NumberSequence.objects.filter(prefix=prefix).values_list('last', flat=True).first()
        return start if last is None else last + 1
    ensure_sequence(prefix, start=start)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {_sequence_reference(prefix)}'
        )
        return cursor.fetchone()[0]


def prefixes_in_use() -> set[str]:
    """Every prefix a number was ever handed out for (one small query)."""
    if uses_sequences():
        return set(_sequences())
    return set(NumberSequence.objects.values_list('prefix', flat=True))


def numbers_handed_out() -> list[tuple[str, str]]:
    """Each prefix with the last number handed out for it, by prefix (two small queries): from the sequences on
    PostgreSQL, where the table keeps only what was counted before them, and from the table on SQLite."""
    counted = dict(NumberSequence.objects.values_list('prefix', 'last'))
    if uses_sequences():
        # A sequence nothing was taken from yet has no last value: the table's count, if any, still holds.
        counted.update({prefix: last for prefix, last in _sequences().items() if last is not None})
    return [(prefix, format_number(prefix, counted[prefix])) for prefix in sorted(counted)]


def _sequences() -> dict[str, int | None]:
    """PostgreSQL: each numbering sequence's prefix and the last value taken from it (None before the first)."""
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema() '
            'AND sequencename LIKE %s',
            [SEQUENCE_PREFIX.replace('_', r'\_') + '%'],
        )
        return {name.removeprefix(SEQUENCE_PREFIX): last for name, last in cursor.fetchall()}
