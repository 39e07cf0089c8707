import threading

import pytest
from django.db import connection, transaction

from itsm.models import NumberSequence
from itsm.numbering import (
    format_number,
    move_sequence_past,
    next_number,
    next_numbers,
    peek_next_value,
    prefixes_in_use,
    uses_sequences,
)
from tests.concurrency import run_in_parallel


@pytest.mark.django_db
def test_numbers_start_at_the_prefix_start_and_increase():
    # Prefixes no other test takes: a sequence made by an earlier test keeps the start it was made with.
    assert next_number('STRT', start=1001) == 'STRT0001001'
    assert next_number('STRT', start=1001) == 'STRT0001002'
    assert next_number('DFLT') == 'DFLT0000101'
    assert {'STRT', 'DFLT'} <= prefixes_in_use()


@pytest.mark.django_db
def test_a_block_of_numbers_shares_the_sequence_with_single_numbers():
    first = next_number('BLK', start=1001)
    assert next_numbers('BLK', 3, start=1001) == ['BLK0001002', 'BLK0001003', 'BLK0001004']
    assert next_number('BLK', start=1001) == 'BLK0001005'
    assert first == 'BLK0001001'
    assert next_numbers('BLK', 0) == []


@pytest.mark.django_db
def test_a_prefix_must_be_letters_and_digits():
    for prefix in ('', 'IN-C', 'X"; DROP', 'TOOLONGPREFIX'):
        with pytest.raises(ValueError):
            next_number(prefix)


def test_format_number_pads_to_seven_digits():
    assert format_number('CI', 101) == 'CI0000101'
    assert format_number('INC', 12345678) == 'INC12345678'


@pytest.mark.django_db
def test_a_rolled_back_number_is_never_handed_out_twice():
    """SQLite's table counter rolls back with the transaction; a PostgreSQL sequence leaves a gap instead."""
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_number('RB') == 'RB0000101'
        raise RuntimeError('creation failed')
    if uses_sequences():
        assert next_number('RB') == 'RB0000102'
        assert not NumberSequence.objects.filter(prefix='RB').exists(), 'the table counter is not used'
    else:
        assert next_number('RB') == 'RB0000101'
        assert NumberSequence.objects.get(prefix='RB').last == 101


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sequence_continues_a_prefix_counted_in_the_table_before():
    NumberSequence.objects.create(prefix='OLD', last=5000)
    assert next_number('OLD', start=1001) == 'OLD0005001'


@pytest.mark.postgres
@pytest.mark.django_db
def test_moving_a_sequence_past_loaded_numbers_never_moves_it_back():
    assert peek_next_value('LOAD', start=1001) == 1001
    move_sequence_past('LOAD', 1500, start=1001)
    assert peek_next_value('LOAD') == 1501
    move_sequence_past('LOAD', 1200, start=1001)
    assert next_number('LOAD') == 'LOAD0001501'


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_connections_never_share_a_number():
    """Eight threads, each on its own PostgreSQL connection, take numbers at the same time."""
    workers, per_worker = 8, 25
    barrier = threading.Barrier(workers)
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work():
        try:
            barrier.wait()
            mine = []
            for _ in range(per_worker):
                with transaction.atomic():
                    mine.append(next_number('PAR', start=1001))
            with lock:
                taken.extend(mine)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(taken) == workers * per_worker
    assert len(set(taken)) == len(taken), 'a number was handed out twice'
    assert sorted(taken) == [format_number('PAR', n) for n in range(1001, 1001 + workers * per_worker)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_number_is_taken_while_another_transaction_holding_one_stays_open():
    """The first transaction takes a number and stays open; a second one, on its own connection, takes the next
    number and commits meanwhile: numbering holds no lock until the end of a transaction."""
    next_number('HLD', start=1001)  # the sequence exists before the race
    held, released = threading.Event(), threading.Event()

    def hold_open():
        with transaction.atomic():
            number = next_number('HLD')
            held.set()
            released.wait(timeout=30)
        return number

    def take_while_held():
        assert held.wait(timeout=30)
        try:
            with transaction.atomic():
                return next_number('HLD')
        finally:
            released.set()

    (first_status, first), (second_status, second) = run_in_parallel([hold_open, take_while_held], timeout=10)
    assert (first_status, second_status) == ('ok', 'ok'), (first, second)
    assert {first, second} == {'HLD0001002', 'HLD0001003'}
