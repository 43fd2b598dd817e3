"""The LINE webhook end to end: real Sanic server, real event memory, stand-in LINE platform."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from pathlib import Path

import pytest
import yaml
from line_bench import SECRET, USER_ID, line_config, load_payload, serve_line, text_event
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain

from bot import settings as settings_module
from bot.channels.line import LineInput
from bot.channels.line.config import LineConfig
from bot.channels.line.dedup import EventMemory
from bot.channels.line.identity import conversation_id
from bot.knowledge.catalog import load_catalog
from bot.stores import open_stores

MESSAGES = yaml.safe_load((Path(__file__).parents[2] / "data/line/messages.yml").read_text(encoding="utf-8"))
REPLY, PUSH, LOADING = "/v2/bot/message/reply", "/v2/bot/message/push", "/v2/bot/chat/loading/start"
SENDER = conversation_id(SECRET, USER_ID)
CITY_PHONE = load_catalog(settings_module.load({}).data_dir).city.phone


def _payload(*events: dict) -> dict:
    return {"destination": "U0123456789abcdef0123456789abcde", "events": list(events)}


# ------------------------------------------------------------------------------------ happy path


async def test_text_message_is_answered_with_one_reply(line):
    status, answer, _ = await line.post(load_payload("text_message"))
    assert (status, answer) == (200, {})
    await line.settle()
    assert [c.path for c in line.platform.sends] == [REPLY]
    call = line.platform.sends[0]
    assert call.json["replyToken"] == load_payload("text_message")["events"][0]["replyToken"]
    assert call.headers["Authorization"] == "Bearer test-channel-access-token"
    [message] = call.json["messages"]
    assert message["text"] == "echo: 住民票の写しがほしいです"
    [item] = message["quickReply"]["items"]
    assert item["action"] == {"type": "postback", "label": "はい", "data": "/affirm", "displayText": "はい"}
    assert line.bot.seen == [(SENDER, "住民票の写しがほしいです")]


async def test_conversation_id_is_derived_and_stable(line):
    await line.post(_payload(text_event("一回目", "EV-A1")))
    await line.settle()
    await line.post(_payload(text_event("二回目", "EV-A2")))
    await line.post(_payload(text_event("別の人", "EV-B1", user_id="U" + "b" * 32)))
    await line.settle()
    # two residents' turns run side by side: which of EV-A2 and EV-B1 reaches the bot first is not fixed
    senders = dict((text, sender) for sender, text in line.bot.seen)
    assert senders["一回目"] == senders["二回目"] == SENDER
    other = senders["別の人"]
    assert other != SENDER and other.startswith("line-") and len(other) == 5 + 32
    assert all(USER_ID not in key for key in await line.tracker_store.keys())


async def test_postback_sends_the_payload_to_the_bot(line):
    await line.post(load_payload("postback"))
    await line.settle()
    assert line.bot.seen == [(SENDER, '/ask_procedure{"procedure":"juminhyo"}')]
    assert len(line.platform.calls_to(REPLY)) == 1


async def test_follow_sends_the_greeting_from_the_data_file(line):
    await line.post(load_payload("follow"))
    await line.settle()
    [call] = line.platform.sends
    [message] = call.json["messages"]
    assert message["text"] == MESSAGES["follow"]["text"].strip()
    actions = [item["action"] for item in message["quickReply"]["items"]]
    assert [(a["label"], a["data"]) for a in actions] == [
        (b["title"], b["payload"]) for b in MESSAGES["follow"]["buttons"]
    ]
    assert line.bot.seen == []


@pytest.mark.parametrize("kind", ["sticker", "image", "video", "audio", "file", "location"])
async def test_unsupported_messages_get_a_kind_text(line, kind):
    await line.post(load_payload(kind))
    await line.settle()
    [call] = line.platform.sends
    assert call.json["messages"] == [{"type": "text", "text": MESSAGES["unsupported"][kind].strip()}]
    assert line.bot.seen == []


async def test_a_failing_turn_sends_the_error_text_with_the_city_number(line):
    await line.post(_payload(text_event("boom", "EV-BOOM")))
    await line.settle()
    [call] = line.platform.sends
    expected = MESSAGES["error"].strip().replace("{city_phone}", CITY_PHONE)
    assert call.json["messages"] == [{"type": "text", "text": expected}]
    assert CITY_PHONE in expected and "119" in expected and "{" not in expected


async def test_a_failing_turn_still_answers_a_crisis_from_data(line):
    await line.post(_payload(text_event("boom 家が燃えてる", "EV-FIRE")))
    await line.settle()
    [call] = line.platform.sends
    texts = [m.get("text") or m.get("altText") or "" for m in call.json["messages"]]
    assert any("119" in t for t in texts), call.json["messages"]


async def test_group_chat_answers_the_group_without_loading_animation(line):
    payload = load_payload("group_text")
    payload["events"][0]["message"]["text"] = "slow:0.7 粗大ごみ"
    payload["events"][0]["replyToken"] = "expired-group-token"
    await line.post(payload)
    await line.settle()
    [push] = line.platform.calls_to(PUSH)
    assert push.json["to"] == "Ca56f94637c0000000000000000000001"
    assert line.platform.calls_to(LOADING) == []
    assert line.bot.seen[0][0] == conversation_id(SECRET, "Ca56f94637c0000000000000000000001")


# ------------------------------------------------------------------------------------ security


async def test_verification_request_gets_200_and_nothing_happens(line):
    status, answer, _ = await line.post(load_payload("verification"))
    assert (status, answer) == (200, {})
    await line.settle()
    assert line.platform.calls == []


@pytest.mark.parametrize(
    "signature",
    [None, "", "not-base64!", "c2lnbmF0dXJl", "wrong-secret", "other-body"],
)
async def test_unsigned_or_wrongly_signed_bodies_are_refused(line, signature):
    from bot.channels.line.signature import compute_signature

    body = json.dumps(load_payload("text_message")).encode()
    if signature == "wrong-secret":
        signature = compute_signature("another-channel-secret", body)
    elif signature == "other-body":
        signature = compute_signature(SECRET, body + b" ")
    status, answer, _ = await line.post(body, signature=signature)
    assert 400 <= status < 500
    assert answer["error"] in ("missing_signature", "invalid_signature")
    await line.settle()
    assert line.platform.calls == []
    assert line.bot.seen == []


async def test_oversized_body_is_refused_before_anything_else(platform, sqlite_memory):
    channel = LineInput(line_config(platform, max_body_bytes=2048), memory=sqlite_memory)
    async with serve_line(channel, platform) as line:
        payload = _payload(*[text_event("x" * 100, f"EV-BIG-{i}") for i in range(20)])
        status, answer, _ = await line.post(payload)
        assert status == 413 and answer["error"] == "body_too_large"
        status, _, _ = await line.post(load_payload("text_message"))
        assert status == 200
        await line.settle()
        assert len(line.bot.seen) == 1


async def test_signed_but_malformed_body_is_400(line):
    status, answer, _ = await line.post(b'{"events": "nope"}')
    assert status == 400 and answer["error"] == "bad_payload"
    status, _, _ = await line.post(b"not json")
    assert status == 400
    assert line.platform.calls == []


async def test_unknown_event_type_is_200_and_nothing_is_sent(line, caplog):
    caplog.set_level(logging.INFO, logger="bot.channels.line")
    status, _, _ = await line.post(load_payload("unknown_event"))
    assert status == 200
    await line.settle()
    assert line.platform.calls == []
    assert any("membershipUpgrade" in r.getMessage() for r in caplog.records)


async def test_standby_events_are_ignored(line):
    status, _, _ = await line.post(load_payload("standby"))
    assert status == 200
    await line.settle()
    assert line.platform.calls == [] and line.bot.seen == []


async def test_channel_without_secret_answers_503_and_warns_once(platform, caplog):
    caplog.set_level(logging.WARNING, logger="bot.channels.line")
    channel = LineInput(LineConfig.from_sources(None, environ={}))
    async with serve_line(channel, platform) as line:
        for _ in range(2):
            status, answer, _ = await line.post(load_payload("text_message"))
            assert status == 503
            assert answer["error"] == "line_disabled" and "LINE_CHANNEL_SECRET" in answer["detail"]
    warnings = [r for r in caplog.records if "LINE_CHANNEL_SECRET" in r.getMessage()]
    assert len(warnings) == 1
    assert platform.calls == []


async def test_resident_text_and_line_id_never_reach_the_logs(line, caplog):
    caplog.set_level(logging.DEBUG)
    secret_text = "私の電話番号は090-1234-5678です"
    await line.post(_payload(text_event(secret_text, "EV-LOG", reply_token="expired-log")))
    line.platform.script(PUSH, 500)
    await line.post(_payload(text_event("boom", "EV-LOG2")))
    await line.post(load_payload("unknown_event"))
    await line.settle()
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert line.platform.calls_to(PUSH), "the push path ran"
    assert USER_ID not in logged
    assert "090-1234-5678" not in logged and secret_text not in logged


# ------------------------------------------------------------------------------------ never twice


@pytest.fixture(params=["sqlite", "redis"])
def memory(request, tmp_path):
    if request.param == "sqlite":
        stores = open_stores(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "var")}))
    else:
        redis_url = request.getfixturevalue("redis_url")
        env = {"MADOGUCHI_VAR": str(tmp_path / "var"), "REDIS_URL": redis_url}
        stores = open_stores(settings_module.load(env), prefix=f"test-line-{uuid.uuid4().hex}:")
    yield EventMemory(stores.dedup)
    stores.close()


async def test_redelivered_event_is_not_answered_again(platform, memory):
    async with serve_line(LineInput(line_config(platform), memory=memory), platform) as line:
        await line.post(load_payload("text_message"))
        await line.settle()
        status, _, _ = await line.post(load_payload("redelivery"))
        assert status == 200
        await line.settle()
        assert len(line.platform.sends) == 1
        assert len(line.bot.seen) == 1


async def test_duplicate_events_in_one_body_are_answered_once(platform, memory):
    async with serve_line(LineInput(line_config(platform), memory=memory), platform) as line:
        event = text_event("同じイベント", "EV-DUP")
        await line.post(_payload(event, event))
        await line.post(_payload(event))
        await line.settle()
        assert len(line.bot.seen) == 1 and len(line.platform.sends) == 1


async def test_memory_survives_a_restart_of_the_channel(platform, memory):
    for _ in range(2):  # two channel instances (a restarted server) sharing the durable store
        async with serve_line(LineInput(line_config(platform), memory=memory), platform) as line:
            await line.post(load_payload("text_message"))
            await line.settle()
    assert len(platform.sends) == 1


async def test_redelivery_of_an_event_never_seen_is_answered_by_push(line):
    payload = load_payload("redelivery")
    payload["events"][0]["replyToken"] = "expired-long-ago"
    await line.post(payload)
    await line.settle()
    assert [c.path for c in line.platform.sends] == [REPLY, PUSH]
    assert len(line.platform.delivered) == 1


# ------------------------------------------------------------------------------------ ordering, speed


async def test_two_fast_messages_of_one_user_are_handled_in_order(line):
    status, _, _ = await line.post(load_payload("two_texts"))
    assert status == 200
    await line.settle()
    assert [text for _, text in line.bot.seen] == ["slow:0.6 最初の質問", "二番目の質問"]
    replies = line.platform.calls_to(REPLY)
    assert [r.json["messages"][0]["text"] for r in replies] == [
        "echo: slow:0.6 最初の質問",
        "echo: 二番目の質問",
    ]


async def test_separate_webhooks_of_one_user_keep_their_order(line):
    await line.post(_payload(text_event("slow:0.5 一通目", "EV-O1")))
    await line.post(_payload(text_event("二通目", "EV-O2")))
    await line.post(_payload(text_event("三通目", "EV-O3")))
    await line.settle()
    assert [text for _, text in line.bot.seen] == ["slow:0.5 一通目", "二通目", "三通目"]


async def test_other_users_are_not_held_up_by_a_slow_turn(line):
    await line.post(_payload(text_event("slow:1.0 長い処理", "EV-S1")))
    await line.post(_payload(text_event("すぐ終わる", "EV-S2", user_id="U" + "c" * 32)))
    await asyncio.sleep(0.5)
    assert [text for _, text in line.bot.seen] == ["すぐ終わる"]
    await line.settle()
    assert len(line.bot.seen) == 2


async def test_webhook_answers_within_a_second_while_the_turn_is_slow(line):
    status, _, elapsed = await line.post(_payload(text_event("slow:1.5 ゆっくり", "EV-SLOW")))
    assert status == 200
    assert elapsed < 1.0
    assert line.platform.sends == []  # the turn is still running
    await line.settle()
    [loading] = line.platform.calls_to(LOADING)
    assert loading.json == {"chatId": USER_ID, "loadingSeconds": 20}
    paths = [c.path for c in line.platform.calls]
    assert paths == [LOADING, REPLY], "the animation starts before the answer goes out"


async def test_fast_turn_shows_no_loading_animation(line):
    await line.post(load_payload("text_message"))
    await line.settle()
    assert line.platform.calls_to(LOADING) == []


# ------------------------------------------------------------------------------------ sending


async def test_expired_reply_token_falls_back_to_push_with_retry_key(line):
    await line.post(_payload(text_event("期限切れ", "EV-EXP", reply_token="expired-token")))
    await line.settle()
    reply, push = line.platform.sends
    assert reply.path == REPLY and push.path == PUSH
    assert push.json["to"] == USER_ID
    assert push.json["messages"] == reply.json["messages"]
    assert str(uuid.UUID(push.headers["X-Line-Retry-Key"])) == push.headers["X-Line-Retry-Key"]
    assert len(line.platform.delivered) == 1


async def test_used_reply_token_falls_back_to_push(line):
    line.platform.used_tokens.add("rt-EV-USED")
    await line.post(_payload(text_event("使用済み", "EV-USED")))
    await line.settle()
    assert [c.path for c in line.platform.sends] == [REPLY, PUSH]


async def test_push_retry_reuses_the_retry_key_and_never_double_sends(line):
    line.platform.script(PUSH, "accepted-500", 503)
    await line.post(_payload(text_event("再送", "EV-RETRY", reply_token="expired-retry")))
    await line.settle()
    pushes = line.platform.calls_to(PUSH)
    assert len(pushes) == 3  # accepted but 500, 503, then 409 (already accepted)
    assert len({p.headers["X-Line-Retry-Key"] for p in pushes}) == 1
    assert [d["kind"] for d in line.platform.delivered] == ["push"]


async def test_rate_limit_on_reply_is_retried(line):
    line.platform.script(REPLY, 429, 429)
    await line.post(load_payload("text_message"))
    await line.settle()
    assert [c.path for c in line.platform.sends] == [REPLY, REPLY, REPLY]
    assert len(line.platform.delivered) == 1


async def test_reply_that_may_have_gone_through_is_not_pushed_again(line):
    line.platform.script(REPLY, "accepted-500")
    await line.post(load_payload("text_message"))
    await line.settle()
    assert [c.path for c in line.platform.sends] == [REPLY, REPLY]  # second attempt: token already used
    assert len(line.platform.delivered) == 1


async def test_retries_are_bounded(line):
    line.platform.script(REPLY, 500, 500, 500, 500, 500, 500)
    await line.post(load_payload("text_message"))
    await line.settle()
    assert len(line.platform.calls_to(REPLY)) == line.channel.config.max_attempts
    assert line.platform.calls_to(PUSH) == []


async def test_many_texts_of_one_turn_go_out_in_one_reply(line):
    await line.post(_payload(text_event("many:8", "EV-MANY")))
    await line.settle()
    [call] = line.platform.sends
    assert 1 <= len(call.json["messages"]) <= 5
    joined = "\n\n".join(m["text"] for m in call.json["messages"])
    assert all(f"answer {i}" in joined for i in range(8))


async def test_long_text_is_split_within_one_reply(line):
    await line.post(_payload(text_event("long:12000", "EV-LONG")))
    await line.settle()
    [call] = line.platform.sends
    assert [len(m["text"]) for m in call.json["messages"]] == [5000, 5000, 2000]


async def test_more_than_five_cards_reply_five_and_push_the_rest(line):
    await line.post(_payload(text_event("cards:7", "EV-CARDS")))
    await line.settle()
    reply, push = line.platform.sends
    assert (reply.path, len(reply.json["messages"])) == (REPLY, 5)
    assert (push.path, len(push.json["messages"])) == (PUSH, 2)
    assert all(m["type"] == "flex" for m in reply.json["messages"] + push.json["messages"])


async def test_quick_replies_are_limited_to_thirteen_short_labels(line):
    await line.post(_payload(text_event("buttons:15", "EV-BTN")))
    await line.settle()
    [message] = line.platform.sends[0].json["messages"]
    items = message["quickReply"]["items"]
    assert len(items) == 13
    assert all(len(item["action"]["label"]) <= 20 for item in items)
    assert items[0]["action"]["label"] == "button number 0 wit…"
    assert items[0]["action"]["displayText"] == "button number 0 with a long title"


async def test_procedure_answer_becomes_a_flex_card(line):
    await line.post(_payload(text_event("card", "EV-CARD")))
    await line.settle()
    [message] = line.platform.sends[0].json["messages"]
    assert message["type"] == "flex"
    assert message["altText"].startswith("住民票の写し")
    flat = json.dumps(message["contents"], ensure_ascii=False)
    for expected in (
        "住民票の写しの交付",
        "本人確認書類",
        "1通300円",
        "市民課の窓口",
        MESSAGES["card"]["bring"],
    ):
        assert expected in flat
    uris = [
        c["action"]["uri"] for c in message["contents"]["footer"]["contents"] if c["action"]["type"] == "uri"
    ]
    assert uris == ["https://e-shinsei.example.jp/sample-city/juminhyo", "tel:0120000123"]
    assert message["quickReply"]["items"][0]["action"]["data"] == '/ask_details{"procedure":"juminhyo"}'


# ------------------------------------------------------------------------------------ unfollow


@pytest.fixture(params=["memory", "sql", "redis"])
def tracker_store(request, tmp_path):
    if request.param == "memory":
        return InMemoryTrackerStore(Domain.empty())
    if request.param == "sql":
        return SQLTrackerStore(Domain.empty(), db=str(tmp_path / "trackers.db"))
    redis_url = request.getfixturevalue("redis_url")
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    return RedisTrackerStore(Domain.empty(), host="127.0.0.1", port=port, key_prefix=uuid.uuid4().hex)


async def test_unfollow_deletes_the_conversation(platform, sqlite_memory, tracker_store):
    channel = LineInput(line_config(platform), memory=sqlite_memory)
    async with serve_line(channel, platform, tracker_store) as line:
        await line.post(load_payload("text_message"))
        await line.post(_payload(text_event("他の人", "EV-OTHER", user_id="U" + "d" * 32)))
        await line.settle()
        other = conversation_id(SECRET, "U" + "d" * 32)
        assert await tracker_store.retrieve(SENDER) is not None
        await line.post(load_payload("unfollow"))
        await line.settle()
        assert await tracker_store.retrieve(SENDER) is None
        assert await tracker_store.retrieve(other) is not None
        assert not any(key.endswith(SENDER) for key in await tracker_store.keys())
        assert len(platform.sends) == 2  # nothing is sent for the unfollow


async def test_unreachable_event_memory_still_answers(platform, tmp_path, caplog):
    from line_bench import free_port

    env = {"MADOGUCHI_VAR": str(tmp_path / "var"), "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    stores = open_stores(settings_module.load(env))
    try:
        channel = LineInput(line_config(platform), memory=EventMemory(stores.dedup))
        async with serve_line(channel, platform) as line:
            await line.post(load_payload("text_message"))
            await line.settle()
            assert len(line.platform.sends) == 1
            assert any("event memory unavailable" in r.getMessage() for r in caplog.records)
    finally:
        stores.close()


async def test_a_flood_is_answered_and_the_resident_told_once_about_the_rest(line):
    """50 messages of one user in one body: the flood guard keeps 20 waiting; the resident is told, once."""
    from prometheus_client import REGISTRY

    def counted(result: str) -> float:
        return REGISTRY.get_sample_value("madoguchi_line_events_total", {"result": result}) or 0.0

    before = {r: counted(r) for r in ("received", "answered", "dropped")}
    events = [text_event(f"slow:0.05 質問{i}", f"EV-F{i:02d}") for i in range(50)]
    status, _, _ = await line.post(_payload(*events))
    assert status == 200
    await line.settle()
    texts = [r.json["messages"][0]["text"] for r in line.platform.calls_to(REPLY)]
    flood = MESSAGES["flood"].strip().replace("{city_phone}", CITY_PHONE)
    assert texts.count(flood) == 1 and CITY_PHONE in flood  # with the number to call, like every error
    answered = [t for t in texts if t.startswith("echo: ")]
    channel = line.channel
    assert len(answered) + channel.dropped_events == 50 and channel.dropped_events > 0
    assert answered[0] == "echo: slow:0.05 質問0"  # the first ones, in order
    # the metrics tell the same: 50 received, the answered ones and the notice sent, the rest dropped
    delta = {r: counted(r) - before[r] for r in before}
    assert delta == {"received": 50, "answered": len(answered) + 1, "dropped": channel.dropped_events}


async def test_a_lone_surrogate_is_replaced_and_the_message_answered(line):
    body = json.dumps(_payload(text_event("X住民票", "EV-SURR")), ensure_ascii=True).replace("X", "\\ud800")
    status, _, _ = await line.post(body.encode())
    assert status == 200
    await line.settle()
    [(_, seen)] = line.bot.seen
    assert seen == "\ufffd住民票" and seen.encode("utf-8")  # text the pipeline and the stores can take
    assert len(line.platform.sends) == 1
