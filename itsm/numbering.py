"""Reference numbers (INC0001001): unique and never reused, across every web and worker process."""

from django.db import transaction

from .models import NumberSequence

NUMBER_WIDTH = 7


def format_number(prefix: str, value: int) -> str:
    return f'{prefix}{value:0{NUMBER_WIDTH}d}'


def next_number(prefix: str, *, start: int = 101) -> str:
    """Take the next number for `prefix`."""
    return next_numbers(prefix, 1, start=start)[0]


def next_numbers(prefix: str, count: int, *, start: int = 101) -> list[str]:
    """Take `count` consecutive numbers for `prefix` in one step (bulk imports and generators).

    The sequence row is locked until the surrounding transaction ends, so two processes never read the same
    value; if that transaction rolls back, so does the increment, and no committed record ever shares a number.
    """
    if not prefix:
        raise ValueError('A numbered model needs a number_prefix.')
    if count <= 0:
        return []
    with transaction.atomic():
        NumberSequence.objects.bulk_create([NumberSequence(prefix=prefix, last=start - 1)], ignore_conflicts=True)
        sequence = NumberSequence.objects.select_for_update().get(prefix=prefix)
        first = sequence.last + 1
        sequence.last += count
        sequence.save(update_fields=['last'])
    return [format_number(prefix, first + index) for index in range(count)]


def prefixes_in_use() -> set[str]:
    """Every prefix a number was ever handed out for (one small query)."""
    return set(NumberSequence.objects.values_list('prefix', flat=True))
