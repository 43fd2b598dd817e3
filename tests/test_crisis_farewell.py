"""A goodbye that sounds final gets the self-harm line beside the answer; an ordinary closing gets none.

Issue 10 ("never a fallback without a number"): set 6's tune half had a farewell with no question and no
crisis line at all. :func:`bot.understanding.crisis.says_farewell` reads the whole message with the
``farewell`` section of ``data/safety.yml`` (staff-reviewed, beside the rules;
:func:`bot.crisis.load_farewell`). The sentences here are written for this test (none from tests/nlu).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from bot.crisis import load_farewell, load_rules, parse_farewell, parse_rules
from bot.understanding import crisis

ROOT = Path(__file__).resolve().parents[1]
SAFETY = ROOT / "data" / "safety.yml"

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
def farewell():
    """The farewell check of the city's rules file."""
    return load_farewell(SAFETY)


@pytest.fixture(scope="module")
def rules_detector(farewell) -> crisis.CrisisDetector:
    """The staff rules alone (no classifier): the farewell check needs no meaning."""
    return crisis.CrisisDetector(load_rules(SAFETY), farewell=farewell)


def test_the_tables_are_large_enough():
    assert len(FAREWELLS) >= 20 and len(CLOSINGS) >= 20
    assert not set(FAREWELLS) & set(CLOSINGS)


@pytest.mark.parametrize("text", FAREWELLS)
def test_a_final_goodbye_gets_the_self_harm_line(rules_detector, farewell, text):
    assert crisis.says_farewell(farewell, text) is True
    found = rules_detector.assess(text)
    assert (found.intent, found.category, found.source, found.level) == (
        "self_harm",
        "self_harm",
        "farewell",
        "unsure",
    )
    assert found.needs_crisis_line and not found.is_crisis


@pytest.mark.parametrize("text", CLOSINGS)
def test_an_ordinary_closing_gets_no_line(rules_detector, farewell, text):
    assert crisis.says_farewell(farewell, text) is False
    found = rules_detector.assess(text)
    assert (found.intent, found.level) == (None, None)
    assert not found.needs_crisis_line


def test_a_rule_match_is_kept_over_the_farewell(rules_detector):
    found = rules_detector.assess("今までありがとう。もう死にたい")
    assert (found.intent, found.source, found.level) == ("self_harm", "rule", "sure")


def test_the_farewell_line_can_be_turned_off(farewell):
    off = crisis.CrisisDetector(
        load_rules(SAFETY),
        thresholds=dataclasses.replace(crisis.Thresholds(), farewell_line=False),
        farewell=farewell,
    )
    assert off.assess(FAREWELLS[0]).level is None


def test_without_a_farewell_section_no_goodbye_gets_a_line(tmp_path):
    rules = tmp_path / "safety.yml"
    rules.write_text(_rules_only(), encoding="utf-8")
    assert load_farewell(rules) is None
    assert crisis.says_farewell(None, FAREWELLS[0]) is False
    assert crisis.CrisisDetector(load_rules(rules)).assess(FAREWELLS[0]).level is None


def test_the_section_is_read_as_written(farewell):
    raw = yaml.safe_load(SAFETY.read_text(encoding="utf-8"))["farewell"]
    assert farewell.intent == raw["intent"] == "self_harm"
    assert [p.pattern for p in farewell.patterns] == raw["patterns"]
    assert [p.pattern for p in farewell.exceptions] == raw["exceptions"]
    assert len(set(raw["patterns"])) == len(raw["patterns"])


@pytest.mark.parametrize(
    "section, named",
    [
        ("farewell: [a, b]", "'farewell' must be a mapping"),
        ("farewell:\n  intent: self_harm\n  patterns: []", "farewell: rule self_harm: 'patterns' is empty"),
        ("farewell:\n  patterns: [さようなら]", "farewell: rule 1: 'intent' is missing"),
        ("farewell:\n  intent: self_harm\n  patterns: ['(さよう']", "bad pattern '(さよう'"),
        (
            "farewell:\n  intent: goodbye\n  patterns: [さようなら]",
            "intent 'goodbye' is not one of the rules' intents",
        ),
    ],
)
def test_a_malformed_section_is_refused_with_the_file_and_entry_named(tmp_path, section, named):
    rules = tmp_path / "safety.yml"
    rules.write_text(_rules_only() + section + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as error:
        load_farewell(rules)
    assert str(rules) in str(error.value) and named in str(error.value)


def test_the_plain_form_reads_back_the_same(farewell):
    from bot.crisis import rules_to_plain

    again = parse_farewell(rules_to_plain([farewell])[0], "model")
    assert again == farewell
    assert parse_farewell(None) is None


def _rules_only() -> str:
    """The city's rules without their farewell section."""
    raw = yaml.safe_load(SAFETY.read_text(encoding="utf-8"))
    assert parse_rules(raw["rules"])  # the rules themselves stay valid
    return yaml.safe_dump({"rules": raw["rules"]}, allow_unicode=True)
