"""Demo predictions: the duration profiles built from the demo's completed tickets, and every open ticket's
prediction (what the hourly `predictions-profiles` job would do). Idempotent: a rebuild replaces what was there."""

from __future__ import annotations

from . import services


def load(log=print) -> None:
    profiles, predictions = services.predictions_tick()
    log(f'predictions: {profiles} duration profiles, {predictions} open tickets predicted')
