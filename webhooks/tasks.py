"""Celery tasks of outbound webhooks: thin wrappers around `webhooks.services`."""

from celery import shared_task


@shared_task(ignore_result=True)
def deliver_task(delivery_id: int) -> bool:
    """Send a delivery's attempt if it is due (a duplicate or early message finds nothing to claim)."""
    from .services import delivery_attempt

    return delivery_attempt(delivery_id=delivery_id) is not None


@shared_task(ignore_result=True)
def webhook_sweep_task() -> int:
    """Send retries that are due but whose queued message was lost."""
    from .services import webhook_sweep

    return webhook_sweep()


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5, ignore_result=True)
def disabled_notice_task(subscription_id: int) -> bool:
    from .services import disabled_notice

    return disabled_notice(subscription_id=subscription_id) is not None
