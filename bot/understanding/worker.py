"""One thread for the CPU work of understanding a message, so that no event loop runs it.

Rasa 3.6 parses a message (Sudachi, count vectors, the classifier, the crisis detector's e5 encoder)
synchronously on the server's event loop: while one turn's message is parsed, nothing else of the
process answers — health checks, the LINE webhook's ack, other turns' Redis and SQLite calls, whose
bounded waits then expire (``storage_unavailable`` in the 50 × 20 nginx test). The channels' own crisis
checks (the desk's e5 judgement before a turn) were the same.

:class:`UnderstandingWorker` runs such calls on **one** dedicated thread, in arrival order, and the event
loop only awaits their result. One thread, not a pool: the NLU's Sudachi tokenizer may not be used by two
threads at once, the encoder's engine is one per process, and the 2 cores are shared with the action
server; the overlap comes from the loop's own work (I/O, policies, replies) and from the encoder's C
engine, which releases the GIL while it computes. The queue is bounded (:data:`MAX_WAITING`): past it a
call fails at once with :class:`UnderstandingBusy` (an honest "overloaded", never an unbounded wait).

Plain Python (no Rasa): the Rasa side is :mod:`bot.rasa_nlu_thread`; the channels use
:func:`default_worker` for their crisis and language checks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: Calls that may wait for the thread at once; one more is refused (:class:`UnderstandingBusy`). A bench
#: message costs the Rasa process 44-72 ms of CPU, about half of it on this thread (py-spy at 20 users:
#: 51.5% of its busy samples; bench/README.md, Load, third run) in two or three calls (the channel's
#: checks, then the parse), so 64 waiting calls are roughly 1-2 s of work on a free core: well inside
#: the REST channel's 30 s turn timeout, and a burst of 50 conversations at once
#: (tests/test_nginx_instances.py, one call each in flight) is not refused.
MAX_WAITING = 64
#: Name of the thread (seen in py-spy and in ``threading.enumerate()``).
THREAD_NAME = "madoguchi-understanding"


class UnderstandingBusy(RuntimeError):
    """More than :data:`MAX_WAITING` calls wait for the understanding thread: the message is refused
    rather than queued without bound (the channels answer ``overloaded``)."""


class UnderstandingWorker:
    """Runs callables on one daemon thread, started on first use, in the order they were submitted."""

    def __init__(self, max_waiting: int = MAX_WAITING, name: str = THREAD_NAME) -> None:
        self._jobs: queue.Queue = queue.Queue(maxsize=max_waiting)
        self._name = name
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

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
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()

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
    """The process's one understanding thread (shared by the NLU parse and the channels' checks)."""
    return UnderstandingWorker()
