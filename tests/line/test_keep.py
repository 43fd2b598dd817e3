"""LINE 「このリストを残す」: a checklist answer offers to keep the list; the postback brings it back as
plain text (no quick replies) that stays in the chat to pin or forward, answered without Rasa."""

from __future__ import annotations

from pathlib import Path

from line_bench import text_event

from bot import settings
from bot.channels.line.keep import ChecklistKeeper
from bot.channels.line.render import KEEP_PREFIX, render_turn
from bot.channels.line.texts import load_texts
from bot.dialogue import compose
from bot.dialogue.live import LiveKnowledge

LABELS = load_texts(Path(__file__).parents[2] / "data" / "line").card
REPLY = "/v2/bot/message/reply"


def _knowledge():
    return LiveKnowledge(settings.load({}), faq=lambda: None).now()


def _checklist_messages(event_id: str, option_id: str | None) -> list[dict]:
    """The real core's checklist answer, as Rasa hands it to the LINE channel."""
    k = _knowledge()
    event = k.catalog.life_event(event_id)
    turn = compose.answer_life_event(k, event, event.option(option_id) if option_id else None)
    return [
        {
            "text": r.text(k.messages),
            "buttons": [b.to_json() for b in r.buttons],
            "custom": {"madoguchi": r.card.to_json()} if r.card else None,
        }
        for r in turn.replies
    ]


def test_a_checklist_answer_offers_to_keep_the_list_first_among_its_quick_replies():
    messages = _checklist_messages("moving", "in")  # 14 procedures: more than LINE's 13 quick replies
    objects = render_turn(messages, LABELS)
    items = objects[-1]["quickReply"]["items"]
    assert items[0]["action"] == {
        "type": "postback",
        "label": LABELS["keep_checklist"],
        "data": f"{KEEP_PREFIX}moving/in",
        "displayText": LABELS["keep_checklist"],
    }
    # an answer that is not a checklist has no such button
    k = _knowledge()
    (reply,) = compose.procedure_reply(k, k.catalog.get("juminhyo"), False).replies
    plain = render_turn(
        [{"text": reply.text(k.messages), "custom": {"madoguchi": reply.card.to_json()}}], LABELS
    )
    assert KEEP_PREFIX not in str(plain)


def test_the_kept_list_is_plain_text_with_every_procedure_its_deadline_and_phone():
    k = _knowledge()
    keeper = ChecklistKeeper(lambda: k)
    for event_id, option_id in (("moving", "in"), ("death", None), ("birth", None)):
        card = _checklist_messages(event_id, option_id)[0]["custom"]["madoguchi"]
        data = f"{KEEP_PREFIX}{event_id}/{option_id or ''}"
        assert keeper.wants(data)
        objects = keeper.answer(data)
        assert objects and all(set(o) == {"type", "text"} for o in objects)  # no quick replies
        text = "\n".join(o["text"] for o in objects)
        for pid, deadline in zip(card["procedures"], card["deadlines"], strict=True):
            procedure = k.catalog.get(pid)
            line = next(row for row in text.splitlines() if procedure.name in row)
            assert (deadline or "") in line and k.catalog.department_of(pid).phone in line
        assert k.catalog.city.phone in text
    assert keeper.answer(f"{KEEP_PREFIX}nothing/") is None
    assert keeper.answer(f"{KEEP_PREFIX}moving/") is None  # moving needs its option
    assert not keeper.wants("/ask_phone")


async def test_the_keep_postback_is_answered_by_the_channel_not_the_bot(line):
    postback = text_event("", "EV-KEEP1")
    postback.pop("message")
    postback.update(type="postback", postback={"data": f"{KEEP_PREFIX}death/"})
    await line.post({"destination": "U0123456789abcdef0123456789abcde", "events": [postback]})
    await line.settle()
    assert line.bot.seen == []
    [call] = line.platform.sends
    assert call.path == REPLY
    messages = call.json["messages"]
    assert all(m["type"] == "text" and "quickReply" not in m for m in messages)
    k = _knowledge()
    assert k.catalog.get("death").name in messages[0]["text"]
