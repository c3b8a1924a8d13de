"""Process pools that stop cleanly: results in input order, one Ctrl-C, and no hang on a dead worker.

:func:`ordered_map` is what ``summarize`` and ``classify`` run their chunks of files through;
:func:`deferred_interrupt` turns Ctrl-C into a flag the caller checks between chunks, so that an
interrupted run first makes what it wrote durable (and resumable) and then stops with one line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator, TypeVar

__all__ = ["WorkerDied", "Interrupted", "ordered_map", "deferred_interrupt", "sigterm_as_interrupt"]

T = TypeVar("T")
R = TypeVar("R")

_POLL = 0.2  # seconds between looks at the interrupt flag while waiting for a worker


class WorkerDied(RuntimeError):
    """A worker process died mid-run (killed by a signal, often the out-of-memory killer)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM, after the run made what it wrote durable; the message says what is left and how to go on.

    ``signum`` is the signal that stopped the run (a shell's exit code for it is ``128 + signum``).
    """

    def __init__(self, message: str = "", signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signum = int(signum)


def stopped_by(signum: int) -> str:
    """How a run stopped by ``signum`` says so: ``interrupted`` (Ctrl-C), ``terminated (SIGTERM)``."""
    return "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted"


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (``timeout``, Slurm, ``docker stop``, Kubernetes) raises :class:`Interrupted`
    as Ctrl-C raises ``KeyboardInterrupt``: ``finally`` blocks run, temporary files go, and the CLI says
    ``terminated (SIGTERM)`` in one line instead of dying without a word. Only in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(stopped_by(signum), signum)

    handler.stops_runs = True  # deferred_interrupt takes SIGTERM over from this handler, not from a caller's own
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _init(initializer: Callable | None, initargs: tuple, main: int = 0) -> None:
    # A terminal's Ctrl-C reaches every process of the group, and so does the SIGTERM of `timeout` or
    # Slurm: the workers leave both to the main process, which checkpoints and then kills them (no
    # traceback from each worker, no worker stuck mid-queue, no "worker died" for a scheduler's stop).
    # A worker whose main process dies is killed by the kernel (_die_with_parent).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(main)
    if initializer is not None:
        initializer(*initargs)


def _die_with_parent(main: int = 0) -> None:
    """On Linux, have the kernel kill this worker when the main process dies (SIGKILL, OOM killer).

    ``main`` is the main process's pid: when it is 1 itself (``docker run`` without an init), a
    parent pid of 1 is no sign that the parent died.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        parent = os.getppid()  # the main process, or a forkserver
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent or (parent == 1 and main != 1):  # the parent died before prctl took effect
            os._exit(1)


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int,
    initializer: Callable | None = None,
    initargs: tuple = (),
    in_flight: int = 4,
    mp_context=None,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[T, R]]:
    """Yield ``(item, fn(item))`` for each item, in input order, computed on ``workers`` processes.

    At most ``workers * in_flight`` items are submitted ahead of the one being waited for, so
    memory stays flat however many items there are. Closing the generator kills the workers at once
    instead of waiting for the queued work; a caller that stops on an exception of its own must close
    it (``contextlib.closing``), or the workers run on for as long as that exception is referenced.

    Raises:
        WorkerDied: A worker process died; the results yielded so far are complete.
        KeyboardInterrupt: ``stop()`` became true while waiting (checked every 0.2 s).
    """
    pool = ProcessPoolExecutor(workers, mp_context=mp_context, initializer=_init,
                               initargs=(initializer, initargs, os.getpid()))
    pending: deque = deque()
    try:
        it = iter(items)
        while True:
            while len(pending) < workers * in_flight:
                item = next(it, _END)
                if item is _END:
                    break
                pending.append((item, pool.submit(fn, item)))
            if not pending:
                return
            item, future = pending.popleft()
            yield item, _result(future, stop)
    except BrokenProcessPool:
        raise WorkerDied("a worker process died (killed by a signal: out of memory?)") from None
    finally:
        _kill(pool)


_END = object()


def _result(future, stop: Callable[[], bool]):
    while True:
        try:
            return future.result(timeout=_POLL)
        except FutureTimeout:
            if stop():
                raise KeyboardInterrupt from None


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: queued work is dropped and running workers are killed, not waited for."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(Exception):
            p.kill()
    # The pool's own thread reaps the killed workers too; a join racing it can return before that thread
    # has recorded the exit, and the worker then still looks alive. Once the thread has ended, none does.
    if manager is not None:
        manager.join(5)
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(5)


class _Flag:
    """Whether Ctrl-C (or SIGTERM) came (``flag()``), and whether it came twice (``flag.twice()``); ``signum``
    is the first one's signal."""

    def __init__(self) -> None:
        self.hits = 0
        self.signum = signal.SIGINT

    def __call__(self) -> bool:
        return self.hits > 0

    def twice(self) -> bool:
        return self.hits > 1


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[_Flag]:
    """Within the block, Ctrl-C (SIGINT) or SIGTERM only raises a flag, which the caller checks between units of work.

    Yields the flag: ``flag()`` says whether one came, ``flag.signum`` which. A second one raises
    ``KeyboardInterrupt`` at once, wherever the code is (then ``flag.twice()`` is true, and nothing
    half-written should be trusted). Outside the main thread (where signals cannot be caught) the flag
    never rises and the signals behave as usual. A SIGTERM handler of the program's own (or SIG_IGN) is left
    in place: only the default and :func:`sigterm_as_interrupt`'s are taken over.
    """
    flag = _Flag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        flag.hits += 1
        if flag.hits == 1:
            flag.signum = signum
        else:
            raise KeyboardInterrupt

    # SIGTERM too, unless the program handles it itself (or ignores it): its default, or sigterm_as_interrupt's
    term = signal.getsignal(signal.SIGTERM)
    ours = term in (signal.SIG_DFL, None) or getattr(term, "stops_runs", False)
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)
                if sig == signal.SIGINT or ours}
    try:
        yield flag
    finally:
        for sig, was in previous.items():
            signal.signal(sig, was)
