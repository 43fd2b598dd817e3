"""The socket.io channel's own answers: the error message, its text from data, and a closed turn's output."""

from __future__ import annotations

from pathlib import Path

import pytest
from socketio import AsyncServer

from bot import settings
from bot.channels.socketio import MadoguchiSocketIOOutput, error_message, error_text
from bot.knowledge.catalog import load_catalog

CITY_PHONE = load_catalog(settings.load({}).data_dir).city.phone


class RecordingServer(AsyncServer):
    """A real python-socketio server whose emits are kept instead of sent (no client is connected)."""

    def __init__(self) -> None:
        super().__init__(async_mode="asgi")
        self.emitted: list[tuple[str, object, str]] = []

    async def emit(self, event, data=None, to=None, room=None, **kwargs):  # noqa: ANN001 — AsyncServer's
        self.emitted.append((event, data, room))


def test_the_error_text_comes_from_the_data_files_with_the_city_number():
    text = error_text(settings.load({}).data_dir, CITY_PHONE)
    assert CITY_PHONE in text and "119" in text and "110" in text and "{city_phone}" not in text


def test_a_missing_error_text_stops_the_start_with_the_file_named(tmp_path: Path):
    (tmp_path / "messages.yml").write_text("procedure: {}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="channel.error"):
        error_text(tmp_path, CITY_PHONE)


def test_the_error_message_carries_a_code_and_every_number():
    message = error_message("text", "storage_unavailable", CITY_PHONE)
    assert message["custom"]["madoguchi"] == {
        "kind": "error",
        "code": "storage_unavailable",
        "phone": CITY_PHONE,
        "emergency": ["119", "110"],
    }


async def test_a_closed_output_drops_what_the_late_turn_still_sends():
    server = RecordingServer()
    output = MadoguchiSocketIOOutput(server, "bot_uttered")
    await output.send_response("session-1", {"text": "最初の答え"})
    output.closed = True  # the channel answered the crisis from data
    await output.send_response("session-1", {"text": "遅れた答え", "custom": {"madoguchi": {"kind": "x"}}})
    assert [data for _, data, _ in server.emitted] == [{"text": "最初の答え"}]
    assert [m["text"] for m in output.sent] == ["最初の答え"]


# --- the message handler: malformed events, failed and late turns ---------------------------------------

SESSION = "sio-session-1"
SECRET = "山田花子 090-1234-5678"


def _channel(**options) -> tuple[object, RecordingServer]:
    from bot.channels.socketio import OriginCheckedSocketIOInput

    channel = OriginCheckedSocketIOInput.from_credentials({"session_persistence": True, **options})
    channel.sio = server = RecordingServer()
    return channel, server


def _customs(server: RecordingServer) -> list[dict]:
    return [d["custom"]["madoguchi"] for _, d, _ in server.emitted if isinstance(d, dict) and "custom" in d]


@pytest.mark.parametrize(
    "data",
    [
        None,
        SECRET,
        {"message": 1, "session_id": SESSION},
        {"message": "  ", "session_id": SESSION},
        {"message": "住" * 1001, "session_id": SESSION},
        {"message": "\ud800住民票", "session_id": SESSION},
        {"message": SECRET, "session_id": "../not a session"},
        {"message": SECRET},
    ],
    ids=["none", "a bare string", "not text", "blank", "too long", "lone surrogate", "bad session", "none"],
)
async def test_a_malformed_message_event_is_ignored_and_logged_without_its_text(data, caplog):
    channel, server = _channel()
    turns = []

    async def on_new_message(message) -> None:
        turns.append(message)

    await channel._make_message_handler(on_new_message)("sid-1", data)
    assert turns == [] and server.emitted == []
    assert "malformed message event was ignored" in caplog.text and "山田" not in caplog.text


async def test_a_text_is_sent_before_its_custom_payload_to_the_session():
    channel, server = _channel()

    async def on_new_message(message) -> None:
        await message.output_channel.send_response(
            message.sender_id,
            {"text": "住民票は市民課です。", "custom": {"madoguchi": {"kind": "procedure"}}},
        )

    await channel._make_message_handler(on_new_message)("sid-1", {"message": "住民票", "session_id": SESSION})
    assert [(event, data, room) for event, data, room in server.emitted] == [
        ("bot_uttered", {"text": "住民票は市民課です。"}, SESSION),
        ("bot_uttered", {"custom": {"madoguchi": {"kind": "procedure"}}}, SESSION),
    ]


async def test_a_failed_turn_gets_the_error_text_with_the_city_number_and_no_text_in_the_log(caplog):
    channel, server = _channel()

    async def on_new_message(message) -> None:
        raise RuntimeError(SECRET)

    await channel._make_message_handler(on_new_message)("sid-1", {"message": SECRET, "session_id": SESSION})
    [error] = _customs(server)
    assert error["kind"] == "error" and error["phone"] == CITY_PHONE and error["emergency"] == ["119", "110"]
    assert "socketio turn failed: code=" in caplog.text and "山田" not in caplog.text


async def test_a_late_crisis_turn_is_answered_from_data_and_left_to_finish():
    import asyncio

    channel, server = _channel(crisis_timeout_s=0.05)
    release, finished = asyncio.Event(), asyncio.Event()

    async def on_new_message(message) -> None:
        await release.wait()  # e.g. a hung tracker store
        await message.output_channel.send_response(message.sender_id, {"text": "遅れた答え"})
        finished.set()

    handle = channel._make_message_handler(on_new_message)
    await asyncio.wait_for(handle("sid-1", {"message": "火事です", "session_id": SESSION}), timeout=10)
    [safety] = _customs(server)
    assert safety["kind"] == "safety" and safety["category"] == "emergency" and "119" in safety["phones"]
    assert len(channel.background) == 1
    release.set()
    await asyncio.wait_for(finished.wait(), timeout=10)
    assert "遅れた答え" not in str(server.emitted)  # the late turn's answer is dropped, not sent twice
