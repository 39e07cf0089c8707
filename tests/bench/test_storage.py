"""The storage report: bytes per ticket by table and by index, and which indexes another one makes redundant."""

from __future__ import annotations

import pytest

from bench.bench_storage import IndexSize, mark_prefixes, report_of


def _index(name: str, columns: tuple, *, unique: bool = False, predicate: str = '', table: str = 't') -> IndexSize:
    return IndexSize(table, name, 8192, 0, unique, columns, predicate)


def test_an_index_led_by_another_is_marked_unless_it_is_unique_or_partial_differently():
    plain, like = 1, 2  # operator classes: a LIKE index serves other lookups than a plain one on the same column
    marked = mark_prefixes(
        [
            _index('caller', ((3, plain),)),
            _index('caller_state', ((3, plain), (4, plain))),
            _index('kind_like', ((5, like),)),
            _index('kind_state', ((5, plain), (4, plain))),
            _index('number_key', ((6, plain),), unique=True),
            _index('number_state', ((6, plain), (4, plain))),
            _index('open_group', ((7, plain),), predicate='state = open'),
            _index('group_state', ((7, plain), (4, plain))),
            _index('expression', ()),
            _index('other_table_caller', ((3, plain),), table='u'),
        ]
    )
    assert {i.index: i.prefix_of for i in marked if i.prefix_of} == {'caller': 'caller_state'}


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_report_lists_the_tickets_tables_and_their_indexes():
    from django.db import connection

    from tests.factories import make_ticket

    make_ticket()
    with connection.cursor() as cursor:
        report = report_of(cursor)
    lines = report.splitlines()
    assert lines[0].startswith('storage per ticket: 1 tickets')
    tables = [line.split()[0] for line in lines if line.split()]
    for table in ('incidents_ticket', 'itsm_timelineentry', 'sla_slaclock', 'sla_clockevent', 'reports_dailyrollup'):
        assert table in tables
    assert any(line.split()[:2] == ['itsm_timelineentry', 'timeline_record_at'] for line in lines if line.split())
