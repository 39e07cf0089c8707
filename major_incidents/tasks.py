"""Celery tasks of major incidents: thin wrappers that call a service."""

from celery import shared_task


@shared_task
def major_update_reminders_task() -> int:
    """Remind the communications lead of each missed update (major_incidents.cadence); exactly once per missed
    update however many runs overlap. Returns how many reminders this run sent."""
    from .cadence import send_overdue_reminders

    return send_overdue_reminders()
