"""Demo data of change management: the CABs and the default CAB rules (`changes.cab.load_demo`). Idempotent."""

from __future__ import annotations

from . import cab


def load(log=print) -> None:
    cab.load_demo(log=log)
