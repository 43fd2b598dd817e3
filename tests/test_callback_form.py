"""The callback form decided without Rasa: every answer fills its step or asks the same step again.

Knowledge is the repository's data at a fixed clock; assertions are on slots, message keys and cards.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot import settings as settings_module
from bot.dialogue import callback_form as form
from bot.dialogue.cards import CallbackCard, CallbackFormCard
from bot.dialogue.form_answers import as_name, find_slot, name_beside_number, only_unsure
from bot.dialogue.knowledge import Knowledge
from bot.dialogue.live import LiveKnowledge
from bot.knowledge.faq.live_base import EMPTY_SNAPSHOT

TUESDAY_10 = datetime.fromisoformat("2026-12-01T10:00:00+09:00")
FRIDAY_16 = datetime.fromisoformat("2026-12-04T16:00:00+09:00")
LAST_WORKING_DAY = datetime.fromisoformat("2026-12-28T11:00:00+09:00")
READ_BACK = form.SoFar(phone="09012345678", name="山田花子", slot="weekday_am", topic="児童手当のこと")


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    live = LiveKnowledge(settings_module.load({}), clock=lambda: TUESDAY_10, faq=lambda: EMPTY_SNAPSHOT)
    return live.now()


def at(knowledge: Knowledge, moment: datetime) -> Knowledge:
    from dataclasses import replace

    return replace(knowledge, now=moment)


def slots(turn) -> dict:
    return dict(turn.slots)


# --- the phone step ---


@pytest.mark.parametrize(
    ("said", "phone", "name"),
    [
        ("山田です、03-1234-5678", "0312345678", "山田"),
        ("03-5555-0123 山田花子", "0355550123", "山田花子"),
        ("佐藤と申します。090-1234-5678", "09012345678", "佐藤"),
        ("090-1234-5678 お願いします", "09012345678", None),
        ("０９０ー１２３４ー５６７８", "09012345678", None),
    ],
)
def test_the_number_and_a_name_beside_it_are_both_taken(knowledge, said, phone, name):
    turn = form.take(form.PHONE, said, form.SoFar(), knowledge)
    assert slots(turn)[form.PHONE] == phone and slots(turn).get(form.NAME) == name
    assert form.RETRY not in slots(turn) and turn.replies == ()


def test_a_name_already_given_is_not_replaced_by_the_phone_answer(knowledge):
    turn = form.take(form.PHONE, "田中です、090-1234-5678", form.SoFar(name="佐藤"), knowledge)
    assert form.NAME not in slots(turn)


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("わからない", form.UNSURE),
        ("知りません", form.UNSURE),
        ("電話番号は何に使うんですか？", form.OTHER),
        ("はい", form.OTHER),
        ('/ask_procedure{"procedure":"juminhyo"}', form.OTHER),
    ],
)
def test_an_answer_without_digits_asks_the_number_again_without_counting(knowledge, said, reason):
    turn = form.take(form.PHONE, said, form.SoFar(attempts=1), knowledge)
    assert slots(turn) == {form.PHONE: None, form.RETRY: reason}  # attempts unchanged, form goes on
    again = form.ask(form.PHONE, form.SoFar(), reason, knowledge)
    reply = again.replies[0]
    assert reply.keys() == [f"callback.retry.phone.{reason}"] and reply.card == CallbackFormCard(step="phone")
    assert again.slots == ((form.RETRY, None),)
    assert "090-1234-5678" in reply.text(knowledge.messages)  # an example is given


def test_unreadable_numbers_are_counted_then_the_main_number_is_given(knowledge):
    first = form.take(form.PHONE, "12", form.SoFar(), knowledge)
    assert slots(first) == {form.ATTEMPTS: 1, form.PHONE: None, form.RETRY: form.INVALID}
    last = form.take(form.PHONE, "0000", form.SoFar(attempts=form.MAX_PHONE_ATTEMPTS - 1), knowledge)
    assert slots(last)[form.GAVE_UP] is True
    assert last.replies[0].response == "utter_phone_give_up"
    assert last.replies[0].params["main_phone"] == knowledge.catalog.city.phone


def test_the_first_ask_is_the_domain_answer(knowledge):
    turn = form.ask(form.PHONE, form.SoFar(), None, knowledge)
    assert turn.replies[0].response == "utter_ask_callback_phone" and turn.slots == ()


# --- the name step ---


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("山田花子", "山田花子"),
        ("やまもと", "やまもと"),
        ("名前は佐藤と申します", "佐藤"),
        ("John Smith", "John Smith"),
        ("住民票はどこで取れますか", None),
        ("保険証について", None),
        ("わからない", None),
        ("ありがとうございます", None),
        ("住民票のことも聞きたい", None),
        ("わかりました", None),
        ("/affirm", None),
    ],
)
def test_what_counts_as_a_name(said, name):
    assert as_name(said) == name


def test_a_question_at_the_name_step_asks_the_name_again_with_an_example(knowledge):
    turn = form.take(form.NAME, "住民票はどこで取れますか", form.SoFar(phone="09012345678"), knowledge)
    assert slots(turn) == {form.NAME: None, form.RETRY: form.OTHER}
    reply = form.ask(form.NAME, form.SoFar(phone="09012345678"), form.OTHER, knowledge).replies[0]
    assert reply.keys() == ["callback.retry.name.other"] and reply.card.step == "name"


def test_the_number_typed_again_at_the_name_step_says_it_was_taken(knowledge):
    so_far = form.SoFar(phone="09012345678")
    turn = form.take(form.NAME, "090-1234-5678", so_far, knowledge)
    assert slots(turn) == {form.NAME: None, form.RETRY: form.HAVE_PHONE}
    reply = form.ask(form.NAME, so_far, form.HAVE_PHONE, knowledge).replies[0]
    assert reply.keys() == ["callback.retry.name.have_phone"]
    assert reply.lines[0].params["phone"] == "090-1234-5678"


def test_a_name_with_a_new_number_takes_both(knowledge):
    turn = form.take(form.NAME, "山田花子、080-1111-2222", form.SoFar(phone="09012345678"), knowledge)
    assert slots(turn) == {form.PHONE: "08011112222", form.NAME: "山田花子"}


def test_names_beside_numbers_need_a_cue_or_a_persons_name():
    assert name_beside_number("090-1234-5678 住民票のこと") is None
    assert name_beside_number("090-1234-5678、鈴木") == "鈴木"


# --- the time slot step ---


@pytest.mark.parametrize(
    ("said", "slot_id"),
    [
        ("weekday_pm", "weekday_pm"),
        ("午後がいいです", "weekday_pm"),
        ("朝のうちに", "weekday_am"),
        ("10時ごろ", "weekday_am"),
        ("3時すぎ", "weekday_pm"),
        ("15時以降", "weekday_pm"),
        ("いつでもいいです", "weekday_am"),
        ("夜中", None),
        ("わからない", None),
    ],
)
def test_time_slots_in_residents_words(knowledge, said, slot_id):
    slot = find_slot(knowledge.catalog.city.callback_slots, said)
    assert (slot.id if slot else None) == slot_id


def test_an_unparsable_slot_asks_again_with_the_buttons(knowledge):
    turn = form.take(form.SLOT, "夜中", form.SoFar(), knowledge)
    assert slots(turn) == {form.SLOT: None, form.RETRY: form.OTHER}
    reply = form.ask(form.SLOT, form.SoFar(), form.OTHER, knowledge).replies[0]
    assert reply.keys() == ["callback.retry.slot.other", "callback.slot_prompt"]
    assert [b.payload for b in reply.buttons] == [
        f'/inform{{"time_slot":"{s.id}"}}' for s in knowledge.catalog.city.callback_slots
    ]
    unsure = form.take(form.SLOT, "わからない", form.SoFar(), knowledge)
    assert slots(unsure)[form.RETRY] == form.UNSURE


# --- the topic step ---


def test_a_topic_is_anything_said_about_something(knowledge):
    assert slots(form.take(form.TOPIC, "児童手当がわからない", form.SoFar(), knowledge)) == {
        form.TOPIC: "児童手当がわからない"
    }
    assert slots(form.take(form.TOPIC, "住民票はどこで取れますか", form.SoFar(), knowledge))[form.TOPIC]
    assert only_unsure("よくわからないです") and not only_unsure("児童手当がわからない")
    unsure = form.take(form.TOPIC, "わからない", form.SoFar(), knowledge)
    assert slots(unsure) == {form.TOPIC: None, form.RETRY: form.UNSURE}
    reply = form.ask(form.TOPIC, form.SoFar(), form.UNSURE, knowledge).replies[0]
    assert reply.keys() == ["callback.retry.topic.unsure"] and reply.card.step == "topic"


# --- the read-back ---


def test_yes_confirms(knowledge):
    assert slots(form.take(form.CONFIRMED, True, READ_BACK, knowledge, said="はい")) == {form.CONFIRMED: True}
    assert slots(form.take(form.CONFIRMED, True, READ_BACK, knowledge)) == {form.CONFIRMED: True}  # button


def test_the_number_typed_again_at_the_read_back_reads_it_back_again(knowledge):
    turn = form.take(form.CONFIRMED, "090-1234-5678", READ_BACK, knowledge, said="090-1234-5678")
    assert slots(turn) == {form.CONFIRMED: None, form.RETRY: form.SAME_PHONE}
    reply = form.ask(form.CONFIRMED, READ_BACK, form.SAME_PHONE, knowledge).replies[0]
    assert reply.keys() == [
        "callback.retry.confirm.same_phone",
        "callback.confirm",
        "callback.retry.confirm.other",
    ]
    assert reply.card == CallbackFormCard(step="confirm")
    assert [b.payload for b in reply.buttons] == ["/affirm", "/deny"]


def test_a_new_number_or_name_at_the_read_back_corrects_it(knowledge):
    turn = form.take(form.CONFIRMED, "080-1111-2222", READ_BACK, knowledge, said="080-1111-2222")
    assert slots(turn) == {form.PHONE: "08011112222", form.CONFIRMED: None, form.RETRY: form.CHANGED}
    renamed = form.take(form.CONFIRMED, "名前は佐藤です", READ_BACK, knowledge, said="名前は佐藤です")
    assert slots(renamed)[form.NAME] == "佐藤"
    corrected = form.SoFar(phone="08011112222", name="山田花子", slot="weekday_am", topic="児童手当のこと")
    reply = form.ask(form.CONFIRMED, corrected, form.CHANGED, knowledge).replies[0]
    assert reply.lines[1].params["phone"] == "080-1111-2222"


@pytest.mark.parametrize("said", ["わかりません", "これで大丈夫ですか？"])
def test_a_yes_the_classifier_heard_in_doubt_is_not_a_confirmation(knowledge, said):
    turn = form.take(form.CONFIRMED, True, READ_BACK, knowledge, said=said)
    assert slots(turn)[form.CONFIRMED] is None and slots(turn)[form.RETRY] in (form.UNSURE, form.OTHER)


def test_anything_else_at_the_read_back_asks_again(knowledge):
    turn = form.take(form.CONFIRMED, "ちょっと待って", READ_BACK, knowledge, said="ちょっと待って")
    assert slots(turn) == {form.CONFIRMED: None, form.RETRY: form.OTHER}
    reply = form.ask(form.CONFIRMED, READ_BACK, form.OTHER, knowledge).replies[0]
    assert reply.keys() == ["callback.retry.confirm.other", "callback.confirm"]


# --- the day and hours of the call ---


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (TUESDAY_10, date(2026, 12, 2)),  # the next day
        (FRIDAY_16, date(2026, 12, 7)),  # over the weekend
        (LAST_WORKING_DAY, date(2027, 1, 4)),  # over the year-end break
    ],
)
def test_the_call_is_on_the_next_business_day(knowledge, moment, day):
    slot = knowledge.catalog.city.slot("weekday_am")
    assert form.call_day(at(knowledge, moment), slot) == day


def test_the_reply_tells_the_day_and_hours_of_the_call(knowledge):
    turn = form.done(
        knowledge,
        ticket="CB-20261201-0001",
        slot_id="weekday_pm",
        slot_text="平日の午後（13時〜17時）",
        department=None,
        phone_display="090-1234-5678",
    )
    reply = turn.replies[0]
    assert reply.response == "utter_callback_done"
    when = form.call_when(knowledge, knowledge.catalog.city.slot("weekday_pm"))
    received = knowledge.messages.text("callback.call_date", month=12, day=1, weekday="火")
    assert reply.card == CallbackCard(
        ticket="CB-20261201-0001",
        call_date="2026-12-02",
        slot="weekday_pm",
        number="0001",
        received="2026-12-01",
        received_label=received,
        call_when=when.render(knowledge.messages),
    )
    # what the resident reads out over the phone: the day of the request and its number of that day
    assert (reply.params["ticket_day"], reply.params["ticket_number"]) == (received, "0001")
    assert when.key == "callback.call_when" and when.params["part"].key == "callback.part_afternoon"
    assert when.params["date"].params == {"month": 12, "day": 2, "weekday": "水"}
    assert reply.params["call_when"] == when.render(knowledge.messages)
    assert (when.params["start"].params, when.params["end"].params) == ({"hour": 13}, {"hour": 17})


def test_the_read_back_shows_the_day_of_the_call(knowledge):
    reply = form.ask(form.CONFIRMED, READ_BACK, None, knowledge).replies[0]
    slot = knowledge.catalog.city.slot("weekday_am")
    assert reply.lines[0].params["slot"] == form.call_when(knowledge, slot)


@pytest.mark.parametrize("step", form.STEPS)
@pytest.mark.parametrize(
    "reason", [form.INVALID, form.UNSURE, form.OTHER, form.HAVE_PHONE, form.SAME_PHONE, form.CHANGED]
)
def test_every_re_ask_renders_with_the_card_of_its_step(knowledge, step, reason):
    reply = form.ask(step, READ_BACK, reason, knowledge).replies[0]
    assert reply.text(knowledge.messages)  # every placeholder is filled
    assert reply.card == CallbackFormCard(step=form.CARD_STEPS[step])
