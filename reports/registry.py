"""Measures other apps compute over their own records, served beside the desk's by `/api/v1/metrics/{measure}/`.

The desk's measures (`reports.measures`) rest on the ticket counters and rollups. An app whose figures do not
(problems, say) registers each of its measures here from its AppConfig.ready, so reports never imports it::

    from reports.registry import RegisteredMeasure, register

    register(RegisteredMeasure(slug='time_to_root_cause', label='Mean time to root cause', unit='hours',
                               definition='...', counted_on='...', permission='problems.view_problem',
                               compute=measures.time_to_root_cause, filters=('priority', 'category')))

`compute(slice_)` takes a `reports.slices.Slice` and answers a dict of figures (with a `series` entry per period
where the measure has a trend); the API adds the definition and the slice as for every other measure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .slices import Slice

__all__ = ['RegisteredMeasure', 'get', 'register', 'registered']


@dataclass(frozen=True)
class RegisteredMeasure:
    slug: str
    label: str
    unit: str
    definition: str
    counted_on: str
    permission: str  # 'app_label.codename' needed to read it
    compute: Callable[[Slice], dict[str, Any]]
    # The slice filters the measure understands; any other filter is refused with a 400.
    filters: tuple[str, ...] = ()


_REGISTRY: dict[str, RegisteredMeasure] = {}


def register(measure: RegisteredMeasure) -> None:
    """Adds (or, on a second ready(), replaces) a measure. Its slug must not shadow one of the desk's."""
    from .measures import MEASURES

    if measure.slug in MEASURES:
        raise ValueError(f'Measure "{measure.slug}" is one of the desk measures.')
    _REGISTRY[measure.slug] = measure


def registered() -> tuple[RegisteredMeasure, ...]:
    return tuple(_REGISTRY.values())


def get(slug: str) -> RegisteredMeasure | None:
    return _REGISTRY.get(slug)
