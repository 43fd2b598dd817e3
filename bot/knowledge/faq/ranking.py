"""FAQ ranking: which FAQ entries answer a resident's question, best first, on CPU in milliseconds.

The index is a weighted sum of BM25 fields (:mod:`bot.knowledge.faq.rank_bm25`) over the tokens of
:mod:`bot.knowledge.faq.rank_text`: Sudachi normalized forms (split mode A), Sudachi synonym groups, the
city's word groups (``data/synonyms``) and katakana-reading trigrams, for the question (an entry scores its
best variant among question and paraphrases) and for the answer. The sum is multiplied by the share of the
query's words the entry contains (coordination). Settings were chosen on the "tune" half of a real municipal
FAQ benchmark and checked on the other half (``bench/README.md``); :data:`DEFAULT_CONFIG` is the choice.

To the words an entry shares with the question, two meaning fields add their cosines, for entries that
matched at least one word (they reorder the lexical candidates, they never bring in an entry without one):

- a latent semantic field (:mod:`rank_latent`, learned from the FAQ itself when it is imported): ``latent``
  x the cosine of question and entry;
- a word-vector field (:mod:`rank_vectors`, static Japanese word vectors of :mod:`bot.wordvec`): ``vectors``
  x the mean of the cosines of question to entry question and to entry answer. Without the vector table
  (``make wordvec`` not run) the index is built without this field, with a warning.

Then the sentence-embedding field (:mod:`rank_dense`: multilingual-e5-small, every question variant and
answer opening embedded at import and saved with the index) adds ``dense`` x how far the entry's e5
similarity stands out among the FAQ's entries, for *every* entry: an entry that shares no word with the
question can be found by meaning alone. Where the encoder cannot run (no AVX2) the index is built and
searched without it, with a warning (the bot itself refuses to start there, ``bot.runner``).

Scores are normalized by the idf mass of the query (about 1.0 = "every query word found once"), so that
:func:`confidence` can use fixed thresholds, measured on the tune half (``bench/README.md``, fifth round):

- ``"confident"``: top score >= :data:`CONFIDENT_SCORE` (0.90) and it leads the second by at least
  :data:`CONFIDENT_MARGIN` (40 %) of itself — give the answer (top-1 right for 85 % of such questions);
- ``"close"``: top score >= :data:`CLOSE_SCORE` (0.40) — show the top 3 as buttons (beside phone and
  callback);
- ``"none"``: anything else — fall back (rephrase / phone / callback).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bot.files import atomic_write
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.rank_bm25 import BM25Field
from bot.knowledge.faq.rank_dense import DenseField, Encoder, fuse, standardized
from bot.knowledge.faq.rank_latent import LatentField
from bot.knowledge.faq.rank_synonyms import SynonymMatcher, default_groups
from bot.knowledge.faq.rank_text import FIELDS, analyze_fields
from bot.knowledge.faq.rank_vectors import VectorField
from bot.wordvec import table as wordvec_table
from bot.wordvec.table import WordVectors

#: Version of the saved index layout; a different version is rebuilt, never misread.
FORMAT_VERSION = 4
_META_FILE = "ranking.json"
_ARRAYS_FILE = "ranking.npz"
_LATENT = "latent"
_VECTORS = "vectors"
_DENSE = "dense"
#: Query embeddings kept per index (``explain`` and ``search`` of the same turn embed once).
_QUERY_MEMO = 64
_TUPLE_SETTINGS = ("prf_fields", "coord_fields", "latent_fields")

#: Thresholds of :func:`confidence` (normalized scores), measured on the tune half of localgovFAQ with the
#: fifth round's default (``python -m bench.faq_thresholds``, table in ``bench/README.md``): "confident" is
#: the rule with the most questions among those keeping top-1 precision >= 0.80 (score >= 0.90 and a 40 %
#: lead: 13 of 128 questions, 0.85; with the old 30 % lead no score up to 1.2 reached 0.80, the e5 field
#: lifts the runner-up too); "none" below 0.40 (14 questions, about a tenth as before: top 3 right for 0.29
#: of them against 0.64 above).
CONFIDENT_SCORE = 0.90
CONFIDENT_MARGIN = 0.40
CLOSE_SCORE = 0.40

SOURCES = ("q", "a")
#: Lowest score of an entry that matched a word (the vector cosine can be negative).
_MATCHED_FLOOR = 1e-6

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankConfig:
    """Which fields the index builds and how much each counts.

    Attributes:
        weights: ``"<source>.<field>" -> weight``; source ``q`` is the question and its paraphrases (an
            entry takes its best variant), ``a`` the answer; field names are those of
            :data:`bot.knowledge.faq.rank_text.FIELDS`. Fields with weight 0 are not built.
        k1: BM25 term frequency saturation.
        b: BM25 length normalization for question rows.
        b_answer: BM25 length normalization for answer rows.
        stop: drop question boilerplate words (see ``rank_text.STOP_LEMMAS``).
        kana_query_boost: multiplier of the ``kana`` fields' weights for a query written without kanji
            (じゅうみんひょう): Sudachi's words for such text are unreliable, its reading is not.
        coord: coordination exponent: an entry's score is multiplied by (share of the query's distinct
            words, field ``lem``, that the entry contains anywhere in ``coord_fields``) ** coord; 0 = off.
        coord_fields: the fields looked at for ``coord``.
        prf_docs: pseudo-relevance feedback from the best ``prf_docs`` entries (0 = off; it did not help).
        prf_terms: how many feedback words.
        prf_weight: weight of the feedback pass.
        prf_fields: fields feedback words are taken from.
        latent: weight of the latent semantic cosine (see :mod:`rank_latent`); 0 = off.
        latent_dims: its number of dimensions (fewer for a small FAQ).
        latent_fields: the word fields (question and answer together) it is learned from.
        vectors: weight of the word-vector cosine (see :mod:`rank_vectors`); 0 = off.
        dense: weight of the e5 sentence-embedding field (see :mod:`rank_dense`); 0 = off.
        dense_z: how far (z-score over the FAQ's entries) an entry's e5 cosine must stand out before the
            field adds anything (:func:`rank_dense.standardized`).
        dense_question_kind: e5 prefix the question variants are embedded with (``query``/``passage``).
        dense_answer_share: weight of the answer opening's cosine in an entry's e5 similarity (0 = the
            answers are not embedded).
        dense_answer_chars: characters of an answer's opening that are embedded.
    """

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "q.lem": 1.0,
            "q.syn": 0.3,
            "q.grp": 1.0,
            "q.kana": 0.2,
            "a.lem": 1.0,
            "a.syn": 0.3,
            "a.grp": 1.0,
        }
    )
    k1: float = 1.2
    b: float = 0.75
    b_answer: float = 0.75
    stop: bool = True
    kana_query_boost: float = 5.0
    coord: float = 0.5
    coord_fields: tuple[str, ...] = ("q.lem", "a.lem")
    prf_docs: int = 0
    prf_terms: int = 10
    prf_weight: float = 0.3
    prf_fields: tuple[str, ...] = ("a.lem",)
    latent: float = 0.15
    latent_dims: int = 600
    latent_fields: tuple[str, ...] = ("lem", "grp")
    vectors: float = 0.3
    dense: float = 0.5
    dense_z: float = 2.5
    dense_question_kind: str = "query"
    dense_answer_share: float = 0.5
    dense_answer_chars: int = 100

    def active(self) -> dict[str, float]:
        """The fields with a non-zero weight, validated."""
        out = {}
        bad = [f for f in self.latent_fields if f not in FIELDS]
        if bad:
            raise ValueError(f"unknown latent field {bad[0]!r}")
        for name, w in self.weights.items():
            source, _, kind = name.partition(".")
            if source not in SOURCES or kind not in FIELDS:
                raise ValueError(f"unknown ranking field {name!r}")
            if w:
                out[name] = float(w)
        if not out:
            raise ValueError("the ranking configuration has no field with a weight")
        return out


DEFAULT_CONFIG = RankConfig()


def _question_variants(entry: FaqEntry) -> list[str]:
    variants = [entry.question, *entry.paraphrases]
    return [v for v in variants if v and v.strip()]


class FaqIndex:
    """Searchable FAQ index. Build it with :meth:`build`, keep it with :meth:`save` / :meth:`load`."""

    def __init__(
        self,
        ids: list[str],
        fields: dict[str, BM25Field],
        config: RankConfig,
        rows: dict,
        synonyms: list[list[str]] | None = None,
        latent: LatentField | None = None,
        vectors: VectorField | None = None,
        wordvec: WordVectors | None = None,
        dense: DenseField | None = None,
        encoder: Encoder | None = None,
    ):
        self.ids = ids
        self.latent = latent
        self.vectors = vectors if wordvec is not None else None
        self._wordvec = wordvec
        self.dense = dense if encoder is not None else None
        self._encoder = encoder
        self._query_memo: dict[str, np.ndarray] = {}
        self._memo_lock = threading.Lock()
        self.fields = fields
        self.config = config
        self.synonyms = synonyms or []
        self._matcher = SynonymMatcher(self.synonyms)
        self._rows = rows  # source -> list of row labels ("question", "paraphrase:1", "answer")

    # -- building -----------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        entries: list[FaqEntry],
        config: RankConfig | None = None,
        synonyms: list[list[str]] | None = None,
        wordvec: WordVectors | None = None,
        encoder: Encoder | None = None,
        embedding_cache: Path | None | str = "default",
    ) -> FaqIndex:
        """Analyses every entry and builds the BM25 fields and the meaning fields.

        Args:
            entries: the FAQ.
            config: fields and weights (default :data:`DEFAULT_CONFIG`).
            synonyms: word groups for the ``grp`` field (default: ``$MADOGUCHI_DATA/synonyms/*.yml``);
                kept inside the index.
            wordvec: word vectors for the ``vectors`` field (default: the table of ``make wordvec``,
                :func:`bot.wordvec.table.load_default`; without one the field is left out).
            encoder: sentence encoder of the ``dense`` field (default: the process's one e5 encoder,
                :func:`default_encoder`; on a machine that cannot run it the field is left out, logged).
            embedding_cache: directory of cached e5 vectors (``"default"``: :func:`default_embedding_cache`;
                None: no cache): a re-import embeds only the texts it has not seen.

        Raises:
            ValueError: two entries share an id; a synonym file is malformed.
        """
        config = config or DEFAULT_CONFIG
        synonyms = default_groups() if synonyms is None else synonyms
        matcher = SynonymMatcher(synonyms)
        active = config.active()
        ids = [e.id for e in entries]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"duplicate FAQ id {dup!r}")
        docs: dict[str, list[dict[str, list[str]]]] = {"q": [], "a": []}
        row_entry: dict[str, list[int]] = {"q": [], "a": []}
        labels: dict[str, list[str]] = {"q": [], "a": []}
        kinds = {
            src: {name.partition(".")[2] for name in active if name.startswith(f"{src}.")} for src in SOURCES
        }
        kinds["q"] |= {"lem", "grp"}  # the query always needs these (coordination, empty-query check)
        if config.vectors > 0:
            kinds["a"] |= {"lem"}
        if config.latent > 0:
            kinds["q"] |= set(config.latent_fields)
            kinds["a"] |= set(config.latent_fields)
        need_a = bool(kinds["a"])  # answer rows are one per entry when built at all
        for i, entry in enumerate(entries):
            for j, text in enumerate(_question_variants(entry) or [""]):
                docs["q"].append(analyze_fields(text, config.stop, matcher, frozenset(kinds["q"])))
                row_entry["q"].append(i)
                labels["q"].append("question" if j == 0 else f"paraphrase:{j}")
            if need_a:
                docs["a"].append(analyze_fields(entry.answer, config.stop, matcher, frozenset(kinds["a"])))
                row_entry["a"].append(i)
                labels["a"].append("answer")
        fields = {}
        for name in active:
            source, _, kind = name.partition(".")
            b = config.b if source == "q" else config.b_answer
            fields[name] = BM25Field.build(
                [d[kind] for d in docs[source]], row_entry[source], len(entries), k1=config.k1, b=b
            )
        latent = _build_latent(config, docs, row_entry, len(entries)) if config.latent > 0 else None
        vectors = None
        if config.vectors > 0:
            wordvec = wordvec or wordvec_table.load_default()
            if wordvec is not None:
                vectors = VectorField.build(
                    [d["lem"] for d in docs["q"]], row_entry["q"], [d["lem"] for d in docs["a"]], wordvec
                )
        dense = None
        if config.dense > 0:
            encoder = encoder or default_encoder()
            if encoder is not None:
                cache = default_embedding_cache() if embedding_cache == "default" else embedding_cache
                dense = _build_dense(entries, config, encoder, cache)
        return cls(ids, fields, config, labels, synonyms, latent, vectors, wordvec, dense, encoder)

    # -- searching ----------------------------------------------------------------------------------

    def _analyze(self, query: str) -> dict[str, list[str]]:
        return analyze_fields(query, stop=self.config.stop, synonyms=self._matcher)

    def _weights(self, query: str) -> dict[str, float]:
        """Field weights for one query (the kana fields count more for a query without kanji)."""
        boost = 1.0 if _has_kanji(query) else self.config.kana_query_boost
        return {
            name: self.config.weights[name] * (boost if name.endswith(".kana") else 1.0)
            for name in self.fields
        }

    def _scores(self, query: str) -> np.ndarray:
        """Normalized entry scores: lexical score / idf mass + the word-meaning fields where lexical > 0,
        fused with the sentence-embedding field (:func:`rank_dense.fuse`, every entry)."""
        tokens = self._analyze(query)
        if not tokens["lem"] and not tokens["grp"]:
            return np.zeros(len(self.ids), dtype=np.float32)  # only boilerplate: nothing asked yet
        scores = self._word_scores(tokens, query)
        if self.dense is not None and self.config.dense > 0:
            scores = fuse(scores, self._dense_cosines(query), self.config.dense, self.config.dense_z)
        return scores.astype(np.float32)

    def _dense_cosines(self, query: str) -> np.ndarray:
        return self.dense.cosines(self._query_vector(query), len(self.ids))

    def _query_vector(self, query: str) -> np.ndarray:
        """The question's e5 ``query`` embedding (memoized: a turn's search and explain embed once)."""
        with self._memo_lock:
            found = self._query_memo.get(query)
        if found is not None:
            return found
        vector = np.asarray(self._encoder.query(query), dtype=np.float32).reshape(-1)
        with self._memo_lock:
            if len(self._query_memo) >= _QUERY_MEMO:
                self._query_memo.pop(next(iter(self._query_memo)))
            self._query_memo[query] = vector
        return vector

    def _word_scores(self, tokens: dict[str, list[str]], query: str) -> np.ndarray:
        """Lexical score / idf mass, plus the latent and word-vector fields where it is > 0."""
        lexical, mass = self._lexical(tokens, query)
        if mass <= 0:
            return lexical * 0
        scores = lexical / mass
        matched = scores > 0
        if self.latent is not None and self.config.latent > 0:
            scores = scores + self.config.latent * self.latent.scores(self._latent_terms(tokens)) * matched
        if self.vectors is not None and self.config.vectors > 0:
            cosine = self.vectors.scores(tokens["lem"], self._wordvec)
            # a negative cosine may sink an entry to the bottom, never out of the candidates
            scores = np.where(matched, np.maximum(scores + self.config.vectors * cosine, _MATCHED_FLOOR), 0.0)
        return scores.astype(np.float32)

    def _latent_terms(self, tokens: dict[str, list[str]]) -> list[str]:
        return [t for kind in self.config.latent_fields for t in tokens[kind]]

    def _lexical(self, tokens: dict[str, list[str]], query: str) -> tuple[np.ndarray, float]:
        """Raw weighted lexical entry scores (BM25 fields x coverage) and the query's weighted idf mass."""
        total = np.zeros(len(self.ids), dtype=np.float32)
        mass = 0.0
        if not tokens["lem"] and not tokens["grp"]:
            return total, mass  # only boilerplate (教えてください, どうすればいいですか): nothing asked yet
        weights = self._weights(query)
        for name, fld in self.fields.items():
            w = weights[name]
            terms = tokens[name.partition(".")[2]]
            if not terms:
                continue
            total += w * fld.entry_scores(terms)
            mass += w * fld.query_mass(terms)
        if self.config.prf_docs > 0 and mass > 0:
            total = total + self._feedback(total, tokens)
        if self.config.coord > 0:
            total *= self._coverage(tokens["lem"]) ** self.config.coord
        return total, mass

    def _coverage(self, terms: list[str], weights: dict[str, float] | None = None) -> np.ndarray:
        """Share of the query's known distinct words that each entry contains (see ``RankConfig.coord``).

        Words no coordination field knows are left out, so a query of unknown or kana-only words is not
        zeroed (every entry then gets 1). ``weights`` (word -> weight, default 1 each) makes it a weighted
        share (an experiment of ``bench/faq_round3.py``).
        """
        fields = [self.fields[name] for name in self.config.coord_fields if name in self.fields]
        count = np.zeros(len(self.ids), dtype=np.float32)
        known = 0.0
        for term in dict.fromkeys(terms):
            ids = [(fld, fld.vocab[term]) for fld in fields if term in fld.vocab]
            if not ids:
                continue
            weight = 1.0 if weights is None else weights.get(term, 1.0)
            known += weight
            has = np.zeros(len(self.ids), dtype=bool)
            for fld, term_id in ids:
                has[fld.entries_with(term_id)] = True
            count += weight * has
        if not known:
            return np.ones(len(self.ids), dtype=np.float32)
        return count / known

    def _feedback(self, first: np.ndarray, tokens: dict[str, list[str]]) -> np.ndarray:
        """Second-pass scores from the words of the best first-pass entries (pseudo-relevance feedback)."""
        cfg = self.config
        k = min(cfg.prf_docs, len(first))
        top = np.argsort(-first, kind="stable")[:k]
        top = top[first[top] > 0].tolist()
        extra = np.zeros(len(self.ids), dtype=np.float32)
        if not top:
            return extra
        for name in cfg.prf_fields:
            fld = self.fields.get(name)
            if fld is None:
                continue
            exclude = fld.term_ids(tokens[name.partition(".")[2]])
            ids, weights = fld.feedback_terms(top, exclude, cfg.prf_terms)
            if ids:
                scale = cfg.prf_weight * cfg.weights[name] / float(weights.sum())
                extra += scale * fld.best_per_entry(fld.weighted_row_scores(ids, weights))
        return extra

    def search(self, query: str, top_k: int = 10) -> list[tuple[str, float]]:
        """Ranks the entries for a question.

        Args:
            query: the resident's question, as typed.
            top_k: how many results at most.

        Returns:
            ``(faq id, normalized score)`` pairs, best first, only entries that matched something; an
            empty list for an empty or meaningless query (e.g. emoji only).
        """
        if not self.ids or top_k <= 0:
            return []
        scores = self._scores(query)
        k = min(top_k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]
        return [(self.ids[i], round(float(scores[i]), 6)) for i in top if scores[i] > 0]

    def explain(self, query: str, faq_id: str) -> dict:
        """Why an entry scores what it scores, for staff debugging.

        Returns:
            ``{"faq_id", "score", "rank", "coverage", "query_tokens": {field: tokens}, "fields":
            {name: {"weight", "score", "row", "matched": {term: weight}}}, "latent": {"weight", "score",
            "dims"}, "vectors": {"weight", "score", "source"}, "dense": {"weight", "z", "part", "cosine",
            "model"}}``. ``score`` = sum of weight x field score, times coverage ** ``config.coord``,
            plus latent weight x latent score and vectors weight x vectors score (cosines; 0 when no
            word matched), plus the dense ``part`` (weight x how far the e5 cosine stands out);
            a field's ``row`` names the
            question variant or answer that scored; ``rank`` is 1-based among all entries (None when the
            entry does not match).

        Raises:
            KeyError: unknown faq_id.
        """
        try:
            entry = self.ids.index(faq_id)
        except ValueError:
            raise KeyError(f"unknown FAQ id {faq_id!r}") from None
        tokens = self._analyze(query)
        _, mass = self._lexical(tokens, query)
        norm = self._scores(query)
        coverage = float(self._coverage(tokens["lem"])[entry]) if self.config.coord > 0 else 1.0
        report: dict = {
            "faq_id": faq_id,
            "coverage": round(coverage, 6),
            "score": round(float(norm[entry]), 6),
            "rank": int((norm > norm[entry]).sum()) + 1 if norm[entry] > 0 else None,
            "query_tokens": tokens,
            "fields": {},
        }
        weights = self._weights(query)
        for name, fld in self.fields.items():
            source, _, kind = name.partition(".")
            terms = tokens[kind]
            row = fld.best_row(entry, terms) if terms else None
            matched = fld.contributions(row, terms) if row is not None else {}
            report["fields"][name] = {
                "weight": weights[name],
                "score": round(sum(matched.values()) / mass, 6) if mass > 0 else 0.0,
                "row": self._rows[source][row] if row is not None else None,
                "matched": matched,
            }
        cosine = 0.0
        words_matched = bool(mass > 0 and self._word_scores(tokens, query)[entry] > 0)
        if self.latent is not None and words_matched:
            cosine = float(self.latent.scores(self._latent_terms(tokens))[entry])
        report["latent"] = {
            "weight": self.config.latent if self.latent is not None else 0.0,
            "score": round(cosine, 6),
            "dims": self.latent.dims if self.latent is not None else 0,
        }
        vector_score = 0.0
        if self.vectors is not None and words_matched:
            vector_score = float(self.vectors.scores(tokens["lem"], self._wordvec)[entry])
        report["vectors"] = {
            "weight": self.config.vectors if self.vectors is not None else 0.0,
            "score": round(vector_score, 6),
            "source": self.vectors.source if self.vectors is not None else None,
        }
        dense_cosine = dense_part = 0.0
        if self.dense is not None:
            cosines = self._dense_cosines(query)
            dense_cosine = float(cosines[entry])
            if tokens["lem"] or tokens["grp"]:
                dense_part = self.config.dense * float(standardized(cosines, self.config.dense_z)[entry])
        report["dense"] = {
            "weight": self.config.dense if self.dense is not None else 0.0,
            "z": self.config.dense_z,
            "part": round(float(dense_part), 6),
            "cosine": round(dense_cosine, 6),
            "model": self.dense.model_id if self.dense is not None else None,
        }
        return report

    # -- persistence --------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Writes the index into a directory (two files, each replaced atomically)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        vocab: dict[str, list[str]] = {}
        for name, fld in self.fields.items():
            arrays.update(fld.to_arrays(name))
            vocab[name] = fld.terms()
        if self.latent is not None:
            arrays.update(self.latent.to_arrays(_LATENT))
        if self.vectors is not None:
            arrays.update(self.vectors.to_arrays(_VECTORS))
        if self.dense is not None:
            arrays.update(self.dense.to_arrays(_DENSE))
        meta = {
            "format": FORMAT_VERSION,
            "config": asdict(self.config),
            "ids": self.ids,
            "rows": self._rows,
            "synonyms": self.synonyms,
            "vocab": vocab,
            "latent_vocab": self.latent.terms() if self.latent is not None else None,
            "vectors": (
                {
                    "source": self.vectors.source,
                    "default_idf": self.vectors.default_idf,
                    "words": self.vectors.words(),
                }
                if self.vectors is not None
                else None
            ),
            "dense": {"model": self.dense.model_id} if self.dense is not None else None,
        }
        atomic_write(directory / _ARRAYS_FILE, lambda f: np.savez(f, **arrays))
        atomic_write(directory / _META_FILE, lambda f: f.write(json.dumps(meta, ensure_ascii=False).encode()))

    @classmethod
    def load(
        cls, directory: Path, wordvec: WordVectors | None = None, encoder: Encoder | None = None
    ) -> FaqIndex:
        """Reads an index written by :meth:`save` (no text analysis: loads in milliseconds).

        Args:
            directory: where :meth:`save` wrote the index.
            wordvec: the word vectors to embed questions with (default: the table of ``make wordvec``);
                when it is missing or not the table the index was built with, the ``vectors`` field is
                left out (logged).
            encoder: the sentence encoder to embed questions with (default: the process's one e5
                encoder); when it cannot run or is not the model the index was built with, the ``dense``
                field is left out (logged).

        Raises:
            FileNotFoundError: the directory holds no index.
            ValueError: the files are of another format version or inconsistent.
        """
        directory = Path(directory)
        meta = json.loads((directory / _META_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"FAQ index format {meta.get('format')!r}, expected {FORMAT_VERSION}: rebuild it"
            )
        saved = meta["config"]
        config = RankConfig(**{**saved, **{k: tuple(saved[k]) for k in _TUPLE_SETTINGS if k in saved}})
        with np.load(directory / _ARRAYS_FILE, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        fields = {name: BM25Field.from_arrays(name, arrays, terms) for name, terms in meta["vocab"].items()}
        for name, fld in fields.items():
            if fld.n_entries != len(meta["ids"]):
                raise ValueError(f"field {name}: {fld.n_entries} entries, index has {len(meta['ids'])}")
        latent = None
        if meta.get("latent_vocab") is not None:
            latent = LatentField.from_arrays(_LATENT, arrays, meta["latent_vocab"])
            if len(latent.entry_vectors) != len(meta["ids"]):
                raise ValueError(
                    f"latent field: {len(latent.entry_vectors)} entries, index has {len(meta['ids'])}"
                )
        vectors = None
        saved_vectors = meta.get("vectors")
        if saved_vectors is not None:
            vectors = VectorField.from_arrays(
                _VECTORS,
                arrays,
                saved_vectors["words"],
                saved_vectors["source"],
                saved_vectors["default_idf"],
            )
            if vectors.n_entries != len(meta["ids"]):
                raise ValueError(f"vector field: {vectors.n_entries} entries, index has {len(meta['ids'])}")
            wordvec = wordvec or wordvec_table.load_default()
            if wordvec is None or wordvec.source != vectors.source:
                log.warning(
                    "FAQ index built with word vectors %r, %s here: ranking without them",
                    vectors.source,
                    "none" if wordvec is None else repr(wordvec.source),
                )
                vectors = None
        dense, encoder = _load_dense(meta, arrays, config, encoder)
        return cls(
            meta["ids"],
            fields,
            config,
            meta["rows"],
            meta.get("synonyms", []),
            latent,
            vectors,
            wordvec,
            dense,
            encoder,
        )


def _build_latent(
    config: RankConfig, docs: dict[str, list[dict[str, list[str]]]], row_entry: dict[str, list[int]], n: int
) -> LatentField | None:
    """The latent field over every entry's words: its question variants and its answer together."""
    words: list[list[str]] = [[] for _ in range(n)]
    for source in SOURCES:
        for fields, entry in zip(docs[source], row_entry[source], strict=True):
            for kind in config.latent_fields:
                words[entry].extend(fields[kind])
    return LatentField.build(words, config.latent_dims)


def _load_dense(
    meta: dict, arrays: dict, config: RankConfig, encoder: Encoder | None
) -> tuple[DenseField | None, Encoder | None]:
    saved = meta.get("dense")
    if saved is None:
        return None, encoder
    dense = DenseField.from_arrays(_DENSE, arrays, saved["model"], config.dense_answer_share)
    if len(dense.question_entry) and int(dense.question_entry.max()) >= len(meta["ids"]):
        raise ValueError("dense field: question rows point outside the entries")
    encoder = encoder or default_encoder()
    if encoder is None or encoder.model_id != dense.model_id:
        log.warning(
            "FAQ index built with the sentence encoder %r, %s here: ranking without it",
            dense.model_id,
            "none" if encoder is None else repr(encoder.model_id),
        )
        return None, encoder
    return dense, encoder


def _build_dense(
    entries: list[FaqEntry], config: RankConfig, encoder: Encoder, cache_dir: Path | None
) -> DenseField:
    """The e5 field: every question variant, and the answers' openings when they count."""
    questions, owner = [], []
    for i, entry in enumerate(entries):
        for text in _question_variants(entry):
            questions.append(text)
            owner.append(i)
    return DenseField.build(
        questions,
        owner,
        [e.answer for e in entries],
        encoder,
        question_kind=config.dense_question_kind,
        answer_chars=config.dense_answer_chars,
        answer_share=config.dense_answer_share,
        cache_dir=cache_dir,
    )


def default_encoder() -> Encoder | None:
    """The process's one e5 encoder (shared with the NLU's crisis detector), or None where it cannot run
    (no AVX2: the runner refuses to start there, see ``bot.runner``; tools then rank without it, logged)."""
    from bot.understanding.encoder import EncoderUnavailable, check_cpu
    from bot.understanding.encoder import default_encoder as shared

    try:
        check_cpu()
    except EncoderUnavailable as error:
        log.warning("FAQ ranking without the sentence encoder: %s", error)
        return None
    return shared()


def default_embedding_cache() -> Path:
    """Where e5 vectors of FAQ texts are cached: ``$MADOGUCHI_EMBEDDINGS``, else ``$MADOGUCHI_VAR/embeddings``
    (``bot.settings``)."""
    from bot import settings

    return settings.load(dict(os.environ)).embeddings_dir


def _has_kanji(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ch == "\u3005" for ch in text)


def confidence(results: list[tuple[str, float]]) -> str:
    """How sure the ranking is: ``"confident"``, ``"close"`` or ``"none"`` (see the module docstring).

    Args:
        results: the output of :meth:`FaqIndex.search`.
    """
    if not results:
        return "none"
    top = results[0][1]
    second = results[1][1] if len(results) > 1 else 0.0
    if top >= CONFIDENT_SCORE and (top - second) >= CONFIDENT_MARGIN * top:
        return "confident"
    if top >= CLOSE_SCORE:
        return "close"
    return "none"
