"""The Rasa pipeline components: Sudachi tokenizer (with a user dictionary kept in the model) and
the safety override."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.safety import SAFETY_INTENTS, SafetyOverride
from bot.nlu.sudachi_tokenizer import SudachiTokenizer

REPO = Path(__file__).resolve().parent.parent
USER_DICT = REPO / "data" / "dictionary" / "user_dict.csv"


def new_storage(path: Path) -> LocalModelStorage:
    path.mkdir(parents=True, exist_ok=True)
    return LocalModelStorage(path)


@pytest.fixture()
def storage(tmp_path):
    return new_storage(tmp_path / "model")


@pytest.fixture()
def context():
    return ExecutionContext(GraphSchema({}), "test")


def make_tokenizer(storage, context, **config) -> SudachiTokenizer:
    full = {**SudachiTokenizer.get_default_config(), **config}
    return SudachiTokenizer.create(full, storage, Resource("tokenizer"), context)


def tokens_of(tokenizer, text: str):
    message = Message(data={TEXT: text})
    tokenizer.process([message])
    return message.get(TOKENS_NAMES[TEXT])


TOKENS = [
    ("住民票を取りたい", ["住民票", "を", "取り", "たい"], ["住民票", "を", "取る", "たい"]),
    ("引越しの手つづき", ["引越し", "の", "手つづき"], ["引っ越し", "の", "手続き"]),
    ("ｼﾞｭｳﾐﾝﾋｮｳ、土日", ["ｼﾞｭｳﾐﾝﾋｮｳ", "土日"], ["ジュウミンヒョウ", "土日"]),
]


@pytest.mark.parametrize(("text", "surfaces", "lemmas"), TOKENS)
def test_tokens_keep_original_surface_and_normalized_lemma(storage, context, text, surfaces, lemmas):
    tokens = tokens_of(make_tokenizer(storage, context), text)
    assert [t.text for t in tokens] == surfaces
    assert [t.lemma for t in tokens] == lemmas
    for t in tokens:
        assert text[t.start : t.end] == t.text


def test_entity_offsets_survive_width_folding(storage, context):
    text = "電話は０９０－１２３４－５６７８です"
    tokens = tokens_of(make_tokenizer(storage, context), text)
    digits = [t for t in tokens if t.lemma.isdigit()]
    assert [text[t.start : t.end] for t in digits] == ["０９０", "１２３４", "５６７８"]


def test_symbol_only_message_keeps_one_token(storage, context):
    tokens = tokens_of(make_tokenizer(storage, context), " 🙏🙏 ")
    assert [(t.text, t.start, t.end) for t in tokens] == [("🙏🙏", 1, 3)]


@pytest.mark.parametrize("mode", ["A", "B", "C"])
def test_split_mode_is_configurable(storage, context, mode):
    tokens = tokens_of(make_tokenizer(storage, context, split_mode=mode), "国民健康保険に加入")
    if mode == "A":
        assert "国民健康保険" not in [t.text for t in tokens]
    if mode == "C":
        assert "国民健康保険" in [t.text for t in tokens]


def test_unknown_split_mode_is_a_clear_error(storage, context):
    with pytest.raises(ValueError, match="split_mode"):
        make_tokenizer(storage, context, split_mode="D")


def test_user_dictionary_is_stored_inside_the_model(tmp_path, context):
    storage = new_storage(tmp_path / "model")
    resource = Resource("tokenizer")
    config = {**SudachiTokenizer.get_default_config(), "user_dictionary": str(USER_DICT)}
    trained = SudachiTokenizer.create(config, storage, resource, context)
    trained.train(TrainingData())
    assert "かもめ町" in [t.text for t in tokens_of(trained, "かもめ町の避難所")]

    # The model is loaded elsewhere: the source CSV is no longer needed.
    moved_config = dict(config, user_dictionary="/nonexistent/user_dict.csv")
    loaded = SudachiTokenizer.load(moved_config, storage, resource, context)
    tokens = tokens_of(loaded, "かもめ町の避難所はどこ？マイナカードを更新")
    assert "かもめ町" in [t.text for t in tokens]
    assert "マイナンバーカード" in [t.lemma for t in tokens]  # the dictionary's normalized form


def test_missing_user_dictionary_fails_training_clearly(storage, context):
    config = {**SudachiTokenizer.get_default_config(), "user_dictionary": "/nonexistent.csv"}
    tokenizer = SudachiTokenizer.create(config, storage, Resource("t"), context)
    with pytest.raises(FileNotFoundError, match="user_dictionary"):
        tokenizer.train(TrainingData())


# --- safety override ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nlu_training_data() -> TrainingData:
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(REPO / "data" / "nlu"))


@pytest.fixture()
def safety(tmp_path, context, nlu_training_data):
    storage = new_storage(tmp_path / "model")
    resource = Resource("safety")
    config = {
        **SafetyOverride.get_default_config(),
        "rules_file": str(REPO / "data" / "safety.yml"),
        "examples_file": str(REPO / "data" / "safety_examples.yml"),
        "embedding_cache": str(REPO / "var" / "embeddings"),
    }
    SafetyOverride.create(config, storage, resource, context).train(nlu_training_data)
    return SafetyOverride.load(config, storage, resource, context)  # from the model, like the server


def classified(text: str, intent: str = "ask_procedure", confidence: float = 0.9) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    return message


SAFETY = [
    ("隣の家が燃えてる！", "emergency"),
    ("父が倒れて意識がない", "emergency"),
    ("救急車を呼びたい", "emergency"),
    ("もう死にたい", "self_harm"),
    ("ｼﾆﾀｲ", None),  # katakana only, no rule: meaning puts the crisis line beside the answer
    ("消えたいと思うことがある、住民票も取りたいけど", "self_harm"),
    ("夫に殴られています", "dv"),
    ("彼氏から暴力を受けて逃げたい、助けてくれるところはある?", "dv"),  # not a cry for help: DV support
    ("助けて！", "emergency"),
    ("ＤＶの相談窓口", "dv"),
    ("さっきひったくりにあった、バッグを取られた", "emergency"),
    ("犯人は向こうに逃げていきました", "emergency"),
    ("夜中に誰かが窓を何度も叩いている", "emergency"),
    ("帰り道で知らない男の人がずっとついて来る", "emergency"),
    ("部屋に誰かいる気がする", "emergency"),
    # a crime-prevention question: the rule's exceptions keep the meaning classifier from being sure
    ("ひったくり防止のカバーを配っていますか", None),
    ("防犯カメラの補助金はありますか", None),
    ("玄関のドアの修理は市でやってもらえますか", None),
    ("火事の時の避難所はどこ", None),
    ("防災訓練の日程", None),
    ("消火器の捨て方", None),
    ("住民票を取りたい", None),
]


@pytest.mark.parametrize(("text", "expected"), SAFETY)
def test_safety_rules_win_over_other_intents(safety, text, expected):
    message = classified(text)
    safety.process([message])
    intent = message.get(INTENT)["name"]
    if expected is None:
        assert intent == "ask_procedure"
    else:
        assert intent == expected
        assert message.get(INTENT)["confidence"] == 1.0
        # the classifier's own guess is kept in the ranking
        assert "ask_procedure" in [r["name"] for r in message.get(INTENT_RANKING_KEY)]


def test_the_farewell_check_is_stored_in_the_model_and_read_back(safety):
    # the component above was loaded from the model, like the server's: its farewell check came from it
    message = classified("これまで本当にお世話になりました。みんなによろしく伝えてください")
    safety.process([message])
    assert message.get(INTENT)["name"] == "ask_procedure"  # not the safety answer: the line beside it
    assert {k: message.get("crisis")[k] for k in ("category", "level", "source")} == {
        "category": "self_harm",
        "level": "unsure",
        "source": "farewell",
    }


def test_bad_safety_pattern_is_reported_with_its_rule(tmp_path):
    from bot.crisis import load_rules

    path = tmp_path / "safety.yml"
    path.write_text('rules:\n  - intent: emergency\n    patterns: ["(unclosed"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="emergency"):
        load_rules(path)


# Sentences written for these tests (not from the safety evaluation sets).
def test_a_crisis_said_without_rule_words_is_found_by_meaning(safety):
    message = classified("おばあちゃんが廊下でうずくまったまま、声をかけても返事がない", "out_of_scope")
    safety.process([message])
    assert message.get(INTENT)["name"] == "emergency"
    assert message.get("crisis")["level"] == "sure" and message.get("crisis")["source"] == "semantic"


def test_an_ordinary_question_gets_no_crisis_mark(safety):
    message = classified("粗大ごみの申し込みはどこでできますか")
    safety.process([message])
    assert message.get(INTENT)["name"] == "ask_procedure" and message.get("crisis") is None


def test_an_unsure_crisis_keeps_a_topic_intent_and_is_marked(safety):
    # nothing is sure, everything the classifier judges is unsure
    safety._detector.thresholds = dataclasses.replace(safety._detector.thresholds, sure=0.0, unsure=1.0)
    message = classified("夫が生活費をくれなくて、どなられてばかりです。児童扶養手当はもらえますか")
    safety.process([message])
    assert message.get(INTENT)["name"] == "ask_procedure"
    assert message.get("crisis")["level"] == "unsure"
    assert message.get("crisis")["intent"] in ("dv", "abuse", "emergency", "self_harm")


@pytest.mark.parametrize("intent", ["thank", "goodbye", "out_of_scope", "request_callback"])
def test_an_unsure_crisis_whose_answer_carries_no_line_gets_the_safety_answer(safety, intent):
    # a fixed response (「どういたしまして」) or the callback form cannot put the crisis line beside it
    safety._detector.thresholds = dataclasses.replace(safety._detector.thresholds, sure=0.0, unsure=1.0)
    message = classified("ありがとう、いままで。もう会うこともないでしょう", intent)
    safety.process([message])
    found = message.get("crisis")
    assert message.get(INTENT)["name"] == found["intent"] and found["intent"] in SAFETY_INTENTS
    assert found["level"] == "sure" and message.get(INTENT)["confidence"] == 1.0


# --- the intent classifier's safety guess needs a second opinion ---------------------------------


class _SeesNothing:
    """A meaning detector that finds no crisis (as for 「ふくろ売ってる店」: 0.02)."""

    semantic = True

    def assess(self, text):
        from bot.understanding.crisis import Assessment

        return Assessment()


def _second_opinion_component(storage, semantic: bool = True) -> SafetyOverride:
    detector = _SeesNothing()
    detector.semantic = semantic
    return SafetyOverride(SafetyOverride.get_default_config(), storage, Resource("safety"), [], detector)


def _ranked(text: str, *ranking: tuple[str, float]) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]})
    message.set(INTENT_RANKING_KEY, [{"name": n, "confidence": c} for n, c in ranking])
    return message


def test_a_bag_of_words_safety_guess_alone_becomes_the_fallback(storage):
    # as the trained model ranked it: emergency 0.501, ask_procedure 0.196 (below the 0.45 threshold)
    message = _ranked(
        "ふくろ売ってる店", ("emergency", 0.501), ("ask_procedure", 0.196), ("out_of_scope", 0.056)
    )
    _second_opinion_component(storage).process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == [
        "nlu_fallback",
        "ask_procedure",
        "out_of_scope",
    ]
    assert message.get("crisis") is None


def test_a_confident_runner_up_takes_over_from_a_lone_safety_guess(storage):
    message = _ranked("ごみ袋", ("emergency", 0.46), ("ask_procedure", 0.45), ("dv", 0.05))
    _second_opinion_component(storage).process([message])
    assert message.get(INTENT) == {"name": "ask_procedure", "confidence": 0.45}


def test_without_the_meaning_detector_the_classifiers_guess_stays(storage):
    message = _ranked("ふくろ売ってる店", ("emergency", 0.501), ("ask_procedure", 0.196))
    _second_opinion_component(storage, semantic=False).process([message])
    assert message.get(INTENT)["name"] == "emergency"


# --- kana text the detector demoted (issue 10): the classifier's safety guess is no second opinion ---


class _Finds:
    """A meaning detector that returns one fixed finding."""

    semantic = True

    def __init__(self, found) -> None:
        self.found = found

    def assess(self, text):
        return self.found


def _kana_finding(demoted: str | None):
    from bot.understanding.crisis import Assessment

    return Assessment("emergency", "emergency", "semantic", "unsure", 0.8, {}, 0.24, demoted)


def _with_finding(storage, found) -> SafetyOverride:
    return SafetyOverride(SafetyOverride.get_default_config(), storage, Resource("safety"), [], _Finds(found))


def test_a_kana_demoted_finding_puts_its_line_beside_the_next_intent(storage):
    # as the model ranked 「ぜいきんがはらえません」: the bag of words said emergency (いき), then inform
    message = _ranked("ぜいきんがはらえません", ("emergency", 0.9), ("inform", 0.57), ("life_event", 0.12))
    _with_finding(storage, _kana_finding("kana")).process([message])
    assert message.get(INTENT) == {"name": "inform", "confidence": 0.57}
    assert message.get("crisis") == {
        "intent": "emergency",
        "category": "emergency",
        "level": "unsure",
        "source": "semantic",
    }


def test_a_kana_demoted_finding_with_no_runner_up_gets_the_fallback_and_the_line(storage):
    message = _ranked("すいどう の おかね が はらえません", ("dv", 0.7), ("greet", 0.40))
    _with_finding(storage, _kana_finding("kana")).process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert message.get("crisis")["level"] == "unsure"


def test_an_unsure_finding_the_classifier_agrees_with_still_gets_the_safety_answer(storage):
    # not demoted for kana: two signals agree, as before
    message = _ranked("ぜいきんがはらえません", ("emergency", 0.9), ("inform", 0.57))
    _with_finding(storage, _kana_finding(None)).process([message])
    assert message.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    assert message.get("crisis")["level"] == "sure"
