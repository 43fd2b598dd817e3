"""The handful of ranking settings compared on the "tune" half of localgovFAQ (see ``bench/README.md``).

Run ``python -m bench.faq_tune [--dataset DIR] [--split tune|check|all]``. Analysis results are cached in
memory so that each setting costs only the index build. Settings are chosen on ``tune`` only.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from bench import localgov
from bench.metrics import evaluate
from bot.knowledge.faq import ranking
from bot.knowledge.faq.rank_synonyms import SynonymMatcher
from bot.knowledge.faq.rank_text import analyze_fields
from bot.knowledge.faq.ranking import FaqIndex, RankConfig

LEX = {"q.lem": 1.0, "a.lem": 1.0}
SYN = {**LEX, "q.syn": 0.3, "a.syn": 0.3}
KANA = {**SYN, "q.kana": 0.2}
GRP3 = {**KANA, "q.grp": 0.3, "a.grp": 0.3}
GRP = {**KANA, "q.grp": 1.0, "a.grp": 1.0}


def _lexical(**settings) -> RankConfig:
    """A configuration without the meaning fields (the rows measured before they existed)."""
    return RankConfig(**{"latent": 0.0, "vectors": 0.0, "dense": 0.0, **settings})


def _latent(**settings) -> RankConfig:
    """Lexical + latent field, without word vectors (the second round's rows)."""
    return RankConfig(**{"weights": GRP, "vectors": 0.0, "dense": 0.0, **settings})


def _vectors(weight: float) -> RankConfig:
    """The second round's default + the word-vector field (fourth round)."""
    return RankConfig(weights=GRP, vectors=weight, dense=0.0)


def _dense(weight: float, z0: float, kind: str = "query", share: float = 0.5) -> RankConfig:
    """The fourth round's default + the e5 sentence-embedding field (fifth round)."""
    return RankConfig(
        weights=GRP, dense=weight, dense_z=z0, dense_question_kind=kind, dense_answer_share=share
    )


#: (name, config, use the city word groups)
SETTINGS: list[tuple[str, RankConfig, bool]] = [
    ("q.lem only", _lexical(weights={"q.lem": 1.0}, coord=0), False),
    ("a.lem only", _lexical(weights={"a.lem": 1.0}, coord=0), False),
    ("q.lem + a.lem", _lexical(weights=LEX, coord=0), False),
    ("q.lem + a.lem, no stopwords", _lexical(weights=LEX, stop=False, coord=0), False),
    ("+ Sudachi synonym groups 0.3", _lexical(weights=SYN, coord=0), False),
    ("+ compounds (mode C) 0.3", _lexical(weights={**SYN, "q.cmp": 0.3, "a.cmp": 0.3}, coord=0), False),
    ("+ char bigrams q 0.2", _lexical(weights={**SYN, "q.chr": 0.2}, coord=0), False),
    ("+ kana trigrams q 0.2", _lexical(weights=KANA, coord=0), False),
    (
        "kana + pseudo-relevance feedback",
        _lexical(weights=KANA, coord=0, prf_docs=5, prf_terms=20, prf_weight=0.5),
        False,
    ),
    ("kana + city word groups 0.3", _lexical(weights=GRP3, coord=0), True),
    ("kana + city word groups 1.0", _lexical(weights=GRP, coord=0), True),
    ("groups 1.0 + no stopwords", _lexical(weights=GRP, coord=0, stop=False), True),
    ("groups 1.0 + coordination 0.5", _lexical(weights=GRP, coord=0.5), True),
    ("groups 1.0 + coordination 1.0", _lexical(weights=GRP, coord=1.0), True),
    ("default lexical + latent 200 dims 0.15", _latent(latent=0.15, latent_dims=200), True),
    ("default lexical + latent 300 dims 0.15", _latent(latent_dims=300), True),
    ("default lexical + latent 600 dims 0.15 (2nd round default)", _latent(), True),
    ("default lexical + latent 300 dims 0.1", _latent(latent=0.1, latent_dims=300), True),
    ("default lexical + latent 300 dims 0.2", _latent(latent=0.2, latent_dims=300), True),
    ("default lexical + latent 300 dims 0.3", _latent(latent=0.3, latent_dims=300), True),
    ("default lexical + latent 600 dims 0.2", _latent(latent=0.2, latent_dims=600), True),
    ("latent default + word vectors 0.1", _vectors(0.1), True),
    ("latent default + word vectors 0.2", _vectors(0.2), True),
    ("latent default + word vectors 0.3 (default)", _vectors(0.3), True),
    ("latent default + word vectors 0.4", _vectors(0.4), True),
    ("latent default + word vectors 0.5", _vectors(0.5), True),
    # fifth round: + e5 (see bench/README.md for the grid these were taken from)
    ("vectors default + e5 questions only, 0.5, z 2.5", _dense(0.5, 2.5, share=0.0), True),
    ("vectors default + e5 questions and answers, 0.5, z 1.5", _dense(0.5, 1.5), True),
    ("vectors default + e5 questions and answers, 1.0, z 1.5", _dense(1.0, 1.5), True),
    ("vectors default + e5 questions and answers, 0.5, z 2.5 (default)", _dense(0.5, 2.5), True),
    ("vectors default + e5 questions and answers, 1.0, z 2.5", _dense(1.0, 2.5), True),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faq_tune", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=localgov.DEFAULT_DIR)
    parser.add_argument("--split", choices=("tune", "check", "all"), default="tune")
    parser.add_argument("--only", default="", help="run only the settings whose name contains this")
    args = parser.parse_args(argv)
    ds = localgov.load(args.dataset)
    qids = [q for q in ds.queries if args.split == "all" or localgov.half(q) == args.split]
    # Cache the Sudachi analysis across settings (one matcher per word list, so the cache key is stable).
    matchers: dict[str, SynonymMatcher] = {}
    ranking.SynonymMatcher = lambda groups: matchers.setdefault(repr(groups), SynonymMatcher(groups))
    ranking.analyze_fields = functools.lru_cache(maxsize=None)(analyze_fields)
    print(f"{'setting':50} {'hit@1':>6} {'hit@3':>6} {'hit@10':>6} {'mrr':>6} {'ndcg@10':>7}  ({args.split})")
    for name, config, groups in SETTINGS:
        if args.only not in name:
            continue
        index = FaqIndex.build(ds.entries, config, synonyms=None if groups else [])
        runs = {q: [d for d, _ in index.search(ds.queries[q], 10)] for q in qids}
        m = evaluate(runs, ds.qrels, qids)
        print(
            f"{name:50} {m['hit@1']:>6.3f} {m['hit@3']:>6.3f} {m['hit@10']:>6.3f} {m['mrr']:>6.3f} "
            f"{m['ndcg@10']:>7.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
