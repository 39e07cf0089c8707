"""`/health/`: 200 when the database and the broker/cache answer, 503 (saying which failed) otherwise."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute('SELECT 1')
        cursor.fetchone()


def check_cache() -> None:
    cache.set('pitcrew:health', 'ok', 10)
    if cache.get('pitcrew:health') != 'ok':
        raise RuntimeError('cache did not return the value it was given')


def check_broker() -> None:
    from itsm.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {'database': check_database, 'cache': check_cache, 'broker': check_broker}


@never_cache
def health(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = 'ok'
        except Exception as exc:  # any failure of a dependency makes the instance unhealthy
            logger.warning('health check %s failed: %s', name, exc)
            results[name] = f'error: {exc.__class__.__name__}'
    healthy = all(value == 'ok' for value in results.values())
    body = {'status': 'ok' if healthy else 'unavailable', 'checks': results, 'version': settings.PITCREW_VERSION}
    return JsonResponse(body, status=200 if healthy else 503)
