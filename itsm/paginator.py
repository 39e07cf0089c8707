"""Page-number pagination that never counts a whole table: lists and the API count matching rows exactly up to
`COUNT_BOUND` and beyond it only say that there are more.

A count of a million tickets reads every row (tens of milliseconds, growing with the table) on every page;
`SELECT count(*) FROM (SELECT ... LIMIT bound + 1)` stops after the bound. Pages within the bound keep their
numbers; beyond it the list is read by sorting the other way round, by filters, or (API) by cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.db import models
from django.utils.functional import cached_property

COUNT_BOUND = 10_000


def bounded_count(rows, bound: int = COUNT_BOUND) -> int:
    """How many rows `rows` holds, counting at most `bound + 1` of them (more than `bound` returns `bound + 1`)."""
    if isinstance(rows, models.QuerySet):
        return rows.order_by().values('pk')[: bound + 1].count()
    return min(len(rows), bound + 1)


class BoundedPaginator(Paginator):
    """A `Paginator` whose `count` is exact up to `bound` rows and `bound` beyond (then `count_exact` is False)."""

    bound = COUNT_BOUND

    def __init__(self, *args, counted: int | None = None, **kwargs):
        """`counted`: how many rows the list holds when the caller has counted them already (no count query)."""
        super().__init__(*args, **kwargs)
        if counted is not None:
            self.counted = min(counted, self.bound + 1)

    @cached_property
    def counted(self) -> int:
        return bounded_count(self.object_list, self.bound)

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.bound)

    @cached_property
    def count_exact(self) -> bool:
        return self.counted <= self.bound

    @property
    def count_text(self) -> str:
        """The count as pages show it: '1234', or 'more than 10,000' past the bound."""
        return str(self.count) if self.count_exact else f'more than {self.bound:,}'


@dataclass
class KeysetPage:
    """A page of rows read after a row of the list by its sort key (`itsm.keyset`), past the pages counted: no
    number, a link to the next rows and one back to the first page. `paginator` still gives the bounded count."""

    object_list: list[Any]
    paginator: BoundedPaginator
    next_url: str
    first_url: str
    is_keyset: bool = True

    def has_other_pages(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self.object_list)
