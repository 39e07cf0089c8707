"""Celery tasks of the status page: thin wrappers that call a service."""

from celery import shared_task


@shared_task
def send_update_task(update_id: int) -> int:
    """E-mail one public update to its subscribers (each at most once, even when the task runs again)."""
    from .services import send_update

    return send_update(update_id=update_id)
