"""Celery tasks of reports: thin wrappers around the services. Beat runs `reports_tick_task` (itsm/celery.py)."""

from celery import shared_task


@shared_task(ignore_result=True)
def reports_tick_task() -> str:
    """Re-roll the days whose tickets changed, then send the scheduled reports that are due."""
    from .services import rollup_refresh, schedules_run_due

    refreshed = rollup_refresh()
    sent = schedules_run_due()
    return f'{refreshed}; {len(sent)} scheduled report{"s" if len(sent) != 1 else ""} generated'


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5, ignore_result=True)
def report_email_task(report_id: int) -> int:
    from .services import report_email

    return report_email(report_id=report_id)
