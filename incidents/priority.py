"""Priority from impact × urgency (domain §3): the matrix is data, with ceil((i + u) / 2) as its default."""

from itsm import snapshots
from itsm.choices import Impact, Urgency

from .models import PriorityMatrixEntry


def default_priority(impact: str, urgency: str) -> int:
    i, u = Impact.values.index(impact), Urgency.values.index(urgency)
    return -(-(i + u) // 2)  # ceil without floats


def default_matrix() -> dict[tuple[str, str], int]:
    return {(i, u): default_priority(i, u) for i in Impact.values for u in Urgency.values}


def matrix() -> dict[tuple[str, str], int]:
    """The matrix as stored (cells an admin has not saved fall back to the default), read once per process until a
    cell changes (`itsm.snapshots`). Shared: read-only."""
    return snapshots.snapshot(snapshots.DESK_RULES, 'priority-matrix', _stored_matrix)


def _stored_matrix(db: str) -> dict[tuple[str, str], int]:
    cells = default_matrix()
    cells.update({(e.impact, e.urgency): e.priority for e in PriorityMatrixEntry.objects.using(db)})
    return cells


def compute_priority(impact: str, urgency: str) -> int:
    return matrix()[(impact, urgency)]


def impact_and_urgency(channel: str, impact: str | None, urgency: str | None) -> tuple[str, str]:
    """What a ticket gets when impact or urgency is left open: reports by e-mail are P4 (none × negotiated,
    domain §3) unless one of them was given; anything else is low × normal."""
    if channel == 'email' and not impact and not urgency:
        return Impact.NONE, Urgency.NEGOTIATED
    return impact or Impact.LOW, urgency or Urgency.NORMAL
