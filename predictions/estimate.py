"""How long a ticket will take, from how long similar completed tickets took: plain Python, no database.

A ticket's similarity keys are its kind, priority, category, service, group and channel. Durations (opened →
completed, wall-clock, as MTTR counts them) are grouped under each key at every level of `LEVELS`, from the most
specific (all five keys) down to the kind alone. Each group is summarised by its sample size and a grid of
quantiles (`GRID`: every 5 %), from which p10, p50 and p90 are read, and from which the quantiles of the durations
longer than a time already elapsed are derived (`conditional`).

Used alike by the profile rebuild (`predictions.services`) and the backtest (`bench/eta_backtest.py`).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ['GRID', 'KEYS', 'LEVELS', 'Estimate', 'Summary', 'choose', 'conditional', 'group', 'quantile', 'summarise']

# The similarity keys, in the order they are dropped when too few tickets share them (the last one first).
KEYS = ('priority', 'category', 'service', 'group', 'channel')
# Levels from the most specific to the broadest: each keeps the first n keys (the kind is always kept).
LEVELS = ('channel', 'group', 'service', 'category', 'priority', 'all')
LEVEL_KEYS = {level: KEYS[: len(KEYS) - i] for i, level in enumerate(LEVELS)}
# Quantile grid stored per profile: 0 %, 5 %, … 100 %.
GRID = tuple(i / 20 for i in range(21))


def quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of ascending `ordered` values, linearly interpolated (as PostgreSQL's percentile_cont)."""
    if not ordered:
        raise ValueError('no values')
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Summary:
    """A group of durations (seconds): how many, and their quantiles on `GRID`."""

    samples: int
    grid: tuple[float, ...]

    def at(self, q: float) -> float:
        """The q-quantile, interpolated on the grid."""
        position = q * (len(self.grid) - 1)
        low = int(position)
        high = min(low + 1, len(self.grid) - 1)
        return self.grid[low] + (self.grid[high] - self.grid[low]) * (position - low)

    @property
    def p10(self) -> float:
        return self.at(0.1)

    @property
    def p50(self) -> float:
        return self.at(0.5)

    @property
    def p90(self) -> float:
        return self.at(0.9)


def summarise(ordered: Sequence[float]) -> Summary:
    return Summary(len(ordered), tuple(quantile(ordered, q) for q in GRID))


def _share_below(grid: Sequence[float], seconds: float) -> float:
    """The empirical distribution function read off the grid: the share of durations shorter than `seconds`."""
    if seconds <= grid[0]:
        return 0.0
    if seconds >= grid[-1]:
        return 1.0
    i = bisect.bisect_right(grid, seconds) - 1
    while i + 1 < len(grid) - 1 and grid[i + 1] == seconds:
        i += 1
    span = grid[i + 1] - grid[i]
    step = 1 / (len(grid) - 1)
    return i * step + (step * (seconds - grid[i]) / span if span else 0.0)


def conditional(summary: Summary, elapsed: float, q: float) -> float:
    """The q-quantile of the durations longer than `elapsed` seconds (a ticket already open that long); beyond the
    longest known duration, the elapsed time itself."""
    if elapsed <= 0:
        return summary.at(q)
    below = _share_below(summary.grid, elapsed)
    if below >= 1.0:
        return elapsed
    return max(elapsed, summary.at(below + q * (1 - below)))


def key_of(values: dict, level: str) -> tuple:
    """The profile key of a ticket's `values` (kind and the KEYS) at `level`: kind first, then the level's keys."""
    return (values['kind'], *(values[name] for name in LEVEL_KEYS[level]))


def group(rows: Iterable[tuple[dict, float]]) -> dict[tuple[str, tuple], Summary]:
    """Summaries of every key at every level, in one pass over (values, seconds) rows sorted by seconds."""
    durations: dict[tuple[str, tuple], list[float]] = defaultdict(list)
    for values, seconds in rows:
        for level in LEVELS:
            durations[(level, key_of(values, level))].append(seconds)
    return {key: summarise(ordered) for key, ordered in durations.items()}


@dataclass(frozen=True)
class Estimate:
    """What one ticket is predicted to take (seconds from opening), with the level and sample size behind it."""

    level: str
    samples: int
    typical: float  # the profile's median: how long such tickets usually take
    expected: float  # the prediction: median, or conditional median given the time elapsed
    low: float  # 10 %
    high: float  # 90 %


def choose(
    profiles: dict[tuple[str, tuple], Summary], values: dict, *, minimum: int, elapsed: float = 0.0
) -> Estimate | None:
    """The estimate from the most specific level with at least `minimum` samples, else from the kind's profile (all
    its tickets) however few; None when no completed ticket of the kind is known. With `elapsed` > 0 the quantiles
    are those of the durations longer than the elapsed time."""
    found = None
    for level in LEVELS:
        summary = profiles.get((level, key_of(values, level)))
        if summary is not None and summary.samples >= minimum:
            found = (level, summary)
            break
    if found is None:
        summary = profiles.get(('all', key_of(values, 'all')))
        if summary is None:
            return None
        found = ('all', summary)
    level, summary = found
    return Estimate(
        level=level,
        samples=summary.samples,
        typical=summary.p50,
        expected=conditional(summary, elapsed, 0.5),
        low=conditional(summary, elapsed, 0.1),
        high=conditional(summary, elapsed, 0.9),
    )
