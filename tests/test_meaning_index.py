"""The catalog's meaning index (bot/understanding/meaning.py, real encoder) and romaji read as kana."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot import romaji
from bot.understanding import encoder, meaning

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def e5():
    return encoder.default_encoder()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return Path(tmp_path_factory.mktemp("emb"))


@pytest.fixture(scope="module")
def index(e5, catalog, cache_dir):
    rows = meaning.catalog_rows(catalog, meaning.load_examples(DATA / "meaning.yml"))
    return meaning.build_index(rows, e5, cache_dir)


def test_rows_cover_every_procedure_and_life_event(catalog):
    rows = meaning.catalog_rows(catalog)
    assert {key for kind, key, _ in rows if kind == meaning.PROCEDURE} == set(catalog.procedures)
    assert {key for kind, key, _ in rows if kind == meaning.LIFE_EVENT} == set(catalog.life_events)


def test_examples_of_unknown_ids_are_left_out(catalog):
    rows = meaning.catalog_rows(catalog, {"procedures": {"gone": ["消えた手続きの例文"]}, "life_events": {}})
    assert all(key != "gone" for _, key, _ in rows)


def test_a_malformed_examples_file_is_named(tmp_path):
    bad = tmp_path / "meaning.yml"
    bad.write_text("procedures:\n  juminhyo: 住民票\n", encoding="utf-8")
    with pytest.raises(ValueError, match="meaning.yml: procedures: juminhyo"):
        meaning.load_examples(bad)
    assert meaning.load_examples(tmp_path / "absent.yml") == {}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("使わなくなった家具を引き取ってほしい", "sodai_gomi"),
        ("赤ちゃんの予防注射の予定を知りたい", "yobo_sesshu"),
        ("マイナンバーカードをどこかに落としてしまった", "mynumber_lost"),
    ],
)
def test_the_nearest_procedure_by_meaning(index, e5, text, expected):
    near = index.nearest(e5.query(text))
    assert near.procedures[0][0] == expected
    assert near.procedures == tuple(sorted(near.procedures, key=lambda x: -x[1]))


def test_a_staff_edit_is_embedded_at_load_without_retraining(index, e5, catalog, cache_dir):
    text = "ドローンを飛ばす許可"
    before = index.nearest(e5.query(text)).procedure_score("hinanjo")
    edited = replace(catalog.procedures["hinanjo"], aliases=(*catalog.procedures["hinanjo"].aliases, text))
    changed = replace(catalog, procedures={**catalog.procedures, "hinanjo": edited})
    calls = []

    class Counting:
        model_id, dim = e5.model_id, e5.dim

        def query(self, texts):
            calls.append(list(texts))
            return e5.query(texts)

    after_index = meaning.build_index(meaning.catalog_rows(changed), Counting(), cache_dir)
    assert calls == [[text]]  # only the new alias is embedded; the rest comes from the cache
    assert after_index.nearest(e5.query(text)).procedure_score("hinanjo") > before
    assert after_index.nearest(e5.query(text)).procedures[0][0] == "hinanjo"


def test_one_embedding_per_message_and_similarity(index, e5):
    calls = []

    class Counting:
        model_id, dim = e5.model_id, e5.dim

        def query(self, texts):
            calls.append(texts)
            return e5.query(texts)

    m = meaning.Meaning(index, Counting())
    m.neighbours("住民票を取りたい")
    m.neighbours("住民票を取りたい")
    assert len(calls) == 1
    asked = "住民票を取りたい"
    assert m.similarity(asked, "住民票がほしい") > m.similarity(asked, "犬を飼い始めた")
    assert m.neighbours("") == meaning.Neighbours()


def test_neighbours_margin():
    assert meaning.Neighbours().margin() == 0.0
    assert meaning.Neighbours(procedures=(("a", 0.9),)).margin() == 1.0
    assert meaning.Neighbours(procedures=(("a", 0.9), ("b", 0.85))).margin() == pytest.approx(0.05)


def test_an_empty_index_has_no_neighbours():
    empty = meaning.MeaningIndex((), (), (), np.zeros((0, 384), dtype=np.float32))
    assert empty.nearest(np.ones(384, dtype=np.float32)) == meaning.Neighbours()


@pytest.mark.parametrize(
    "text, kana",
    [
        ("juuminhyou wo toritai", "じゅうみんひょうをとりたい"),
        ("hikkoshi shimashita", "ひっこししました"),
        ("kon'nichiwa", "こんにちわ"),
        ("shussei todoke", "しゅっせいとどけ"),
        ("Inkan Touroku", "いんかんとうろく"),
    ],
)
def test_romaji_reads_as_hiragana(text, kana):
    assert romaji.looks_like_romaji(text)
    assert romaji.to_kana(text) == kana


@pytest.mark.parametrize("text", ["I need a residence certificate", "ok", "住民票", "help me please", ""])
def test_english_and_japanese_are_not_romaji(text):
    assert not romaji.looks_like_romaji(text)


def test_a_romaji_question_reaches_the_procedure(catalog):
    from bot.dialogue.resolve import resolve

    r = resolve("juuminhyou wo toritai desu", "nlu_fallback", catalog, None)
    assert (r.kind, r.procedure.id) == ("procedure", "juminhyo")
