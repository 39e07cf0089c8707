"""The incident page's "Predicted resolution" card (staff)."""

from __future__ import annotations

from typing import Any

from itsm.permissions import user_can

from .models import Prediction
from .selectors import prediction_of


def ticket_panel(request, ticket) -> dict[str, Any] | None:
    """Staff who may read predictions see the open ticket's: by when, the 80 % band, from how many tickets and at
    which level (one query)."""
    user = request.user
    if user.is_requester_only or not user_can(user, Prediction, 'view') or not ticket.is_open:
        return None
    prediction = prediction_of(ticket)
    return {'prediction': prediction}
