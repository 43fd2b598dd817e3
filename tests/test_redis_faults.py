"""Fault injection on loopback: a hung (``CLIENT PAUSE``) or stopped Redis never freezes the event loop.

Each test owns a private ``redis-server`` (tests/conftest.py ``start_redis``) so pausing or stopping it
cannot disturb other tests. A "heartbeat" coroutine sleeps 10 ms in a loop while the turn runs; the
longest gap between two beats is how long the event loop was blocked (a synchronous client in a
pause blocked it for the whole pause: issue 13 measured 5.2 s for ``CLIENT PAUSE 5000``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Iterator

import pytest
import redis
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from redis_server import start_redis, stop_redis

from bot.rasa_stores import (
    DEFAULT_SOCKET_TIMEOUT,
    AtomicRedisLockStore,
    StorageUnavailable,
    TimeoutRedisTrackerStore,
)

pytestmark = pytest.mark.integration

#: A failed turn must be answered within this (issue 13: "within 1 s"), on a 2-core shared machine.
FAIL_WITHIN_S = 1.2
#: The event loop may never be blocked longer than this while Redis hangs.
MAX_LOOP_GAP_S = 0.1
PAUSE_MS = 1500


@pytest.fixture
def private_redis() -> Iterator[tuple[redis.Redis, int]]:
    process, port = start_redis()
    admin = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        yield admin, port
    finally:
        admin.close()
        stop_redis(process)


def _stores(port: int) -> tuple[AtomicRedisLockStore, TimeoutRedisTrackerStore]:
    url = f"redis://127.0.0.1:{port}/0"
    lock = AtomicRedisLockStore(redis_url=url, key_prefix=f"t{uuid.uuid4().hex}")
    return lock, TimeoutRedisTrackerStore(Domain.empty(), redis_url=url)


def _tracker(sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_listen"), UserUttered("住民票", {"name": "ask_procedure"})]
    )


async def _turn(lock: AtomicRedisLockStore, trackers: TimeoutRedisTrackerStore, sender: str) -> None:
    """What Rasa's agent does for one message: lock, read, write."""
    async with lock.lock(sender):
        tracker = await trackers.retrieve(sender) or _tracker(sender)
        await trackers.save(tracker)


class Heartbeat:
    """Measures the longest time the event loop did not run a 10 ms sleeper."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task | None = None

    async def _beat(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.longest = max(self.longest, now - last)
            last = now

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.get_running_loop().create_task(self._beat())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _timed_failure(coro) -> float:
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await coro
    return time.monotonic() - started


async def test_round_trip_is_far_below_the_socket_timeout(private_redis):
    """The measurement behind DEFAULT_SOCKET_TIMEOUT: 200 lock+read+write turns on loopback."""
    _, port = private_redis
    lock, trackers = _stores(port)
    times = []
    for i in range(200):
        started = time.monotonic()
        await _turn(lock, trackers, f"rt-{i % 5}")
        times.append(time.monotonic() - started)
    times.sort()
    assert times[int(len(times) * 0.99)] < DEFAULT_SOCKET_TIMEOUT / 10


async def test_paused_redis_fails_the_turn_within_a_second_without_blocking_the_loop(private_redis):
    admin, port = private_redis
    lock, trackers = _stores(port)
    await _turn(lock, trackers, "warm")  # connections are open before the pause
    admin.execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")
    async with Heartbeat() as beat:
        took = await _timed_failure(_turn(lock, trackers, "paused"))
    assert took < FAIL_WITHIN_S
    assert beat.longest < MAX_LOOP_GAP_S


async def test_many_turns_during_a_pause_all_fail_fast_and_concurrently(private_redis):
    admin, port = private_redis
    lock, trackers = _stores(port)
    await _turn(lock, trackers, "warm")
    admin.execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")
    started = time.monotonic()
    async with Heartbeat() as beat:
        results = await asyncio.gather(
            *(_turn(lock, trackers, f"p-{i}") for i in range(20)), return_exceptions=True
        )
    assert all(isinstance(r, StorageUnavailable) for r in results)
    assert time.monotonic() - started < FAIL_WITHIN_S  # in parallel, not 20 × the timeout
    assert beat.longest < MAX_LOOP_GAP_S


async def test_stopped_redis_fails_the_turn_at_once(private_redis):
    admin, port = private_redis
    lock, trackers = _stores(port)
    await _turn(lock, trackers, "warm")
    admin.shutdown(nosave=True)
    async with Heartbeat() as beat:
        took = await _timed_failure(_turn(lock, trackers, "stopped"))
    assert took < FAIL_WITHIN_S
    assert beat.longest < MAX_LOOP_GAP_S


async def test_a_store_failure_inside_the_turn_fails_the_turn(private_redis):
    """Rasa's FailSafeTrackerStore swallows tracker errors (empty conversation, kept in memory only);
    the lock turns that into an honest failure of the turn."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    admin, port = private_redis
    lock, trackers = _stores(port)
    failsafe = FailSafeTrackerStore(trackers)
    await _turn(lock, trackers, "warm")
    with pytest.raises(StorageUnavailable):
        async with lock.lock("mid-turn"):
            admin.execute_command("CLIENT", "PAUSE", PAUSE_MS, "WRITE")
            await failsafe.retrieve("mid-turn")  # reads still pass a WRITE pause
            await failsafe.save(_tracker("mid-turn"))  # the write is paused; failsafe swallows it


async def test_the_conversation_is_usable_again_when_redis_answers_again(private_redis):
    admin, port = private_redis
    lock, trackers = _stores(port)
    lock.cleanup_retry_seconds = 0.05
    await _turn(lock, trackers, "again")
    admin.execute_command("CLIENT", "PAUSE", 1000, "WRITE")
    with pytest.raises(StorageUnavailable):
        await _turn(lock, trackers, "again")
    key = lock._key("again")
    deadline = time.monotonic() + 5
    while admin.exists(key) and time.monotonic() < deadline:  # released in the background
        await asyncio.sleep(0.02)
    assert not admin.exists(key)
    started = time.monotonic()
    await _turn(lock, trackers, "again")
    assert time.monotonic() - started < 0.5  # not stuck behind the failed turn's ticket (60 s)
