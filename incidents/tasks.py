"""Celery tasks of incidents: thin wrappers that fetch by id and call a service."""

from celery import shared_task


@shared_task
def incident_auto_close_task() -> int:
    from .services import ticket_close_stale

    return ticket_close_stale()
