"""Map a function over a stream on worker processes: results in input order, a bounded number in flight.

Used where a command's work is CPU-bound Python (parsing, TF-IDF): one process per core, the
inputs listed lazily so that memory stays flat however many there are.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

__all__ = ["ordered_map", "chunked", "default_workers", "WorkerDied"]


class WorkerDied(RuntimeError):
    """A worker process ended without an answer (killed, or out of memory)."""


def default_workers() -> int:
    """One worker per CPU core this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` consecutive items (the last one shorter), taken lazily."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _start_worker(initializer, initargs) -> None:
    # Ctrl-C goes to the whole process group: the main process alone handles it, the workers ignore it
    # (no traceback from each) and are shut down by the main process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


def ordered_map(
    fn: Callable[[Any], Any],
    items: Iterable,
    workers: int,
    initializer: Callable | None = None,
    initargs: tuple = (),
    in_flight_per_worker: int = 4,
) -> Iterator:
    """Yield ``fn(item)`` for each item, in input order, computed on ``workers`` processes.

    At most ``workers * in_flight_per_worker`` items are submitted and not yet yielded, and ``items``
    is consumed only as fast as results are taken. With ``workers <= 1`` everything runs here, in this
    process (``initializer`` too). Processes are forked where the system can (so a loaded model is
    shared, not pickled or loaded again); ``fn`` and ``initializer`` must be module-level functions.

    Raises:
        WorkerDied: A worker was killed (the OOM killer, a signal): the run stops instead of waiting.
        Exception: Whatever ``fn`` raised, from the item that raised it.
    """
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        yield from map(fn, items)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(initializer, initargs))
    pending: deque = deque()
    limit = workers * max(1, in_flight_per_worker)
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        raise WorkerDied("a worker process died without an answer (killed, or out of memory?)") from None
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
