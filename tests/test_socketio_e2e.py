"""A whole conversation over socket.io with a third-party client (python-socketio's AsyncClient).

Through the real servers: session request and confirmation, a procedure question answered with its
text and its ``custom`` card, and a crisis message (「火事です」) answered with the 119 routing —
Rasa 3.6's own channel answered none of these with python-socketio 5.x (issue 13, item 4). The same
conversation with npm's ``socket.io-client`` under node (tests/socketio_node_client.mjs), over WebSocket
and long polling.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import socketio

from tests.socketio_client import Conversation

pytestmark = pytest.mark.e2e


def _customs(events: list[dict]) -> list[dict]:
    return [e["custom"]["madoguchi"] for e in events if "custom" in e]


async def test_a_whole_conversation_with_a_crisis_answer(running_bot):
    origin = running_bot.widget_url  # one of CORS_ORIGINS
    session_id = f"sio-{uuid.uuid4().hex}"
    talk = Conversation()
    try:
        assert await talk.open(running_bot.rasa_url, origin, session_id) == session_id
        events = await talk.say(session_id, "住民票の写しを取りたい", until_kind="procedure")
        card = _customs(events)[-1]
        assert card["procedure"] == "juminhyo"
        assert any(e.get("text") for e in events)  # the text message precedes its card
        events = await talk.say(session_id, "火事です", until_kind="safety")
        safety = _customs(events)[-1]
        assert safety["category"] == "emergency" and "119" in safety["phones"]
        assert any("119" in (e.get("text") or "") for e in events)
    finally:
        await talk.close()


async def test_a_foreign_origin_cannot_connect(running_bot):
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            running_bot.rasa_url, headers={"Origin": "https://evil.example"}, transports=["polling"]
        )


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_npm_socket_io_client_holds_the_same_conversation(running_bot, transport):
    """npm's socket.io-client (under node, package-lock.json), over WebSocket and long polling."""
    node = shutil.which("node")
    assert node, "node is missing: apt-get install nodejs npm (the browser tests need it too)"
    script = Path(__file__).with_name("socketio_node_client.mjs")
    session_id = f"node-{uuid.uuid4().hex}"
    steps = ["住民票の写しを取りたい", "procedure", "火事です", "safety"]
    command = [node, str(script), running_bot.rasa_url, running_bot.widget_url, transport, session_id, *steps]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=script.parent.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["session"] == session_id and result["transport"] == transport
    customs = [e["custom"]["madoguchi"] for e in result["events"] if "custom" in e]
    assert any(c["kind"] == "procedure" and c["procedure"] == "juminhyo" for c in customs)
    safety = next(c for c in customs if c["kind"] == "safety")
    assert safety["category"] == "emergency" and "119" in safety["phones"]


async def test_english_and_romaji_are_answered_as_on_rest(running_bot):
    """The language desk and the romaji reading serve socket.io clients too (sentences written here)."""
    session_id = f"sio-{uuid.uuid4().hex}"
    talk = Conversation()
    try:
        await talk.open(running_bot.rasa_url, running_bot.widget_url, session_id)
        events = await talk.say(session_id, "We got a puppy. How do I register my dog?", "procedure_en")
        card = _customs(events)[-1]
        assert card["procedure"] == "inu_toroku" and card["lang"] == "en"
        events = await talk.say(session_id, "juuminhyou no utsushi wo toritai desu", until_kind="procedure")
        assert _customs(events)[-1]["procedure"] == "juminhyo"
    finally:
        await talk.close()
