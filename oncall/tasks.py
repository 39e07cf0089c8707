"""Celery tasks of on-call: thin wrappers around `oncall.services`."""

from celery import shared_task


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5, ignore_result=True)
def send_page_task(page_id: int) -> bool:
    """Send one page (e-mail, inbox, webhook event); nothing for a page acknowledged meanwhile."""
    from .services import send_page

    return send_page(page_id=page_id) is not None


@shared_task(ignore_result=True)
def oncall_escalate_task() -> int:
    """The `oncall-escalate` beat: page the next level of pages left unacknowledged (each escalation once)."""
    from .services import escalate_due

    return escalate_due()
