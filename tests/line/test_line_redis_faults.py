"""The LINE webhook ack while Redis hangs or is gone (issue 13: "the LINE ack stays < 100 ms meanwhile").

The channel runs with its event memory and the tracker store on a throwaway ``redis-server``, which is
then paused (``CLIENT PAUSE``) or stopped. The webhook is acked at once either way (the turn runs off the
ack path); the resident still gets an answer (the error text with the city's number, or a crisis from
data) once the stores have failed their own bounded timeouts.
"""

from __future__ import annotations

import time
from statistics import quantiles

import pytest
import redis
from line_bench import USER_ID, line_config, serve_line, text_event
from rasa.shared.core.domain import Domain
from redis_server import start_redis, stop_redis

from bot import settings as settings_module
from bot.channels.line import LineInput
from bot.channels.line.dedup import EventMemory
from bot.rasa_stores import TimeoutRedisTrackerStore
from bot.stores import open_stores

#: Issue 13: the ack stays under 100 ms while Redis hangs (measured here: a few ms).
ACK_WITHIN_S = 0.1
ACKS = 10


def _body(*events: dict) -> dict:
    return {"destination": "U0123456789abcdef0123456789abcde", "events": list(events)}


@pytest.fixture
def redis_line(platform, tmp_path):
    process, port = start_redis()
    url = f"redis://127.0.0.1:{port}/0"
    stores = open_stores(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "var"), "REDIS_URL": url}))
    state = {"process": process, "admin": redis.Redis(port=port, socket_timeout=10)}
    channel = LineInput(line_config(platform), memory=EventMemory(stores.dedup))
    try:
        yield channel, TimeoutRedisTrackerStore(Domain.empty(), redis_url=url), state
    finally:
        stores.close()
        stop_redis(state["process"])


async def _acks(line, label: str) -> list[float]:
    took = []
    for i in range(ACKS):
        event = text_event(f"住民票 {i}", f"EV-{label}-{i}", user_id=f"{USER_ID[:-2]}{i:02d}")
        status, _, elapsed = await line.post(_body(event))
        assert status == 200
        took.append(elapsed)
    return took


@pytest.mark.parametrize("fault", ["pause", "stop"])
async def test_acks_stay_fast_and_every_resident_is_answered(redis_line, platform, fault):
    channel, trackers, state = redis_line
    async with serve_line(channel, platform, tracker_store=trackers) as line:
        assert (await line.post(_body(text_event("住民票", "EV-WARM"))))[0] == 200  # connected, working
        await line.settle()
        platform.calls.clear()
        if fault == "pause":
            state["admin"].execute_command("CLIENT", "PAUSE", 3000, "ALL")
        else:
            stop_redis(state["process"])
        started = time.monotonic()
        took = await _acks(line, fault)
        assert time.monotonic() - started < 2.0  # all acked long before the stores give up
        await line.settle()
    assert max(took) < ACK_WITHIN_S, sorted(took)
    assert len(platform.sends) == ACKS  # each resident got an answer (the error text: the store failed)
    p99 = quantiles(took, n=100)[98] if len(took) > 1 else took[0]
    assert p99 < ACK_WITHIN_S
