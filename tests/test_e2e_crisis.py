"""End to end: a crisis is answered with its numbers while the storage behind the bot is gone.

On the REST channel and on socket.io (a third-party client, python-socketio's).

A real madoguchi (Rasa + action server) on a private Redis; the Redis process is then stopped, as in an
outage. Ordinary questions fail honestly (a coded error carrying the city's number); a crisis still gets the
119/110, crisis-line or DV answer, from the data files — also one said indirectly, which only the meaning
detector recognises (the channel's crisis desk runs it with the trained model's classifier).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from bot import settings
from bot.crisis import load_desk
from bot.knowledge.catalog import load_catalog
from tests.redis_server import start_redis, stop_redis
from tests.servers import start_bot, stop_bot
from tests.socketio_client import Conversation

pytestmark = pytest.mark.e2e

#: A crisis answer must not wait for storage timeouts to run out (the channel's crisis timeout is 3 s).
CRISIS_ANSWER_SECONDS = 10.0


@pytest.fixture(scope="module")
def bot_without_redis():
    process, port = start_redis()
    try:
        bot = start_bot({"REDIS_URL": f"redis://127.0.0.1:{port}/0"})
        try:
            assert _post(bot, "住民票の写しがほしい")[0] == 200  # working while Redis is up
            stop_redis(process)  # the outage
            yield bot
        finally:
            stop_bot(bot)
    finally:
        stop_redis(process)


def _post(bot, message: str) -> tuple[int, object]:
    body = json.dumps({"sender": f"e2e-{uuid.uuid4().hex}", "message": message}).encode()
    request = urllib.request.Request(
        f"{bot.rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310 - loopback
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


#: Said without any word of the safety rules: only the meaning detector (the trained model's classifier,
#: run by the channel's crisis desk) recognises them (written for this test).
INDIRECT = [
    ("祖父がいびきをかいたまま、揺すっても目を覚ましません", "emergency", "119"),
    ("もう疲れました。朝が来なければいいのに", "self_harm", "0120-279-338"),
]


@pytest.mark.parametrize(("message", "category", "number"), INDIRECT)
def test_the_rules_alone_miss_the_indirect_crises(message, category, number):
    conf = settings.load({})
    assert load_desk(conf.data_dir, conf.home / "domain.yml").answer(message) is None


@pytest.mark.parametrize(
    ("message", "category", "number"),
    [("家が燃えてる！助けて", "emergency", "119"), ("もう死にたい", "self_harm", "0120-279-338"), *INDIRECT],
)
def test_a_crisis_is_answered_while_redis_is_down(bot_without_redis, message, category, number):
    started = time.monotonic()
    status, body = _post(bot_without_redis, message)
    elapsed = time.monotonic() - started
    cards = [m["custom"]["madoguchi"] for m in body if (m.get("custom") or {}).get("madoguchi")]
    assert status == 200, body
    assert cards[0]["kind"] == "safety" and cards[0]["category"] == category
    assert number in cards[0]["phones"]
    assert elapsed < CRISIS_ANSWER_SECONDS


def test_an_ordinary_question_gets_a_coded_error_with_the_city_number(bot_without_redis):
    status, body = _post(bot_without_redis, "住民票の写しがほしい")
    assert status >= 500 and body["code"]
    assert body["phone"] == load_catalog(settings.load({}).data_dir).city.phone
    assert body["emergency"] == ["119", "110"]


async def test_socketio_answers_a_crisis_while_redis_is_down(bot_without_redis):
    """A third-party socket.io client (python-socketio) gets the 119 answer from data during the outage."""
    talk = Conversation()
    session_id = f"sio-{uuid.uuid4().hex}"
    try:
        await talk.open(bot_without_redis.rasa_url, bot_without_redis.widget_url, session_id)
        started = time.monotonic()
        events = await talk.say(session_id, "火事です、台所から火が出ています", until_kind="safety")
        assert time.monotonic() - started < CRISIS_ANSWER_SECONDS
        safety = [e["custom"]["madoguchi"] for e in events if "custom" in e][-1]
        assert safety["category"] == "emergency" and "119" in safety["phones"]
    finally:
        await talk.close()


async def test_socketio_tells_an_ordinary_question_the_city_number_while_redis_is_down(bot_without_redis):
    talk = Conversation()
    session_id = f"sio-{uuid.uuid4().hex}"
    try:
        await talk.open(bot_without_redis.rasa_url, bot_without_redis.widget_url, session_id)
        events = await talk.say(session_id, "住民票の写しがほしい", until_kind="error")
        error = events[-1]["custom"]["madoguchi"]
        city = load_catalog(settings.load({}).data_dir).city.phone
        assert error["code"] == "storage_unavailable" and error["phone"] == city
        assert error["emergency"] == ["119", "110"]
        text = " ".join(e.get("text") or "" for e in events)  # the text comes before its payload
        assert city in text and "119" in text
    finally:
        await talk.close()


def _action_server_pid(runner_pid: int) -> int:
    import subprocess

    out = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(runner_pid)], capture_output=True, text=True
    )
    return next(int(line.split()[0]) for line in out.stdout.splitlines() if "bot.action_server" in line)


def test_a_crisis_is_answered_while_the_action_server_is_dead():
    """``kill -9`` of the action server (kept down: the runner waits 600 s before restarting it): crises are
    still answered with their numbers, an ordinary question gets a coded error with the city's number."""
    import os
    import signal

    bot = start_bot({"MADOGUCHI_RESTART_FIRST_DELAY": "600"})
    try:
        assert _post(bot, "住民票の写しがほしい")[0] == 200
        os.kill(_action_server_pid(bot.process.pid), signal.SIGKILL)
        for message, category, number in [("家が燃えてる！助けて", "emergency", "119"), *INDIRECT]:
            status, body = _post(bot, message)
            cards = [m["custom"]["madoguchi"] for m in body if (m.get("custom") or {}).get("madoguchi")]
            assert status == 200, body
            assert cards[0]["kind"] == "safety" and cards[0]["category"] == category
            assert number in cards[0]["phones"]
        status, body = _post(bot, "粗大ごみを出したい")
        assert (status, body["code"]) == (503, "action_failed")
        assert body["phone"] == load_catalog(settings.load({}).data_dir).city.phone
    finally:
        stop_bot(bot)
