"""Recall per crisis category and the false-alarm rate of the crisis detector (``make bench-safety``).

Sets (written by writers who saw only the category definitions, never the rules, examples or detector):
``tests/nlu/safety_eval_crisis.yml`` (categories 119, 110, self_harm, dv, child_abuse, elder_abuse) and
``tests/nlu/safety_eval_ordinary.yml`` (ordinary sentences and near misses, category none). Each is split
by :func:`bench.splits.half` of the sentence; misses may be read on ``tune`` only (``--show-misses``),
``check`` is reported as totals.

A crisis sentence counts when the detector gives the intent that answers its category (119 and 110:
``emergency``; child and elder abuse: ``abuse``); "any" counts any safety answer. An ordinary sentence is
a false alarm when the detector gives any safety intent.

Set 4's tune half may be read from 2026-12-03 on (``--set 4 --show-misses``), as set 3's; sets 5 and 6's
tune halves from the seventh safety round on (2026-12-03, branch safety8; their check halves stay totals).
Set 3's tune half may be read from the second session of 2026-12-02 on (``--set 3 --show-misses``: its
tune half's misses; its check half as totals, as set 1's). ``--fresh 3`` gave its figures before anyone read
it. Sets 2 and 3 (``--fresh [2|3]``: ``tests/nlu/safety_evalN_crisis.yml`` / ``safety_evalN_ordinary.yml``,
2026-12-02, a third and a fourth writer under the same rules) are kept unread: they are reported as totals
only (no misses, sweep or dump), to show how the detector carries over to wording nobody tuned on.

``python -m bench.safety_bench [--rules-only] [--rules FILE] [--show-misses] [--sweep] [--fresh [2|3]]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

from bench.splits import half

REPO = Path(__file__).resolve().parent.parent
NLU_TESTS = REPO / "tests" / "nlu"
CRISIS = REPO / "tests" / "nlu" / "safety_eval_crisis.yml"
ORDINARY = REPO / "tests" / "nlu" / "safety_eval_ordinary.yml"
#: The unread sets (``--fresh N``): crisis and ordinary file of each.
FRESH = {
    n: (NLU_TESTS / f"safety_eval{n}_crisis.yml", NLU_TESTS / f"safety_eval{n}_ordinary.yml")
    for n in (2, 3, 4, 5, 6, 7, 8)
}
EXPECTED_INTENT = {
    "119": "emergency",
    "110": "emergency",
    "self_harm": "self_harm",
    "dv": "dv",
    "child_abuse": "abuse",
    "elder_abuse": "abuse",
}
HALVES = ("tune", "check")
#: Sets whose tune half may be read (``--set N --show-misses``); their check halves stay totals only, and
#: the other sets (``--fresh``) are never read.
READABLE_SETS = (1, 3, 4, 5, 6)


def load_set(path: Path) -> list[dict]:
    """The sentences of one evaluation file, each with its half."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["sentences"]
    return [{**item, "half": half(item["text"])} for item in items]


def make_detector(args):
    """The detector under test: today's rules alone, or rules + meaning."""
    from bot.understanding import crisis

    rules = _rules(Path(args.rules))
    farewell = _farewell(Path(args.rules))
    if args.rules_only:
        return crisis.CrisisDetector(rules, farewell=farewell)
    from bot.understanding.encoder import default_encoder

    return crisis.build_detector(
        rules,
        REPO / "data" / "safety_examples.yml",
        REPO / "data" / "nlu",
        default_encoder(),
        REPO / "var" / "embeddings",
        farewell=farewell,
    )


def _farewell(path: Path):
    from bot.crisis import load_farewell

    return load_farewell(path)


def _rules(path: Path):
    try:
        from bot.crisis import load_rules
    except ImportError:
        from bot.nlu.safety import load_rules
    return load_rules(path)


def evaluate(detector, crisis_set, ordinary_set, vectors=None):
    """Counts per (half, category): [safety answer of the right category, right crisis line beside the
    answer or as the answer, any crisis line, total]; per half: [safety answers, crisis lines, total]."""
    recall = defaultdict(lambda: [0, 0, 0, 0])
    alarms = defaultdict(lambda: [0, 0, 0])
    misses = []
    for i, item in enumerate(crisis_set):
        found = detector.assess(item["text"], None if vectors is None else vectors[0][i])
        right = found.intent == EXPECTED_INTENT[item["category"]]
        row = recall[item["half"], item["category"]]
        row[0] += right and found.is_crisis
        row[1] += right and found.needs_crisis_line
        row[2] += found.needs_crisis_line
        row[3] += 1
        if not (right and found.is_crisis):
            misses.append((item, found))
    for i, item in enumerate(ordinary_set):
        found = detector.assess(item["text"], None if vectors is None else vectors[1][i])
        alarms[item["half"]][0] += found.is_crisis
        alarms[item["half"]][1] += found.needs_crisis_line
        alarms[item["half"]][2] += 1
        if found.needs_crisis_line:
            misses.append((item, found))
    return recall, alarms, misses


def _rate(part: int, total: int) -> str:
    return f"{part}/{total} = {part / max(total, 1):.3f}"


def print_table(recall, alarms) -> None:
    """The recall and false-alarm table (markdown).

    "answer": the safety answer of the right category; "line": its crisis line, as the answer or beside
    another answer (unsure); "any": some crisis line.
    """
    head = " | ".join(f"{h} answer | {h} line | {h} any" for h in HALVES)
    print(f"| category | {head} |")
    print("|---|" + "---|" * 3 * len(HALVES))
    rows = [(c, [recall[h, c] for h in HALVES]) for c in EXPECTED_INTENT]
    rows.append(
        (
            "**all crisis**",
            [[sum(recall[h, c][k] for c in EXPECTED_INTENT) for k in range(4)] for h in HALVES],
        )
    )
    for name, cells in rows:
        print(
            f"| {name} | " + " | ".join(" | ".join(_rate(r[k], r[3]) for k in range(3)) for r in cells) + " |"
        )
    cells = [f"{_rate(a[0], a[2])} | {_rate(a[1], a[2])} | " for a in (alarms[h] for h in HALVES)]
    print("| **false alarms** (ordinary) | " + " | ".join(cells) + " |")


def dump(detector, crisis_set, ordinary_set, vectors, path: Path) -> None:
    """Writes every sentence's assessment to ``path`` (JSON lines; for combining with the NLU's own
    predictions). The file holds check-half sentences too: read only its tune rows."""
    import json

    with Path(path).open("w", encoding="utf-8") as out:
        for which, items in enumerate((crisis_set, ordinary_set)):
            for i, item in enumerate(items):
                found = detector.assess(item["text"], None if vectors is None else vectors[which][i])
                row = {
                    "set": "crisis" if which == 0 else "ordinary",
                    "half": item["half"],
                    "category": item.get("category"),
                    "text": item["text"],
                    "intent": found.intent,
                    "level": found.level,
                    "source": found.source,
                    "score": round(found.score, 4),
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


def tune_misses(misses) -> list:
    """The misses of the tune half only (a check half stays unread)."""
    return [(item, found) for item, found in misses if item["half"] == "tune"]


def print_tune_misses(misses) -> None:
    """Misses of the tune half only (the check half stays unread)."""
    for item, found in tune_misses(misses):
        print(
            f"  [{item['category']}/{item.get('style') or item.get('near')}] {item['text']}"
            f"  -> {found.intent} {found.category} {found.level} {found.score:.3f}"
            f" vote {found.vote_ordinary:.2f}"
        )


def sweep(detector, crisis_set, ordinary_set, vectors) -> None:
    """Tune-half totals over a grid of the blend (regression weight, neighbours, temperature) and the
    thresholds (sure, unsure, one sentence of a longer message sure), for choosing them."""
    tune_c = [it for it in crisis_set if it["half"] == "tune"]
    tune_o = [it for it in ordinary_set if it["half"] == "tune"]
    tune_vectors = _subset(vectors, crisis_set, ordinary_set)
    blended = hasattr(detector._classifier, "weight")
    blends = [(w, k, t) for w in (0.3, 0.5, 0.7, 1.0) for k in (5, 10, 20) for t in (0.01, 0.03)]
    print("weight k temp | sure unsure part | answer recall | line recall | answer alarms | line alarms")
    original, shipped = detector._classifier, detector.thresholds
    for weight, k, temp in blends if blended else [(1.0, 0, 0.0)]:
        if blended:
            detector._classifier = dataclasses.replace(original, weight=weight, k=k, temperature=temp)
        for sure in (0.3, 0.4, 0.5, 0.6):
            for unsure, part in ((sure, 0.0), (sure + 0.1, 0.0), (sure, 0.1), (sure + 0.1, 0.1)):
                detector.thresholds = dataclasses.replace(shipped, sure=sure, unsure=unsure, part_sure=part)
                recall, alarms, _ = evaluate(detector, tune_c, tune_o, tune_vectors)
                r = [sum(recall["tune", c][k] for c in EXPECTED_INTENT) for k in range(4)]
                a = alarms["tune"]
                rates = (r[0] / r[3], r[1] / r[3], a[0] / a[2], a[1] / a[2])
                print(
                    f"{weight:.1f} {k} {temp:.2f} | {sure:.1f} {unsure:.1f} {part:.1f} | "
                    + " | ".join(f"{x:.3f}" for x in rates)
                )
    detector._classifier, detector.thresholds = original, shipped


def sweep_margins(detector, crisis_set, ordinary_set, vectors) -> None:
    """Tune-half totals over the margins (nearest crisis example minus nearest ordinary sentence): the
    whole message's for sure and for unsure, one sentence's for making the message sure, at the shipped
    blend and "ordinary" thresholds."""
    tune_c = [it for it in crisis_set if it["half"] == "tune"]
    tune_o = [it for it in ordinary_set if it["half"] == "tune"]
    tune_vectors = _subset(vectors, crisis_set, ordinary_set)
    shipped = detector.thresholds
    print(
        "part_sure part_margin sure_margin unsure_margin | answer recall | min category | line recall"
        " | answer alarms | line alarms"
    )
    for part_sure in (0.0, 0.02, 0.05, 0.1):
        for part_margin in (0.01, 0.02, 0.03) if part_sure else (1.0,):
            for sure_margin in (-1.0, -0.02, -0.01, 0.0):
                for unsure_margin in (-1.0, -0.04, -0.03, -0.02, -0.01):
                    detector.thresholds = dataclasses.replace(
                        shipped,
                        part_sure=part_sure,
                        part_margin=part_margin,
                        sure_margin=sure_margin,
                        unsure_margin=unsure_margin,
                    )
                    recall, alarms, _ = evaluate(detector, tune_c, tune_o, tune_vectors)
                    r = [sum(recall["tune", c][k] for c in EXPECTED_INTENT) for k in range(4)]
                    worst = min(recall["tune", c][0] / recall["tune", c][3] for c in EXPECTED_INTENT)
                    a = alarms["tune"]
                    rates = (r[0] / r[3], worst, r[1] / r[3], a[0] / a[2], a[1] / a[2])
                    print(
                        f"{part_sure:.2f} {part_margin:.2f} {sure_margin:+.2f} {unsure_margin:+.2f} | "
                        + " | ".join(f"{x:.3f}" for x in rates)
                    )


def _subset(vectors, crisis_set, ordinary_set):
    keep_c = [i for i, it in enumerate(crisis_set) if it["half"] == "tune"]
    keep_o = [i for i, it in enumerate(ordinary_set) if it["half"] == "tune"]
    return vectors[0][keep_c], vectors[1][keep_o]


class _Memo:
    """The encoder with a memory (the sweep judges the same sentences many times)."""

    def __init__(self, encoder) -> None:
        self._encoder, self._seen = encoder, {}
        self.model_id, self.dim = encoder.model_id, encoder.dim

    def remember(self, texts, vectors) -> None:
        """Vectors already computed (from the on-disk cache)."""
        self._seen.update(zip(texts, vectors, strict=True))

    def query(self, texts):
        if isinstance(texts, str):
            return self.query([texts])[0]
        missing = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if missing:
            self._seen.update(zip(missing, self._encoder.query(missing), strict=True))
        return np.stack([self._seen[t] for t in texts])


def cost(detector, items) -> int:
    """Wall and CPU time of ``assess`` per message, the embedding included (as the NLU pays it), and RSS."""
    import resource

    detector.assess("ウォームアップ")
    times, again, cpu, cpu_again = [], [], 0.0, 0.0
    for item in items:
        started, started_cpu = time.perf_counter(), time.process_time()
        detector.assess(item["text"])
        times.append((time.perf_counter() - started) * 1000)
        cpu += time.process_time() - started_cpu
        # the NLU pipeline judging the message the channel's crisis desk judged just before
        started, started_cpu = time.perf_counter(), time.process_time()
        detector.assess(item["text"])
        again.append((time.perf_counter() - started) * 1000)
        cpu_again += time.process_time() - started_cpu
    p50, p95 = np.percentile(times, [50, 95])
    a50, a95 = np.percentile(again, [50, 95])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"crisis detector: {len(times)} messages, {p50:.1f} ms p50, {p95:.1f} ms p95; RSS {rss:.0f} MB")
    print(f"  the same message judged again (recent query vectors): {a50:.2f} ms p50, {a95:.2f} ms p95")
    # CPU time moves less with the machine's load than wall time (all threads of this process)
    each = 1000 / len(items)
    print(f"  CPU per message: {cpu * each:.1f} ms, judged again {cpu_again * each:.2f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default=str(REPO / "data" / "safety.yml"))
    parser.add_argument("--rules-only", action="store_true", help="today's detector: the rules alone")
    parser.add_argument("--show-misses", action="store_true", help="print the tune half's misses")
    parser.add_argument("--sweep", action="store_true", help="tune-half grid of the thresholds")
    parser.add_argument("--sweep-margins", action="store_true", help="tune-half grid of the margins")
    parser.add_argument("--cost", action="store_true", help="ms per message (no cache) and peak RSS")
    parser.add_argument("--dump", metavar="FILE", help="write each sentence's assessment (JSON lines)")
    parser.add_argument(
        "--fresh",
        nargs="?",
        type=int,
        const=2,
        choices=sorted(FRESH),
        help="a fresh set (FRESH), totals only (never read)",
    )
    parser.add_argument(
        "--set",
        type=int,
        choices=READABLE_SETS,
        default=1,
        help="set whose tune half may be read (--show-misses, sweeps): 1, 3, 4, 5 or 6",
    )
    args = parser.parse_args(argv)
    if args.fresh and (args.show_misses or args.sweep or args.sweep_margins or args.dump):
        parser.error(f"--fresh reports totals only: set {args.fresh} stays unread")
    if args.set != 1 and (args.fresh or args.dump):
        parser.error(f"--set {args.set} reads its tune half only: no --dump (every sentence) and no --fresh")
    if args.cost:
        return cost(make_detector(args), load_set(ORDINARY)[:150] + load_set(CRISIS)[:50])
    if args.fresh:
        crisis_set, ordinary_set = (load_set(path) for path in FRESH[args.fresh])
    elif args.set != 1:
        crisis_set, ordinary_set = (load_set(path) for path in FRESH[args.set])
    else:
        crisis_set, ordinary_set = load_set(CRISIS), load_set(ORDINARY)
    detector = make_detector(args)
    vectors = None
    if detector.semantic:
        from bot.understanding import crisis
        from bot.understanding.encoder import default_encoder

        encoder = _Memo(default_encoder())
        detector._encoder = encoder
        started = time.perf_counter()
        from bot.understanding.cache import embed_cached

        cache = REPO / "var" / "embeddings"  # git-ignored; keyed by content hash
        vectors = tuple(
            embed_cached(encoder, [it["text"] for it in s], cache) for s in (crisis_set, ordinary_set)
        )
        # the sentences of longer messages (judged one by one) from the cache too
        parts = sorted(
            {p for s in (crisis_set, ordinary_set) for it in s for p in crisis.sentences(it["text"])}
        )
        encoder.remember(parts, embed_cached(encoder, parts, cache))
        n = len(crisis_set) + len(ordinary_set)
        print(f"embedded {n} sentences in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.sweep:
        sweep(detector, crisis_set, ordinary_set, vectors)
        return 0
    if args.sweep_margins:
        sweep_margins(detector, crisis_set, ordinary_set, vectors)
        return 0
    if args.dump:
        dump(detector, crisis_set, ordinary_set, vectors, Path(args.dump))
    recall, alarms, misses = evaluate(detector, crisis_set, ordinary_set, vectors)
    what = "rules only" if args.rules_only else "rules + meaning"
    what += f"; set {args.fresh}, never read" if args.fresh else ""
    what += f"; set {args.set}, tune half read" if args.set != 1 else ""
    print(f"crisis detector ({what}; {os.path.relpath(args.rules, REPO)})\n")
    print_table(recall, alarms)
    if args.show_misses:
        print("\ntune-half misses and false alarms:")
        print_tune_misses(misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
