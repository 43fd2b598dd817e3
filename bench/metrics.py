"""Ranking metrics with graded relevance (grade 2 = answers the question, 1 = related)."""

from __future__ import annotations

import math


def hit_at(ranked: list[str], rel: dict[str, int], k: int) -> float:
    """1.0 when a grade-2 entry is among the first k."""
    return 1.0 if any(rel.get(d, 0) >= 2 for d in ranked[:k]) else 0.0


def reciprocal_rank(ranked: list[str], rel: dict[str, int]) -> float:
    """1 / rank of the first grade-2 entry (0 when absent from the ranking)."""
    for i, d in enumerate(ranked, 1):
        if rel.get(d, 0) >= 2:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: list[str], rel: dict[str, int], k: int = 10) -> float:
    """nDCG@k with gain 2^grade - 1 and log2 discount."""
    dcg = sum((2 ** rel.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def evaluate(runs: dict[str, list[str]], qrels: dict[str, dict[str, int]], query_ids: list[str]) -> dict:
    """Hit@1/3/10 and MRR over questions with a grade-2 entry, nDCG@10 over all given questions."""
    answerable = [q for q in query_ids if any(g >= 2 for g in qrels.get(q, {}).values())]
    out = {"queries": len(query_ids), "answerable": len(answerable)}
    for k in (1, 3, 10):
        out[f"hit@{k}"] = _mean([hit_at(runs.get(q, []), qrels[q], k) for q in answerable])
    out["mrr"] = _mean([reciprocal_rank(runs.get(q, []), qrels[q]) for q in answerable])
    out["ndcg@10"] = _mean([ndcg_at(runs.get(q, []), qrels.get(q, {}), 10) for q in query_ids])
    return out


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0
