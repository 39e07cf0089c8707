"""Core Celery tasks. Tasks stay thin: they call services and hold no business logic."""

from celery import shared_task


@shared_task
def ping() -> str:
    """Round trip through the broker and the result backend; used to check that a worker answers."""
    return 'pong'


@shared_task(ignore_result=True)
def deliver_notification_task(outbox_id: int) -> str:
    """Deliver one outbox row now (queued after the commit that wrote it). Idempotent: a row already sent, or
    being sent by another worker, is skipped; a failure is recorded on the row and retried by the sweep."""
    from .notify import deliver_outbox

    return deliver_outbox(outbox_id)


@shared_task(ignore_result=True)
def notification_outbox_sweep_task() -> str:
    """Deliver the outbox rows that are due (lost tasks, a killed worker, retries) and purge old sent rows."""
    from .notify import outbox_sweep

    return str(outbox_sweep())


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def send_notification_task(
    content_type_id: int, object_id: int, event: str, recipients: list[str], label: str, extra: dict, public: bool
) -> bool:
    """Kept for notifications a release before the outbox left on the broker: they go through a row now."""
    from .notify import deliver_queued

    return deliver_queued(content_type_id, object_id, event, recipients, label, extra, public)
