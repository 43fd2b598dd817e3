"""A goodbye that sounds final gets the self-harm line beside the answer; an ordinary closing gets none.

Issue 10 ("never a fallback without a number"): set 6's tune half had a farewell with no question and no
crisis line at all. :func:`bot.understanding.crisis.says_farewell` reads the whole message. The sentences
here are written for this test (none from tests/nlu).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.crisis import load_rules
from bot.understanding import crisis

ROOT = Path(__file__).resolve().parents[1]

FAREWELLS = [
    "今まで本当にありがとうございました。みんなによろしく伝えてください",
    "長い間お世話になりました。家族には謝っておいてください",
    "これが最後のメッセージになります",
    "いままで ありがとう。 みんなに よろしく",
    "私がいなくなったら、猫のことをお願いします",
    "自分が死んだあと、部屋の片付けは誰がするんでしょうか",
    "大切な物はぜんぶ友達に譲りました",
    "持ち物をみんなに配ってしまった。もう必要ないので",
    "もう二度と会えないと思うけど、元気でね",
    "お別れを言いに来ました",
    "後のことはよろしくお願いします",
    "先に逝きます。ごめんなさい",
    "どうかお元気で。これまで楽しかったです",
    "最後の挨拶をさせてください",
    "Thank you for everything all these years. Tell my family I love them.",
    "This is my last message. Goodbye forever.",
    "After I'm gone, please look after my dog.",
    "I gave away all my things yesterday.",
    "これまでありがとね、母さんにごめんって伝えて",
    "わしの形見はもう息子に渡してある",
    "あの世で妻が待っとる",
    "今までごめんね。ありがとう",
    "向こうで会おうね、みんな",
]

CLOSINGS = [
    "ありがとうございました、さようなら",
    "助かりました、また来ます",
    "thank you, bye",
    "わかりました。ありがとうございます",
    "丁寧に教えてくれてありがとう。それじゃあ",
    "では失礼します",
    "おかげで手続きできそうです。また何かあったら聞きます",
    "ありがとう、ばいばい",
    "Thanks a lot, goodbye!",
    "OK thanks, see you",
    "了解です、おやすみなさい",
    "いろいろ教えてもらって助かりました",
    "ほな、おおきに",
    "ありがとさん、またね",
    "役に立ちました。さようなら",
    "お疲れさまでした、失礼いたします",
    "いい情報をありがとう。じゃあね",
    "Thanks for everything, bye!",
    # a farewell for an ordinary reason, or a closing that promises to come back
    "長い間お世話になりました。転出届の出し方を教えてください",
    "これまでお世話になりました、来月引っ越します",
    "父が亡くなりました。生前はお世話になりました",
    "みなさんによろしく、また来週きます",
    "送別会のスピーチで「今までありがとう」と言いたいです。例文ありますか",
]


@pytest.fixture(scope="module")
def rules_detector() -> crisis.CrisisDetector:
    """The staff rules alone (no classifier): the farewell check needs no meaning."""
    return crisis.CrisisDetector(load_rules(ROOT / "data" / "safety.yml"))


def test_the_tables_are_large_enough():
    assert len(FAREWELLS) >= 20 and len(CLOSINGS) >= 20
    assert not set(FAREWELLS) & set(CLOSINGS)


@pytest.mark.parametrize("text", FAREWELLS)
def test_a_final_goodbye_gets_the_self_harm_line(rules_detector, text):
    assert crisis.says_farewell(text) is True
    found = rules_detector.assess(text)
    assert (found.intent, found.category, found.source, found.level) == (
        "self_harm",
        "self_harm",
        "farewell",
        "unsure",
    )
    assert found.needs_crisis_line and not found.is_crisis


@pytest.mark.parametrize("text", CLOSINGS)
def test_an_ordinary_closing_gets_no_line(rules_detector, text):
    assert crisis.says_farewell(text) is False
    found = rules_detector.assess(text)
    assert (found.intent, found.level) == (None, None)
    assert not found.needs_crisis_line


def test_a_rule_match_is_kept_over_the_farewell(rules_detector):
    found = rules_detector.assess("今までありがとう。もう死にたい")
    assert (found.intent, found.source, found.level) == ("self_harm", "rule", "sure")


def test_the_farewell_line_can_be_turned_off(rules_detector):
    off = crisis.CrisisDetector(
        load_rules(ROOT / "data" / "safety.yml"),
        thresholds=dataclasses.replace(crisis.Thresholds(), farewell_line=False),
    )
    assert off.assess(FAREWELLS[0]).level is None
