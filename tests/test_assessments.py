"""One crisis assessment per text, shared by the channel's crisis desk and the NLU.

:mod:`bot.understanding.assessments`; these tests count calls, never time them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from bot import settings
from bot.crisis import load_desk, parse_rules
from bot.training import model_path
from bot.understanding import crisis as semantic
from bot.understanding.assessments import AssessmentMemo, classifier_id, default_memo, fingerprint

ORDINARY_TEXT = "粗大ごみの申し込みはどこでできますか"
RULES = parse_rules([{"intent": "emergency", "patterns": ["燃えてる"]}])


class CountingClassifier:
    """Says "ordinary" (0.9) for every vector; counts the vectors it was asked about."""

    classes = ["emergency", semantic.ORDINARY]

    def __init__(self) -> None:
        self.calls = 0

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.tile([0.1, 0.9], (len(np.atleast_2d(vectors)), 1))


class FakeEncoder:
    model_id = "fake-e5"
    dim = 4

    def query(self, texts):
        return np.ones(self.dim) if isinstance(texts, str) else np.ones((len(texts), self.dim))


def detector(classifier, memo, stored="stored-1", rules=RULES):
    return semantic.CrisisDetector(rules, classifier, {}, FakeEncoder(), memo=memo, classifier_id=stored)


def test_two_detectors_of_one_stored_classifier_judge_a_text_once():
    memo, classifier = AssessmentMemo(), CountingClassifier()
    desk_side, nlu_side = detector(classifier, memo), detector(classifier, memo)
    first = desk_side.assess(ORDINARY_TEXT)
    calls = classifier.calls
    assert calls >= 1
    assert nlu_side.assess(ORDINARY_TEXT) is first
    assert nlu_side.assess(ORDINARY_TEXT) is first
    assert classifier.calls == calls  # judged once for all three
    assert (memo.misses, memo.hits) == (1, 2)


def test_other_texts_classifiers_rules_or_thresholds_are_judged_anew():
    memo, classifier = AssessmentMemo(), CountingClassifier()
    base = detector(classifier, memo)
    base.assess(ORDINARY_TEXT)
    base.assess(ORDINARY_TEXT + "。")
    detector(classifier, memo, stored="stored-2").assess(ORDINARY_TEXT)
    other_rules = parse_rules([{"intent": "emergency", "patterns": ["火事"]}])
    detector(classifier, memo, rules=other_rules).assess(ORDINARY_TEXT)
    changed = detector(classifier, memo)
    # a bench sweep or a test changes a built detector's thresholds
    changed.thresholds = dataclasses.replace(changed.thresholds, unsure=0.95)
    changed.assess(ORDINARY_TEXT)
    assert (memo.misses, memo.hits) == (5, 0)


def test_without_a_memo_or_an_id_every_call_judges():
    classifier = CountingClassifier()
    for plain in (
        semantic.CrisisDetector(RULES, classifier, {}, FakeEncoder()),
        detector(classifier, AssessmentMemo(), stored=None),
    ):
        before = classifier.calls
        plain.assess(ORDINARY_TEXT)
        plain.assess(ORDINARY_TEXT)
        assert classifier.calls == before + 2


def test_a_rule_match_and_a_failure_are_not_remembered_wrongly():
    memo = AssessmentMemo()

    class Broken(CountingClassifier):
        def probabilities(self, vectors):
            raise RuntimeError("engine down")

    broken = detector(Broken(), memo)
    assert broken.assess("家が燃えてる").level == "sure"  # the rules need no classifier
    with pytest.raises(RuntimeError):
        broken.assess(ORDINARY_TEXT)
    assert len(memo) == 1  # the failure left nothing behind


def test_the_memo_is_bounded_and_keeps_no_text():
    memo = AssessmentMemo(size=3)
    for n in range(10):
        memo.assess("detector", f"text {n}", lambda n=n: n)
    assert len(memo) == 3
    assert memo.assess("detector", "text 9", lambda: "again") == 9
    assert memo.assess("detector", "text 0", lambda: "again") == "again"  # the oldest went
    assert all("text" not in str(key) for key in memo._recent)


def test_fingerprint_and_classifier_id_name_their_inputs():
    assert classifier_id(b"a", "m") == classifier_id(b"a", "m") != classifier_id(b"a", "n")
    assert fingerprint("c", RULES, "e5") == fingerprint("c", list(RULES), "e5")
    assert fingerprint("c", RULES, "e5") != fingerprint("c", RULES, "e5-other")


def nlu_safety_component(storage_dir: Path):
    """The trained model's SafetyOverride, loaded as the Rasa server loads it."""
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    from bot.nlu.safety import SafetyOverride

    storage, meta = LocalModelStorage.from_model_archive(storage_dir, model_path())
    for node in meta.predict_schema.nodes.values():
        if node.uses is SafetyOverride:
            config = {**SafetyOverride.get_default_config(), **node.config}
            context = ExecutionContext(meta.predict_schema, meta.model_id)
            return SafetyOverride.load(config, storage, node.resource, context)
    raise AssertionError("the trained model has no SafetyOverride")


def test_the_channels_desk_and_the_nlu_of_the_trained_model_judge_a_message_once(monkeypatch, tmp_path):
    """As in the Rasa process: the channel's crisis desk (bot.crisis.load_desk) judges the message
    first, then the NLU's safety component of the same model recalls that assessment."""
    if not model_path().exists():
        pytest.fail(f"no trained model at {model_path()}: run `make model` first (make test does)")
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    conf = settings.load({})
    judged: list[str] = []
    original = semantic.CrisisDetector._assess

    def counting(self, text, vector):
        judged.append(text)
        return original(self, text, vector)

    monkeypatch.setattr(semantic.CrisisDetector, "_assess", counting)
    default_memo.cache_clear()  # the process's memo may already hold this text (the file run twice)
    desk = load_desk(conf.data_dir, conf.home / "domain.yml", model_path())
    nlu = nlu_safety_component(tmp_path / "model")
    text = "祖母が台所でうずくまって、呼んでも返事をしません"  # written for this test
    assert desk.intent_of(text) == "emergency"
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": "out_of_scope", "confidence": 0.9})
    message.set(INTENT_RANKING_KEY, [{"name": "out_of_scope", "confidence": 0.9}])
    nlu.process([message])
    assert message.get(INTENT)["name"] == "emergency" and message.get("crisis")["level"] == "sure"
    assert desk.answer(text)  # the failure path's answer asks again: recalled too
    assert judged == [text]


def _another(value):
    if isinstance(value, tuple):
        return (*value, "another")
    return not value if isinstance(value, bool) else value + 0.01


def test_every_threshold_of_a_detector_is_part_of_the_memo_key():
    """The thresholds have one home (:class:`Thresholds`) and the memo's key holds all of it: a detector
    keeps no threshold outside it, and a change of any one field is judged anew."""
    built = semantic.CrisisDetector(RULES, CountingClassifier(), {}, FakeEncoder())
    assert {name for name in vars(built) if not name.startswith("_")} == {"thresholds"}
    memo, classifier = AssessmentMemo(), CountingClassifier()
    detector(classifier, memo).assess(ORDINARY_TEXT)
    shipped = semantic.Thresholds()
    for item in dataclasses.fields(shipped):
        changed = detector(classifier, memo)
        changed.thresholds = dataclasses.replace(
            shipped, **{item.name: _another(getattr(shipped, item.name))}
        )
        changed.assess(ORDINARY_TEXT)
    assert (memo.misses, memo.hits) == (1 + len(dataclasses.fields(shipped)), 0)
