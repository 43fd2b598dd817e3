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
