"""Celery tasks of hypercare: thin wrappers around `hypercare.services`."""

from celery import shared_task


@shared_task(ignore_result=True)
def hypercare_sweep_task() -> dict:
    """Start and end the periods whose time came (each carried out once however sweeps overlap)."""
    from .services import hypercare_sweep

    return hypercare_sweep()


@shared_task(ignore_result=True)
def hypercare_daily_summary_task() -> int:
    """Send each running period's summary of the day to its service owner (once per period and day)."""
    from .services import send_daily_summaries

    return send_daily_summaries()
