"""Core Celery tasks. Tasks stay thin: they call services and hold no business logic."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def ping() -> str:
    """Round trip through the broker and the result backend; used to check that a worker answers."""
    return 'pong'


@shared_task(ignore_result=True)
def run_tasks_task(calls: list[list]) -> str:
    """The tasks one transaction sent after its commit in one message (`itsm.oncommit.task_after_commit`), as
    [task name, arguments] pairs: each runs here in turn, and one that fails is logged and leaves the others to
    run."""
    from celery import current_app

    outcomes = []
    for name, args in calls:
        try:
            current_app.tasks[name](*args)
            outcomes.append(f'{name}: done')
        except Exception:
            logger.exception('Task %s, sent after a commit with others, failed', name)
            outcomes.append(f'{name}: failed')
    return '; '.join(outcomes)


@shared_task(ignore_result=True)
def deliver_notification_task(outbox_ids: list[int] | int) -> str:
    """Deliver the outbox rows one transaction wrote, now (queued after its commit; a single id is what an older
    release queued). Idempotent: a row already sent, or being sent by another worker, is skipped; a failure is
    recorded on the row and retried by the sweep."""
    from .notify import deliver_outbox

    statuses = []
    for outbox_id in [outbox_ids] if isinstance(outbox_ids, int) else outbox_ids:
        try:
            statuses.append(deliver_outbox(outbox_id))
        except Exception:  # one row's trouble leaves the others to go; the sweep retries this one
            logger.exception('Could not deliver outbox row %s', outbox_id)
            statuses.append('error')
    return ', '.join(statuses)


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
