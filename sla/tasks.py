"""Celery tasks of service level management: thin wrappers that call a service. The sweep is scheduled by beat
(`itsm/celery.py`); its interval is editable in django-celery-beat's periodic tasks."""

from celery import shared_task


@shared_task(ignore_result=True)
def sla_sweep_task() -> str:
    """Announce the warnings and breaches that have fallen due (each exactly once)."""
    from .services import sla_sweep

    return str(sla_sweep())


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5, ignore_result=True)
def sla_notify_task(event_ids: list[int]) -> int:
    from .notifications import send_clock_events

    return send_clock_events(event_ids=event_ids)


@shared_task(ignore_result=True)
def sla_clocks_refresh_task(calendar_id: int) -> int:
    from .services import clocks_refresh

    return clocks_refresh(calendar_id=calendar_id)


@shared_task(ignore_result=True)
def sla_queue_forecast_task() -> str:
    """Forecast the running resolution clocks from their groups' queues; warn once about those likely to breach."""
    from .forecast import queue_forecast

    return str(queue_forecast())
