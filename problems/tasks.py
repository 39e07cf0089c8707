"""Celery tasks of problems: thin wrappers that call a service."""

from celery import shared_task


@shared_task
def problem_candidate_scan_task() -> dict[str, int]:
    """The recurrence scan (problems.candidates.scan_candidates) over the configured window; idempotent."""
    from .candidates import scan_candidates

    result = scan_candidates()
    return {
        'incidents': result.incidents,
        'clusters': result.clusters,
        'created': len(result.created),
        'updated': len(result.updated),
        'reproposed': len(result.reproposed),
    }
