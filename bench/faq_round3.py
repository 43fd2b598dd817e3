"""Third-round ranking experiments on localgovFAQ (``bench/README.md``), measured without product changes.

Run ``python -m bench.faq_round3 [--dataset DIR] [--split tune|check|all]``. Every row re-scores the third
round's default index (lexical + latent, built once; the fourth round's word vectors are not part of these
experiments) with one idea added at query time:

- ``pos``: query word weights by part of speech (nouns count more than verbs and adjectives);
- ``qidf``: the idf of the question field (or of question + answer) for every field's query words;
- ``first``: an extra BM25 field over the first sentence of each answer;
- ``rerank``: a linear reranker of the top 30 over per-field features, trained on pseudo-queries made from
  the FAQ itself (each entry's question with words dropped, and its answer's first sentence) — never on dev
  questions.

Settings are chosen on ``tune`` only; the dev questions are only ranked and scored, never read or printed.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench import localgov
from bench.metrics import evaluate
from bot.knowledge.faq import ranking
from bot.knowledge.faq.rank_bm25 import BM25Field
from bot.knowledge.faq.rank_synonyms import SynonymMatcher
from bot.knowledge.faq.rank_text import _kept, analyze_fields
from bot.knowledge.faq.ranking import FaqIndex, RankConfig
from bot.text import chunks, get_tokenizer, is_content_pos, normalize

_SENTENCE_END = re.compile(r"[。！？!?\n]")


@dataclass(frozen=True, eq=False)
class Variant:
    """One query-time change to the default index.

    Attributes:
        pos: part-of-speech class -> query word weight (classes: proper, noun, compound, verb, adj, adv,
            other); empty = all 1.
        qidf: ``""`` (each field its own idf), ``"q"`` (question-field idf everywhere) or ``"qa"`` (idf over
            questions and answers as one collection).
        first: weight of the answer-first-sentence field (0 = off).
        rerank: weight of the learned reranker's score added to the normalized score (0 = off).
        rerank_source: pseudo-queries: ``"drop"`` (question with 40 % of its words dropped), ``"first"``
            (answer's first sentence) or ``"both"``; ``"features"`` = both, without the base score and
            rank among the reranker's features.
        pos_syn: the part-of-speech weights apply to the word's Sudachi synonym ids too.
        pos_coverage: coordination counts each query word with its part-of-speech weight.
    """

    pos: dict[str, float] = field(default_factory=dict)
    qidf: str = ""
    first: float = 0.0
    rerank: float = 0.0
    rerank_source: str = "both"
    pos_syn: bool = False
    pos_coverage: bool = False


def _pos_class(pos: tuple[str, ...], compound: bool) -> str:
    if pos[0] == "名詞":
        if pos[1] == "固有名詞":
            return "proper"
        return "compound" if compound else "noun"
    return {"動詞": "verb", "形容詞": "adj", "形状詞": "adj", "副詞": "adv"}.get(pos[0], "other")


@functools.cache
def word_classes(text: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(normalized form, POS class, synonym tokens) of the query's kept content words (as ``rank_text``)."""
    from sudachipy import SplitMode

    out: list[tuple[str, str, tuple[str, ...]]] = []
    norm = normalize(text)
    tokenizer = get_tokenizer("C")
    for _, chunk in chunks(norm, 1000):
        for m in tokenizer.tokenize(chunk):
            pos = tuple(m.part_of_speech())
            if not is_content_pos(pos):
                continue
            parts = m.split(SplitMode.A)
            if not parts:
                if _kept(m.normalized_form(), pos, True):
                    syn = tuple(f"s{g}" for g in m.synonym_group_ids())
                    out.append((m.normalized_form(), _pos_class(pos, False), syn))
                continue
            for part in parts:
                ppos = tuple(part.part_of_speech())
                if is_content_pos(ppos) and _kept(part.normalized_form(), ppos, True):
                    syn = tuple(f"s{g}" for g in part.synonym_group_ids())
                    out.append((part.normalized_form(), _pos_class(ppos, len(parts) > 1), syn))
    return tuple(out)


def first_sentence(answer: str) -> str:
    """The answer's first sentence (up to the first 。/！/？/newline with text before it)."""
    for piece in _SENTENCE_END.split(answer):
        if piece.strip():
            return piece
    return ""


class Experiment:
    """The default index plus the extra structures the variants need."""

    def __init__(self, entries, synonyms=None):
        # the third round's baseline: its re-scoring copies the lexical + latent scores, not the word-vector
        # field added in the fourth round
        self.index = FaqIndex.build(entries, RankConfig(vectors=0.0), synonyms=synonyms)
        self.matcher = SynonymMatcher(self.index.synonyms)
        firsts = [analyze_fields(first_sentence(e.answer), True, self.matcher) for e in entries]
        n = len(entries)
        self.first = {
            kind: BM25Field.build([f[kind] for f in firsts], list(range(n)), n, k1=1.2, b=0.75)
            for kind in ("lem", "grp")
        }
        self.entries = entries
        self._qa_idf = self._merged_idf()
        self.model: dict[str, np.ndarray] = {}
        self.qlen = np.log1p([len(word_classes(e.question)) for e in entries]).astype(np.float32)

    def _merged_idf(self) -> dict[str, float]:
        """idf of lem terms over question rows and answer rows as one collection."""
        q, a = self.index.fields["q.lem"], self.index.fields["a.lem"]
        n = q.weights.shape[1] + a.weights.shape[1]
        df: dict[str, int] = {}
        for fld in (q, a):
            counts = np.diff(fld.weights.indptr)
            for term, i in fld.vocab.items():
                df[term] = df.get(term, 0) + int(counts[i])
        return {t: float(np.log1p((n - d + 0.5) / (d + 0.5))) for t, d in df.items()}

    # -- scoring -----------------------------------------------------------------------------------

    def _term_weights(self, v: Variant, query: str, name: str, terms: list[str]) -> dict[str, float]:
        kind = name.partition(".")[2]
        w = {t: 1.0 for t in terms}
        if v.pos and kind in ("lem", "syn" if v.pos_syn else "lem"):
            w = {t: self.pos_weight(v, query, kind).get(t, 1.0) for t in w}
        if v.qidf and kind == "lem":
            fld = self.index.fields[name]
            ref = self.index.fields["q.lem"]
            for t in w:
                own = fld.idf[fld.vocab[t]] if t in fld.vocab else fld.unknown_idf
                if v.qidf == "q":
                    target = ref.idf[ref.vocab[t]] if t in ref.vocab else ref.unknown_idf
                else:
                    target = self._qa_idf.get(t, fld.unknown_idf)
                w[t] *= float(target) / float(own) if own > 0 else 1.0
        return w

    @staticmethod
    def pos_weight(v: Variant, query: str, kind: str) -> dict[str, float]:
        """Query token -> weight of its word's part of speech (the best when a token occurs twice)."""
        best: dict[str, float] = {}
        for lemma, cls, syn in word_classes(query):
            for t in (lemma,) if kind == "lem" else syn:
                best[t] = max(best.get(t, 0.0), v.pos.get(cls, 1.0))
        return best

    def coverage(self, v: Variant, query: str, terms: list[str]) -> np.ndarray:
        """Coordination as in the index, optionally with words weighted by part of speech."""
        if not (v.pos and v.pos_coverage):
            return self.index._coverage(terms)
        return self.index._coverage(terms, self.pos_weight(v, query, "lem"))

    def features(self, v: Variant, query: str) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
        """Normalized score and per-field normalized scores of every entry, and the idf mass."""
        idx = self.index
        tokens = analyze_fields(query, True, self.matcher)
        n = len(idx.ids)
        per: dict[str, np.ndarray] = {}
        if not tokens["lem"] and not tokens["grp"]:
            return np.zeros(n, np.float32), per, 0.0
        weights = idx._weights(query)
        total = np.zeros(n, dtype=np.float32)
        mass = 0.0
        for name, fld in idx.fields.items():
            terms = tokens[name.partition(".")[2]]
            if not terms:
                per[name] = np.zeros(n, np.float32)
                continue
            tw = self._term_weights(v, query, name, terms)
            ids = fld.term_ids(list(tw))
            qw = np.array([tw[t] for t in dict.fromkeys(terms) if t in fld.vocab], dtype=np.float32)
            s = fld.best_per_entry(fld.weighted_row_scores(ids, qw))
            per[name] = s
            total += weights[name] * s
            mass += weights[name] * sum(
                tw[t] * (fld.idf[fld.vocab[t]] if t in fld.vocab else fld.unknown_idf) for t in tw
            )
        if v.first:
            for kind, fld in self.first.items():
                terms = tokens[kind]
                if terms:
                    s = fld.entry_scores(terms)
                    per[f"f.{kind}"] = s
                    total += v.first * s
                    mass += v.first * fld.query_mass(terms)
        cover = self.coverage(v, query, tokens["lem"])
        per["coverage"] = cover
        total *= cover**idx.config.coord
        if mass <= 0:
            return total * 0, per, 0.0
        scores = total / mass
        cosine = idx.latent.scores(idx._latent_terms(tokens))
        per["latent"] = cosine
        scores = scores + idx.config.latent * cosine * (scores > 0)
        return scores, per, mass

    def rank(self, v: Variant, query: str, k: int = 10) -> list[str]:
        scores, per, mass = self.features(v, query)
        if v.rerank and mass > 0:
            scores = self._reranked(v, scores, per, mass)
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        return [self.index.ids[i] for i in order if scores[i] > 0]

    # -- self-supervised reranker ----------------------------------------------------------------------

    _features_only = False
    _FEATS = ("q.lem", "q.syn", "q.grp", "q.kana", "a.lem", "a.syn", "a.grp", "coverage", "latent")

    def _matrix(self, scores, per, mass, top) -> np.ndarray:
        cols = [scores[top]]
        for name in self._FEATS:
            arr = per.get(name)
            col = np.zeros(len(top), np.float32) if arr is None else arr[top]
            cols.append(col / mass if name not in ("coverage", "latent") else col)
        rank = np.arange(len(top), dtype=np.float32)
        cols.append(1.0 / (1.0 + rank))
        cols.append(self.qlen[top])
        x = np.stack(cols, axis=1)
        if self._features_only:
            x[:, 0] = 0.0
            x[:, -2] = 0.0
        return x

    def _reranked(self, v: Variant, scores, per, mass) -> np.ndarray:
        self._features_only = v.rerank_source == "features"
        w = self.train(v.rerank_source)
        top = np.argsort(-scores, kind="stable")[:30]
        top = top[scores[top] > 0]
        if not len(top):
            return scores
        x = self._matrix(scores, per, mass, top)
        out = scores.copy()
        out[top] = scores[top] + v.rerank * (x @ w)
        return out

    def train(self, source: str) -> np.ndarray:
        """Pairwise logistic regression on pseudo-queries from the FAQ itself (deterministic)."""
        key = f"{source}:{self._features_only}"
        if key in self.model:
            return self.model[key]
        rng = np.random.default_rng(0)
        base = Variant()
        xs = []
        for i, e in enumerate(self.entries):
            queries = []
            if source in ("drop", "both", "features"):
                words = [w for w, _, _ in word_classes(e.question)]
                if len(words) >= 2:
                    keep = [w for w in words if rng.random() > 0.4] or words[:1]
                    queries.append("".join(keep))
            if source in ("first", "both", "features"):
                s = first_sentence(e.answer)
                if s:
                    queries.append(s)
            for q in queries:
                scores, per, mass = self.features(base, q)
                if mass <= 0:
                    continue
                top = np.argsort(-scores, kind="stable")[:30]
                top = top[scores[top] > 0]
                if i not in top or len(top) < 2:
                    continue
                x = self._matrix(scores, per, mass, top)
                pos = int(np.flatnonzero(top == i)[0])
                for j in range(len(top)):
                    if j != pos:
                        xs.append(x[pos] - x[j])
        x = np.array(xs, dtype=np.float64)
        w = np.zeros(x.shape[1])
        for _ in range(300):  # plain gradient descent on the logistic loss, L2 0.01
            p = 1.0 / (1.0 + np.exp(-(x @ w)))
            grad = -(x.T @ (1.0 - p)) / len(x) + 0.01 * w
            w -= 1.0 * grad
        self.model[key] = w
        print(f"reranker ({source}): {len(x)} pairs, weights {np.round(w, 3).tolist()}", file=sys.stderr)
        return w


NOUN = {"proper": 1.0, "compound": 1.0, "noun": 1.0, "verb": 0.5, "adj": 0.5, "adv": 0.3, "other": 0.5}
VARIANTS: list[tuple[str, Variant]] = [
    ("round-3 default (re-scored, no word vectors)", Variant()),
    ("pos: noun 1, verb/adj 0.5, adv 0.3", Variant(pos=NOUN)),
    ("pos: noun 1, verb/adj 0.7, adv 0.5", Variant(pos={**NOUN, "verb": 0.7, "adj": 0.7, "adv": 0.5})),
    ("pos: noun 1, verb/adj 0.3, adv 0.2", Variant(pos={**NOUN, "verb": 0.3, "adj": 0.3, "adv": 0.2})),
    ("pos: proper/compound 1.5, noun 1, verb/adj 0.5", Variant(pos={**NOUN, "proper": 1.5, "compound": 1.5})),
    ("pos 1/0.5/0.3, + synonym ids", Variant(pos=NOUN, pos_syn=True)),
    ("pos 1/0.5/0.3, + weighted coordination", Variant(pos=NOUN, pos_coverage=True)),
    (
        "pos 1/0.5/0.3, + synonym ids + weighted coordination",
        Variant(pos=NOUN, pos_syn=True, pos_coverage=True),
    ),
    (
        "pos 1/0.3/0.2, + synonym ids + weighted coordination",
        Variant(pos={**NOUN, "verb": 0.3, "adj": 0.3, "adv": 0.2}, pos_syn=True, pos_coverage=True),
    ),
    ("qidf: question-field idf", Variant(qidf="q")),
    ("qidf: question+answer idf", Variant(qidf="qa")),
    ("first sentence field 0.3", Variant(first=0.3)),
    ("first sentence field 0.6", Variant(first=0.6)),
    ("first sentence field 1.0", Variant(first=1.0)),
    ("rerank (drop+first) 0.05", Variant(rerank=0.05)),
    ("rerank (drop+first) 0.1", Variant(rerank=0.1)),
    ("rerank (drop+first) 0.2", Variant(rerank=0.2)),
    ("rerank (drop+first) 0.5", Variant(rerank=0.5)),
    ("rerank (drop+first) 1.0", Variant(rerank=1.0)),
    ("rerank (drop+first) 3.0", Variant(rerank=3.0)),
    ("rerank (features only, no base score) 0.1", Variant(rerank=0.1, rerank_source="features")),
    ("rerank (features only, no base score) 0.3", Variant(rerank=0.3, rerank_source="features")),
    ("rerank (features only, no base score) 1.0", Variant(rerank=1.0, rerank_source="features")),
    ("rerank (drop) 0.1", Variant(rerank=0.1, rerank_source="drop")),
    ("rerank (first) 0.1", Variant(rerank=0.1, rerank_source="first")),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faq_round3", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=localgov.DEFAULT_DIR)
    parser.add_argument("--split", choices=("tune", "check", "all"), default="tune")
    parser.add_argument("--only", default="", help="run only the rows whose name contains this")
    args = parser.parse_args(argv)
    ds = localgov.load(args.dataset)
    ranking.analyze_fields = functools.lru_cache(maxsize=None)(analyze_fields)
    exp = Experiment(ds.entries)
    splits = ("tune", "check", "all") if args.split == "all" else (args.split,)
    qsets = {s: [q for q in ds.queries if s == "all" or localgov.half(q) == s] for s in splits}
    header = " ".join(f"{s + ' h@1':>10} {'mrr':>6} {'ndcg':>6}" for s in splits)
    print(f"{'variant':48} {header}")
    for name, v in VARIANTS:
        if args.only not in name:
            continue
        cells = []
        for qids in qsets.values():
            runs = {q: exp.rank(v, ds.queries[q]) for q in qids}
            m = evaluate(runs, ds.qrels, qids)
            cells.append(f"{m['hit@1']:>10.3f} {m['mrr']:>6.3f} {m['ndcg@10']:>6.3f}")
        print(f"{name:48} {' '.join(cells)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
