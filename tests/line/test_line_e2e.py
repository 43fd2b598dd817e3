"""End to end: the real Rasa server + action server (``running_bot`` machinery from tests/servers.py) with
the LINE channel pointed at the stand-in threaded_platform. Needs the trained model (``make model``)."""

from __future__ import annotations

import time

import pytest
from line_bench import USER_ID, load_payload, post, text_event

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT = 60


def wait_for_sends(threaded_platform, count: int) -> list:
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while time.monotonic() < deadline:
        if len(threaded_platform.sends) >= count:
            return threaded_platform.sends
        time.sleep(0.2)
    pytest.fail(f"expected {count} send(s) to LINE, got {len(threaded_platform.sends)}")


def _payload(event: dict) -> dict:
    return {"destination": "U0123456789abcdef0123456789abcde", "events": [event]}


def test_question_is_answered_once_like_on_the_web(line_bot, threaded_platform):
    question = "住民票の写しがほしい"
    status, elapsed = post(line_bot, _payload(text_event(question, "E2E-TEXT-1")))
    assert status == 200 and elapsed < 1.0
    [call] = wait_for_sends(threaded_platform, 1)
    assert call.path == "/v2/bot/message/reply" and call.json["replyToken"] == "rt-E2E-TEXT-1"
    messages = call.json["messages"]
    assert 1 <= len(messages) <= 5
    web_cards = line_bot.madoguchi("e2e-web-compare", question)
    procedure_on_web = any(card.get("kind") == "procedure" for card in web_cards)
    assert procedure_on_web, "the NLU recognises this everyday question as a procedure"
    flex = [m for m in messages if m["type"] == "flex"]
    assert flex and flex[0]["contents"]["header"]["contents"][0]["text"], "a procedure answer is a Flex card"
    assert messages[-1].get("quickReply"), "the answer's buttons are quick replies on the last message"

    # the same event delivered again is never answered again
    redelivery = text_event(question, "E2E-TEXT-1")
    redelivery["deliveryContext"]["isRedelivery"] = True
    assert post(line_bot, _payload(redelivery))[0] == 200
    time.sleep(3)
    assert len(threaded_platform.sends) == 1


def test_rich_menu_and_greeting_buttons_get_answers(line_bot, threaded_platform):
    before = len(threaded_platform.sends)
    follow = load_payload("follow")
    follow["events"][0]["webhookEventId"] = "E2E-FOLLOW-1"
    assert post(line_bot, follow)[0] == 200
    postback = load_payload("postback")
    postback["events"][0].update(
        webhookEventId="E2E-POSTBACK-1", replyToken="rt-E2E-POSTBACK-1", postback={"data": "/ask_phone"}
    )
    assert post(line_bot, postback)[0] == 200
    sends = wait_for_sends(threaded_platform, before + 2)[before:]
    assert all(call.json["messages"] for call in sends)
    assert any(call.json.get("replyToken") == "rt-E2E-POSTBACK-1" for call in sends)


def test_unsigned_webhook_is_refused(line_bot, threaded_platform):
    before = len(threaded_platform.calls)
    assert post(line_bot, _payload(text_event("署名なし", "E2E-UNSIGNED")), signed=False)[0] == 401
    time.sleep(1)
    assert len(threaded_platform.calls) == before
    assert USER_ID not in line_bot.log()
