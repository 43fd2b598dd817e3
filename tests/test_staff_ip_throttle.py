"""The per-address sign-in delay: many failures from one address make it wait (no sleeping, clock
injected), separately from the per-account lock; behind the proxy the forwarded address counts."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from staff_helpers import MORNING, PASSWORD, Clock, add_account, make_console
from test_staff_console import csrf_of

from bot.staff.ip_throttle import FIRST_DELAY, FREE_FAILURES, MAX_DELAY, WINDOW, IpThrottle, client_address


def test_delays_start_after_the_free_failures_and_double_up_to_the_cap():
    throttle, now = IpThrottle(), MORNING
    for _ in range(FREE_FAILURES):
        throttle.failed("10.0.0.5", now)
        assert throttle.wait("10.0.0.5", now) == timedelta(0)
    throttle.failed("10.0.0.5", now)
    assert throttle.wait("10.0.0.5", now) == FIRST_DELAY
    assert throttle.wait("10.0.0.6", now) == timedelta(0)  # another address is not affected
    throttle.failed("10.0.0.5", now)
    assert throttle.wait("10.0.0.5", now) == 2 * FIRST_DELAY
    for _ in range(30):
        throttle.failed("10.0.0.5", now)
    assert throttle.wait("10.0.0.5", now) == MAX_DELAY
    assert throttle.wait("10.0.0.5", now + MAX_DELAY) == timedelta(0)


def test_a_quiet_window_forgives():
    throttle = IpThrottle()
    for _ in range(FREE_FAILURES):
        throttle.failed("10.0.0.5", MORNING)
    later = MORNING + WINDOW + timedelta(seconds=1)
    throttle.failed("10.0.0.5", later)  # the first failure of a new window
    assert throttle.wait("10.0.0.5", later) == timedelta(0)


def test_the_forwarded_address_counts_only_when_trusted():
    assert client_address("10.1.1.1", "203.0.113.9, 192.0.2.7", True) == "192.0.2.7"  # the proxy's hop
    assert client_address("10.1.1.1", "203.0.113.9", False) == "10.1.1.1"
    assert client_address("10.1.1.1", None, True) == "10.1.1.1"
    assert client_address(None, None, False) == "-"


async def _attempt(client: TestClient, name: str, password: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    page = await (await client.get("/login")).text()
    data = {"csrf": csrf_of(page), "name": name, "password": password}
    return await client.post("/login", data=data, headers=headers, allow_redirects=False)


async def test_one_address_guessing_many_accounts_must_wait(stores):
    clock = Clock(MORNING)
    add_account(stores, "tanaka", "callback")
    async with TestClient(TestServer(make_console(stores, clock))) as client:
        for i in range(FREE_FAILURES):  # 10 accounts, one guess each: no account is locked
            assert (await _attempt(client, f"user{i}", "guess")).status == 401
        assert (await _attempt(client, "user10", "guess")).status == 401  # the 11th failure: delay starts
        refused = await _attempt(client, "tanaka", PASSWORD)  # even a right password waits
        assert refused.status == 429 and refused.headers["Retry-After"] == "2"
        assert "2秒待ってから" in await refused.text()
        clock.advance(seconds=2)
        assert (await _attempt(client, "tanaka", PASSWORD)).status == 303
        actions = [e.action for e in stores.audit.entries(100)]
        assert actions.count("login.delayed") == 1 and actions.count("login.failed") == FREE_FAILURES + 1


async def test_behind_the_proxy_each_forwarded_address_is_its_own(stores):
    clock = Clock(MORNING)
    add_account(stores, "tanaka", "callback")
    async with TestClient(TestServer(make_console(stores, clock, trust_forwarded=True))) as client:
        for i in range(FREE_FAILURES + 1):
            await _attempt(client, f"user{i}", "guess", forwarded="198.51.100.20")
        assert (await _attempt(client, "tanaka", PASSWORD, forwarded="198.51.100.20")).status == 429
        assert (await _attempt(client, "tanaka", PASSWORD, forwarded="198.51.100.21")).status == 303
