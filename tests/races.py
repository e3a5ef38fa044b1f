"""Run one task from many threads released at the same instant, as racing users would."""

import threading
from collections.abc import Callable

from django.db import connection


def run_at_once(task: Callable[[int], object], count: int) -> tuple[list, list[Exception]]:
    """Call ``task(0)`` … ``task(count - 1)`` together; return (results, exceptions).

    Each thread has its own database connection, closed when its task ends.
    """
    barrier = threading.Barrier(count)
    results: list = []
    failures: list[Exception] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(task(index))
        except Exception as error:  # the caller decides which failures are expected
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, failures
