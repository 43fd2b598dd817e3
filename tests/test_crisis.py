"""The crisis desk: crisis answers from the data files alone, for when everything else is down."""

from __future__ import annotations

import asyncio
import io
import logging
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from bot import settings
from bot.crisis import BackgroundTurns, CrisisDataError, load_desk, read_model_members
from bot.knowledge.catalog import load_catalog
from bot.training import model_path
from bot.understanding.crisis import CLASSIFIER_FILE, META_FILE
from bot.understanding.encoder import EncoderUnavailable, default_encoder

CONF = settings.load({})
DOMAIN = CONF.home / "domain.yml"


@pytest.fixture(scope="module")
def desk():
    return load_desk(CONF.data_dir, DOMAIN)


@pytest.fixture(scope="module")
def semantic_desk():
    """The desk as the channels build it: rules, then the trained model's meaning classifier."""
    if not model_path().exists():
        pytest.fail(f"no trained model at {model_path()}: run `make model` first (make test does)")
    return load_desk(CONF.data_dir, DOMAIN, model_path())


@pytest.mark.parametrize(
    ("text", "category", "number"),
    [
        ("家が燃えてる！", "emergency", "119"),
        ("父が倒れて動かない", "emergency", "119"),
        # a seizure going on now, in kanji or kana
        ("娘の痙攣が止まらないんです", "emergency", "119"),
        ("むすこが ひきつけを おこしています", "emergency", "119"),
        ("もう死にたい", "self_harm", "0120-279-338"),
        # these four were listed among the rule's exceptions by mistake (they stopped the rule)
        ("もう生きていたくない", "self_harm", "0120-279-338"),
        ("リストカットがやめられない", "self_harm", "0120-279-338"),
        ("首を吊ろうと思っています", "self_harm", "0120-279-338"),
        ("命を絶つことばかり考える", "self_harm", "0120-279-338"),
        ("夫に殴られています", "dv", "#8008"),
        # abuse of a child or an elder (189), before the DV rule
        ("ママが ぼくを たたく", "abuse", "189"),
        ("母のいる施設で職員にたたかれているらしい", "abuse", "012-345-6707"),
    ],
)
def test_a_crisis_gets_the_domain_answer_with_its_numbers(desk, text, category, number):
    [message] = desk.answer(text)
    card = message["custom"]["madoguchi"]
    assert (card["kind"], card["category"]) == ("safety", category)
    assert number in card["phones"] and number in message["text"]


@pytest.mark.parametrize(
    ("text", "category", "number"),
    [
        # Japanese typed in romaji is read in kana before the rules (おっとになぐられる)
        ("otto ni nagurareru", "dv", "#8008"),
        ("danna ni kerareta", "dv", "#8008"),
        ("kanojo ga bouryoku wo furuu", "dv", "#8008"),
        ("okaasan ni nagurareru", "abuse", "189"),
    ],
)
def test_romaji_crises_are_read_in_kana_by_the_rules(desk, text, category, number):
    [message] = desk.answer(text)
    card = message["custom"]["madoguchi"]
    assert (card["kind"], card["category"]) == ("safety", category)
    assert number in card["phones"]


@pytest.mark.parametrize(
    "text", ["hoikuen ni azukeraremasu ka", "tsuma ga tatami wo kaetai", "otto no nenkin"]
)
def test_romaji_ordinary_questions_stay_ordinary_for_the_rules(desk, text):
    assert desk.answer(text) is None


# Written for this test (fifth safety round; not from the evaluation sets).
@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a rule's exception (費用) speaks for its own sentence: the collapse told before it still counts
        ("祖父が庭で倒れて動かない。救急車の費用は無料ですか", "emergency"),
        # a partner who takes the bankbook is DV, not the elder-abuse pension pattern
        ("彼氏に通帳を取り上げられています", "dv"),
        ("台所がガス臭くて気分が悪い", "emergency"),
        # a small child who swallowed something: 119, not abuse
        ("子どもがボタン電池を飲み込んだ", "emergency"),
        ("ie ga moete imasu", "emergency"),
        # an ellipsis ends a sentence
        ("ごみの日を聞きたくて…いま外で火が出てる", "emergency"),
    ],
)
def test_crises_of_the_fifth_round_rules(desk, text, category):
    assert desk.intent_of(text) == category


@pytest.mark.parametrize(
    "text",
    [
        "救急の日に救急車を見学できますか",
        "ガス漏れ警報器の設置に補助はありますか",
        "父が胸を押さえて倒れたときのために、見守りサービスはありますか",
    ],
)
def test_near_misses_of_the_fifth_round_rules(desk, text):
    assert desk.intent_of(text) is None


def test_the_answer_is_the_bots_own_response():
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    desk = load_desk(CONF.data_dir, DOMAIN)
    [message] = desk.answer("火事です")
    expected = domain["responses"]["utter_emergency"][0]
    assert message == {"text": expected["text"], "custom": expected["custom"]}


@pytest.mark.parametrize(
    "text",
    [
        "住民票の写しがほしい",
        "火災保険の手続き",
        "防犯講習はありますか",
        "",
        # a seizure told as past, not going on now
        "子どもが前にけいれんを起こしたことがあります",
    ],
)
def test_ordinary_questions_get_no_crisis_answer(desk, text):
    assert desk.answer(text) is None


def test_answers_are_fresh_copies(desk):
    first = desk.answer("火事です")
    first[0]["custom"]["madoguchi"]["phones"].clear()
    assert desk.answer("火事です")[0]["custom"]["madoguchi"]["phones"]


def test_city_phone_is_the_catalogs(desk):
    assert desk.city_phone and desk.city_phone == load_catalog(CONF.data_dir).city.phone


def test_a_rule_without_its_response_stops_the_start(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(CONF.data_dir, data)
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    del domain["responses"]["utter_dv"]
    broken = tmp_path / "domain.yml"
    broken.write_text(yaml.safe_dump(domain, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CrisisDataError, match="utter_dv"):
        load_desk(data, broken)


def test_an_unreadable_departments_file_leaves_the_phone_empty_not_the_desk(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(CONF.data_dir, data)
    (data / "departments.yml").write_text("city: [", encoding="utf-8")
    desk = load_desk(data, DOMAIN)
    assert desk.city_phone == "" and desk.answer("火事です")


async def test_a_slow_turn_goes_on_in_the_background():
    release, finished = asyncio.Event(), asyncio.Event()
    errors: list[BaseException] = []

    async def turn() -> None:
        await release.wait()
        finished.set()

    turns = BackgroundTurns(errors.append)
    with pytest.raises(asyncio.TimeoutError):
        await turns.wait(turn(), timeout=0.01)
    assert len(turns) == 1 and not finished.is_set()
    release.set()
    await asyncio.wait_for(finished.wait(), timeout=5)
    await asyncio.sleep(0)  # let the done-callback run
    assert len(turns) == 0 and errors == []


async def test_a_background_failure_is_reported():
    release = asyncio.Event()
    errors: list[BaseException] = []

    async def turn() -> None:
        await release.wait()
        raise ConnectionError("redis went away")

    turns = BackgroundTurns(errors.append)
    with pytest.raises(asyncio.TimeoutError):
        await turns.wait(turn(), timeout=0.01)
    release.set()
    for _ in range(100):
        if errors:
            break
        await asyncio.sleep(0)
    assert [type(e) for e in errors] == [ConnectionError] and len(turns) == 0


async def test_a_quick_turn_is_simply_awaited():
    turns = BackgroundTurns(lambda e: None)

    async def turn() -> str:
        return "done"

    await turns.wait(turn(), timeout=5)
    assert len(turns) == 0


# Crises said without any word of the rules (written for this test; the rules desk answers none of them).
INDIRECT_CRISES = [
    ("母がいびきをかいたまま、揺すっても目を覚まさない", "emergency"),
    ("もう疲れた。朝が来なければいいのに", "self_harm"),
    ("夫が毎日スマホを調べて、友だちに会うのも許してくれない", "dv"),
    ("隣の家の子がいつも夜中にベランダに出されて泣いている", "abuse"),
]


@pytest.mark.parametrize(("text", "intent"), INDIRECT_CRISES)
def test_the_channels_desk_finds_a_crisis_by_its_meaning(desk, semantic_desk, text, intent):
    assert desk.answer(text) is None  # the rules alone miss it
    [message] = semantic_desk.answer(text)
    assert message["custom"]["madoguchi"]["kind"] == "safety"
    assert semantic_desk.intent_of(text) == intent


@pytest.mark.parametrize(
    "text", ["住民票の写しがほしい", "ふくろ売ってる店", "火災保険の手続き", "防犯講習はありますか"]
)
def test_the_channels_desk_leaves_ordinary_questions_alone(semantic_desk, text):
    assert semantic_desk.answer(text) is None


def test_the_desk_shares_the_pipelines_encoder_loaded_at_start(semantic_desk):
    assert semantic_desk.semantic
    assert semantic_desk.detector.encoder is default_encoder()  # one engine per process
    assert default_encoder()._engine is not None  # loaded when the desk was built, not per request


def test_without_the_model_the_desk_answers_by_the_rules_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.ERROR, logger="bot.crisis"):
        desk = load_desk(CONF.data_dir, DOMAIN, tmp_path / "missing.tar.gz")
    assert not desk.semantic and desk.answer("火事です")
    assert any("rules" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_a_model_without_the_classifier_leaves_the_rules(tmp_path, caplog):
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"{}"
        info = tarfile.TarInfo("components/train_bot.nlu.safety.SafetyOverride5/safety_rules.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(KeyError, match=CLASSIFIER_FILE):
        read_model_members(archive, (CLASSIFIER_FILE, META_FILE))
    with caplog.at_level(logging.ERROR, logger="bot.crisis"):
        desk = load_desk(CONF.data_dir, DOMAIN, archive)
    assert not desk.semantic and desk.answer("もう死にたい")
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_an_encoder_that_cannot_run_leaves_the_rules(caplog):
    class NoAvx2:
        model_id = default_encoder().model_id
        dim = 384

        def load(self) -> None:
            raise EncoderUnavailable("this CPU has no AVX2")

    with caplog.at_level(logging.ERROR, logger="bot.crisis"):
        desk = load_desk(CONF.data_dir, DOMAIN, model_path(), encoder=NoAvx2())
    assert not desk.semantic and desk.answer("家が燃えてる")
    assert any("AVX2" in r.getMessage() for r in caplog.records)


def test_a_classifier_of_another_encoder_is_refused(caplog):
    class Other:
        model_id = "another-model"
        dim = 384

        def load(self) -> None:  # pragma: no cover - refused before loading
            raise AssertionError

    with caplog.at_level(logging.ERROR, logger="bot.crisis"):
        desk = load_desk(CONF.data_dir, DOMAIN, model_path(), encoder=Other())
    assert not desk.semantic
    assert any("retrain" in r.getMessage() for r in caplog.records)


def test_a_failing_meaning_detector_leaves_the_rules(desk, caplog):
    import dataclasses

    class Broken:
        semantic = True

        def assess(self, text):
            raise RuntimeError("engine crashed")

    broken = dataclasses.replace(desk, detector=Broken())
    with caplog.at_level(logging.ERROR, logger="bot.crisis"):
        assert broken.intent_of("火事です") == "emergency"
        assert broken.answer("住民票の写しがほしい") is None
    assert any("RuntimeError" in r.getMessage() for r in caplog.records)


def test_the_fifth_round_nlu_sentences_are_not_ordinary_evidence():
    """The intent classifier's examples5_* sentences stay out of the crisis classifier's 'ordinary'
    side (they pulled crisis sentences to ordinary: NOT_ORDINARY_EVIDENCE); the rest stay in."""
    from bot.understanding import crisis as semantic

    nlu_dir = Path(__file__).resolve().parents[1] / "data" / "nlu"
    every = semantic.nlu_examples(nlu_dir, ())
    fifth = {text for _, text in semantic.nlu_examples(nlu_dir, (), "examples5_*.yml")}
    kept = semantic.ordinary_evidence(every, nlu_dir)
    assert len(fifth) >= 200 and not fifth & {text for _, text in kept}
    assert [p for p in every if p[1] not in fifth] == kept
