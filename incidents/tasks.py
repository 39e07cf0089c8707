"""Celery tasks of incidents: thin wrappers that fetch by id and call a service."""

from celery import shared_task


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def send_ticket_notification_task(ticket_id: int, event: str, recipients: list[str], extra: dict | None = None):
    from .mail import send_ticket_notification

    return send_ticket_notification(ticket_id=ticket_id, event=event, recipients=recipients, extra=extra or {})


@shared_task
def incident_auto_close_task() -> int:
    from .services import ticket_close_stale

    return ticket_close_stale()
