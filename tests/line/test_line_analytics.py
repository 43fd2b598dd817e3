"""LINE turns reach the analytics record (the channel's one call where the turn's reply is known): the
conversation only as a salted hash, never the LINE user id or the derived conversation id."""

from __future__ import annotations

import asyncio
import time

from line_bench import SECRET, USER_ID, load_payload

from bot import settings as settings_module
from bot.analytics import recorder
from bot.analytics.identity import conversation_hash
from bot.channels.line.identity import conversation_id
from bot.stores import open_stores

#: The record is written in a worker thread after the answer is sent.
RECORDED_WITHIN_S = 5


async def test_a_line_turn_is_recorded_with_a_salted_hash(line, tmp_path, monkeypatch):
    stores = open_stores(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "analytics")}))
    monkeypatch.setattr(recorder, "_default_log", lambda: (stores.analytics, b"line-salt"))
    status, _, _ = await line.post(load_payload("text_message"))
    assert status == 200
    await line.settle()
    deadline = time.monotonic() + RECORDED_WITHIN_S
    while stores.analytics.count() == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    [event] = stores.analytics.events()
    sender = conversation_id(SECRET, USER_ID)
    assert (event.channel, event.kind) == ("line", "other")  # the echo bot sends no card
    assert event.conversation == conversation_hash(b"line-salt", "line", sender)
    assert USER_ID not in str(event.to_dict()) and sender not in str(event.to_dict())
    assert event.text is None  # answered turns keep no wording
    stores.close()


async def test_failed_and_crisis_fallback_turns_are_recorded(platform, sqlite_memory, tmp_path, monkeypatch):
    """A real tracker store on a stopped Redis: the error text and the crisis answered from data are both
    turns in the record (kinds ``error`` and ``safety``)."""
    from line_bench import line_config, serve_line, text_event
    from rasa.shared.core.domain import Domain
    from redis_server import start_redis, stop_redis

    from bot.channels.line import LineInput
    from bot.rasa_stores import TimeoutRedisTrackerStore

    stores = open_stores(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "analytics")}))
    monkeypatch.setattr(recorder, "_default_log", lambda: (stores.analytics, b"line-salt"))
    process, port = start_redis()
    trackers = TimeoutRedisTrackerStore(Domain.empty(), redis_url=f"redis://127.0.0.1:{port}/0")
    stop_redis(process)
    channel = LineInput(line_config(platform), memory=sqlite_memory)
    async with serve_line(channel, platform, tracker_store=trackers) as line:
        body = {
            "destination": "U0123456789abcdef0123456789abcde",
            "events": [text_event("住民票がほしい", "EV-A")],
        }
        assert (await line.post(body))[0] == 200
        await line.settle()
        body = {
            "destination": "U0123456789abcdef0123456789abcde",
            "events": [text_event("家が燃えてる！助けて", "EV-B")],
        }
        assert (await line.post(body))[0] == 200
        await line.settle()
    deadline = time.monotonic() + RECORDED_WITHIN_S
    while stores.analytics.count() < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert sorted(e.kind for e in stores.analytics.events()) == ["error", "safety"]
    assert all(e.channel == "line" and e.text is None for e in stores.analytics.events())
    stores.close()
