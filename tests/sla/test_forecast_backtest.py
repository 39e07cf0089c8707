"""The backtest's replay on a handful of hand-built clocks: the queue forecast warns ahead of a breach a lone clock
would not foresee, and both methods are scored for recall with lead time and false alarms."""

import datetime as dt

from bench.queue_forecast_backtest import ClockHistory, backtest, evaluate, replay

T = dt.datetime(2026, 3, 2, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def clock(pk, *, start_h, due_h, stop_h=None, breach=False, fixed_h=None, accepted=False):
    started = T + start_h * H
    return ClockHistory(
        pk=pk,
        group=1,
        priority=3,
        opened_at=started,
        started_at=started,
        stopped_at=None if stop_h is None else T + stop_h * H,
        due_at=T + due_h * H,
        breached_at=T + due_h * H if breach else None,
        accepted_at=started if accepted else None,
        fixed_warned_at=None if fixed_h is None else T + fixed_h * H,
    )


def test_the_replay_warns_the_clocks_behind_the_queue():
    # One completion an hour over the last 4 h: four tickets opened at 10:00, each due at 13:00 (3 h).
    completions = {1: [T + (6.5 + n) * H for n in range(4)]}
    clocks = [clock(n, start_h=10, due_h=13, stop_h=11 + 2 * n, breach=n >= 3) for n in range(4)]
    first = replay(clocks, completions, start=T + 10 * H, end=T + 10.1 * H, window_hours=4, min_rate=0.1)
    # Positions 0..3: expected after 1, 2, 3 and 4 h; only the last lands after 13:00 (the third on it: in time).
    assert first == {3: T + 10 * H}
    # A quarter of an hour later the same pace no longer finishes the third by 13:00: warned at the next step.
    later = replay(clocks, completions, start=T + 10 * H, end=T + 10.3 * H, window_hours=4, min_rate=0.1)
    assert later == {3: T + 10 * H, 2: T + 10.25 * H}


def test_scores_recall_with_lead_time_and_false_alarms():
    clocks = [
        clock(1, start_h=0, due_h=8, stop_h=9, breach=True),
        clock(2, start_h=0, due_h=8, stop_h=9, breach=True),
        clock(3, start_h=0, due_h=8, stop_h=5),
    ]
    warned = {1: T + 7 * H, 2: T + 7.75 * H, 3: T + 2 * H}
    figures = evaluate('m', clocks, warned)
    assert (figures.breaches, figures.warned_ahead, figures.warned, figures.false_alarms) == (2, 1, 3, 1)
    assert figures.recall == 0.5 and round(figures.false_alarm_share, 2) == 0.33


def test_both_methods_side_by_side():
    completions = {1: [T + n * H for n in range(1, 40)]}
    clocks = [
        clock(n, start_h=42, due_h=45, stop_h=43 + n, breach=n >= 3, fixed_h=44.25, accepted=True) for n in range(5)
    ]
    figures = backtest(clocks, completions, start=T, end=T + 60 * H, window_hours=40, min_rate=0.1)
    fixed, queue, either = figures
    assert fixed.breaches == queue.breaches == 2
    assert fixed.warned_ahead == 2 and fixed.warned == 5  # 75 % at 44:15, 45 min before every due time
    assert queue.warned_ahead == 2 and queue.false_alarms == 1  # a ~1/h group: positions 3 and 4 late, and 2 close
    assert either.warned == 5
