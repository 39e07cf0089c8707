import threading

import pytest
from django.db import connection, transaction

from itsm.models import NumberSequence
from itsm.numbering import format_number, next_number, next_numbers


@pytest.mark.django_db
def test_numbers_start_at_the_prefix_start_and_increase():
    assert next_number('TST', start=1001) == 'TST0001001'
    assert next_number('TST', start=1001) == 'TST0001002'
    assert next_number('OTH') == 'OTH0000101'
    assert NumberSequence.objects.get(prefix='TST').last == 1002


@pytest.mark.django_db
def test_rolled_back_number_is_not_taken():
    with pytest.raises(RuntimeError), transaction.atomic():
        next_number('RB')
        raise RuntimeError('creation failed')
    assert next_number('RB') == 'RB0000101'


@pytest.mark.django_db
def test_a_block_of_numbers_shares_the_sequence_with_single_numbers():
    first = next_number('BLK', start=1001)
    assert next_numbers('BLK', 3, start=1001) == ['BLK0001002', 'BLK0001003', 'BLK0001004']
    assert next_number('BLK', start=1001) == 'BLK0001005'
    assert first == 'BLK0001001'
    assert next_numbers('BLK', 0) == []


def test_format_number_pads_to_seven_digits():
    assert format_number('CI', 101) == 'CI0000101'
    assert format_number('INC', 12345678) == 'INC12345678'


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
