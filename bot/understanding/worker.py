"""One thread for the CPU work of understanding a message, so that no event loop runs it.

Rasa 3.6 parses a message (Sudachi, count vectors, the classifier, the crisis detector's e5 encoder)
synchronously on the server's event loop: while one turn's message is parsed, nothing else of the
process answers — health checks, the LINE webhook's ack, other turns' Redis and SQLite calls, whose
bounded waits then expire (``storage_unavailable`` in the 50 × 20 nginx test). The channels' own crisis
checks (the desk's e5 judgement before a turn) were the same.

:class:`UnderstandingWorker` runs such calls on a few dedicated threads (:data:`THREADS`, setting
``MADOGUCHI_UNDERSTANDING_THREADS``), started in arrival order, and the event loop only awaits their
result. Two threads by default: the encoder's C engine (ctypes, its buffers allocated per call) releases
the GIL while it embeds, so one message's e5 runs while another's Sudachi, classifier and crisis vote, or
the loop's policies and I/O, use the other core; Sudachi tokenizers are one per thread
(:func:`bot.text.get_tokenizer`). The queue is bounded (:data:`MAX_WAITING`): past it a call fails at once
with :class:`UnderstandingBusy` (an honest "overloaded", never an unbounded wait).

Plain Python (no Rasa): the Rasa side is :mod:`bot.rasa_nlu_thread`; the channels use
:func:`default_worker` for their crisis and language checks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, Mapping, TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: Calls that may wait for the thread at once; one more is refused (:class:`UnderstandingBusy`). A bench
#: message costs the Rasa process 44-72 ms of CPU, about half of it on this thread (py-spy at 20 users:
#: 51.5% of its busy samples; bench/README.md, Load, third run) in two or three calls (the channel's
#: checks, then the parse), so 64 waiting calls are roughly 1-2 s of work on a free core: well inside
#: the REST channel's 30 s turn timeout, and a burst of 50 conversations at once
#: (tests/test_nginx_instances.py, one call each in flight) is not refused.
MAX_WAITING = 64
#: Name of the threads (seen in py-spy and in ``threading.enumerate()``; ``-2`` … after the first).
THREAD_NAME = "madoguchi-understanding"
#: Understanding threads per Rasa process. 2 on the 2-core machine: see bench/README.md, Load, fourth run.
THREADS = 2
#: Environment variable that overrides :data:`THREADS` (a whole number from 1 to :data:`MAX_THREADS`).
THREADS_ENV = "MADOGUCHI_UNDERSTANDING_THREADS"
MAX_THREADS = 16


def threads_setting(env: Mapping[str, str]) -> int:
    """The number of understanding threads ``env`` asks for (:data:`THREADS` when unset or empty).

    Raises:
        ValueError: not a whole number from 1 to :data:`MAX_THREADS` (the message names the variable).
    """
    raw = (env.get(THREADS_ENV) or "").strip()
    if not raw:
        return THREADS
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"{THREADS_ENV}={raw!r}: expected a whole number of threads from 1 to {MAX_THREADS}")
    return threads


class UnderstandingBusy(RuntimeError):
    """More than :data:`MAX_WAITING` calls wait for the understanding thread: the message is refused
    rather than queued without bound (the channels answer ``overloaded``)."""


class UnderstandingWorker:
    """Runs callables on ``threads`` daemon threads, started on first use; calls start in the order they
    were submitted (with one thread they also end in that order)."""

    def __init__(self, max_waiting: int = MAX_WAITING, name: str = THREAD_NAME, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError("an understanding worker needs at least one thread")
        self._jobs: queue.Queue = queue.Queue(maxsize=max_waiting)
        self._name = name
        self._threads: list[threading.Thread | None] = [None] * threads
        self._lock = threading.Lock()

    @property
    def threads(self) -> int:
        """How many threads run the calls."""
        return len(self._threads)

    @property
    def waiting(self) -> int:
        """Calls submitted and not yet started (approximate, as any queue size)."""
        return self._jobs.qsize()

    def submit(self, call: Callable[..., T], *args: Any) -> Future:
        """Queues ``call(*args)``; returns its :class:`concurrent.futures.Future`.

        Raises:
            UnderstandingBusy: :data:`MAX_WAITING` calls are already waiting.
        """
        self._ensure_thread()
        future: Future = Future()
        try:
            self._jobs.put_nowait((future, call, args))
        except queue.Full:
            raise UnderstandingBusy(f"{self._jobs.maxsize} messages already wait to be understood") from None
        return future

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` on the thread, awaited from the event loop. Cancelling the await (a turn's
        timeout) drops the call if it has not started yet.

        Raises:
            UnderstandingBusy: the queue is full (see :meth:`submit`).
        """
        return await asyncio.wrap_future(self.submit(call, *args))

    def _ensure_thread(self) -> None:
        with self._lock:
            for i, thread in enumerate(self._threads):
                if thread is None or not thread.is_alive():
                    name = self._name if i == 0 else f"{self._name}-{i + 1}"
                    thread = self._threads[i] = threading.Thread(target=self._serve, name=name, daemon=True)
                    thread.start()

    def _serve(self) -> None:
        while True:
            future, call, args = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue  # its turn was given up while it waited
            try:
                result = call(*args)
            except BaseException as error:  # noqa: BLE001 — handed to whoever awaits the call
                future.set_exception(error)
            else:
                future.set_result(result)


@functools.lru_cache(maxsize=1)
def default_worker() -> UnderstandingWorker:
    """The process's understanding threads (shared by the NLU parse and the channels' checks; how many:
    ``MADOGUCHI_UNDERSTANDING_THREADS``, validated by the runner at start)."""
    return UnderstandingWorker(threads=threads_setting(os.environ))
