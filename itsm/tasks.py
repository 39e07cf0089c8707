"""Core Celery tasks. Tasks stay thin: they call services and hold no business logic."""

from celery import shared_task


@shared_task
def ping() -> str:
    """Round trip through the broker and the result backend; used to check that a worker answers."""
    return 'pong'
