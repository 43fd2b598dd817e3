"""The staff console with a hung, stopped or locked store: a page answers 503 ``storage_unavailable``
within the console's bound (bot/stores/offloop.py), and ``/healthz`` stays fast meanwhile.

Each Redis test owns a throwaway ``redis-server`` (tests/redis_server.py) so pausing or stopping it
cannot disturb other tests. The bound is set well below Redis's own 1 s socket timeout so that it is
the console's bound, not redis-py's, that ends the wait.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
import redis
import yaml
from aiohttp.test_utils import TestClient, TestServer
from redis_server import start_redis, stop_redis
from staff_helpers import PASSWORD, Clock, add_account, csrf_of, make_console

from bot.stores import Stores, open_stores, sqlite_backend
from bot.stores.offloop import StoreCalls, StoreUnavailable
from tests.conftest import make_settings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
#: The console's store bound in these tests (Redis's socket timeout is 1 s: this must fire first).
BOUND_S = 0.4
#: How much later than the bound the 503 may arrive on the shared 2-core machine.
SLACK_S = 0.6
#: The liveness check's budget while a store hangs (issue 13: health < 100 ms).
HEALTH_BUDGET_S = 0.1
PAUSE_MS = 4000


def _message(code: str) -> str:
    ui = yaml.safe_load((REPO / "data" / "staff" / "ui.yml").read_text(encoding="utf-8"))
    return ui["messages"]["store_unavailable"].format(code=code)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[redis.Redis, subprocess.Popen, Stores]]:
    process, port = start_redis()
    admin = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    stores = open_stores(make_settings(tmp_path / "var", f"redis://127.0.0.1:{port}/0"))
    try:
        yield admin, process, stores
    finally:
        stores.close()
        admin.close()
        stop_redis(process)


async def _signed_in_admin(stores, bound: float = BOUND_S) -> TestClient:
    add_account(stores, "sato", "admin")
    client = TestClient(TestServer(make_console(stores, Clock(), store_timeout_s=bound)))
    await client.start_server()
    page = await (await client.get("/login")).text()
    reply = await client.post(
        "/login", data={"csrf": csrf_of(page), "name": "sato", "password": PASSWORD}, allow_redirects=False
    )
    assert reply.status == 303
    return client


async def _timed(request) -> tuple[float, object]:
    started = time.monotonic()
    reply = await request
    return time.monotonic() - started, reply


async def _health_while(pending: asyncio.Future, client: TestClient) -> list[float]:
    """Times ``GET /healthz`` again and again while ``pending`` (a hung page) has not answered."""
    times = []
    while not pending.done():
        took, reply = await _timed(client.get("/healthz"))
        assert reply.status == 200 and await reply.json() == {"status": "ok"}
        times.append(took)
    return times


async def test_a_paused_redis_gets_the_coded_page_within_the_bound_and_health_stays_fast(private_redis):
    admin, _process, stores = private_redis
    client = await _signed_in_admin(stores)
    try:
        assert (await client.get("/callbacks")).status == 200
        admin.execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")
        page = asyncio.ensure_future(_timed(client.get("/callbacks")))
        health = await _health_while(page, client)
        took, reply = await page
        assert reply.status == 503
        assert took < BOUND_S + SLACK_S  # the bound ended the wait, long before the pause
        assert reply.headers["Retry-After"] and "no-store" in reply.headers["Cache-Control"]
        assert _message("storage_unavailable") in await reply.text()
        assert len(health) >= 3 and max(health) < HEALTH_BUDGET_S, health  # answered during the hang

        took, reply = await _timed(client.get("/usage", headers={"Accept": "application/json"}))
        assert (reply.status, took < BOUND_S + SLACK_S) == (503, True)
        body = await reply.json()
        assert body == {"code": "storage_unavailable", "reason": "timeout", "message": _message(body["code"])}
        took, css = await _timed(client.get("/static/staff.css"))
        assert css.status == 200 and took < HEALTH_BUDGET_S  # the stylesheet never waits for a store
        admin.execute_command("CLIENT", "UNPAUSE")
        assert (await client.get("/callbacks")).status == 200  # back by itself, still signed in
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        await client.close()


async def test_a_stopped_redis_gets_the_coded_page_at_once(private_redis):
    _admin, process, stores = private_redis
    client = await _signed_in_admin(stores, bound=5.0)
    try:
        stop_redis(process)
        took, reply = await _timed(client.get("/audit", headers={"Accept": "application/json"}))
        assert reply.status == 503 and took < 1.0 + SLACK_S  # the connection is refused: no waiting
        assert (await reply.json())["reason"] == "unreachable"
        took, health = await _timed(client.get("/healthz"))
        assert health.status == 200 and took < HEALTH_BUDGET_S
    finally:
        await client.close()


async def test_a_locked_sqlite_file_gets_the_coded_page_within_the_bound(tmp_path: Path):
    stores = open_stores(make_settings(tmp_path / "var"))
    client = await _signed_in_admin(stores)
    blocker = sqlite3.connect(tmp_path / "var" / sqlite_backend.DB_NAME, isolation_level=None)
    try:
        page = await (await client.get("/accounts")).text()
        blocker.execute("BEGIN IMMEDIATE")  # another writer (a purge, a second process) holds the lock
        form = {"csrf": csrf_of(page), "name": "tanaka", "role": "viewer"}
        pending = asyncio.ensure_future(_timed(client.post("/accounts", data=form)))
        health = await _health_while(pending, client)
        took, reply = await pending
        assert reply.status == 503 and took < BOUND_S + SLACK_S
        assert _message("storage_unavailable") in await reply.text()
        assert health and max(health) < HEALTH_BUDGET_S
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await client.close()
        stores.close()


async def test_the_helper_maps_only_store_failures_to_store_unavailable():
    calls = StoreCalls(lambda: None)
    try:
        with pytest.raises(StoreUnavailable) as refused:
            await calls.guarded(lambda _s: _raise(redis.exceptions.ConnectionError("refused")), 1.0)
        assert (refused.value.reason, refused.value.error) == ("unreachable", "ConnectionError")
        with pytest.raises(StoreUnavailable) as locked:
            await calls.guarded(lambda _s: _raise(sqlite3.OperationalError("database is locked")), 1.0)
        assert locked.value.reason == "timeout"
        with pytest.raises(ValueError):  # a bug or a refused value is not an outage
            await calls.guarded(lambda _s: int("x"), 1.0)
        assert await calls.guarded(lambda _s: 42, 1.0) == 42
    finally:
        calls.close()


def _raise(error: BaseException):
    raise error


def test_no_console_code_calls_a_store_on_the_event_loop():
    """Every store call of bot/staff goes through ``deps.store`` (a lambda run off the loop): no
    ``<x>.stores.<store>`` attribute is read anywhere in the console's modules (the page tests above
    cover a few pages; this covers the other ~50 call sites)."""
    import ast

    direct = []
    for path in sorted((REPO / "bot" / "staff").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                if node.value.attr == "stores" and node.attr != "retention_days":  # a plain setting
                    direct.append(f"{path.name}:{node.lineno} .stores.{node.attr}")
    assert direct == []
