"""Runs background jobs one at a time per conversation, in arrival order; conversations run in parallel."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

#: Turns run at once over all residents. A turn is mostly CPU (NLU, policies) on the server's event loop,
#: so with every turn started at once the webhook ack waits behind all of them. Measured with 100
#: residents' messages in one webhook (tests/line/test_line_ack_load.py, 2 shared cores): unlimited —
#: ack p99 3.3-6.8 s, all answered in 11.5 s; 8 — p99 456 ms, 15.3 s; 4 — p99 355 ms, 19.1 s; 2 — p99
#: 134-172 ms, 14.2 s. Two keep the ack within LINE's deadline for ~20% less burst throughput.
MAX_RUNNING_TURNS = 2

Job = Callable[[], Awaitable[None]]


class SerialJobs:
    """Per-key FIFO queues, each drained by one task that exists only while the queue has work.

    :meth:`submit` is synchronous, so jobs submitted in one webhook call are queued in the order of its
    events before anything runs. Worker tasks are kept referenced until they finish; a failing job is
    logged (type and traceback, no job data) and the next one runs.
    """

    def __init__(self, max_pending: int = 20, max_running: int = MAX_RUNNING_TURNS) -> None:
        """Creates an empty scheduler.

        Args:
            max_pending: jobs waiting for one key beyond this are dropped with a warning (flood guard).
            max_running: jobs running at once over all keys (the others wait their turn).
        """
        self._max_pending = max_pending
        self._max_running = max_running
        self._running: asyncio.Semaphore | None = None  # made on the server's loop, at first use
        self._queues: dict[str, deque[Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def submit(self, key: str, job: Job) -> bool:
        """Queues ``job`` behind the other jobs of ``key``; returns False when it was dropped."""
        queue = self._queues.setdefault(key, deque())
        if len(queue) >= self._max_pending:
            logger.warning("line: too many pending events for one conversation; event dropped")
            return False
        queue.append(job)
        if key not in self._workers:
            self._workers[key] = asyncio.get_running_loop().create_task(self._drain(key))
        return True

    def _slots(self) -> asyncio.Semaphore:
        if self._running is None:
            self._running = asyncio.Semaphore(self._max_running)
        return self._running

    @property
    def busy(self) -> int:
        """Number of conversations with queued or running jobs."""
        return len(self._workers)

    async def join(self) -> None:
        """Waits until every queued job has run (jobs queued meanwhile included)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def cancel(self) -> None:
        """Cancels every worker and forgets queued jobs (server shutdown)."""
        workers = list(self._workers.values())
        self._queues.clear()
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                job = queue.popleft()
                try:
                    async with self._slots():
                        await job()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("line: background job failed")
        finally:
            # No await between the last emptiness check and here: a job submitted meanwhile is impossible.
            if self._queues.get(key) is queue and not queue:
                del self._queues[key]
            self._workers.pop(key, None)
