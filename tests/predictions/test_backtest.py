"""A smoke test of the backtest's arithmetic on a handful of hand-made incidents (the real log runs in bench/)."""

from __future__ import annotations

import datetime as dt

import pytest

from bench.eta_backtest import Incident, backtest, split, table

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def incident(day: int, hours: float, *, group: int = 1) -> Incident:
    values = {'kind': 'incident', 'priority': 3, 'category': None, 'service': None, 'group': group, 'channel': 'email'}
    opened = START + dt.timedelta(days=day)
    return Incident(values, opened, opened + hours * HOUR)


def test_train_on_the_first_seventy_percent_of_time_and_score_the_rest():
    # Days 0-5: group 1 takes 2 h, group 2 takes 20 h; days 8-9: the same again, to be predicted.
    history = [incident(d, 2) for d in range(6)] + [incident(d, 20, group=2) for d in range(6)]
    later = [incident(8, 2), incident(9, 20, group=2)]
    train, test, cut = split([*history, *later])
    assert cut == START + dt.timedelta(days=9 * 0.7) and (len(train), len(test)) == (12, 2)
    scores = backtest([*history, *later], minimum=3, checkpoints=(('at opening', 0.0), ('after 1 hour', 3600.0)))
    naive, lookup = scores[('at opening', 'naive baseline')], scores[('at opening', 'lookup')]
    assert naive.count == lookup.count == 2
    assert naive.mae == pytest.approx(9.0)  # overall median 11 h: 9 h off both ways
    assert lookup.mae == pytest.approx(0.0) and lookup.coverage == 1.0  # each group's own durations
    assert scores[('after 1 hour', 'conditional')].mae == pytest.approx(0.0)
    assert 'MAE h' in table(scores, checkpoints=(('at opening', 0.0), ('after 1 hour', 3600.0))).splitlines()[0]
