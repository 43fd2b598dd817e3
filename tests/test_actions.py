"""Custom actions, run directly with rasa_sdk trackers against the real catalog and messages.

Assertions are on structured fields (``custom.madoguchi``, payloads, response names, slots), never on
the Japanese wording, which staff edit in data/.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.callback import (
    ActionAskCallbackConfirmed,
    ActionAskCallbackPhone,
    ActionAskCallbackSlot,
    ActionSubmitCallback,
    ValidateCallbackForm,
)
from actions.contact import ActionContactPhone
from actions.context import Context
from actions.feedback import ActionRecordFeedback
from actions.procedures import ActionAnswerOnline, ActionAnswerProcedure, ActionProcedureDetails
from bot import settings as settings_module
from bot.dialogue.form_answers import clean_name, find_slot
from bot.knowledge.routing import department_for


@pytest.fixture()
def process_context(tmp_path):
    """The actions' context over a private var dir (SQLite stores), the repository's data."""
    ctx = Context(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "var")}))
    yield ctx
    ctx.close()


class _Ctx:
    """What the tests read of the context (catalog, stores, menu)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def catalog(self):
        return self.ctx.knowledge.catalog()

    def menu(self):
        return self.ctx.knowledge.menu()

    def stores(self):
        return self.ctx.stores()


@pytest.fixture(autouse=True)
def context(process_context, monkeypatch):
    """Actions made without a context (as the action server makes them) use the test's."""
    import actions.context

    monkeypatch.setattr(actions.context, "default", lambda: process_context)
    return _Ctx(process_context)


def tracker(text: str = "", intent: str = "ask_procedure", entities=None, slots=None, metadata=None):
    return Tracker(
        sender_id="test",
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities or [],
            "metadata": metadata or {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def entity(name: str, value) -> dict:
    return {"entity": name, "value": value}


def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def cards(messages) -> list[dict]:
    return [m["custom"]["madoguchi"] for m in messages if (m.get("custom") or {}).get("madoguchi")]


def slot_events(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("住民票の写しを取りたいです", "juminhyo"),
        ("ｼﾞｭｳﾐﾝﾋｮｳ 土日", "juminhyo"),
        ("粗大ごみを出したい", "sodai_gomi"),
        ("マイナカードをなくした", "mynumber_lost"),
    ],
)
def test_procedure_question_gets_the_catalog_answer(text, procedure):
    messages, events = run(ActionAnswerProcedure(), tracker(text))
    card = cards(messages)[0]
    assert card["kind"] == "procedure" and card["procedure"] == procedure
    assert card["bring"] and card["department"]["phone"]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert f'/ask_details{{"procedure":"{procedure}"}}' in payloads
    assert f'/ask_phone{{"procedure":"{procedure}"}}' in payloads
    assert messages[-1]["response"] == "utter_ask_feedback"
    assert slot_events(events)["procedure"] == procedure


def test_easy_japanese_uses_the_catalogs_easy_summary(context):
    catalog = context.catalog()
    easy = catalog.get("juminhyo").summary_easy
    messages, _ = run(ActionAnswerProcedure(), tracker("住民票がほしい", metadata={"yasashii": True}))
    assert easy in messages[0]["text"]
    messages, _ = run(ActionAnswerProcedure(), tracker("住民票がほしい"))
    assert easy not in messages[0]["text"]


def test_button_entity_wins_over_text():
    t = tracker("/ask_procedure", entities=[entity("procedure", "koseki")])
    messages, _ = run(ActionAnswerProcedure(), t)
    assert cards(messages)[0]["procedure"] == "koseki"


def test_moving_asks_one_clarifying_question_then_gives_a_checklist():
    messages, _ = run(ActionAnswerProcedure(), tracker("引っ越しをします", intent="life_event"))
    card = cards(messages)[0]
    assert card == {"kind": "clarify", "life_event": "moving"}
    options = [json.loads(b["payload"][b["payload"].index("{") :]) for b in messages[0]["buttons"]]
    assert {o["move_type"] for o in options} == {"in", "out", "within"}

    chosen = tracker(
        "/life_event",
        intent="life_event",
        entities=[entity("life_event", "moving"), entity("move_type", "in")],
    )
    messages, _ = run(ActionAnswerProcedure(), chosen)
    card = cards(messages)[0]
    assert card["kind"] == "checklist" and card["option"] == "in"
    assert "tennyu" in card["procedures"]


def test_a_named_procedure_beats_the_life_event():
    messages, _ = run(ActionAnswerProcedure(), tracker("転入届の持ち物を教えて", intent="life_event"))
    assert cards(messages)[0]["procedure"] == "tennyu"


def test_birth_gives_a_checklist_without_question():
    messages, _ = run(ActionAnswerProcedure(), tracker("子どもが生まれました", intent="life_event"))
    card = cards(messages)[0]
    assert card["kind"] == "checklist" and "birth" in card["procedures"]


def test_online_answer_gives_the_form_and_card_requirement(context):
    catalog = context.catalog()
    online = next(p for p in catalog.procedures.values() if p.online)
    messages, _ = run(
        ActionAnswerOnline(),
        tracker("/ask_online", intent="ask_online", entities=[entity("procedure", online.id)]),
    )
    card = cards(messages)[0]
    assert card["online"]["url"] == online.online.url
    assert card["online"]["requires_mynumber_card"] == online.online.requires_mynumber_card
    assert online.online.url in [b["payload"] for b in messages[0]["buttons"]]


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("オンラインでできる手続きを教えて", "online_list"),  # nothing else named: the overview
        ("転出届はネットで出せますか", "tenshutsu"),
        # the online words match the overview best; the procedure named beside them is what is asked
        ("オンライン申請で出ていく届けもできますか", "tenshutsu"),
        ("オンラインでできる手続きに住民票も入っていますか", "juminhyo"),
    ],
)
def test_online_question_answers_the_procedure_it_names(text, procedure):
    messages, _ = run(ActionAnswerOnline(), tracker(text, intent="ask_online"))
    assert cards(messages)[0]["procedure"] == procedure


def test_a_generic_entry_gives_way_only_to_a_close_specific_match(context):
    from bot.dialogue.resolve import GENERIC_MARGIN, named_in_text

    catalog = context.catalog()
    text = "オンライン申請で出ていく届けもできますか"
    (top, top_score), (other, other_score) = catalog.match(text, top_k=2)
    assert top == "online_list" and top_score - other_score <= GENERIC_MARGIN
    assert named_in_text(catalog, text) == "online_list"  # without a generic entry: the best match
    assert named_in_text(catalog, text, generic="online_list") == other == "tenshutsu"
    assert named_in_text(catalog, "明日の天気", generic="online_list") is None


def test_online_answer_is_honest_when_there_is_no_form(context):
    catalog = context.catalog()
    offline = next(p for p in catalog.procedures.values() if not p.online and p.where.counter)
    messages, _ = run(
        ActionAnswerOnline(),
        tracker("/ask_online", intent="ask_online", entities=[entity("procedure", offline.id)]),
    )
    card = cards(messages)[0]
    assert card["online"] is None
    assert not any(b["payload"].startswith("http") for b in messages[0]["buttons"])


def test_details_use_the_remembered_procedure():
    messages, _ = run(
        ActionProcedureDetails(),
        tracker("もっと詳しく", intent="ask_details", slots={"procedure": "jido_teate"}),
    )
    assert cards(messages)[0] == {"kind": "details", "procedure": "jido_teate"}


def test_phone_gives_the_departments_number(context):
    catalog = context.catalog()
    messages, _ = run(
        ActionContactPhone(), tracker("電話で聞きたい", intent="ask_phone", slots={"procedure": "sodai_gomi"})
    )
    card = cards(messages)[0]
    department = catalog.department_of("sodai_gomi")
    assert card["phone"] == department.phone and isinstance(card["open_now"], bool)
    assert messages[0]["buttons"][0]["payload"] == "/request_callback"


def test_phone_without_topic_gives_the_main_number(context):
    catalog = context.catalog()
    messages, _ = run(ActionContactPhone(), tracker("人と話したい", intent="ask_phone"))
    assert cards(messages)[0]["phone"] == catalog.city.phone


@pytest.mark.parametrize(
    "raw", ["090-1234-5678", "０９０１２３４５６７８", "(03)1234-5678", "電話は045-123-4567です"]
)
async def test_phone_numbers_in_any_common_writing_are_accepted(raw):
    dispatcher = CollectingDispatcher()
    result = await ValidateCallbackForm().validate_callback_phone(raw, dispatcher, tracker(raw, "inform"), {})
    assert result["callback_phone"].isdigit()
    assert dispatcher.messages == []


async def test_invalid_phone_is_re_asked_then_given_up_after_three_tries(context):
    form = ValidateCallbackForm()
    attempts = 0
    for expected_attempts in (1, 2):
        dispatcher = CollectingDispatcher()
        t = tracker("12", "inform", slots={"callback_phone_attempts": attempts})
        result = await form.validate_callback_phone("12", dispatcher, t, {})
        assert result["callback_phone"] is None and result["callback_phone_attempts"] == expected_attempts
        assert result["callback_retry"] == "invalid" and dispatcher.messages == []
        attempts = result["callback_phone_attempts"]
        # the ask action says why and gives an example, and forgets the reason
        dispatcher = CollectingDispatcher()
        events = await ActionAskCallbackPhone().run(
            dispatcher, tracker(slots={"callback_retry": "invalid"}), {}
        )
        assert cards(dispatcher.messages)[0] == {"kind": "callback_form", "step": "phone"}
        assert slot_events(events) == {"callback_retry": None}
    dispatcher = CollectingDispatcher()
    result = await form.validate_callback_phone(
        "12", dispatcher, tracker("12", "inform", slots={"callback_phone_attempts": 2}), {}
    )
    assert result["callback_gave_up"] is True
    assert dispatcher.messages[0]["response"] == "utter_phone_give_up"
    assert dispatcher.messages[0]["main_phone"] == context.catalog().city.phone
    required = await form.required_slots(
        ["callback_phone"], dispatcher, tracker(slots={"callback_gave_up": True}), {}
    )
    assert required == []


async def test_the_phone_step_takes_the_name_beside_the_number(context):
    said = "山田です、03-1234-5678"
    result = await ValidateCallbackForm().validate_callback_phone(
        said, CollectingDispatcher(), tracker(said, "inform"), {}
    )
    assert (result["callback_phone"], result["callback_name"]) == ("0312345678", "山田")


async def test_the_number_typed_again_at_the_read_back_keeps_the_form(context):
    read_back = {
        "callback_phone": "09012345678",
        "callback_name": "山田花子",
        "callback_slot": "weekday_am",
        "callback_topic": "児童手当のこと",
    }
    said = "090-1234-5678"
    t = tracker(said, "inform", slots=read_back)
    result = await ValidateCallbackForm().validate_callback_confirmed(said, CollectingDispatcher(), t, {})
    assert result == {"callback_confirmed": None, "callback_retry": "same_phone"}
    dispatcher = CollectingDispatcher()
    asked = tracker(said, "inform", slots={**read_back, **result})
    await ActionAskCallbackConfirmed().run(dispatcher, asked, {})
    assert cards(dispatcher.messages) == [{"kind": "callback_form", "step": "confirm"}]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    # a 「わかりません」 the classifier heard as a yes does not send the request
    t = tracker("わかりません", "affirm", slots=read_back)
    result = await ValidateCallbackForm().validate_callback_confirmed(True, CollectingDispatcher(), t, {})
    assert result["callback_confirmed"] is None


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("山田太郎です", "山田太郎"),
        ("名前は佐藤と申します", "佐藤"),
        ("やまだ", "やまだ"),
        ("0901234", None),
        ("", None),
    ],
)
def test_names_are_cleaned(raw, name):
    assert clean_name(raw) == name


def test_time_slots_come_from_the_data(context):
    slots = context.catalog().city.callback_slots
    assert find_slot(slots, slots[0].id) == slots[0]
    assert find_slot(slots, "午後がいいです").start.hour >= 12
    assert find_slot(slots, "夜中") is None
    messages, _ = run(ActionAskCallbackSlot(), tracker())
    assert len(messages[0]["buttons"]) == len(slots)


def test_confirmed_callback_is_stored_before_the_ticket_is_told(context):
    slots = {
        "callback_phone": "09012345678",
        "callback_name": "山田太郎",
        "callback_slot": context.catalog().city.callback_slots[0].id,
        "callback_topic": "児童手当のこと",
        "callback_confirmed": True,
        "procedure": "jido_teate",
    }
    messages, events = run(ActionSubmitCallback(), tracker("/affirm", "affirm", slots=slots))
    card = cards(messages)[0]
    ticket = card["ticket"]
    assert messages[0]["response"] == "utter_callback_done" and messages[0]["ticket"] == ticket
    assert card["slot"] == slots["callback_slot"] and card["call_date"] > stored_day(ticket)
    stored = context.stores().callbacks.get(ticket)
    assert stored.phone == "09012345678" and stored.status == "open"
    assert stored.department == context.catalog().get("jido_teate").department
    # personal details leave the conversation
    cleared = slot_events(events)
    assert cleared["callback_phone"] is None and cleared["callback_name"] is None


def stored_day(ticket: str) -> str:
    """The ISO date a ticket CB-YYYYMMDD-NNNN was made on."""
    day = ticket.split("-")[1]
    return f"{day[:4]}-{day[4:6]}-{day[6:]}"


def test_gave_up_callback_stores_nothing(context):
    messages, _ = run(ActionSubmitCallback(), tracker(slots={"callback_gave_up": True}))
    assert messages == []
    assert context.stores().callbacks.list() == []


def test_unhelpful_vote_goes_to_the_review_log_masked(context):
    slots = {"last_question": "090-1111-2222の山田ですが粗大ごみの件", "last_answer": "procedure:sodai_gomi"}
    t = tracker("/feedback", "feedback", entities=[entity("helpful", False)], slots=slots)
    messages, _ = run(ActionRecordFeedback(), t)
    assert messages[0]["response"] == "utter_feedback_sorry"
    groups = context.stores().review.distinct()
    assert len(groups) == 1 and "090-1111-2222" not in groups[0].question
    assert groups[0].kinds == ["unhelpful"]


def test_bare_procedure_button_offers_the_popular_procedures(context):
    messages, _ = run(ActionAnswerProcedure(), tracker("/ask_procedure"))
    card = cards(messages)[0]
    assert card["kind"] == "menu"
    assert card["procedures"] == [p for p in context.menu() if context.catalog().get(p)][:12]
    assert len(messages[0]["buttons"]) == len(card["procedures"])


def test_menu_lists_only_known_procedures(context):
    unknown = [pid for pid in context.menu() if context.catalog().get(pid) is None]
    assert unknown == []


def test_a_number_in_the_callback_request_itself_is_taken():
    form = ValidateCallbackForm()
    t = tracker("折り返しお願いします。080-0000-5678です", "request_callback")
    extracted = asyncio.run(form.extract_callback_phone(CollectingDispatcher(), t, {}))
    assert extracted == {"callback_phone": "08000005678"}
    # later turns (the number is being asked for) are left to the form's own mapping
    t = tracker("080-0000-5678", "inform", slots={"requested_slot": "callback_phone"})
    assert asyncio.run(form.extract_callback_phone(CollectingDispatcher(), t, {})) == {}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("担当の方から折り返しお電話いただけますか。山田太郎、090-0000-1234です", "山田太郎"),
        ("佐藤花子といいます。電話をかけ直してほしいです", "佐藤花子"),
        ("名前は鈴木です。折り返しお願いします", "鈴木"),
        ("折り返しください。田中と申します", "田中"),
        ("折り返し電話ください、きむらです", "きむら"),
        ("高橋さんに折り返してほしい", None),  # someone else's name, not an introduction
        ("住民票のことで電話がほしい", None),
        ("折り返し電話ください", None),
    ],
)
def test_a_name_introduced_in_the_callback_request_is_taken(text, name):
    form = ValidateCallbackForm()
    extracted = asyncio.run(
        form.extract_callback_name(CollectingDispatcher(), tracker(text, "request_callback"), {})
    )
    assert extracted == ({"callback_name": name} if name else {})


def test_the_name_is_only_taken_from_the_opening_request():
    form = ValidateCallbackForm()
    t = tracker("山田です", "inform", slots={"requested_slot": "callback_name"})
    assert asyncio.run(form.extract_callback_name(CollectingDispatcher(), t, {})) == {}  # the form's mapping
    t = tracker("山田です。折り返しください", "request_callback", slots={"callback_name": "佐藤"})
    assert asyncio.run(form.extract_callback_name(CollectingDispatcher(), t, {})) == {}


def test_a_fallback_between_two_topic_intents_is_still_a_topic_question(context):
    from bot.dialogue.resolve import understood_intent

    close = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "life_event", "confidence": 0.54},
        {"name": "ask_procedure", "confidence": 0.44},
    ]
    assert understood_intent("nlu_fallback", close) == "life_event"
    unsure = [{"name": "ask_procedure", "confidence": 0.30}, {"name": "life_event", "confidence": 0.25}]
    assert understood_intent("nlu_fallback", unsure) == "nlu_fallback"  # not understood at all
    mixed = [{"name": "ask_procedure", "confidence": 0.5}, {"name": "greet", "confidence": 0.45}]
    assert understood_intent("nlu_fallback", mixed) == "nlu_fallback"
    assert understood_intent("ask_phone", close) == "ask_phone"
    # a procedure named well enough for a topic question (0.6 <= score < 0.7) is answered, not guessed at
    text = "交通事故のあと足が不自由になって毎日の買い物も大変です。障害の手帳のことを近所の人から聞きました"
    assert 0.6 <= context.catalog().match(text, top_k=1)[0][1] < 0.7
    messages, _ = run(
        ActionAnswerProcedure(),
        Tracker(
            sender_id="t",
            slots={},
            latest_message={
                "text": text,
                "intent": {"name": "nlu_fallback", "confidence": 0.45},
                "intent_ranking": close,
                "entities": [],
            },
            events=[],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        ),
    )
    assert cards(messages)[0].get("procedure") == "shogai_techo"


def test_fallback_thresholds_match_config():
    import yaml

    from bot.dialogue.resolve import AMBIGUITY_THRESHOLD, FALLBACK_THRESHOLD

    config = yaml.safe_load(
        (Path(__file__).resolve().parent.parent / "config.yml").read_text(encoding="utf-8")
    )
    fallback = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    assert (fallback["threshold"], fallback["ambiguity_threshold"]) == (
        FALLBACK_THRESHOLD,
        AMBIGUITY_THRESHOLD,
    )


def test_after_a_crisis_answer_a_clearly_named_procedure_follows():
    from actions.safety import ActionSafetyFollowup

    messages, events = run(ActionSafetyFollowup(), tracker("飼っていた犬が死んでしまいました", "self_harm"))
    assert [c["kind"] for c in cards(messages)] == ["procedure"]
    assert cards(messages)[0]["procedure"] == "inu_toroku"
    assert not any(m.get("response") == "utter_ask_feedback" for m in messages)  # no "was this helpful?"
    assert slot_events(events)["procedure"] == "inu_toroku"
    # nothing is added when no procedure is named
    assert run(ActionSafetyFollowup(), tracker("もう死にたい", "self_harm")) == ([], [])
    assert run(ActionSafetyFollowup(), tracker("", "self_harm")) == ([], [])


# --- a callback request goes to the department of its topic (the 担当課 `-` defect) ----------


@pytest.mark.parametrize(
    ("procedure", "topic", "department"),
    [
        ("jido_teate", "介護保険のことで相談したい", "kodomo"),  # the conversation's procedure decides
        (None, "介護保険のことで相談したい", "kaigo"),
        (None, "住民票の写しについて", "shimin"),
        ("no_such_procedure", "ゴミの出し方", "kankyo"),
        (None, "よくわからない", None),
        (None, None, None),
    ],
)
def test_department_for(context, procedure, topic, department):
    found = department_for(context.catalog(), procedure, topic)
    assert (found.id if found else None) == department


def test_a_callback_about_介護保険_without_a_procedure_goes_to_介護保険課(context):
    slots = {
        "callback_phone": "09012345678",
        "callback_name": "山田太郎",
        "callback_slot": context.catalog().city.callback_slots[0].id,
        "callback_topic": "介護保険のことで相談したい",
        "callback_confirmed": True,
    }
    messages, _ = run(ActionSubmitCallback(), tracker("/affirm", "affirm", slots=slots))
    stored = context.stores().callbacks.get(messages[0]["ticket"])
    assert stored.department == "kaigo"
    assert messages[0]["department_name"] == context.catalog().department("kaigo").name


def test_a_vote_is_in_the_analytics_record_with_a_salted_conversation(context):
    slots = {"last_question": "090-1111-2222の山田ですが粗大ごみの件", "last_answer": "faq:F0007"}
    t = tracker("/feedback", "feedback", entities=[entity("helpful", True)], slots=slots)
    t.events = [{"event": "user", "text": "/feedback", "input_channel": "line"}]
    run(ActionRecordFeedback(), t)
    [event] = context.stores().analytics.events()
    assert (event.kind, event.helpful, event.channel, event.faq_id) == ("feedback", True, "line", "F0007")
    assert event.conversation != "test" and len(event.conversation) == 32 and event.text is None
    t.events = []  # no input channel known (rasa shell): the vote is still counted in the feedback log
    run(ActionRecordFeedback(), t)
    assert context.stores().analytics.count() == 1 and context.stores().feedback.summary()["total"] == 2


# ----------------------------------------------------------------- a possible crisis inside the form
DOMAIN_RESPONSES = yaml.safe_load((Path(__file__).resolve().parent.parent / "domain.yml").read_text("utf-8"))[
    "responses"
]


def _cards_as_sent(messages) -> list[dict]:
    """``custom.madoguchi`` of each message as the resident gets it (a domain response by its name)."""
    out = []
    for message in messages:
        if message.get("response"):
            message = DOMAIN_RESPONSES[message["response"]][0]
        card = (message.get("custom") or {}).get("madoguchi")
        if card:
            out.append(card)
    return out


def _form_tracker(said: str, requested: str, crisis: dict | None, slots=None) -> Tracker:
    t = tracker(said, "inform", slots={"requested_slot": requested, **(slots or {})})
    if crisis is not None:
        t.latest_message["crisis"] = crisis
    t.active_loop = {"name": "callback_form"}
    return t


UNSURE_DV = {"intent": "dv", "category": "dv", "level": "unsure", "source": "semantic"}
UNSURE_SELF_HARM = {"intent": "self_harm", "category": "self_harm", "level": "unsure", "source": "semantic"}


async def test_a_possible_crisis_given_as_the_topic_gets_its_line_and_the_form_goes_on(context):
    said = "夫のことで相談したい。毎晩どなられて家にいるのがこわい"
    dispatcher = CollectingDispatcher()
    t = _form_tracker(said, "callback_topic", UNSURE_DV)
    result = await ValidateCallbackForm().validate_callback_topic(said, dispatcher, t, {})
    [card] = _cards_as_sent(dispatcher.messages)
    assert (card["kind"], card["category"]) == ("safety", "dv") and "#8008" in card["phones"]
    assert result == {"callback_topic": said}  # taken: the form goes on to the read-back


async def test_a_possible_crisis_where_the_number_was_asked_gets_its_line_then_the_step_again(context):
    said = "もう何をしても無駄な気がする"
    dispatcher = CollectingDispatcher()
    t = _form_tracker(said, "callback_phone", UNSURE_SELF_HARM)
    result = await ValidateCallbackForm().validate_callback_phone(said, dispatcher, t, {})
    [card] = _cards_as_sent(dispatcher.messages)
    assert (card["kind"], card["category"]) == ("safety", "self_harm") and "0120-279-338" in card["phones"]
    assert result["callback_phone"] is None and result["callback_retry"]  # asked again, form kept
    asked = CollectingDispatcher()
    await ActionAskCallbackPhone().run(asked, _form_tracker(said, "callback_phone", None, result), {})
    assert cards(asked.messages)[0] == {"kind": "callback_form", "step": "phone"}


async def test_a_form_answer_that_is_no_crisis_gets_no_crisis_line(context):
    said = "児童手当のことで相談したい"
    dispatcher = CollectingDispatcher()
    await ValidateCallbackForm().validate_callback_topic(
        said, dispatcher, _form_tracker(said, "callback_topic", None), {}
    )
    assert not [c for c in _cards_as_sent(dispatcher.messages) if c["kind"] == "safety"]
