"""The semantic layer: encoder, embedding cache, linear classifier, crisis detector (real encoder)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bot.understanding import cache, crisis, encoder
from bot.understanding.linear import LinearClassifier

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def e5():
    return encoder.default_encoder()


class _Rule:
    """A rule like bot.crisis's: an intent and a pattern over normalized text."""

    def __init__(self, intent: str, pattern: str) -> None:
        self.intent, self._pattern = intent, re.compile(pattern)

    def matches(self, normalized: str) -> bool:
        return bool(self._pattern.search(normalized))


def test_avx2_is_read_from_the_cpu_flags(tmp_path):
    with_avx2 = tmp_path / "yes"
    with_avx2.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n", encoding="ascii")
    without = tmp_path / "no"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx\n", encoding="ascii")
    assert encoder.cpu_has_avx2(with_avx2)
    assert not encoder.cpu_has_avx2(without)
    assert not encoder.cpu_has_avx2(tmp_path / "missing")
    with pytest.raises(encoder.EncoderUnavailable, match="AVX2"):
        encoder.check_cpu(without)


def test_encoder_is_one_per_process_and_vectors_are_normalised(e5):
    assert encoder.default_encoder() is e5
    one = e5.query("住民票の写しを取りたい")
    many = e5.query(["住民票の写しを取りたい", "ごみの出し方"])
    assert one.shape == (e5.dim,) and many.shape == (2, e5.dim)
    assert np.allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-3)
    assert np.allclose(one, many[0], atol=1e-4)
    assert e5.query([]).shape == (0, e5.dim)


def test_encoder_does_not_leave_its_thread_count_in_the_environment(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    encoder.E5Encoder(threads=1).query("テスト")
    import os

    assert "OMP_NUM_THREADS" not in os.environ


def test_meaning_is_closer_than_words(e5):
    q = e5.query("燃えるごみは何曜日に出せますか")
    near, far = e5.query(["可燃ごみの収集日を知りたい", "燃えている家から人を助けたい"])
    assert float(q @ near) > float(q @ far)


def test_cache_reads_back_and_embeds_only_new_texts(e5, tmp_path):
    calls = []

    class Counting:
        model_id, dim = e5.model_id, e5.dim

        def query(self, texts):
            calls.append(list(texts))
            return e5.query(texts)

    first = cache.embed_cached(Counting(), ["火事です", "住民票"], tmp_path)
    again = cache.embed_cached(Counting(), ["火事です", "住民票"], tmp_path)
    more = cache.embed_cached(Counting(), ["住民票", "火事です", "印鑑登録"], tmp_path)
    assert np.array_equal(first, again)
    assert np.allclose(more[1], first[0]) and more.shape == (3, e5.dim)
    assert calls == [["火事です", "住民票"], ["印鑑登録"]]
    assert cache.content_key("m", "query", ["a"]) != cache.content_key("m", "passage", ["a"])


def test_cache_ignores_a_damaged_file(e5, tmp_path):
    texts = ["ごみの日"]
    path = tmp_path / f"{cache.content_key(e5.model_id, 'query', texts)}.npy"
    path.write_bytes(b"not numpy")
    assert cache.embed_cached(e5, texts, tmp_path).shape == (1, e5.dim)


def test_linear_classifier_round_trips_through_arrays():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(1, 0.1, (20, 4)), rng.normal(-1, 0.1, (20, 4))]).astype(np.float32)
    labels = ["a"] * 20 + ["b"] * 20
    model = LinearClassifier.fit(x, labels, c=1.0)
    again = LinearClassifier.from_arrays(model.to_arrays())
    probs = again.probabilities(np.array([[1, 1, 1, 1], [-1, -1, -1, -1]], dtype=np.float32))
    assert again.classes == ("a", "b")
    assert probs[0, 0] > 0.9 and probs[1, 1] > 0.9
    assert np.allclose(probs.sum(axis=1), 1.0)


def test_examples_file_is_parsed_and_malformed_files_are_named():
    examples = crisis.load_examples(REPO / "data" / "safety_examples.yml")
    names = {c.name for c in examples.categories}
    assert names == {"emergency", "crime", "self_harm", "dv", "abuse"}
    assert examples.intent_of("crime") == "emergency" and examples.intent_of("abuse") == "abuse"
    assert all(len(c.examples) >= 40 for c in examples.categories) and len(examples.ordinary) >= 100
    with pytest.raises(ValueError, match="category dv: 'examples' is empty"):
        crisis.parse_examples({"categories": {"dv": {"intent": "dv", "examples": []}}}, "x")
    with pytest.raises(ValueError, match="'categories'"):
        crisis.parse_examples({}, "x")


def test_nlu_examples_drop_entity_markup():
    pairs = crisis.nlu_examples(REPO / "data" / "nlu")
    assert pairs and not any("](" in text for _intent, text in pairs)
    assert not any(intent in crisis.SAFETY_INTENTS for intent, _text in pairs)


def test_sentences_split_only_longer_messages():
    assert crisis.sentences("火事です") == []
    assert crisis.sentences("母が倒れました。保険証はいりますか？") == [
        "母が倒れました",
        "保険証はいりますか",
    ]


def test_an_ellipsis_ends_a_sentence():
    assert crisis.sentences("ごみの日を聞きたくて…あ、いま外で火が出てる") == [
        "ごみの日を聞きたくて",
        "あ、いま外で火が出てる",
    ]


def test_a_question_for_a_service_is_told_from_a_question_of_what_to_do():
    assert crisis.asks_for_a_service("図書館は何時までですか")
    assert crisis.asks_for_a_service("ごみ の ひ、いつ?")
    assert not crisis.asks_for_a_service("子どもが息をしていません。どうすればいいですか")
    assert not crisis.asks_for_a_service("家が燃えています")


@pytest.fixture(scope="module")
def detector(e5):
    rules = [_Rule("emergency", "火事(です|だ)")]
    return crisis.build_detector(
        rules, REPO / "data" / "safety_examples.yml", REPO / "data" / "nlu", e5, REPO / "var" / "embeddings"
    )


def test_a_rule_is_sure_and_needs_no_encoder():
    found = crisis.CrisisDetector([_Rule("emergency", "火事です")]).assess("火事です！")
    assert (found.intent, found.source, found.level) == ("emergency", "rule", "sure")
    assert crisis.CrisisDetector([_Rule("emergency", "火事です")]).match("住民票") is None


# Sentences written for this test (not in the examples file, not from the evaluation sets).
CRISES = [
    ("おじいちゃんが畑で倒れたまま返事をしてくれない", "emergency"),
    ("家の裏の物置から炎が出てきた", "emergency"),
    ("玄関の鍵を誰かがガチャガチャ回している、ひとりで怖い", "emergency"),
    ("もうこの先生きていく自信がなくて、終わりにしたい", "self_harm"),
    ("夫が財布を取り上げて、私をどなりつけて物を投げる", "dv"),
    ("隣の部屋の小さい子が毎晩たたかれて泣いている", "abuse"),
]
ORDINARY = ["住民票の写しを取りたい", "粗大ごみの出し方を教えて", "火災保険の書類に罹災証明書がいる"]


@pytest.mark.parametrize(("text", "intent"), CRISES)
def test_crises_said_without_the_rule_words_are_found(detector, text, intent):
    found = detector.assess(text)
    assert found.intent == intent and found.needs_crisis_line, found


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_questions_are_not_crises(detector, text):
    assert not detector.assess(text).needs_crisis_line
    assert detector.match(text) is None


def test_a_crisis_sentence_inside_a_procedure_question_gets_the_crisis_line(detector):
    found = detector.assess("住民票を取りたいです。それと、父が台所で倒れて息をしていないみたいです")
    assert found.intent == "emergency" and found.needs_crisis_line


def test_a_sentence_whose_nearest_examples_are_ordinary_is_not_surely_a_crisis(detector):
    # written for this test: the regression alone (balanced across classes) is sure of a crisis, while
    # the nearest training sentences are ordinary ones; the crisis line still goes beside the answer
    text = "子どもがインフルエンザで寝込んでいます"
    without_veto = crisis.CrisisDetector(
        detector._rules,
        detector._classifier,
        detector._intents,
        detector.encoder,
        thresholds=crisis.Thresholds(vote_not_sure=1.01),
    )
    assert without_veto.assess(text).level == "sure"
    assert detector.assess(text).level == "unsure"


def test_romaji_is_judged_by_its_kana_reading(detector):
    # written for this test: the kana reading decides; the letters as typed only add a line
    assert detector.assess("shiyakusho no madoguchi wa nanji made desu ka").level != "sure"
    found = detector.assess("kazoku ni mainichi donararete, mou ikitakunai")
    assert found.intent == "self_harm" and found.needs_crisis_line
