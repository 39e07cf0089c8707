"""Process tuning: the garbage collector's thresholds come from the settings, and serving processes freeze what
they loaded at startup."""

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from itsm.runtime import freeze_startup_objects, tune_garbage_collector

REPOSITORY = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def thresholds_kept():
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_thresholds_come_from_the_settings(settings, thresholds_kept):
    assert gc.get_threshold() == tuple(settings.GC_THRESHOLDS)  # applied when Django started
    with override_settings(GC_THRESHOLDS=(1234, 5, 6)):
        tune_garbage_collector()
    assert gc.get_threshold() == (1234, 5, 6)


def test_empty_thresholds_leave_pythons_own(thresholds_kept):
    gc.set_threshold(700, 10, 10)
    with override_settings(GC_THRESHOLDS=()):
        tune_garbage_collector()
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize('value', [(1, 2), (0, 10, 10), (5, 5, 5, 5)])
def test_bad_thresholds_are_refused(value, thresholds_kept):
    with override_settings(GC_THRESHOLDS=value), pytest.raises(ImproperlyConfigured, match='three positive'):
        tune_garbage_collector()


def test_freezing_moves_what_is_loaded_out_of_the_collectors_sight():
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_the_wsgi_process_is_tuned_and_frozen_from_the_environment():
    environment = {**os.environ, 'DEBUG': 'true', 'GC_THRESHOLDS': '40000,30,90'}
    environment.pop('DJANGO_SETTINGS_MODULE', None)
    script = 'import gc, itsm.wsgi; print(gc.get_threshold(), gc.get_freeze_count() > 10000)'
    run = subprocess.run(
        [sys.executable, '-c', script], cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == '(40000, 30, 90) True'
