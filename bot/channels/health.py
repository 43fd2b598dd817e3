"""Liveness and readiness for load balancers, systemd and monitoring: ``GET /healthz`` and ``GET /readyz``.

* ``/healthz`` (liveness): 200 ``{"status": "ok"}`` whenever the Rasa process runs and its event loop
  answers. Restart the process only when this fails.
* ``/readyz`` (readiness): 200 when the model is loaded and the conversation store, the lock store and
  the action server answer; otherwise 503 with what failed, e.g.
  ``{"ready": false, "checks": {"model": true, "tracker_store": false, "lock_store": false,
  "action_server": true}}``. Each check is bounded (:data:`CHECK_BUDGET_S`), so a hung Redis makes
  readiness fail in about a second instead of hanging the probe. Route residents elsewhere (or show a
  maintenance notice) while it fails.

credentials.yml: ``bot.channels.health.HealthInput:`` (no keys). It is a Rasa input channel only to be
mounted on the Rasa server; it never handles messages.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from typing import Any, Awaitable, Callable

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

#: Longest wait for one readiness check (the Redis stores give up after 0.8 s themselves).
CHECK_BUDGET_S = 1.5
#: A conversation id no resident can have (senders are 1-128 of A-Z a-z 0-9 _ . : @ -).
PROBE_SENDER = "madoguchi-readyz-probe!"


def _unwrap(store: Any) -> Any:
    """Rasa wraps tracker stores (fail-safe, awaitable); the fail-safe one would hide an error."""
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


async def _tracker_store_ok(agent: Any) -> bool:
    await _unwrap(agent.tracker_store).retrieve(PROBE_SENDER)
    return True


async def _lock_store_ok(agent: Any) -> bool:
    probe = getattr(agent.lock_store, "_get_lock_async", None)  # AtomicRedisLockStore
    if probe is not None:
        await probe(PROBE_SENDER)
    return True


async def _action_server_ok(agent: Any) -> bool:
    endpoint = getattr(agent, "action_endpoint", None)
    if endpoint is None or not endpoint.url:
        return True
    health = urllib.parse.urljoin(endpoint.url, "/health")
    timeout = aiohttp.ClientTimeout(total=CHECK_BUDGET_S)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(health) as reply:
        return reply.status == 200


async def _check(name: str, check: Callable[[Any], Awaitable[bool]], agent: Any) -> bool:
    try:
        return bool(await asyncio.wait_for(check(agent), timeout=CHECK_BUDGET_S))
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        logger.warning("readyz: %s failed (%s)", name, type(error).__name__)
        return False


async def readiness(agent: Any) -> dict[str, bool]:
    """Every readiness check, run together; ``{"model": bool, "tracker_store": bool, ...}``."""
    if agent is None or not agent.is_ready():
        return {"model": False, "tracker_store": False, "lock_store": False, "action_server": False}
    checks = {
        "tracker_store": _tracker_store_ok,
        "lock_store": _lock_store_ok,
        "action_server": _action_server_ok,
    }
    results = await asyncio.gather(*(_check(name, check, agent) for name, check in checks.items()))
    return {"model": True, **dict(zip(checks, results, strict=True))}


class HealthInput(InputChannel):
    """Mounts ``/healthz`` and ``/readyz`` at the root of the Rasa server."""

    @classmethod
    def name(cls) -> str:
        return "health"

    def url_prefix(self) -> str:
        return "/"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint(f"madoguchi_health_{id(self)}", __name__)

        @bp.route("/healthz", methods=["GET"])
        async def healthz(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/readyz", methods=["GET"])
        async def readyz(request: Request) -> HTTPResponse:
            checks = await readiness(getattr(request.app.ctx, "agent", None))
            ready = all(checks.values())
            return response.json({"ready": ready, "checks": checks}, status=200 if ready else 503)

        return bp
