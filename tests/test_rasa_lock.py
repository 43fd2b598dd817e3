"""The one-process lock store: turns of a conversation one at a time, in arrival order, without polling."""

from __future__ import annotations

import asyncio
import time

import pytest
from rasa.core.lock_store import LockError

from bot.rasa_lock import LocalLockStore


async def test_ten_turns_of_one_conversation_run_in_order_without_waiting_a_poll():
    store = LocalLockStore()
    order: list[int] = []
    inside = 0

    async def turn(i: int) -> None:
        nonlocal inside
        async with store.lock("resident"):
            inside += 1
            assert inside == 1  # never two turns of one conversation at once
            await asyncio.sleep(0)  # let the others try to get in
            order.append(i)
            inside -= 1

    started = time.perf_counter()
    await asyncio.gather(*(turn(i) for i in range(10)))
    assert order == list(range(10))
    # Rasa's InMemoryLockStore polls once a second: ~9 s for the tenth; here the next turn starts at once
    assert time.perf_counter() - started < 0.5
    assert store.waiting("resident") == 0  # nothing kept once the conversation is idle


async def test_other_conversations_do_not_wait():
    store = LocalLockStore()
    release = asyncio.Event()

    async def hold() -> None:
        async with store.lock("a"):
            await release.wait()

    holder = asyncio.ensure_future(hold())
    await asyncio.sleep(0)
    async with store.lock("b"):
        assert store.waiting("a") == 1
    release.set()
    await holder


async def test_a_lock_not_freed_within_its_lifetime_fails_the_waiting_turn_only():
    store = LocalLockStore()
    release = asyncio.Event()

    async def hold() -> None:
        async with store.lock("resident"):
            await release.wait()

    holder = asyncio.ensure_future(hold())
    await asyncio.sleep(0)
    with pytest.raises(LockError):
        async with store.lock("resident", lock_lifetime=0.05):
            pass
    release.set()
    await holder
    async with store.lock("resident", lock_lifetime=0.05):  # not left taken by the turn that gave up
        pass
    assert store.waiting("resident") == 0


async def test_a_cancelled_waiting_turn_leaves_the_lock_usable():
    store = LocalLockStore()
    release = asyncio.Event()

    async def hold() -> None:
        async with store.lock("resident"):
            await release.wait()

    async def wait_turn() -> None:
        async with store.lock("resident"):
            pass

    holder = asyncio.ensure_future(hold())
    await asyncio.sleep(0)
    waiter = asyncio.ensure_future(wait_turn())
    await asyncio.sleep(0)
    waiter.cancel()
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await waiter
    async with store.lock("resident", lock_lifetime=0.05):
        pass
    assert store.waiting("resident") == 0


def test_rasa_builds_it_from_endpoints_yml(tmp_path):
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import read_endpoint_config

    path = tmp_path / "endpoints.yml"
    path.write_text("lock_store:\n  type: bot.rasa_lock.LocalLockStore\n")
    assert isinstance(LockStore.create(read_endpoint_config(str(path), "lock_store")), LocalLockStore)
