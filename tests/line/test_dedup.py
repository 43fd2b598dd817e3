"""The event memory over both store back ends (real SQLite file, real throwaway redis-server)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot import settings as settings_module
from bot.channels.line.dedup import EventMemory
from bot.stores import open_stores


@pytest.fixture(params=["sqlite", "redis"])
def stores(request, tmp_path):
    env = {"MADOGUCHI_VAR": str(tmp_path / "var")}
    if request.param == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
    opened = open_stores(settings_module.load(env), prefix=f"test-line-{uuid.uuid4().hex}:")
    yield opened
    opened.close()


async def test_first_sighting_then_seen(stores):
    memory = EventMemory(stores.dedup)
    assert await memory.seen_before("01JDQ8T3Z0EVENT0000000000A", 60) is False
    assert await memory.seen_before("01JDQ8T3Z0EVENT0000000000A", 60) is True
    assert await memory.seen_before("01JDQ8T3Z0EVENT0000000000B", 60) is False


async def test_concurrent_duplicates_let_exactly_one_through(stores):
    memory = EventMemory(stores.dedup)
    results = await asyncio.gather(*[memory.seen_before("01JDQ8T3Z0RACE00000000000A", 60) for _ in range(8)])
    assert results.count(False) == 1


async def test_entries_expire(stores):
    memory = EventMemory(stores.dedup)
    assert await memory.seen_before("01JDQ8T3Z0TTL000000000000A", 1) is False
    await asyncio.sleep(2.1)
    assert await memory.seen_before("01JDQ8T3Z0TTL000000000000A", 1) is False


async def test_default_memory_opens_the_configured_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_VAR", str(tmp_path / "var"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    memory = EventMemory()
    assert await memory.seen_before("01JDQ8T3Z0DEFAULT00000000A", 60) is False
    assert list((tmp_path / "var").iterdir()), "the SQLite store file was created under MADOGUCHI_VAR"
    assert await EventMemory().seen_before("01JDQ8T3Z0DEFAULT00000000A", 60) is True
