"""Concurrency claims are tested with real parallel connections: each function on its own thread (and so its own
database connection), all released at the same moment."""

from __future__ import annotations

import threading

from django.db import connection


def run_in_parallel(functions, *, refused: tuple[type[BaseException], ...] = (), timeout: float = 120) -> list:
    """Run `functions` at once; per function `('ok', result)`, `('refused', exc)` for an exception of a `refused`
    type (a service saying no), else `('error', exc)`, in the order given."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            results[index] = ('ok', function())
        except refused as exc:
            results[index] = ('refused', exc)
        except BaseException as exc:  # reported by the caller's assertions
            results[index] = ('error', exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
