"""Fixtures of the LINE channel tests (the bench itself is in ``line_bench.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from line_bench import (
    SECRET,
    TOKEN,
    FakeLinePlatform,
    LineHarness,
    ThreadedPlatform,
    free_port,
    line_config,
    serve_line,
)
from sanic import Sanic

from bot import settings as settings_module
from bot.channels.line import LineInput
from bot.channels.line.dedup import EventMemory
from bot.stores import open_stores
from tests.servers import private_bot


@pytest.fixture
async def platform() -> AsyncIterator[FakeLinePlatform]:
    fake = FakeLinePlatform()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture(autouse=True)
def _sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # Several Sanic apps start in one process during the tests.
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def sqlite_memory(tmp_path: Path) -> Iterator[EventMemory]:
    stores = open_stores(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "var")}))
    yield EventMemory(stores.dedup)
    stores.close()


@pytest.fixture
async def line(platform: FakeLinePlatform, sqlite_memory: EventMemory) -> AsyncIterator[LineHarness]:
    """The channel with a real SQLite event memory and an in-memory tracker store."""
    async with serve_line(LineInput(line_config(platform), memory=sqlite_memory), platform) as harness:
        yield harness


@pytest.fixture(scope="module")
def threaded_platform() -> Iterator[ThreadedPlatform]:
    """The stand-in LINE platform in its own thread, for tests against the real servers."""
    with ThreadedPlatform() as fake:
        yield fake


@pytest.fixture(scope="module")
def line_bot(threaded_platform):
    """The real Rasa + action servers with the LINE channel pointed at ``threaded_platform`` (the
    module's own platform: stopped with the module)."""
    env = {
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": threaded_platform.url,
    }
    with private_bot(env) as bot:
        yield bot
