"""The e5 field of the FAQ ranking: fusion (table tests), the field itself, the index round trip with
embeddings, and the rebuild of an index saved in an older format."""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge.faq import live_base, rank_dense, ranking
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.rank_dense import DenseField
from bot.knowledge.faq.ranking import FaqIndex, RankConfig

# -- fusion: pure functions ----------------------------------------------------------------------------


def reference_standardized(cosines: list[float], z0: float) -> list[float]:
    """The documented formula written out in plain Python (shrunk mean and variance, z above z0, / span)."""
    n, k = len(cosines), rank_dense.PRIOR_ENTRIES
    mean = (sum(cosines) + k * rank_dense.PRIOR_MEAN) / (n + k)
    var = (
        sum((c - mean) ** 2 for c in cosines)
        + k * (rank_dense.PRIOR_STD**2 + (rank_dense.PRIOR_MEAN - mean) ** 2)
    ) / (n + k)
    return [max(0.0, (c - mean) / math.sqrt(var) - z0) / rank_dense.Z_SPAN for c in cosines]


#: A FAQ of 200 entries at e5's usual similarity with a little spread, and entry 0 standing out.
BAND = [0.82 + 0.02 * math.sin(i) for i in range(200)]
OUTSTANDING = [0.93, *BAND[1:]]


@pytest.mark.parametrize(
    ("cosines", "z0"),
    [
        (OUTSTANDING, 2.5),
        (OUTSTANDING, 0.0),
        (BAND, 2.5),
        ([0.95, 0.80, 0.81], 2.5),  # tiny FAQ: judged against the prior band
        ([0.5] * 10, 1.0),  # an odd question far from everything: nothing stands out
    ],
)
def test_standardized_matches_the_formula(cosines, z0):
    got = rank_dense.standardized(np.array(cosines), z0)
    assert got.dtype == np.float32
    assert got.tolist() == pytest.approx(reference_standardized(cosines, z0), abs=1e-5)


@pytest.mark.parametrize(
    ("case", "lexical", "cosines", "weight", "expect"),
    [
        # weight 0: the lexical scores exactly as they were
        ("weight 0", [0.5, 0.2, 0.0], OUTSTANDING[:3] + BAND[3:], 0.0, "unchanged"),
        # a flat band of cosines adds nothing anywhere: lexical order and values stand
        ("flat band", [0.5, 0.2, 0.0], [0.82] * 200, 0.5, "unchanged"),
        # an entry that shares no word enters on meaning alone, and only that one
        ("meaning alone", [0.0, 0.0, 0.0], OUTSTANDING, 0.5, "only entry 0"),
        # meaning reorders: entry 0 stands out and overtakes entry 1's lexical lead
        ("reorders", [0.3, 0.4, 0.0], OUTSTANDING, 0.5, "entry 0 first"),
    ],
)
def test_fuse_table(case, lexical, cosines, weight, expect):
    n = len(cosines)
    lex = np.zeros(n, dtype=np.float32)
    lex[: len(lexical)] = lexical
    out = rank_dense.fuse(lex, np.array(cosines, dtype=np.float32), weight, 2.5)
    assert out.dtype == np.float32 and out.shape == (n,)
    assert np.all(out >= lex)  # meaning only ever adds
    if expect == "unchanged":
        np.testing.assert_array_equal(out, lex)
    elif expect == "only entry 0":
        assert out[0] > 0 and np.count_nonzero(out) == 1
    elif expect == "entry 0 first":
        assert int(np.argmax(out)) == 0 and out[1] == pytest.approx(0.4)
    extra = weight * np.array(reference_standardized(list(cosines), 2.5))
    np.testing.assert_allclose(out, lex + extra, atol=1e-5)


def test_fuse_of_an_empty_faq():
    assert rank_dense.fuse(np.zeros(0), np.zeros(0), 0.5, 2.5).shape == (0,)


# -- the field with a toy encoder (vectors chosen by hand) -------------------------------------------


class ToyEncoder:
    """Embeds by looking the text up in a table of 3-d directions (unit length).

    With ``band`` the vectors look like e5's: a large shared component plus the topic, so that
    different topics still score about 0.83 and the same topic 1.0; an unknown text scores about 0.5
    against everything. Without it, unknown texts are equally far from all three directions.
    """

    def __init__(self, table: dict[str, list[float]], model_id: str = "toy-3d", band: bool = False) -> None:
        self.model_id = model_id
        self.table = table
        self.band = band
        self.dim = 5 if band else 3
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def _vector(self, text: str) -> list[float]:
        topic = self.table.get(text)
        if not self.band:
            return topic or [1.0, 1.0, 1.0]
        return [2.2, *topic, 0.0] if topic else [1.0, 0.0, 0.0, 0.0, 1.5]

    def _embed(self, kind, texts):
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        self.calls.append((kind, tuple(items)))
        rows = np.array([self._vector(t) for t in items], dtype=np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        return rows[0] if single else rows

    def query(self, texts):
        return self._embed("query", texts)

    def passage(self, texts):
        return self._embed("passage", texts)


def test_field_takes_the_best_variant_and_mixes_the_answer():
    enc = ToyEncoder({"q0": [1, 0, 0], "q0b": [0, 1, 0], "q1": [0, 0, 1], "a0": [0, 1, 0], "a1": [1, 0, 0]})
    field = DenseField.build(["q0", "q0b", "q1"], [0, 0, 1], ["a0", "a1"], enc)
    assert field.answer_vectors is None  # answers cost nothing when they do not count
    assert field.cosines(np.array([0, 1, 0])).tolist() == pytest.approx([1.0, 0.0])  # q0b, the paraphrase
    mixed = DenseField.build(["q0", "q1"], [0, 1], ["a0", "a1"], enc, answer_share=0.5, answer_chars=2)
    assert mixed.cosines(np.array([1, 0, 0])).tolist() == pytest.approx([0.5, 0.5])
    assert ("passage", ("a0", "a1")) in enc.calls and ("query", ("q0", "q1")) in enc.calls


def test_field_embeds_question_variants_with_the_chosen_prefix():
    enc = ToyEncoder({})
    DenseField.build(["q"], [0], ["a"], enc, question_kind="passage")
    assert enc.calls == [("passage", ("q",))]
    with pytest.raises(ValueError, match="prefix"):
        DenseField.build(["q"], [0], ["a"], enc, question_kind="document")
    with pytest.raises(ValueError, match="outside"):
        DenseField.build(["q"], [3], ["a"], enc)


def test_field_uses_the_embedding_cache(tmp_path):
    enc = ToyEncoder({"q": [1, 0, 0]})
    first = DenseField.build(["q", "r"], [0, 1], ["a", "b"], enc, cache_dir=tmp_path)
    enc.calls.clear()
    again = DenseField.build(["q", "r"], [0, 1], ["a", "b"], enc, cache_dir=tmp_path)
    assert enc.calls == []  # nothing embedded twice
    np.testing.assert_array_equal(first.question_vectors, again.question_vectors)
    DenseField.build(["q", "r", "new"], [0, 1, 1], ["a", "b"], enc, cache_dir=tmp_path)
    assert enc.calls == [("query", ("new",))]  # a staff edit embeds only its new text


# -- the index -----------------------------------------------------------------------------------------

# The toy table makes "ゴミ出し" (a query word no entry contains) point at entry F2.
TOY = {
    "住民票の写しを取りたい": [1, 0, 0],
    "粗大ごみの出し方": [0, 1, 0],
    "犬の登録": [0, 0, 1],
    "いらなくなった家具はどう捨てる": [0.1, 1, 0],
}
TOY_ENTRIES = [
    FaqEntry(id="F1", question="住民票の写しを取りたい", answer="市民課の窓口で請求できます。"),
    FaqEntry(id="F2", question="粗大ごみの出し方", answer="事前申込制です。処理券を貼って出してください。"),
    FaqEntry(id="F3", question="犬の登録", answer="生後91日以上の犬は登録が必要です。"),
]


def _toy_index(enc, **config) -> FaqIndex:
    cfg = RankConfig(**{"latent": 0.0, "vectors": 0.0, "dense_answer_share": 0.0, **config})
    return FaqIndex.build(TOY_ENTRIES, cfg, synonyms=[], encoder=enc, embedding_cache=None)


def test_index_finds_an_entry_by_meaning_alone():
    enc = ToyEncoder(TOY, band=True)
    results = _toy_index(enc).search("いらなくなった家具はどう捨てる")
    assert results[0][0] == "F2"
    assert _toy_index(enc, dense=0.0).search("いらなくなった家具はどう捨てる") == []  # lexical alone: none


def test_boilerplate_query_finds_nothing_even_by_meaning():
    enc = ToyEncoder({**TOY, "教えてください": [0, 1, 0]}, band=True)
    assert _toy_index(enc).search("教えてください") == []


def test_explain_reports_the_dense_part():
    enc = ToyEncoder(TOY, band=True)
    index = _toy_index(enc)
    enc.calls.clear()
    report = index.explain("いらなくなった家具はどう捨てる", "F2")
    assert report["dense"]["model"] == "toy-3d" and report["dense"]["cosine"] > 0.99
    assert report["rank"] == 1
    assert len([c for c in enc.calls if c[0] == "query"]) == 1  # search parts of explain embed once


def test_index_round_trip_keeps_embeddings_and_rankings(tmp_path):
    enc = ToyEncoder(TOY, band=True)
    built = _toy_index(enc, dense_answer_share=0.3)
    built.save(tmp_path)
    meta = json.loads((tmp_path / "ranking.json").read_text(encoding="utf-8"))
    assert meta["format"] == ranking.FORMAT_VERSION and meta["dense"] == {"model": "toy-3d"}
    enc.calls.clear()
    loaded = FaqIndex.load(tmp_path, encoder=enc)
    assert not [c for c in enc.calls if c[0] == "passage"]  # entries are not embedded again at load
    np.testing.assert_array_equal(loaded.dense.question_vectors, built.dense.question_vectors)
    np.testing.assert_array_equal(loaded.dense.answer_vectors, built.dense.answer_vectors)
    for query in ("いらなくなった家具はどう捨てる", "住民票", "犬"):
        assert loaded.search(query) == built.search(query)


def test_index_loaded_with_another_model_ranks_without_the_field(tmp_path, caplog):
    _toy_index(ToyEncoder(TOY, band=True)).save(tmp_path)
    with caplog.at_level(logging.WARNING):
        loaded = FaqIndex.load(tmp_path, encoder=ToyEncoder(TOY, model_id="other", band=True))
    assert loaded.dense is None and "ranking without it" in caplog.text
    assert loaded.search("住民票")[0][0] == "F1"


def test_load_refuses_inconsistent_dense_arrays(tmp_path):
    _toy_index(ToyEncoder(TOY, band=True)).save(tmp_path)
    with np.load(tmp_path / "ranking.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["dense.question_entry"] = arrays["dense.question_entry"][:1]
    np.savez(tmp_path / "ranking.npz", **arrays)
    with pytest.raises(ValueError, match="dense"):
        FaqIndex.load(tmp_path, encoder=ToyEncoder(TOY, band=True))


def test_index_of_an_older_format_is_rebuilt_and_saved(tmp_path, monkeypatch, caplog):
    """A base published before this format (v3: no e5 field) is rebuilt on load, and the rebuilt index is
    written back so the next process reads it instead of rebuilding."""
    enc = ToyEncoder(TOY, band=True)
    monkeypatch.setattr(ranking, "default_encoder", lambda: enc)
    monkeypatch.setattr(ranking, "default_embedding_cache", lambda: None)
    kb = tmp_path / "kb"
    cfg = RankConfig(latent=0.0, vectors=0.0, dense_answer_share=0.0)

    class Ranker:
        build = staticmethod(lambda entries: FaqIndex.build(entries, cfg, synonyms=[]))
        load = staticmethod(FaqIndex.load)

    version = live_base.publish(TOY_ENTRIES, kb, ranker=Ranker)
    index_dir = kb / "versions" / version / "index"
    meta = json.loads((index_dir / "ranking.json").read_text(encoding="utf-8"))
    meta["format"] = 3
    del meta["dense"]
    (index_dir / "ranking.json").write_text(json.dumps(meta), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        snap = live_base.load_current(kb, ranker=Ranker)
    assert "rebuilding" in caplog.text
    assert snap.search("いらなくなった家具はどう捨てる")[0][0].id == "F2"
    saved = json.loads((index_dir / "ranking.json").read_text(encoding="utf-8"))
    assert saved["format"] == ranking.FORMAT_VERSION and saved["dense"] == {"model": "toy-3d"}
    assert sorted(p.name for p in index_dir.parent.iterdir()) == ["entries.json", "index"]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = live_base.load_current(kb, ranker=Ranker)
    assert "rebuilding" not in caplog.text  # read, not rebuilt
    assert again.search("住民票")[0][0].id == "F1"


def test_rebuilt_index_on_a_read_only_base_is_served_anyway(tmp_path, monkeypatch, caplog):
    enc = ToyEncoder(TOY, band=True)
    cfg = RankConfig(latent=0.0, vectors=0.0, dense_answer_share=0.0)

    class Ranker:
        build = staticmethod(
            lambda entries: FaqIndex.build(entries, cfg, synonyms=[], encoder=enc, embedding_cache=None)
        )
        load = staticmethod(lambda d: FaqIndex.load(d, encoder=enc))

    kb = tmp_path / "kb"
    version = live_base.publish(TOY_ENTRIES, kb, ranker=Ranker)
    shutil.rmtree(kb / "versions" / version / "index")
    monkeypatch.setattr(live_base, "base_lock", _failing_lock)
    with caplog.at_level(logging.WARNING):
        snap = live_base.load_current(kb, ranker=Ranker)
    assert "not saved" in caplog.text
    assert snap.search("住民票")[0][0].id == "F1"


def _failing_lock(kb_dir: Path):
    raise PermissionError(13, "read-only file system", str(kb_dir))
