"""LINE: a message not in Japanese is answered from data/languages/ (English card or a notice in the
resident's language), without the Japanese turn; Japanese still goes to the bot."""

from __future__ import annotations

import json

from line_bench import text_event

from bot import settings
from bot.knowledge.catalog import load_catalog

REPLY = "/v2/bot/message/reply"
CATALOG = load_catalog(settings.load({}).data_dir)


def _payload(*events: dict) -> dict:
    return {"destination": "U0123456789abcdef0123456789abcde", "events": list(events)}


async def test_an_english_question_gets_the_english_card_with_a_link_to_the_form(line):
    await line.post(_payload(text_event("How can I get a residence certificate?", "EV-EN1")))
    await line.settle()
    assert line.bot.seen == []
    [call] = line.platform.sends
    assert call.path == REPLY
    [message] = call.json["messages"]
    assert message["type"] == "text"
    assert message["text"].startswith("Certificate of residence")
    assert CATALOG.department("shimin").phone in message["text"]
    [item] = message["quickReply"]["items"]
    assert item["action"]["type"] == "uri"
    assert item["action"]["uri"] == CATALOG.get("juminhyo").online.url


async def test_a_korean_question_gets_the_korean_notice_with_the_city_phone(line):
    await line.post(_payload(text_event("주민표를 받고 싶어요", "EV-KO1")))
    await line.settle()
    assert line.bot.seen == []
    sent = json.dumps(line.platform.sends[0].json["messages"], ensure_ascii=False)
    assert "이 채팅은" in sent and CATALOG.city.phone in sent
    assert '"uri": "tel:' + CATALOG.city.phone.replace("-", "") in sent  # the city's number is one tap


async def test_a_topic_button_of_the_english_answer_comes_back_as_a_postback_and_is_answered(line):
    await line.post(_payload(text_event("Hello, can you help me?", "EV-EN2")))
    await line.settle()
    [message] = line.platform.sends[0].json["messages"]
    actions = [i["action"] for i in message["quickReply"]["items"]]
    assert actions and all(a["type"] == "postback" for a in actions)
    postback = text_event("", "EV-EN3")
    postback.pop("message")
    postback.update(type="postback", postback={"data": actions[0]["data"]})
    await line.post(_payload(postback))
    await line.settle()
    assert line.bot.seen == []
    second = line.platform.sends[1].json["messages"][0]
    assert second["text"].startswith("Moving-in notification")  # the first topic of data/languages/en.yml


async def test_japanese_still_goes_to_the_bot(line):
    await line.post(_payload(text_event("住民票の写しがほしいです", "EV-JA1")))
    await line.settle()
    assert [text for _, text in line.bot.seen] == ["住民票の写しがほしいです"]
