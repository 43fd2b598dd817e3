"""The honest REST channel: validation, errors instead of a silent ``[]``, furigana, no text in logs.

The channel runs inside a real Sanic server registered the way Rasa registers input channels
(``rasa.core.channels.channel.register``); the turn handler stands in for ``Agent.handle_message`` (a
trained model is not available to unit tests) and speaks through the channel's real output collector.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import socket
import uuid

import aiohttp
import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage, register
from rasa.core.lock_store import LockError
from rasa.core.processor import MessageProcessor
from rasa.server import configure_cors
from sanic import Sanic

from bot import settings
from bot.channels.turn_watch import ACTION_FAILURE_PREFIX, PROCESSOR_LOGGER
from bot.channels.web import (
    Limits,
    MadoguchiRestInput,
    RequestError,
    parse_body,
)
from bot.knowledge.catalog import load_catalog
from bot.rasa_stores import StorageUnavailable

SECRET_TEXT = "山田太郎です、電話は090-1234-5678"
CITY_PHONE = load_catalog(settings.load({}).data_dir).city.phone


class _StandInAgent:
    """Stands in for a loaded ``rasa.core.agent.Agent``: ready, and runs ``handler`` for each message."""

    def __init__(self, handler) -> None:
        self.handle_message = handler

    def is_ready(self) -> bool:
        return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    def __init__(self, channel: MadoguchiRestInput, agent) -> None:
        self.channel, self.agent = channel, agent
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks/rest"

    async def __aenter__(self) -> _Server:
        app = Sanic(f"web_channel_test_{uuid.uuid4().hex}")
        app.ctx.agent = self.agent
        configure_cors(app, "*")
        register([self.channel], app, route="/webhooks/")
        self.server = await app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self.server.startup()
        await self.server.start_serving()
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()
        self.server.close()
        await self.server.wait_closed()

    async def post(self, body) -> tuple[int, object]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.session.post(
            f"{self.url}/webhook", data=data, headers={"Content-Type": "application/json"}
        ) as resp:
            return resp.status, await resp.json(content_type=None)


@pytest.fixture(autouse=True)
def _sanic_test_mode(monkeypatch):
    # Sanic re-compiles its own methods for every started app; test mode keeps the originals around
    # so that several apps can start in one process.
    monkeypatch.setattr(Sanic, "test_mode", True)


def _serve(handler, agent=None, **kwargs) -> _Server:
    return _Server(MadoguchiRestInput(**kwargs), agent or _StandInAgent(handler))


async def _answer(message: UserMessage) -> None:
    await message.output_channel.send_response(
        message.sender_id,
        {
            "text": "住民票の写しを取りたいときは窓口へ。",
            "buttons": [{"title": "オンライン申請", "payload": '/ask_online{"procedure":"juminhyo"}'}],
        },
    )
    await message.output_channel.send_response(message.sender_id, {"text": "Please see https://example.jp"})


# --- request validation ---------------------------------------------------------------------------


def test_parse_body_accepts_a_widget_request():
    body = json.dumps(
        {"sender": "a1b2", "message": "住民票", "metadata": {"yasashii": True, "furigana": False}}
    )
    inbound = parse_body(body.encode())
    assert (inbound.sender, inbound.message) == ("a1b2", "住民票")
    assert inbound.metadata == {"yasashii": True, "furigana": False}
    assert not inbound.wants_furigana


@pytest.mark.parametrize(
    ("body", "status", "code", "field_name"),
    [
        (b"{not json", 400, "invalid_json", None),
        (b"[1, 2]", 400, "invalid_json", None),
        (b'{"message": "x"}', 400, "invalid_sender", "sender"),
        (b'{"sender": "a b<script>", "message": "x"}', 400, "invalid_sender", "sender"),
        (b'{"sender": "a", "message": 5}', 400, "invalid_message", "message"),
        (b'{"sender": "a", "message": "   "}', 400, "empty_message", "message"),
        (b'{"sender": "a", "message": "x", "metadata": "on"}', 400, "invalid_metadata", "metadata"),
        (
            b'{"sender": "a", "message": "x", "metadata": {"furigana": "yes"}}',
            400,
            "invalid_metadata",
            "furigana",
        ),
    ],
)
def test_parse_body_names_the_bad_field(body, status, code, field_name):
    with pytest.raises(RequestError) as err:
        parse_body(body)
    assert (err.value.status, err.value.code) == (status, code)
    if field_name:
        assert field_name in err.value.message


def test_parse_body_size_caps():
    limits = Limits(max_body_bytes=200, max_message_chars=10)
    with pytest.raises(RequestError) as err:
        parse_body(json.dumps({"sender": "a", "message": "あ" * 11}).encode(), limits)
    assert err.value.code == "message_too_long"
    with pytest.raises(RequestError) as err:
        parse_body(json.dumps({"sender": "a", "message": "x" * 300}).encode(), limits)
    assert (err.value.status, err.value.code) == (400, "body_too_large")


def test_from_credentials_reads_limits_and_refuses_unknown_keys():
    channel = MadoguchiRestInput.from_credentials({"max_message_chars": 50, "turn_timeout_s": 5})
    assert channel.limits.max_message_chars == 50 and channel.turn_timeout_s == 5.0
    assert MadoguchiRestInput.from_credentials(None).limits == Limits()
    with pytest.raises(ValueError, match="max_chars"):
        MadoguchiRestInput.from_credentials({"max_chars": 50})
    assert MadoguchiRestInput.name() == "rest"


# --- turns through a real Sanic server --------------------------------------------------------------


async def test_answer_has_rasa_shape_and_metadata_reaches_the_tracker():
    seen: list[UserMessage] = []

    async def handler(message: UserMessage) -> None:
        seen.append(message)
        await _answer(message)

    async with _serve(handler) as srv:
        status, body = await srv.post({"sender": "s1", "message": "住民票", "metadata": {"yasashii": True}})
    assert status == 200
    assert [m["recipient_id"] for m in body] == ["s1", "s1"]
    assert body[0]["buttons"][0]["payload"] == '/ask_online{"procedure":"juminhyo"}'
    assert all("furigana" not in m for m in body)
    assert seen[0].metadata == {"yasashii": True}
    assert seen[0].input_channel == "rest" and seen[0].text == "住民票"


async def test_furigana_segments_are_added_when_asked():
    async with _serve(_answer) as srv:
        status, body = await srv.post({"sender": "s1", "message": "x", "metadata": {"furigana": True}})
    assert status == 200
    first = body[0]
    assert "".join(seg[0] for seg in first["furigana"]) == first["text"]
    assert ["取", "と"] in first["furigana"] and ["窓口", "まどぐち"] in first["furigana"]
    assert body[1]["furigana"] == [["Please see https://example.jp", None]]
    assert "furigana" not in first["buttons"][0]


async def test_health_reports_readiness():
    async with _serve(_answer, agent=Agent()) as srv:
        async with srv.session.get(f"{srv.url}/") as resp:
            assert resp.status == 200
            assert await resp.json() == {"status": "ok", "ready": False}


async def test_unloaded_agent_answers_503_not_an_empty_list():
    async with _serve(_answer, agent=Agent()) as srv:
        status, body = await srv.post({"sender": "s1", "message": "住民票"})
    assert (status, body["code"]) == (503, "not_ready")


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (RuntimeError(SECRET_TEXT), 500, "internal_error"),
        (LockError("locked"), 503, "busy"),
        (StorageUnavailable("redis: read tracker failed (TimeoutError)"), 503, "storage_unavailable"),
    ],
)
async def test_failing_turn_answers_an_error_without_text(exc, status, code, caplog):
    async def handler(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "partial"})
        raise exc

    caplog.set_level(logging.DEBUG)
    async with _serve(handler) as srv:
        got_status, body = await srv.post({"sender": "s1", "message": SECRET_TEXT})
    assert got_status == status
    assert set(body) == {"error", "code", "phone", "emergency"} and body["code"] == code
    assert body["phone"] == CITY_PHONE and body["emergency"] == ["119", "110"]
    assert "090" not in caplog.text and "山田" not in caplog.text
    assert f"code={code}" in caplog.text


async def test_failed_custom_action_is_an_error_not_a_silent_empty_answer(caplog):
    async def handler(message: UserMessage) -> None:
        # What Rasa's MessageProcessor._run_action does when the action server is down.
        logging.getLogger(PROCESSOR_LOGGER).error(
            f"{ACTION_FAILURE_PREFIX} 'action_procedure'. Bot will continue, but the actions events are lost."
        )

    async with _serve(handler) as srv:
        status, body = await srv.post({"sender": "s1", "message": SECRET_TEXT})
        assert (status, body["code"]) == (503, "action_failed")
    # the watch is per turn: a later good turn in the same process is not affected
    async with _serve(_answer) as srv:
        status, _ = await srv.post({"sender": "s1", "message": "住民票"})
    assert status == 200
    assert "090" not in caplog.text


def test_installed_rasa_still_reports_action_failures_the_way_the_channel_watches():
    source = inspect.getsource(MessageProcessor._run_action)
    assert ACTION_FAILURE_PREFIX in source
    assert inspect.getmodule(MessageProcessor).__name__ == PROCESSOR_LOGGER


async def test_slow_turn_times_out_with_503():
    async def handler(message: UserMessage) -> None:
        await asyncio.Event().wait()  # never answers

    async with _serve(handler, turn_timeout_s=0.2) as srv:
        status, body = await srv.post({"sender": "s1", "message": "住民票"})
    assert (status, body["code"]) == (503, "timeout")


async def test_bad_request_is_400_and_does_not_echo_the_text(caplog):
    caplog.set_level(logging.DEBUG)
    async with _serve(_answer) as srv:
        status, body = await srv.post({"sender": "", "message": SECRET_TEXT})
        assert (status, body["code"]) == (400, "invalid_sender")
        assert SECRET_TEXT not in json.dumps(body, ensure_ascii=False)
        status, body = await srv.post(b"\xff\xfe")
        assert (status, body["code"]) == (400, "invalid_json")
    assert "090" not in caplog.text


async def test_cors_preflight_is_answered_for_the_widget_origin():
    async with _serve(_answer) as srv:
        async with srv.session.options(
            f"{srv.url}/webhook",
            headers={
                "Origin": "http://city.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        ) as resp:
            assert resp.status == 200
            assert resp.headers.get("Access-Control-Allow-Origin") in ("*", "http://city.example")


async def test_answer_is_still_sent_when_furigana_cannot_be_computed(monkeypatch, caplog):
    def broken(text):
        raise RuntimeError("dictionary missing")

    monkeypatch.setattr("bot.furigana.segments", broken)
    async with _serve(_answer) as srv:
        status, body = await srv.post({"sender": "s1", "message": "x", "metadata": {"furigana": True}})
    assert status == 200
    assert body[0]["text"] and all("furigana" not in m for m in body)
    assert "code=furigana_failed" in caplog.text


# --- a crisis is answered even when the turn cannot be ------------------------------------------------


def _safety(body) -> list[dict]:
    return [m["custom"]["madoguchi"] for m in body if (m.get("custom") or {}).get("madoguchi")]


@pytest.mark.parametrize(
    "exc", [ConnectionError("redis is down"), LockError("locked"), RuntimeError("action server")]
)
async def test_a_crisis_is_answered_from_data_when_the_turn_fails(exc, caplog):
    async def handler(message: UserMessage) -> None:
        raise exc

    async with _serve(handler) as srv:
        status, body = await srv.post({"sender": "s1", "message": "家が燃えてる！助けて"})
    assert status == 200
    [card] = _safety(body)
    assert (card["kind"], card["category"]) == ("safety", "emergency") and "119" in card["phones"]
    assert body[0]["recipient_id"] == "s1" and "119" in body[0]["text"]
    assert "crisis was answered from the data files" in caplog.text and "燃え" not in caplog.text


async def test_a_crisis_is_answered_while_the_model_is_not_loaded():
    async with _serve(_answer, agent=Agent()) as srv:
        status, body = await srv.post({"sender": "s1", "message": "もう死にたい"})
    assert status == 200 and _safety(body)[0]["category"] == "self_harm"


async def test_a_crisis_is_answered_when_the_action_server_fails():
    async def handler(message: UserMessage) -> None:
        logging.getLogger(PROCESSOR_LOGGER).error(f"{ACTION_FAILURE_PREFIX} 'action_x'.")

    async with _serve(handler) as srv:
        status, body = await srv.post({"sender": "s1", "message": "夫に殴られています"})
    assert status == 200 and _safety(body)[0]["category"] == "dv"


async def test_a_hung_turn_does_not_hold_back_a_crisis_answer():
    release, recorded = asyncio.Event(), asyncio.Event()

    async def handler(message: UserMessage) -> None:
        await release.wait()  # e.g. a hung tracker store
        recorded.set()

    channel = MadoguchiRestInput(crisis_timeout_s=0.05, turn_timeout_s=30)
    async with _Server(channel, _StandInAgent(handler)) as srv:
        status, body = await asyncio.wait_for(srv.post({"sender": "s1", "message": "火事です"}), timeout=10)
        assert status == 200 and _safety(body)[0]["category"] == "emergency"
        assert len(channel.background) == 1  # the turn goes on, to be recorded
        release.set()
        await asyncio.wait_for(recorded.wait(), timeout=10)


async def test_an_ordinary_question_still_gets_the_error_when_the_turn_fails():
    async def handler(message: UserMessage) -> None:
        raise ConnectionError("redis is down")

    async with _serve(handler) as srv:
        status, body = await srv.post({"sender": "s1", "message": "住民票がほしい"})
    assert (status, body["code"], body["phone"]) == (500, "internal_error", CITY_PHONE)


def test_from_credentials_reads_the_crisis_timeout():
    assert MadoguchiRestInput.from_credentials({"crisis_timeout_s": 1.5}).crisis_timeout_s == 1.5
    assert MadoguchiRestInput.from_credentials(None).crisis_timeout_s == 3.0


def test_a_lone_surrogate_is_a_400_not_a_500():
    body = b'{"sender": "s1", "message": "\\ud800\\u4f4f\\u6c11\\u7968"}'
    with pytest.raises(RequestError) as caught:
        parse_body(body)
    assert (caught.value.status, caught.value.code) == (400, "invalid_message")
    assert parse_body('{"sender": "s1", "message": "😀住民票"}'.encode()).message == "😀住民票"


async def test_at_most_four_turns_run_at_once_in_arrival_order():
    from bot.channels.web import MAX_RUNNING_TURNS, MadoguchiRestInput

    channel = MadoguchiRestInput()
    running, most, order = 0, 0, []

    async def turn(i: int) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        order.append(i)
        await asyncio.sleep(0)
        running -= 1

    await asyncio.gather(*(channel._in_turn(turn(i)) for i in range(10)))
    assert most == MAX_RUNNING_TURNS == 4
    assert order == list(range(10))


# --- analytics of failed turns (a real tracker store on a stopped Redis) ---------------------------


async def test_failed_and_crisis_fallback_turns_reach_the_analytics_record(tmp_path):
    from rasa.shared.core.domain import Domain
    from redis_server import start_redis, stop_redis

    from bot.analytics.recorder import TurnRecorder
    from bot.rasa_stores import TimeoutRedisTrackerStore
    from bot.stores import open_stores

    process, port = start_redis()
    trackers = TimeoutRedisTrackerStore(Domain.empty(), redis_url=f"redis://127.0.0.1:{port}/0")
    stop_redis(process)  # the outage: every turn's tracker read fails

    async def handler(message: UserMessage) -> None:
        await trackers.get_or_create_tracker(message.sender_id)

    stores = open_stores(settings.load({"MADOGUCHI_VAR": str(tmp_path / "var")}))
    usage = TurnRecorder(open_log=lambda: (stores.analytics, b"salt"))
    try:
        async with _serve(handler, usage=usage) as srv:
            failed = await srv.post({"sender": "s1", "message": SECRET_TEXT})
            crisis = await srv.post({"sender": "s2", "message": "家が燃えてる！助けて"})
        await usage.drain()
        assert (failed[0], failed[1]["code"]) == (503, "storage_unavailable")
        assert crisis[0] == 200
        kinds = sorted((e.kind, e.channel) for e in stores.analytics.events())
        assert kinds == [("error", "rest"), ("safety", "rest")]
        assert all(e.text is None for e in stores.analytics.events())  # no wording of a failed turn
    finally:
        stores.close()
