"""Core Celery tasks. Tasks stay thin: they call services and hold no business logic."""

from celery import shared_task


@shared_task
def ping() -> str:
    """Round trip through the broker and the result backend; used to check that a worker answers."""
    return 'pong'


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def send_notification_task(
    content_type_id: int, object_id: int, event: str, recipients: list[str], label: str, extra: dict, public: bool
) -> bool:
    from .notify import deliver_queued

    return deliver_queued(content_type_id, object_id, event, recipients, label, extra, public)
