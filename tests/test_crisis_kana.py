"""Messages written in kana alone: a money question is not answered as a crisis; a kana crisis still is.

Issue 10 (tenth safety round): e5 puts short kana sentences near the kana crisis examples whatever
they mean (a style), so 「ぜいきんがはらえません」 got the 119 answer and
「すいどう の おかね が はらえません」 the DV answer. A kana message sure by meaning alone must now
also be sure with the kana readings of the training sentences in the nearest-sentence vote
(:attr:`Thresholds.kana_sure_with_readings`); otherwise its line goes beside the answer (never
removed). The sentences here are written for this test (none from tests/nlu).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from bot.crisis import load_rules
from bot.text import is_kana_only, kana_reading
from bot.understanding import crisis, encoder
from bot.understanding.neighbours import NeighbourBlend

ROOT = Path(__file__).resolve().parents[1]

#: Money questions in kana: never the safety answer (level, intent) — a line beside may remain.
KANA_MONEY = [
    "ぜいきんがはらえません",
    "すいどう の おかね が はらえません",
    "ぜいきん が はらえません",
    "やちん が はらえません",
    "こくほの ほけんりょう はらえない",
    "でんきだい が はらえなくて こまってます",
    "きゅうしょくひ はらえません どうしたら いい",
]

#: Crises in kana (spaced or not): the right safety intent and a crisis line; the first ones the answer.
KANA_CRISES_SURE = [
    ("たすけて おっとに なぐられる", "dv"),
    ("おっと が まいにち たたく こわい", "dv"),
    ("おばあちゃん が たおれて うごかない", "emergency"),
    ("あかちゃん いき してない", "emergency"),
    ("へや から けむり が でてる", "emergency"),
    ("しらない ひとが いえに はいってきた", "emergency"),
    ("もう いきて いたくない", "self_harm"),
    ("くすり ぜんぶ のんで しにたい", "self_harm"),
    ("となりの こども まいにち たたかれて ないてる", "abuse"),
    ("むすこが おばあちゃんの ねんきん とって ごはん あげない", "abuse"),
]


def test_kana_only_is_told_from_kanji_and_letters():
    assert is_kana_only("ぜいきんがはらえません")
    assert is_kana_only("すいどう の おかね が はらえません？")
    assert is_kana_only("かれしが パスポート とった")
    assert not is_kana_only("税金がはらえません")
    assert not is_kana_only("zeikin ga haraemasen")
    assert not is_kana_only("カード")  # no hiragana: not how the residents of the issue write
    assert not is_kana_only("")


def test_a_kana_reading_is_spaced_after_particles_and_keeps_katakana_words():
    assert kana_reading("税金が払えません") == "ぜいきんが はらえません"
    read = kana_reading("住民票を取りたい、マイナンバーカードで")
    assert read == "じゅうみんひょうを とりたい、 マイナンバーカードで"


def test_readings_are_made_for_japanese_sentences_only_once():
    labels, texts = crisis.kana_rows(
        ["ordinary", "dv", "ordinary", "ordinary"],
        ["税金が払えません", "夫に殴られる", "Where is city hall?", "ぜいきんが はらえません"],
    )
    # the tax sentence's reading is already a training sentence; English gets none
    assert (labels, texts) == (["dv"], ["おっとに なぐられる"])


def _blend(with_readings: bool) -> NeighbourBlend:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(12, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = ["ordinary"] * 6 + ["dv"] * 6
    # each "dv" sentence read in kana lands on itself, but is an ordinary one's reading
    readings = (vectors[6:], ["ordinary"] * 6) if with_readings else None
    return NeighbourBlend.fit(vectors, labels, 1.0, k=3, temperature=0.01, weight=0.5, readings=readings)


def test_readings_vote_only_when_asked_and_are_stored():
    blend = _blend(True)
    assert blend.has_readings and not _blend(False).has_readings
    x = blend.vectors[6:8]  # two "dv" rows: judged without the readings as before them
    np.testing.assert_array_equal(blend.judge(x)[0], _blend(False).judge(x)[0])
    ordinary = blend.classes.index("ordinary")
    assert (blend.judge(x)[1][:, ordinary] < 0.1).all()
    assert (blend.judge(x, readings=True)[1][:, ordinary] > 0.45).all()  # the readings vote too
    again = NeighbourBlend.from_arrays(blend.to_arrays())
    np.testing.assert_array_equal(again.reading_labels, blend.reading_labels)
    np.testing.assert_allclose(again.judge(x, readings=True)[0], blend.judge(x, readings=True)[0], atol=1e-3)


def test_a_model_stored_before_the_readings_loads_without_them():
    arrays = _blend(False).to_arrays()
    old = {k: v for k, v in arrays.items() if not k.startswith("reading_")}
    assert not NeighbourBlend.from_arrays(old).has_readings


@pytest.fixture(scope="module")
def detector() -> crisis.CrisisDetector:
    """The shipped rules and classifier, as the bench builds them (cached embeddings)."""
    return crisis.build_detector(
        load_rules(ROOT / "data" / "safety.yml"),
        ROOT / "data" / "safety_examples.yml",
        ROOT / "data" / "nlu",
        encoder.default_encoder(),
        ROOT / "var" / "embeddings",
    )


@pytest.mark.parametrize("text", KANA_MONEY)
def test_a_kana_money_question_gets_no_safety_answer(detector, text):
    found = detector.assess(text)
    assert not found.is_crisis, found
    assert found.level in (None, "unsure") and found.source in (None, "semantic")


@pytest.mark.parametrize("text", KANA_MONEY[:2])
def test_the_issue_s_questions_keep_at_most_a_line_beside_the_answer(detector, text):
    # before the check these were sure (119 / DV answer); the check demotes, never removes, the line
    off = dataclasses.replace(detector.thresholds, kana_sure_with_readings=False)
    on = detector.thresholds
    try:
        detector.thresholds = off
        before = detector.assess(text)
    finally:
        detector.thresholds = on
    after = detector.assess(text)
    assert (before.source, before.level) == ("semantic", "sure")
    assert (after.intent, after.category, after.source, after.level, after.demoted) == (
        before.intent,
        before.category,
        "semantic",
        "unsure",
        "kana",
    )
    assert before.demoted is None


@pytest.mark.parametrize(("text", "intent"), KANA_CRISES_SURE)
def test_a_kana_crisis_still_gets_its_safety_answer(detector, text, intent):
    found = detector.assess(text)
    assert (found.intent, found.level) == (intent, "sure"), found
    assert found.is_crisis and found.needs_crisis_line


def test_kanji_text_is_judged_as_before(detector):
    for text in ("税金が払えません", "夫に殴られて怖い", "祖母が倒れて動かない"):
        off = dataclasses.replace(detector.thresholds, kana_sure_with_readings=False)
        on, detector.thresholds = detector.thresholds, off
        try:
            before = detector.assess(text)
        finally:
            detector.thresholds = on
        assert detector.assess(text) == before
