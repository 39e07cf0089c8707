"""Celery tasks of the knowledge base: thin wrappers that call a service."""

from celery import shared_task


@shared_task
def knowledge_review_reminders_task() -> int:
    """Remind the owners of live articles past their review date (knowledge.reviews); once per article and review
    date however many runs overlap. Returns how many reminders this run sent."""
    from .reviews import send_review_reminders

    return send_review_reminders()
