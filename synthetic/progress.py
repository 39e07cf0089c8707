"""A progress bar on stderr: done/total, rate and time left, redrawn at most a few times a second (stdlib only)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f'{hours}:{minutes:02d}:{secs:02d}' if hours else f'{minutes:02d}:{secs:02d}'


class Progress:
    """`with Progress('tickets', total) as bar: bar.advance(n)`; silent when `enabled` is false.

    On a terminal the line is redrawn in place; elsewhere (a log file, CI) a line is written every few seconds.
    """

    WIDTH = 30

    def __init__(self, label: str, total: int, *, enabled: bool = True, stream: TextIO | None = None):
        self.label, self.total, self.enabled = label, max(total, 0), enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = self.drawn = time.monotonic()
        self.interactive = bool(getattr(self.stream, 'isatty', lambda: False)())
        self.interval = 0.2 if self.interactive else 10.0

    def __enter__(self) -> Progress:
        self.started = self.drawn = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.enabled and time.monotonic() - self.drawn >= self.interval:
            self._draw()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(share * self.WIDTH)
        bar = '#' * filled + '-' * (self.WIDTH - filled)
        left = (self.total - self.done) / rate if rate and self.done < self.total else 0
        return (
            f'{self.label:<12} [{bar}] {share:6.1%} {self.done:>11,}/{self.total:,} '
            f'{rate:>9,.0f}/s  elapsed {_duration(elapsed)}  left {_duration(left)}'
        )

    def _draw(self, *, final: bool = False) -> None:
        self.drawn = time.monotonic()
        if self.interactive:
            self.stream.write('\r' + self.line() + ('\n' if final else ''))
        else:
            self.stream.write(self.line() + '\n')
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self._draw(final=True)
            self.enabled = False
