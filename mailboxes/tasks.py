"""Celery tasks of inbound e-mail: thin wrappers that call a service."""

from celery import shared_task


@shared_task
def poll_mailboxes_task() -> dict:
    """Poll every active mailbox (beat runs this every MAILBOX_POLL_SECONDS)."""
    from .services import poll_all

    return {
        result.mailbox: {**result.outcomes, 'skipped': result.skipped, 'error': result.error} for result in poll_all()
    }
