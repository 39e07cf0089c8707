"""Celery tasks of predictions: thin wrappers around `predictions.services`; failures are logged, never raised."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def prediction_refresh_task(ticket_id: int) -> bool:
    """One ticket's prediction, after it changed (queued by the hooks)."""
    from .services import prediction_refresh

    try:
        return prediction_refresh(ticket_id=ticket_id) is not None
    except Exception:
        logger.exception('The prediction of ticket %s was not refreshed', ticket_id)
        return False


@shared_task(ignore_result=True)
def predictions_profiles_task() -> tuple[int, int]:
    """The beat's `predictions-profiles`: rebuild the duration profiles, then every open ticket's prediction."""
    from .services import predictions_tick

    return predictions_tick()
