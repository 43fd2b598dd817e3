"""The crisis detector's decision logic on sentence parts, romaji readings and the neighbours' vote.

A fake classifier and encoder give each text a chosen "ordinary" probability and neighbour vote, so the
thresholds of :mod:`bot.understanding.crisis` are tested by themselves (the measured effect on the safety
sets is in the comments of :class:`~bot.understanding.crisis.Thresholds` and ``python -m
bench.safety_bench``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bench import safety_bench
from bot import romaji
from bot.understanding import crisis
from bot.understanding.linear import LinearClassifier
from bot.understanding.neighbours import NeighbourBlend

CLASSES = ("dv", "emergency", crisis.ORDINARY, "self_harm")
ORD = CLASSES.index(crisis.ORDINARY)
#: The measured defaults.
SHIPPED = crisis.Thresholds()


class Table:
    """Encoder and classifier at once: text -> (probability of "ordinary", vote for "ordinary")."""

    model_id, dim = "fake", 64

    def __init__(self, judged: dict[str, tuple[float, float]], crisis_class: str = "self_harm") -> None:
        self.texts = list(judged)
        self.judged = judged
        self.crisis = CLASSES.index(crisis_class)
        self.classes = CLASSES
        self.votes = 0

    # encoder
    def query(self, texts):
        if isinstance(texts, str):
            return self.query([texts])[0]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, self.texts.index(text)] = 1.0
        return out

    # classifier
    def _rows(self, vectors, which: int) -> np.ndarray:
        x = np.asarray(vectors).reshape(-1, self.dim)
        out = np.zeros((len(x), len(CLASSES)))
        for row, v in enumerate(x):
            ordinary = self.judged[self.texts[int(np.argmax(v))]][which]
            out[row, ORD], out[row, self.crisis] = ordinary, 1.0 - ordinary
        return out

    def probabilities(self, vectors):
        return self._rows(vectors, 0)

    def judge(self, vectors):
        self.votes += 1
        return self._rows(vectors, 0), self._rows(vectors, 1)

    def margin(self, vectors, ordinary):
        return np.zeros(len(np.asarray(vectors).reshape(-1, self.dim)))


def detector(judged: dict[str, tuple[float, float]], **thresholds) -> crisis.CrisisDetector:
    table = Table(judged)
    chosen = dataclasses.replace(SHIPPED, clause_unsure=0.0, **thresholds)
    return crisis.CrisisDetector([], table, {}, table, thresholds=chosen)


# texts are placeholders: only their table entries matter
WHOLE, CALM, WORRY = "甲の文。乙の文", "甲の文", "乙の文"


def parts_judged(part_ordinary: float, part_vote: float) -> dict[str, tuple[float, float]]:
    return {WHOLE: (0.9, 0.9), CALM: (0.95, 0.95), WORRY: (part_ordinary, part_vote)}


def test_an_unsure_part_whose_neighbours_are_ordinary_raises_no_line():
    between = (SHIPPED.part_unsure + SHIPPED.sure) / 2
    found = detector(parts_judged(between, SHIPPED.part_vote + 0.1)).assess(WHOLE)
    assert found.level is None and not found.needs_crisis_line


def test_an_unsure_part_whose_neighbours_are_crises_raises_the_line():
    between = (SHIPPED.part_unsure + SHIPPED.sure) / 2
    found = detector(parts_judged(between, SHIPPED.part_vote - 0.1)).assess(WHOLE)
    assert (found.level, found.intent, found.source) == ("unsure", "self_harm", "semantic")


def test_a_part_clearly_a_crisis_raises_the_line_whatever_its_neighbours():
    found = detector(parts_judged(SHIPPED.part_unsure - 0.05, 0.99)).assess(WHOLE)
    assert found.level == "unsure" and found.intent == "self_harm"


def test_the_old_part_rule_is_the_thresholds_at_sure():
    between = (SHIPPED.part_unsure + SHIPPED.sure) / 2
    old = detector(parts_judged(between, 0.9), part_unsure=SHIPPED.sure, part_vote=0.0)
    assert old.assess(WHOLE).level == "unsure"


def test_a_part_at_sure_or_above_never_raises_the_line():
    assert detector(parts_judged(SHIPPED.sure, 0.0)).assess(WHOLE).level is None


def test_the_vote_is_computed_once_per_judgement():
    found = detector({CALM: (0.95, 0.95)})
    found.assess(CALM)
    assert found._classifier.votes == 1


def test_the_assessment_carries_the_whole_messages_vote():
    assert detector(parts_judged(0.9, 0.9)).assess(WHOLE).vote_ordinary == pytest.approx(0.9)


ROMAJI = "shiyakusho ni ikitai"


def romaji_detector(kana_vote: float, typed: tuple[float, float] = (0.95, 0.95)) -> crisis.CrisisDetector:
    kana = romaji.reading(ROMAJI)
    assert kana != ROMAJI  # the message is read as kana
    return detector({kana: (SHIPPED.unsure - 0.05, kana_vote), ROMAJI: typed})


def test_a_romaji_reading_near_ordinary_sentences_raises_no_line():
    found = romaji_detector(SHIPPED.romaji_vote).assess(ROMAJI)
    assert found.level is None and found.intent is None


def test_a_romaji_reading_near_crises_raises_the_line():
    found = romaji_detector(SHIPPED.romaji_vote - 0.1).assess(ROMAJI)
    assert found.level == "unsure" and found.intent == "self_harm"


def test_letters_sure_of_a_crisis_but_near_ordinary_sentences_add_no_line():
    typed = (0.01, SHIPPED.romaji_typed_vote)
    assert romaji_detector(SHIPPED.romaji_vote, typed=typed).assess(ROMAJI).level is None


def test_letters_sure_of_a_crisis_near_crises_add_the_line_beside_the_answer():
    typed = (0.01, SHIPPED.romaji_typed_vote - 0.1)
    found = romaji_detector(SHIPPED.romaji_vote, typed=typed).assess(ROMAJI)
    assert (found.level, found.intent) == ("unsure", "self_harm")


def test_a_whole_message_unsure_but_near_ordinary_sentences_raises_no_line():
    unsure = (SHIPPED.sure + SHIPPED.unsure) / 2
    assert detector({CALM: (unsure, SHIPPED.unsure_vote)}).assess(CALM).level is None
    found = detector({CALM: (unsure, SHIPPED.unsure_vote - 0.1)}).assess(CALM)
    assert found.level == "unsure"


def _unit_vectors(seed: int, n: int = 12, dim: int = 8) -> np.ndarray:
    """``n`` random unit vectors (the first half labelled ordinary, the rest dv, in the blend tests)."""
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_blend_judges_with_one_vote():
    vectors = _unit_vectors(seed=0)
    labels = ["ordinary"] * 6 + ["dv"] * 6
    blend = NeighbourBlend.fit(vectors, labels, 1.0, k=3, temperature=0.05, weight=0.5)
    probs, vote = blend.judge(vectors[:3])
    linear = LinearClassifier.probabilities(blend.linear, vectors[:3])
    assert np.allclose(probs, 0.5 * linear + 0.5 * vote)
    assert np.allclose(blend.probabilities(vectors[:3]), probs)
    assert np.allclose(blend.probabilities(vectors[0]), probs[0])


def test_neighbours_only_sentences_vote_but_leave_the_regression_as_it_was():
    vectors = _unit_vectors(seed=1)
    labels = ["ordinary"] * 6 + ["dv"] * 6
    plain = NeighbourBlend.fit(vectors, labels, 1.0, k=3, temperature=0.05, weight=0.5)
    query = vectors[6:7] * 0.99 + 0.01  # near a dv example
    extra = np.repeat(query / np.linalg.norm(query), 3, axis=0)  # three ordinary sentences right there
    both = NeighbourBlend.fit(
        vectors, labels, 1.0, k=3, temperature=0.05, weight=0.5, neighbours_only=(extra, ["ordinary"] * 3)
    )
    assert np.allclose(both.linear.probabilities(query), plain.linear.probabilities(query))
    ordinary = both.classes.index("ordinary")
    assert both.vote(query)[0, ordinary] > plain.vote(query)[0, ordinary]
    assert len(both.vectors) == len(both.labels) == 15


def test_only_tune_half_misses_are_shown():
    misses = [({"half": "tune", "text": "a"}, None), ({"half": "check", "text": "b"}, None)]
    assert [item["text"] for item, _ in safety_bench.tune_misses(misses)] == ["a"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--fresh", "5", "--show-misses"],
        ["--set", "4", "--fresh", "4"],
        ["--set", "4", "--dump", "x.jsonl"],
        ["--set", "5", "--dump", "x.jsonl"],
        ["--set", "6", "--fresh", "6"],
        ["--set", "2", "--show-misses"],
    ],
)
def test_fresh_sets_and_unreadable_sets_refuse_to_show_sentences(argv):
    with pytest.raises(SystemExit):
        safety_bench.main(argv)
