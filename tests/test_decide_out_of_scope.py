"""A message the classifier calls out of scope still asks the catalog and the FAQ (issue #10): a city topic
in words the classifier did not know is answered when the catalog is sure, anything else keeps the
out-of-scope answer. Plain Python: the meaning signal is given as Neighbours values (no encoder)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.dialogue.decide import OUT_OF_SCOPE_MEANING_SURE, OUT_OF_SCOPE_RESPONSE, Ask, decide
from bot.dialogue.knowledge import Knowledge, Messages
from bot.dialogue.understood import Understood
from bot.knowledge.asked import load_asked_actions
from bot.understanding.meaning import Neighbours

DATA = Path(__file__).resolve().parents[1] / "data"


def knowledge(catalog, near: dict[str, Neighbours] | None = None) -> Knowledge:
    messages = Messages(yaml.safe_load((DATA / "messages.yml").read_text(encoding="utf-8")))
    return Knowledge(
        catalog=catalog,
        faq=None,
        messages=messages,
        menu=(),
        now=None,
        meaning=(lambda text: (near or {}).get(text, Neighbours())),
        asked=load_asked_actions(DATA, catalog.procedures),
    )


def out_of_scope(k: Knowledge, text: str):
    return decide(Ask.OUT_OF_SCOPE, Understood(text=text, intent="out_of_scope"), k)


def cards(turn) -> list[dict]:
    return [r.card.to_json() for r in turn.replies if r.card is not None]


def kept_out_of_scope(turn) -> bool:
    return [r.response for r in turn.replies] == [OUT_OF_SCOPE_RESPONSE] and not cards(turn)


def test_a_procedure_named_in_the_catalogs_words_is_answered_with_its_card(catalog):
    turn = out_of_scope(knowledge(catalog), "住民票の写しを取りたい")
    assert [c["procedure"] for c in cards(turn) if c["kind"] == "procedure"] == ["juminhyo"]
    # the classifier disagreed: staff see the turn in the review list
    assert turn.review is not None and turn.review.kind == "low_confidence"
    assert turn.review.guesses[0] == "juminhyo"


def test_the_issues_vaccine_question_is_answered_by_meaning_when_it_is_sure(catalog):
    text = "高齢者のインフルエンザの注射の補助は"
    near = {text: Neighbours(procedures=(("yobo_sesshu", 0.945), ("gan_kenshin", 0.91)))}
    turn = out_of_scope(knowledge(catalog, near), text)
    assert [c["procedure"] for c in cards(turn) if c["kind"] == "procedure"] == ["yobo_sesshu"]


@pytest.mark.parametrize("cosine", [0.90, 0.924, OUT_OF_SCOPE_MEANING_SURE - 0.001])
def test_meaning_below_its_bar_keeps_the_out_of_scope_answer(catalog, cosine):
    # 0.924: the nearest an out-of-scope training sentence came (スマホの機種変更したい → online_list)
    text = "スマホの機種変更したい"
    near = {text: Neighbours(procedures=(("online_list", cosine), ("mynumber_apply", 0.88)))}
    turn = out_of_scope(knowledge(catalog, near), text)
    assert kept_out_of_scope(turn) and turn.review is None


@pytest.mark.parametrize("text", ["明日の天気は?", "おすすめのラーメン屋", "しりとりしよう", ""])
def test_what_the_city_does_not_handle_keeps_the_out_of_scope_answer(catalog, text):
    assert kept_out_of_scope(out_of_scope(knowledge(catalog), text))


def test_a_life_event_told_in_its_own_words_is_answered(catalog):
    turn = out_of_scope(knowledge(catalog), "子どもが生まれました")
    assert {c.get("life_event") for c in cards(turn)} == {"birth"}


def test_a_life_event_by_meaning_alone_is_not_enough(catalog):
    text = "隣の市のイベント情報"
    near = {text: Neighbours(life_events=(("moving", 0.96),))}
    assert kept_out_of_scope(out_of_scope(knowledge(catalog, near), text))


def test_an_unsure_crisis_line_still_comes_first(catalog):
    crisis = {"intent": "self_harm", "level": "unsure", "category": "self_harm"}
    understood = Understood(text="明日の天気は?", intent="out_of_scope", crisis=crisis)
    turn = decide(Ask.OUT_OF_SCOPE, understood, knowledge(catalog))
    responses = [r.response for r in turn.replies if r.response]
    assert responses[0] != OUT_OF_SCOPE_RESPONSE and responses[-1] == OUT_OF_SCOPE_RESPONSE
