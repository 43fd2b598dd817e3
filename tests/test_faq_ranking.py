"""FAQ ranking on a small synthetic FAQ (no benchmark data needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.knowledge.faq import rank_latent, ranking
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.rank_bm25 import BM25Field
from bot.knowledge.faq.rank_latent import LatentField
from bot.knowledge.faq.rank_synonyms import SynonymError, SynonymMatcher, default_groups, load_groups
from bot.knowledge.faq.rank_text import analyze_fields, char_ngrams, kana_ngrams
from bot.knowledge.faq.ranking import FaqIndex, RankConfig, confidence

ENTRIES = [
    FaqEntry(
        id="F001",
        question="住民票の写しを取りたいのですが、どこで申請できますか。",
        answer="住民票の写しは市民課の窓口、コンビニ交付、郵送で請求できます。本人確認書類が必要です。",
        paraphrases=("住民票がほしい",),
    ),
    FaqEntry(
        id="F002",
        question="引っ越してきたときの転入届について知りたい。",
        answer="市外から引っ越したときは、転入した日から14日以内に転入届を出してください。転出証明書が必要です。",
        paraphrases=("よそから引っ越してきた",),
    ),
    FaqEntry(
        id="F003",
        question="粗大ごみの出し方を教えてください。",
        answer="粗大ごみは事前申込制です。電話かインターネットで申し込み、処理券を貼って出してください。",
    ),
    FaqEntry(
        id="F004",
        question="児童手当の申請はどうすればよいですか。",
        answer="子どもが生まれたり転入したりしたときは、15日以内に児童手当の認定請求をしてください。",
    ),
    FaqEntry(
        id="F005",
        question="マイナンバーカードを作りたい。",
        answer="個人番号カードの交付申請は、郵送、スマートフォン、証明写真機から行えます。",
    ),
    FaqEntry(
        id="F006",
        question="印鑑登録の手続きを教えてください。",
        answer="印鑑登録は本人が登録する印鑑と本人確認書類を持って市民課の窓口で行います。",
    ),
    FaqEntry(
        id="F007",
        question="戸籍謄本を郵送で請求したい。",
        answer="戸籍謄本の郵送請求には、請求書、手数料の定額小為替、本人確認書類の写し、返信用封筒が必要です。",
    ),
    FaqEntry(
        id="F008",
        question="犬の登録と狂犬病予防注射について。",
        answer="生後91日以上の犬は登録と年1回の狂犬病予防注射が必要です。",
    ),
    FaqEntry(
        id="F009",
        question="市民農園を借りたい。",
        answer="市民農園の利用者は毎年2月に募集します。区画は抽選で決めます。",
    ),
]
GROUPS = [["市民農園", "家庭菜園", "貸し農園"]]


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex.build(ENTRIES, synonyms=[])


def explained_score(index: FaqIndex, report: dict) -> float:
    """The score rebuilt from the parts :meth:`FaqIndex.explain` reports."""
    total = sum(f["weight"] * f["score"] for f in report["fields"].values())
    latent = report["latent"]["weight"] * report["latent"]["score"]
    vectors = report["vectors"]["weight"] * report["vectors"]["score"]
    return total * report["coverage"] ** index.config.coord + latent + vectors + report["dense"]["part"]


def top_id(index: FaqIndex, query: str) -> str | None:
    results = index.search(query, top_k=3)
    return results[0][0] if results else None


def test_exact_question_wins(index):
    for entry in ENTRIES:
        assert top_id(index, entry.question) == entry.id


def test_paraphrase_and_reworded_questions_win(index):
    assert top_id(index, "住民票がほしい") == "F001"
    assert top_id(index, "よそから引っ越してきたのですが、何をすればいいですか") == "F002"
    assert top_id(index, "ソファを捨てたいけど粗大ゴミはどうやって出すの") == "F003"
    assert top_id(index, "子供の手当をもらうには") == "F004"  # 子供 ~ 児童 through Sudachi synonym groups
    assert top_id(index, "個人番号カードがほしい") == "F005"


def test_kana_spelling_finds_kanji_entry(index):
    assert top_id(index, "じゅうみんひょう") == "F001"
    assert top_id(index, "いんかんとうろく") == "F006"
    assert top_id(index, "ソダイゴミ") == "F003"
    assert confidence(index.search("じゅうみんひょう")) != "none"
    report = index.explain("じゅうみんひょう", "F001")
    assert report["fields"]["q.kana"]["weight"] == pytest.approx(0.2 * index.config.kana_query_boost)
    assert explained_score(index, report) == pytest.approx(report["score"], rel=1e-3)


@pytest.mark.parametrize(
    "query", ["", "   ", "\u3000", "😀😀😀", "！？。、", "🐶🙏", "教えてください", "どうすればいいですか"]
)
def test_empty_or_meaningless_query_returns_nothing(index, query):
    assert index.search(query) == []
    assert confidence(index.search(query)) == "none"


def test_results_are_sorted_bounded_and_positive(index):
    results = index.search("住民票の写し 本人確認書類 郵送", top_k=4)
    assert 0 < len(results) <= 4
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)
    assert all(s > 0 for s in scores)
    assert len({faq_id for faq_id, _ in results}) == len(results)
    assert index.search("住民票", top_k=0) == []


def test_save_load_round_trip_gives_identical_rankings(index, tmp_path):
    index.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ranking.json", "ranking.npz"]
    loaded = FaqIndex.load(tmp_path)
    assert loaded.synonyms == index.synonyms
    # the real e5 vectors travel with the index: nothing is embedded again at load
    assert index.dense is not None and loaded.dense is not None
    assert loaded.dense.model_id == index.dense.model_id
    np.testing.assert_array_equal(loaded.dense.question_vectors, index.dense.question_vectors)
    np.testing.assert_array_equal(loaded.dense.answer_vectors, index.dense.answer_vectors)
    queries = [e.question for e in ENTRIES] + ["じゅうみんひょう", "犬を飼い始めた", "子供の手当", "ごみ"]
    for q in queries:
        assert loaded.search(q, top_k=8) == index.search(q, top_k=8)
    assert loaded.config == index.config


def test_load_rejects_other_format_and_missing_index(index, tmp_path):
    with pytest.raises(FileNotFoundError):
        FaqIndex.load(tmp_path / "nothing")
    index.save(tmp_path)
    meta = json.loads((tmp_path / "ranking.json").read_text(encoding="utf-8"))
    meta["format"] = 999
    (tmp_path / "ranking.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="format"):
        FaqIndex.load(tmp_path)


def test_build_rejects_duplicate_ids_and_unknown_fields():
    with pytest.raises(ValueError, match="F001"):
        FaqIndex.build([ENTRIES[0], ENTRIES[0]])
    with pytest.raises(ValueError, match="q.nope"):
        FaqIndex.build(ENTRIES, RankConfig(weights={"q.nope": 1.0}))


def test_coordination_prefers_entries_with_more_of_the_query():
    entries = [
        FaqEntry(
            id="A", question="犬の登録", answer="犬の登録は保健所で行います。犬の登録の手数料は三千円です。"
        ),
        FaqEntry(id="B", question="犬の登録と狂犬病の注射", answer="登録と注射の案内です。"),
    ]
    query = "犬の登録と狂犬病の注射"
    with_coord = FaqIndex.build(entries, RankConfig(latent=0.0, vectors=0.0, dense=0.0), synonyms=[])
    without = FaqIndex.build(entries, RankConfig(coord=0.0, latent=0.0, vectors=0.0, dense=0.0), synonyms=[])
    assert with_coord.search(query)[0][0] == "B"
    a_cov = with_coord.explain(query, "A")["coverage"]
    assert a_cov == pytest.approx(0.5)  # 犬, 登録 of 犬, 登録, 狂犬病, 注射
    assert dict(with_coord.search(query))["A"] == pytest.approx(
        dict(without.search(query))["A"] * a_cov**0.5, rel=1e-4
    )


def test_empty_index_searches_to_nothing():
    assert FaqIndex.build([]).search("住民票") == []


def test_explain_names_matched_terms_and_fields(index):
    report = index.explain("住民票がほしい", "F001")
    assert report["faq_id"] == "F001"
    assert report["rank"] == 1
    assert report["score"] == pytest.approx(index.search("住民票がほしい", 1)[0][1], abs=1e-5)
    q_lem = report["fields"]["q.lem"]
    assert q_lem["row"] == "paraphrase:1"
    assert "住民" in q_lem["matched"] and q_lem["matched"]["住民"] > 0
    assert 0 < report["coverage"] <= 1
    assert explained_score(index, report) == pytest.approx(report["score"], rel=1e-3)
    with pytest.raises(KeyError):
        index.explain("住民票", "NOPE")
    unrelated = index.explain("犬の登録", "F001")
    assert all(f["score"] == 0 for f in unrelated["fields"].values())  # no word shared
    assert unrelated["latent"]["score"] == unrelated["vectors"]["score"] == 0  # gated by the words
    assert unrelated["rank"] is None or unrelated["rank"] > 1  # meaning alone may keep it, far below
    assert explained_score(index, unrelated) == pytest.approx(unrelated["score"], abs=1e-5)


def test_confidence_classes(index):
    assert confidence(index.search("住民票の写しを取りたいのですが、どこで申請できますか。")) == "confident"
    # Three entries ask for 本人確認書類 (F001, F006, F007): ambiguous.
    assert confidence(index.search("本人確認書類が必要な手続き")) == "close"
    assert confidence(index.search("明日の天気と野球の試合結果が知りたい")) == "none"


def test_confidence_thresholds_are_ordered():
    assert 0 < ranking.CLOSE_SCORE < ranking.CONFIDENT_SCORE
    assert confidence([]) == "none"
    assert confidence([("a", ranking.CONFIDENT_SCORE), ("b", 0.0)]) == "confident"
    assert confidence([("a", ranking.CONFIDENT_SCORE), ("b", ranking.CONFIDENT_SCORE)]) == "close"
    assert confidence([("a", ranking.CLOSE_SCORE / 2)]) == "none"


def test_city_word_groups_find_residents_words(index, tmp_path):
    query = "家庭菜園をやってみたい"
    words_only = RankConfig(dense=0.0)  # the e5 field links 家庭菜園 and 市民農園 by itself
    plain = FaqIndex.build(ENTRIES, words_only, synonyms=[])
    before = dict(plain.search(query)).get("F009", 0.0)  # only a stray reading trigram matches
    grouped = FaqIndex.build(ENTRIES, words_only, synonyms=GROUPS)
    assert top_id(grouped, query) == "F009"
    assert grouped.search(query)[0][1] > 3 * before
    grouped.save(tmp_path)
    loaded = FaqIndex.load(tmp_path)
    assert loaded.synonyms == GROUPS
    assert loaded.search(query) == grouped.search(query)


def test_word_group_matcher_and_files(tmp_path):
    matcher = SynonymMatcher([["引っ越し", "転居"], ["ごみ", "粗大ごみ"], ["x"]])
    assert matcher.tokens("ヒッコシ") == []
    assert matcher.tokens("引っ越しと転居") == ["g0", "g0"]
    assert matcher.tokens("粗大ゴミ") == ["g1"]  # longest match; katakana/hiragana alike
    assert matcher.tokens("x") == []  # one-character terms are ignored
    good = tmp_path / "a.yml"
    good.write_text("groups:\n  - [住民票, 住民票の写し]\n", encoding="utf-8")
    assert load_groups(tmp_path) == [["住民票", "住民票の写し"]]
    (tmp_path / "b.yml").write_text("groups:\n  - [住民票, 3]\n", encoding="utf-8")
    with pytest.raises(SynonymError, match=r"b\.yml: group 1"):
        load_groups(tmp_path)
    assert load_groups(tmp_path / "missing") == []


def test_shipped_word_groups_load():
    groups = default_groups()
    assert len(groups) >= 20 and all(len(g) >= 2 for g in groups)


def test_synonym_field_links_synonyms():
    assert set(analyze_fields("子供")["syn"]) & set(analyze_fields("児童")["syn"])
    assert set(analyze_fields("マイナンバーカード")["syn"]) & set(analyze_fields("個人番号カード")["syn"])


def test_stop_words_leave_the_topic():
    fields = analyze_fields("粗大ごみの出し方を教えてください")
    assert "教える" not in fields["lem"] and "ごみ" in fields["lem"]
    assert "教える" in analyze_fields("粗大ごみの出し方を教えてください", stop=False)["lem"]


def test_ngram_helpers():
    assert char_ngrams("住民票、ab") == ["住民", "民票", "ab"]
    assert kana_ngrams(["ジュウミン", "ヒョウ", None, "ノ"]) == [
        "ジュウ",
        "ュウミ",
        "ウミン",
        "ミンヒ",
        "ンヒョ",
        "ヒョウ",
    ]


def test_bm25_field_scores_match_formula():
    docs = [["a", "b", "a"], ["b"], ["c"]]
    field = BM25Field.build(docs, [0, 1, 1], n_entries=2, k1=1.2, b=0.75)
    n, avg = 3, 5 / 3
    idf_a = np.log1p((n - 1 + 0.5) / 1.5)
    expected = idf_a * 2 * 2.2 / (2 + 1.2 * (0.25 + 0.75 * 3 / avg))
    assert field.row_scores(["a"])[0] == pytest.approx(expected, rel=1e-5)
    entry = field.entry_scores(["b", "c"])
    assert entry[1] == pytest.approx(max(field.row_scores(["b", "c"])[1:]), rel=1e-6)
    with pytest.raises(ValueError):
        BM25Field.build(docs, [1, 0, 0], n_entries=2)


LATENT_DOCS = [
    ["粗大ごみ", "申込", "処理券"],
    ["粗大ごみ", "処理券", "コンビニ"],
    ["犬", "登録", "狂犬病"],
    ["犬", "注射", "狂犬病"],
]


def test_latent_field_links_words_that_share_entries():
    field = LatentField.build(LATENT_DOCS, dims=2)
    assert field is not None and field.dims == 2
    scores = field.scores(["申込"])  # 申込 occurs only in entry 0; entry 1 shares its other words
    assert scores[0] >= scores[1] > 0.5
    assert scores[2] == scores[3] == 0
    assert np.allclose(np.linalg.norm(field.entry_vectors, axis=1), 1.0, atol=1e-5)
    assert not field.scores(["天気"]).any()  # unknown words: no vector, no score


def test_latent_field_sparse_and_dense_decompositions_agree(monkeypatch):
    dense = LatentField.build(LATENT_DOCS, dims=2)
    monkeypatch.setattr(rank_latent, "GRAM_LIMIT", 0)  # force ARPACK
    arpack = LatentField.build(LATENT_DOCS, dims=2)
    for words in (["申込"], ["注射", "登録"], ["コンビニ", "犬"]):
        assert np.allclose(dense.scores(words), arpack.scores(words), atol=1e-4)


def test_latent_field_needs_two_entries_and_round_trips():
    assert LatentField.build([["住民票"]], dims=10) is None
    assert FaqIndex.build(ENTRIES[:1], synonyms=[]).search("住民票")[0][0] == "F001"
    field = LatentField.build(LATENT_DOCS, dims=3)
    again = LatentField.from_arrays("x", field.to_arrays("x"), field.terms())
    assert np.array_equal(again.scores(["処理券"]), field.scores(["処理券"]))
    with pytest.raises(ValueError):
        LatentField.from_arrays("x", field.to_arrays("x"), field.terms()[:-1])


def test_latent_score_reorders_but_never_adds_entries():
    entries = [
        FaqEntry(id="A", question="粗大ごみの申込", answer="粗大ごみは電話で申し込み、処理券を貼ります。"),
        FaqEntry(id="B", question="処理券の販売店", answer="粗大ごみ処理券はコンビニで買えます。"),
        FaqEntry(id="C", question="犬の登録", answer="犬の登録と狂犬病の予防注射が必要です。"),
    ]
    lexical = FaqIndex.build(entries, RankConfig(latent=0.0, dense=0.0), synonyms=[])
    latent = FaqIndex.build(entries, RankConfig(latent=1.0, dense=0.0), synonyms=[])
    assert latent.latent is not None and lexical.latent is None
    query = "コンビニ"  # only in B
    assert [i for i, _ in latent.search(query)] == [i for i, _ in lexical.search(query)] == ["B"]
    report = latent.explain(query, "B")
    assert report["latent"]["score"] > 0 and report["latent"]["weight"] == 1.0
    assert explained_score(latent, report) == pytest.approx(report["score"], rel=1e-3)
    assert latent.explain(query, "A")["latent"]["score"] == 0  # no word matched: the cosine is not used


# -- word-vector field (a small hand-made table: the real one is tested in test_wordvec.py) ----------

#: Three directions: papers, childcare, rubbish (keys are Sudachi normalized forms, as in the real table).
TOY_VECTORS = {
    "住民": [1.0, 0.0, 0.0, 0.1],
    "票": [0.9, 0.1, 0.0, 0.0],
    "写し": [0.8, 0.0, 0.1, 0.0],
    "保育": [0.0, 1.0, 0.0, 0.1],
    "保育所": [0.0, 0.95, 0.1, 0.05],
    "入所": [0.1, 0.9, 0.0, 0.0],
    "預ける": [0.0, 0.9, 0.0, 0.2],
    "申し込み": [0.3, 0.3, 0.3, 0.3],
    "粗大": [0.0, 0.0, 1.0, 0.0],
    "ごみ": [0.0, 0.1, 0.9, 0.0],
    "捨てる": [0.0, 0.0, 0.8, 0.2],
    "処分": [0.1, 0.0, 0.9, 0.1],
}
VECTOR_ENTRIES = [
    FaqEntry(id="J", question="住民票の写しの申込", answer="住民票の写しは窓口で申し込みます。"),
    FaqEntry(id="H", question="保育所の入所の申込", answer="保育所の入所は申込書を出してください。"),
    FaqEntry(id="G", question="粗大ごみの申込", answer="粗大ごみは電話で申し込みます。"),
]


@pytest.fixture(scope="module")
def toy_vectors():
    from bot.wordvec.table import WordVectors

    return WordVectors.from_words(TOY_VECTORS, source="toy")


def test_vector_field_reorders_by_meaning_but_never_adds_entries(toy_vectors):
    plain = FaqIndex.build(VECTOR_ENTRIES, RankConfig(latent=0.0, vectors=0.0, dense=0.0), synonyms=[])
    vec = FaqIndex.build(
        VECTOR_ENTRIES, RankConfig(latent=0.0, vectors=1.0, dense=0.0), synonyms=[], wordvec=toy_vectors
    )
    assert plain.vectors is None and vec.vectors is not None and vec.vectors.source == "toy"
    query = "処分したい物の申込"  # 処分 is in no entry; only 申込 matches, in all three
    assert [i for i, _ in plain.search(query)][0] != "G"
    assert [i for i, _ in vec.search(query)][0] == "G"  # 処分 ~ 粗大ごみ
    assert {i for i, _ in vec.search(query)} == {i for i, _ in plain.search(query)}
    assert [i for i, _ in vec.search("子どもを預ける申込")][0] == "H"  # 預ける ~ 保育
    assert vec.search("天気") == plain.search("天気") == []  # no word matched: nothing, whatever the vectors
    report = vec.explain(query, "G")
    assert report["vectors"]["weight"] == 1.0 and report["vectors"]["source"] == "toy"
    assert report["vectors"]["score"] > vec.explain(query, "H")["vectors"]["score"]
    assert explained_score(vec, report) == pytest.approx(report["score"], rel=1e-3)


def test_vector_field_takes_the_best_question_variant(toy_vectors):
    from bot.knowledge.faq.rank_vectors import VectorField

    field = VectorField.build(
        [["住民", "票"], ["粗大", "ごみ"], ["保育所"]], [0, 0, 1], [["写し"], ["保育"]], toy_vectors
    )
    assert field is not None and field.n_entries == 2
    scores = field.scores(["捨てる", "処分"], toy_vectors)  # close to entry 0's second variant only
    assert scores[0] > scores[1]
    assert not field.scores(["天気"], toy_vectors).any()  # no known word: no score
    assert VectorField.build([["天気"]], [0], [["晴れ"]], toy_vectors) is None


def test_vector_field_round_trips_and_needs_the_same_table(toy_vectors, tmp_path, caplog):
    from bot.wordvec.table import WordVectors

    built = FaqIndex.build(VECTOR_ENTRIES, synonyms=[], wordvec=toy_vectors)
    built.save(tmp_path)
    loaded = FaqIndex.load(tmp_path, wordvec=toy_vectors)
    for query in ("処分したい物の申込", "ごみを捨てる申込", "住民票"):
        assert loaded.search(query) == built.search(query)
    other = WordVectors.from_words(TOY_VECTORS, source="another table")
    with caplog.at_level("WARNING"):
        mismatched = FaqIndex.load(tmp_path, wordvec=other)
    assert mismatched.vectors is None and "another table" in caplog.text
    without = FaqIndex.build(VECTOR_ENTRIES, RankConfig(vectors=0.0), synonyms=[], wordvec=toy_vectors)
    assert [i for i, _ in mismatched.search("住民票")] == [i for i, _ in without.search("住民票")]


def test_index_builds_without_a_word_vector_table(monkeypatch, tmp_path, caplog):
    from bot.wordvec import table

    monkeypatch.setenv("MADOGUCHI_WORDVEC", str(tmp_path / "missing.npz"))
    monkeypatch.setattr(table, "_loaded", {})
    with caplog.at_level("WARNING"):
        index = FaqIndex.build(VECTOR_ENTRIES, synonyms=[])
    assert index.vectors is None and "make wordvec" in caplog.text
    assert top_id(index, "住民票の写し") == "J"
