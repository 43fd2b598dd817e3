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
