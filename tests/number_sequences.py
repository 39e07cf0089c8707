"""Reference numbers start afresh for each test on PostgreSQL, as they do on SQLite.

PostgreSQL numbers from sequences (`itsm.numbering`), and a sequence does not roll back with a test's transaction.
So after a test whose data is gone (a test function, or the last test of a Django `TestCase` class) every number
sequence goes back to its start; between the tests of one class it goes back to where the class's own data left it.
A module marked `module_data` keeps data loaded once for all its tests: its sequences go back after its last test.
"""

from __future__ import annotations

import unittest

import pytest
from django.conf import settings
from django.db import connection
from pytest_django.plugin import blocking_manager_key

_SEQUENCES = (
    "SELECT format('%%I.%%I', schemaname, sequencename), last_value, start_value FROM pg_sequences "
    'WHERE schemaname = current_schema() AND sequencename LIKE %s'
)
_after_setup = pytest.StashKey[dict]()


def _in_test_database() -> bool:
    return settings.IS_POSTGRES and connection.settings_dict['NAME'].startswith('test_')


def _positions(item) -> dict[str, tuple[int | None, int]]:
    from itsm.numbering import SEQUENCE_PREFIX

    with item.config.stash[blocking_manager_key].unblock(), connection.cursor() as cursor:
        cursor.execute(_SEQUENCES, [SEQUENCE_PREFIX.replace('_', r'\_') + '%'])
        return {name: (last, start) for name, last, start in cursor.fetchall()}


def _restore(item, positions: dict[str, tuple[int | None, int]]) -> None:
    with item.config.stash[blocking_manager_key].unblock(), connection.cursor() as cursor:
        for name, (last, start) in _positions(item).items():
            kept = positions.get(name, (None, start))[0]
            if kept == last:
                continue
            if kept is None:
                cursor.execute('SELECT setval(%s::regclass, %s, false)', [name, start])
            else:
                cursor.execute('SELECT setval(%s::regclass, %s)', [name, kept])


def _in_test_case_class(item) -> bool:
    return item.cls is not None and issubclass(item.cls, unittest.TestCase)


def _without_database(item) -> bool:
    """A `SimpleTestCase` (not a `TransactionTestCase`) may not query, so it moves no sequence; Django refuses
    even our reads of the sequences while its class runs."""
    from django.test import SimpleTestCase, TransactionTestCase

    cls = item.cls
    return cls is not None and issubclass(cls, SimpleTestCase) and not issubclass(cls, TransactionTestCase)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    result = yield
    # After the class's setUpTestData: what the following tests of the class start from.
    if _in_test_case_class(item) and not _without_database(item) and _in_test_database():
        item.stash[_after_setup] = _positions(item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    if _in_test_database() and not _without_database(item):
        module_goes_on = nextitem is not None and nextitem.module is item.module
        if item.get_closest_marker('module_data') and module_goes_on:
            return result
        class_goes_on = _in_test_case_class(item) and nextitem is not None and nextitem.cls is item.cls
        _restore(item, item.stash.get(_after_setup, {}) if class_goes_on else {})
    return result
