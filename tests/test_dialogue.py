"""The conversation core decided without Rasa: an Understood message and a Knowledge value in, a Turn out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from bot import settings as settings_module
from bot.dialogue.cards import ClarifyCard, PhoneCard, ProcedureCard, SuggestionsCard
from bot.dialogue.decide import Ask, decide
from bot.dialogue.knowledge import Knowledge
from bot.dialogue.live import LiveKnowledge
from bot.dialogue.understood import Understood
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.live_base import EMPTY_SNAPSHOT, Snapshot
from bot.knowledge.faq.ranking import CLOSE_SCORE

TUESDAY_10 = datetime.fromisoformat("2026-11-24T10:00:00+09:00")
SATURDAY_10 = datetime.fromisoformat("2026-11-28T10:00:00+09:00")


@pytest.fixture(scope="module")
def live() -> LiveKnowledge:
    return LiveKnowledge(settings_module.load({}), clock=lambda: TUESDAY_10, faq=lambda: EMPTY_SNAPSHOT)


@pytest.fixture()
def knowledge(live) -> Knowledge:
    return live.now()


def test_the_turns_knowledge_is_fixed_and_clocked(live, knowledge):
    assert knowledge.now == TUESDAY_10 and knowledge.catalog is live.catalog()
    assert knowledge.menu and knowledge.faq is EMPTY_SNAPSHOT


def test_a_procedure_question_is_answered_with_its_card_then_feedback(knowledge):
    turn = decide(Ask.ANSWER, Understood(text="住民票の写しを取りたい", intent="ask_procedure"), knowledge)
    card = turn.replies[0].card
    assert isinstance(card, ProcedureCard) and card.procedure == "juminhyo" and not card.easy
    assert turn.replies[-1].response == "utter_ask_feedback"
    assert dict(turn.slots)["procedure"] == "juminhyo" and turn.review is None


def test_easy_japanese_is_passed_to_the_card(knowledge):
    turn = decide(Ask.ANSWER, Understood(text="住民票がほしい", intent="ask_procedure", easy=True), knowledge)
    assert turn.replies[0].card.easy is True


def test_moving_asks_which_move(knowledge):
    turn = decide(Ask.ANSWER, Understood(text="引っ越しをします", intent="life_event"), knowledge)
    assert turn.replies[0].card == ClarifyCard(life_event="moving")
    assert len(turn.replies[0].buttons) == 3


class _FixedIndex:
    """An FAQ index that ranks every question the same way (two close entries)."""

    def search(self, query: str, top_k: int = 10) -> list[tuple[str, float]]:
        return [("F1", CLOSE_SCORE + 0.05), ("F2", CLOSE_SCORE + 0.04)][:top_k]


def test_close_faq_entries_are_suggested_and_noted_for_review(knowledge):
    entries = {f: FaqEntry(id=f, question=f"{f} の質問", answer="…") for f in ("F1", "F2")}
    faq = Snapshot(version="t", entries=entries, index=_FixedIndex())
    close = replace(knowledge, faq=faq)
    turn = decide(Ask.FAQ, Understood(text="よくわからない質問", intent="nlu_fallback"), close)
    card = turn.replies[0].card
    assert isinstance(card, SuggestionsCard) and card.count == 2
    assert [b.payload for b in turn.replies[0].buttons][:2] == [
        '/faq_select{"faq_id":"F1"}',
        '/faq_select{"faq_id":"F2"}',
    ]
    assert turn.review.kind == "low_confidence" and turn.review.guesses == ("faq:F1", "faq:F2")
    chosen = decide(Ask.FAQ, Understood(text="", intent="faq_select", entities={"faq_id": "F2"}), close)
    assert chosen.replies[0].card.faq_id == "F2" and chosen.slots == (("last_answer", "faq:F2"),)


def test_nothing_found_offers_the_people_and_is_noted(knowledge):
    turn = decide(Ask.FAQ, Understood(text="明日の天気はどうですか", intent="nlu_fallback"), knowledge)
    assert turn.replies[0].card.kind == "fallback"
    assert [b.payload for b in turn.replies[0].buttons] == ["/ask_phone", "/request_callback"]
    assert turn.replies[0].keys() == ["fallback.nothing", "fallback.rephrase_hint"]
    assert turn.review.kind == "fallback"


def test_open_now_follows_the_clock(live):
    understood = Understood(text="電話で聞きたい", intent="ask_phone", slots={"procedure": "sodai_gomi"})
    weekday = decide(Ask.PHONE, understood, live.now())
    saturday = decide(Ask.PHONE, understood, replace(live.now(), now=SATURDAY_10))
    assert isinstance(weekday.replies[0].card, PhoneCard)
    assert weekday.replies[0].card.open_now is True and saturday.replies[0].card.open_now is False
    assert "phone.open_now" in weekday.replies[0].keys()
    assert (
        "phone.closed_now" in saturday.replies[0].keys()
        and "phone.open_now" not in saturday.replies[0].keys()
    )


def test_the_safety_followup_adds_a_clearly_named_procedure_only(knowledge):
    turn = decide(Ask.SAFETY_FOLLOWUP, Understood(text="飼っていた犬が死んでしまいました"), knowledge)
    assert [r.card.kind for r in turn.replies if r.card] == ["procedure"]
    assert all(r.response != "utter_ask_feedback" for r in turn.replies)
    assert decide(Ask.SAFETY_FOLLOWUP, Understood(text="もう死にたい"), knowledge).replies == ()


def test_an_unsure_crisis_puts_its_crisis_line_before_the_answer(knowledge):
    unsure = {"intent": "dv", "category": "dv", "level": "unsure", "source": "semantic"}
    turn = decide(
        Ask.ANSWER,
        Understood(text="住民票の写しを取りたい", intent="ask_procedure", crisis=unsure),
        knowledge,
    )
    assert turn.replies[0].response == "utter_dv"
    assert turn.replies[1].card.kind == "procedure"
    sure = {**unsure, "level": "sure"}
    plain = decide(
        Ask.ANSWER, Understood(text="住民票の写しを取りたい", intent="ask_procedure", crisis=sure), knowledge
    )
    assert plain.replies[0].card.kind == "procedure"


def test_the_core_imports_no_rasa():
    import subprocess
    import sys

    code = (
        "import sys, bot.dialogue.decide, bot.dialogue.live; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_texts_are_message_keys_rendered_from_the_data(knowledge):
    """A reply names its data/messages.yml texts; rendering fills them from the turn's messages."""
    turn = decide(Ask.ANSWER, Understood(text="住民票の写しを取りたい", intent="ask_procedure"), knowledge)
    reply = turn.replies[0]
    assert reply.keys()[0] == "procedure.title" and "procedure.department" in reply.keys()
    procedure = knowledge.catalog.get("juminhyo")
    rendered = reply.text(knowledge.messages).split("\n")
    assert rendered[0] == knowledge.messages.text("procedure.title", name=procedure.name)
    assert rendered[1] == procedure.summary  # catalog words are shown as they are


def test_an_faq_answer_shows_its_departments_phone_as_procedure_cards_do(knowledge):
    entries = {
        "F1": FaqEntry(id="F1", question="介護の質問", answer="…", department="介護保険課"),
        "F2": FaqEntry(id="F2", question="別の質問", answer="…", department="こども家庭課"),
        "F3": FaqEntry(id="F3", question="課なし", answer="…"),
    }
    faq = replace(knowledge, faq=Snapshot(version="t", entries=entries, index=_FixedIndex()))
    cards = {}
    for faq_id in entries:
        turn = decide(Ask.FAQ, Understood(text="", intent="faq_select", entities={"faq_id": faq_id}), faq)
        cards[faq_id] = turn.replies[0]
    kaigo = knowledge.catalog.department("kaigo")
    assert cards["F1"].card.contact.phone == kaigo.phone and cards["F1"].card.contact.name == kaigo.name
    assert ("procedure.department", {"department": kaigo.name, "phone": kaigo.phone}) in [
        (line.key, dict(line.params)) for line in cards["F1"].lines if hasattr(line, "key")
    ]
    assert cards["F2"].card.contact.name.startswith("こども家庭課")  # the short form finds the department
    assert cards["F3"].card.contact is None and "contact" not in cards["F3"].card.to_json()
