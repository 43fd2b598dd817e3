"""The real servers on Redis, with Redis hung (``CLIENT PAUSE``) and stopped (issue 13, item 1).

A turn that needs Redis fails within about a second with ``503 storage_unavailable``; the health URL
answers at once meanwhile; once Redis is back, the same conversations go on.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from redis_server import start_redis, stop_redis
from servers import start_bot, stop_bot

pytestmark = pytest.mark.e2e

#: Issue 13: "fails only the turns that need it, within 1 s" (+ HTTP and a loaded 2-core machine).
TURN_FAILS_WITHIN_S = 1.5
#: Issue 13: "health ... < 100 ms meanwhile" (measured: ~3 ms).
HEALTH_WITHIN_S = 0.1
PAUSE_MS = 3000


@pytest.fixture(scope="module")
def redis_bot():
    process, port = start_redis()
    state = {"process": process, "port": port}
    bot = start_bot({"REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    try:
        yield bot, state
    finally:
        stop_bot(bot)
        stop_redis(state["process"])


def _post(bot, sender: str, message: str) -> tuple[int, object, float]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        f"{bot.rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback
            return reply.status, json.loads(reply.read()), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), time.monotonic() - started


def _health(bot) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"{bot.rasa_url}/webhooks/rest/", timeout=30) as reply:  # noqa: S310
        assert reply.status == 200
    return time.monotonic() - started


def _health_while(bot, pending) -> list[float]:
    """Health latencies, measured again and again until ``pending`` (a future) is done."""
    times = []
    while not pending.done() or not times:
        times.append(_health(bot))
        time.sleep(0.05)
    return times


def _get_json(url: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:  # noqa: S310 - loopback
            return reply.status, json.loads(reply.read()), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), time.monotonic() - started


def test_liveness_and_readiness(redis_bot):
    bot, _ = redis_bot
    assert _get_json(f"{bot.rasa_url}/healthz")[:2] == (200, {"status": "ok"})
    status, body, _ = _get_json(f"{bot.rasa_url}/readyz")
    assert (status, body["ready"]) == (200, True)
    assert body["checks"] == {"model": True, "tracker_store": True, "lock_store": True, "action_server": True}


def test_readiness_fails_fast_while_redis_hangs_and_liveness_stays(redis_bot):
    bot, state = redis_bot
    admin = _admin(state)
    admin.execute_command("CLIENT", "PAUSE", 2000, "ALL")
    status, body, took = _get_json(f"{bot.rasa_url}/readyz")
    assert status == 503 and body["checks"]["tracker_store"] is False and body["checks"]["model"] is True
    assert took < TURN_FAILS_WITHIN_S
    status, _, took = _get_json(f"{bot.rasa_url}/healthz")
    assert status == 200 and took < HEALTH_WITHIN_S
    assert admin.ping()  # answered when the pause is over
    assert _get_json(f"{bot.rasa_url}/readyz")[0] == 200
    admin.close()


def _admin(state) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=state["port"], socket_timeout=10)


def _sender() -> str:
    return f"fault-{uuid.uuid4().hex}"


def test_paused_redis_fails_turns_fast_and_health_stays_fast(redis_bot):
    bot, state = redis_bot
    sender = _sender()
    assert _post(bot, sender, "住民票の写しがほしい")[0] == 200
    admin = _admin(state)
    admin.execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")
    with ThreadPoolExecutor(4) as pool:
        turns = [pool.submit(_post, bot, s, "住民票の写しがほしい") for s in (sender, _sender())]
        health = _health_while(bot, turns[0])
        results = [t.result() for t in turns]
    for status, body, took in results:
        assert (status, body["code"]) == (503, "storage_unavailable")
        assert took < TURN_FAILS_WITHIN_S
    assert max(health) < HEALTH_WITHIN_S
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the pause ends by itself
        status, body, _ = _post(bot, sender, "印鑑登録について")
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200 and any("custom" in m for m in body)
    admin.close()


def test_stopped_redis_fails_turns_fast_and_the_bot_recovers(redis_bot):
    bot, state = redis_bot
    sender = _sender()
    assert _post(bot, sender, "粗大ごみを出したい")[0] == 200
    stop_redis(state["process"])
    status, body, took = _post(bot, sender, "粗大ごみを出したい")
    assert (status, body["code"]) == (503, "storage_unavailable")
    assert took < TURN_FAILS_WITHIN_S
    assert _health(bot) < HEALTH_WITHIN_S
    state["process"], _ = start_redis(state["port"])  # same port: the clients reconnect by themselves
    status, body, _ = _post(bot, sender, "粗大ごみを出したい")
    assert status == 200 and body, body
