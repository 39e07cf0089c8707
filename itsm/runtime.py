"""Process-wide runtime tuning, applied once when Django starts (`ItsmConfig.ready`) and, for serving processes,
after the application is loaded (`freeze_startup_objects`)."""

from __future__ import annotations

import gc

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def tune_garbage_collector() -> None:
    """Set the collector's thresholds from `GC_THRESHOLDS` (Python's own when it is empty)."""
    thresholds = tuple(settings.GC_THRESHOLDS)
    if not thresholds:
        return
    if len(thresholds) != 3 or any(n < 1 for n in thresholds):
        raise ImproperlyConfigured(f'GC_THRESHOLDS takes three positive integers, not {thresholds!r}.')
    gc.set_threshold(*thresholds)


def freeze_startup_objects() -> None:
    """Move everything loaded so far (modules, URL patterns, templates, settings) out of the collector's sight: a
    full collection then walks only what requests made, and forked workers keep sharing those pages."""
    gc.collect()
    gc.freeze()
