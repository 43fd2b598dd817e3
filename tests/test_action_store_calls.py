"""The actions' store calls run off the action server's event loop, each bounded in time.

A real SQLite write lock held by another connection (as a staff command or a second process would)
makes a callback request wait; the event loop keeps serving meanwhile, and the wait ends after the
bound with :class:`asyncio.TimeoutError` (the action server then answers with the apology).
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from actions.context import Context
from bot.stores import sqlite_backend
from tests.conftest import make_settings


async def _ticks_while(awaitable) -> tuple[int, BaseException | None]:
    """How often a 10 ms ticker ran on the loop while ``awaitable`` was awaited (and its error)."""
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.ensure_future(ticker())
    error = None
    try:
        await awaitable
    except BaseException as exc:  # noqa: BLE001 - returned to the test
        error = exc
    done.set()
    await task
    return ticks, error


async def test_a_locked_database_neither_freezes_the_loop_nor_hangs_the_action(tmp_path):
    context = Context(make_settings(tmp_path / "var"))
    try:
        context.stores()  # creates the database
        blocker = sqlite3.connect(tmp_path / "var" / sqlite_backend.DB_NAME, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            call = context.store_call(
                lambda s: s.callbacks.add("090-1234-5678", None, "平日午前", "児童手当", None), timeout=0.4
            )
            ticks, error = await _ticks_while(call)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert isinstance(error, asyncio.TimeoutError)
        assert ticks >= 10  # the loop ran all along (a blocking call would have let it tick once)
        stored = await context.store_call(lambda s: s.callbacks.counts())
        assert stored["open"] in (0, 1)  # the timed-out call may still finish in its thread, once
    finally:
        context.close()


async def test_store_calls_return_their_result(tmp_path):
    context = Context(make_settings(tmp_path / "var"))
    try:
        request = await context.store_call(
            lambda s: s.callbacks.add("090-1234-5678", None, "平日午前", "児童手当", None)
        )
        assert (await context.store_call(lambda s: s.callbacks.get(request.ticket))).ticket == request.ticket
        with pytest.raises(ValueError):
            await context.store_call(lambda s: int("not a number"))
    finally:
        context.close()
