"""Store calls off the event loop, each bounded in time — the one helper every asyncio server here uses
for the synchronous stores (the action server's :class:`actions.context.Context`, the staff console).

The stores are synchronous (sqlite3, redis-py). Called on an event loop, one of them stalls every other
request of that server while SQLite waits for another writer (up to its 15 s busy timeout) or Redis for
its socket timeout. :class:`StoreCalls` runs ``call(stores)`` on a small thread pool of its own and gives
up waiting after ``timeout`` seconds; the call itself still finishes in its thread (bounded by the store's
own timeouts), so its outcome is unknown to a caller that gave up.

Example::

    calls = StoreCalls(lambda: stores)
    request = await calls.guarded(lambda s: s.callbacks.get(ticket), timeout=3.0)  # or StoreUnavailable
    calls.close()
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Generic, TypeVar

import redis

S = TypeVar("S")
T = TypeVar("T")

#: Threads per helper: a store call takes ~1 ms, so 4 cover far more calls than 2 cores make, and 4
#: hung calls (a paused Redis) cannot exhaust the threads anything else runs on.
STORE_THREADS = 4

#: What a store raises when it is down, hung or locked — not a bad request or a bug: the wait bound
#: (:class:`asyncio.TimeoutError`), redis-py's connection and socket timeouts, SQLite's "database is
#: locked" / "unable to open database file".
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncio.TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    sqlite3.OperationalError,
)


def _timed_out(cause: BaseException) -> bool:
    if isinstance(cause, (asyncio.TimeoutError, redis.exceptions.TimeoutError)):
        return True
    return isinstance(cause, sqlite3.OperationalError) and any(w in str(cause) for w in ("locked", "busy"))


class StoreUnavailable(Exception):
    """A store did not answer in time (``reason`` ``timeout``: the bound, Redis's socket timeout or
    SQLite's busy timeout) or could not be reached (``unreachable``: refused connection, a missing file).

    ``code`` is what clients are told (the REST channel and the metrics use the same word)."""

    code = "storage_unavailable"

    def __init__(self, cause: BaseException) -> None:
        self.reason = "timeout" if _timed_out(cause) else "unreachable"
        self.error = type(cause).__name__  # the class only: a store's message may quote stored data
        super().__init__(f"{self.code}: {self.reason} ({self.error})")


class StoreCalls(Generic[S]):
    """Runs ``call(stores)`` on its own small thread pool (made on first use), each wait bounded."""

    def __init__(self, stores: Callable[[], S], threads: int = STORE_THREADS, name: str = "madoguchi-store"):
        """``stores``: returns the stores (called in the worker thread, so it may open them lazily)."""
        self._stores = stores
        self._threads = threads
        self._name = name
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix=self._name)
            return self._pool

    async def __call__(self, call: Callable[[S], T], timeout: float | None) -> T:
        """``call(stores)`` in a worker thread; :class:`asyncio.TimeoutError` after ``timeout`` s.

        ``timeout=None`` waits for the call to end (the store's own bounds: Redis's socket timeout,
        SQLite's busy timeout) — for a write whose outcome must be known.
        """
        running = asyncio.get_running_loop().run_in_executor(self._executor(), lambda: call(self._stores()))
        if timeout is None:
            return await running
        return await asyncio.wait_for(running, timeout)

    async def guarded(self, call: Callable[[S], T], timeout: float) -> T:
        """Like calling the helper, but a store that is down, hung or locked raises
        :class:`StoreUnavailable` (any other error, e.g. a refused value, passes through)."""
        try:
            return await self(call, timeout)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(error) from error

    def close(self) -> None:
        """Waits for running calls (each bounded by its store's own timeouts) and stops the threads."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
