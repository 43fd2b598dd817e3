"""The measurement behind the confidence thresholds of ``bot.knowledge.faq.ranking`` (tune half only).

``python -m bench.faq_thresholds [--dataset DIR] [--split tune|check|all]`` builds the default index over
localgovFAQ once, ranks the questions of the split, and prints for a grid of rules how many questions each
rule selects and how often the top 1 (for "confident") or the top 3 (below / above a "none" threshold) hold
a grade-2 entry. The thresholds are chosen on ``tune``; the other splits are printed only to record them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import localgov
from bot.knowledge.faq.ranking import FaqIndex

CONFIDENT_SCORES = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)
CONFIDENT_MARGINS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
NONE_SCORES = (0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


def rank(index: FaqIndex, ds: localgov.Dataset, qids: list[str]) -> dict[str, list[tuple[str, float]]]:
    """Top 10 (id, score) of every question of the split."""
    return {q: index.search(ds.queries[q], 10) for q in qids}


def _lead(res: list[tuple[str, float]]) -> float:
    """How far the top score leads the second, as a share of the top score."""
    second = res[1][1] if len(res) > 1 else 0.0
    return (res[0][1] - second) / res[0][1]


def confident_rows(results: dict, qrels: dict) -> list[tuple[float, float, int, float]]:
    """(score, margin, questions selected, share whose top 1 is grade 2) for every rule of the grid."""
    rows = []
    for score in CONFIDENT_SCORES:
        for margin in CONFIDENT_MARGINS:
            chosen = [q for q, res in results.items() if res and res[0][1] >= score and _lead(res) >= margin]
            right = sum(qrels.get(q, {}).get(results[q][0][0], 0) >= 2 for q in chosen)
            rows.append((score, margin, len(chosen), right / len(chosen) if chosen else 0.0))
    return rows


def none_rows(results: dict, qrels: dict) -> list[tuple[float, int, float, float]]:
    """(score, questions below, share of those with a grade-2 entry in the top 3, same above)."""

    def top3(q: str) -> bool:
        return any(qrels.get(q, {}).get(d, 0) >= 2 for d, _ in results[q][:3])

    rows = []
    for score in NONE_SCORES:
        below = [q for q, r in results.items() if not r or r[0][1] < score]
        above = [q for q in results if q not in below]
        rows.append(
            (
                score,
                len(below),
                sum(map(top3, below)) / len(below) if below else 0.0,
                sum(map(top3, above)) / len(above) if above else 0.0,
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faq_thresholds", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--dataset", type=Path, default=localgov.DEFAULT_DIR)
    parser.add_argument("--split", choices=("tune", "check", "all"), default="tune")
    args = parser.parse_args(argv)
    ds = localgov.load(args.dataset)
    qids = [q for q in ds.queries if args.split == "all" or localgov.half(q) == args.split]
    results = rank(FaqIndex.build(ds.entries), ds, qids)
    print(f"confident: score >= S and lead >= M x score ({args.split}, {len(qids)} questions)")
    for score, margin, n, precision in confident_rows(results, ds.qrels):
        print(f"  S {score:.2f}  M {margin:.2f}: {n:>3} questions, top-1 right {precision:.2f}")
    print("none: top score < T")
    for score, n, below, above in none_rows(results, ds.qrels):
        print(f"  T {score:.2f}: {n:>3} questions, top-3 right below {below:.2f} / above {above:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
