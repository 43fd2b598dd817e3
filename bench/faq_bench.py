"""FAQ ranking benchmark on localgovFAQ: quality beside a BM25 baseline, speed, import time.

Run ``python -m bench.faq_bench [--dataset DIR] [--out FILE]`` (``make bench-faq``). It

1. converts the corpus to a staff CSV in a temporary directory and imports it with the real CLI
   (``madoguchi faq import FILE --kb TMPDIR``), timing the import: cold (an empty embedding cache, every
   text embedded by e5) and again warm (the cache filled, as for a staff re-import);
2. ranks every dev question through the index that import built (the new hybrid), through the same
   index without its e5 field (the previous hybrid) and through the reference BM25 baseline, reporting
   Hit@1/3/10 and MRR (questions with a grade-2 entry) and nDCG@10 (all) for the "tune" half, the
   "check" half and all questions;
3. measures search latency (p50/p95) on a 2,000-entry base and the confidence classes;
4. imports the shipped FAQ (``data/faq/sample_faq.csv``) the same way, and measures memory and search
   latency of a process that serves each base (``bench.faq_cost``, child process);
5. prints a table and writes ``bench/results/faq.json``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import localgov
from bench.baseline import BaselineBM25
from bench.metrics import evaluate
from bot.knowledge.faq import live_base
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.ranking import FaqIndex, confidence

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "bench" / "results" / "faq.json"
SHIPPED_FAQ = REPO / "data" / "faq" / "sample_faq.csv"
SPEED_BASE_SIZE = 2000


def write_staff_csv(entries: list[FaqEntry], path: Path) -> None:
    """Writes entries as the staff table (UTF-8 with BOM, English headers)."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "question", "answer"])
        for e in entries:
            writer.writerow([e.id, e.question, e.answer])


def cli_import(table: Path, kb_dir: Path, embeddings: Path) -> float:
    """Runs ``madoguchi faq import TABLE --kb KB_DIR`` in a child process; returns its wall time.

    ``embeddings`` is the child's e5 vector cache (``MADOGUCHI_EMBEDDINGS``).

    Raises:
        RuntimeError: the import failed (its stderr is included).
    """
    script = Path(sys.executable).with_name("madoguchi")
    if script.exists():
        cmd = [str(script)]
    else:
        cmd = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]
    cmd += ["faq", "import", str(table), "--kb", str(kb_dir)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "MADOGUCHI_EMBEDDINGS": str(embeddings)}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"faq import failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return elapsed


def rank_all(search, queries: dict[str, str], k: int = 10) -> dict[str, list[tuple[str, float]]]:
    """Runs a search function over every question."""
    return {qid: search(text, k) for qid, text in queries.items()}


def quality(results: dict[str, list[tuple[str, float]]], ds: localgov.Dataset) -> dict[str, dict]:
    """Metrics on the tune half, the check half and all questions."""
    runs = {q: [d for d, _ in r] for q, r in results.items()}
    ids = list(ds.queries)
    return {
        "tune": evaluate(runs, ds.qrels, [q for q in ids if localgov.half(q) == "tune"]),
        "check": evaluate(runs, ds.qrels, [q for q in ids if localgov.half(q) == "check"]),
        "all": evaluate(runs, ds.qrels, ids),
    }


def padded(entries: list[FaqEntry], size: int) -> list[FaqEntry]:
    """Entries duplicated under new ids until there are ``size`` of them."""
    out = list(entries)
    i = 0
    while len(out) < size:
        src = entries[i % len(entries)]
        out.append(FaqEntry(id=f"pad{len(out)}", question=src.question, answer=src.answer))
        i += 1
    return out[:size] if len(entries) < size else out


def speed(entries: list[FaqEntry], queries: dict[str, str], cache: Path, size: int = SPEED_BASE_SIZE) -> dict:
    """Build time (e5 vectors from ``cache``: a warm rebuild) and search latency on ``size`` entries."""
    base_entries = padded(entries, size)
    start = time.perf_counter()
    index = FaqIndex.build(base_entries, embedding_cache=cache)
    build_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        index.save(Path(tmp))
        start = time.perf_counter()
        index = FaqIndex.load(Path(tmp))
        load_s = time.perf_counter() - start
    texts = list(queries.values())
    for text in texts[:10]:  # warm-up: dictionary and caches
        index.search(text, 10)
    times = []
    for text in texts:
        start = time.perf_counter()
        index.search(text, 10)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "entries": len(base_entries),
        "build_s": round(build_s, 2),
        "load_ms": round(load_s * 1000, 1),
        "search_p50_ms": round(statistics.median(times), 2),
        "search_p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "search_max_ms": round(times[-1], 2),
    }


def confidence_report(results: dict[str, list[tuple[str, float]]], ds: localgov.Dataset) -> dict:
    """How the confidence classes split the questions and how often each class is right."""
    report: dict[str, dict] = {}
    for qid, res in results.items():
        rel = ds.qrels.get(qid, {})
        answerable = any(g >= 2 for g in rel.values())
        top1 = bool(res) and rel.get(res[0][0], 0) >= 2
        top3 = any(rel.get(d, 0) >= 2 for d, _ in res[:3])
        c = report.setdefault(confidence(res), {"n": 0, "answerable": 0, "top1_right": 0, "top3_right": 0})
        c["n"] += 1
        c["answerable"] += answerable
        c["top1_right"] += top1
        c["top3_right"] += top3
    for c in report.values():
        c["top1_precision"] = round(c["top1_right"] / c["n"], 3)
        c["top3_precision"] = round(c["top3_right"] / c["n"], 3)
    return report


def serving_cost(kb_dir: Path, embeddings: Path, queries: list[str]) -> dict:
    """``bench.faq_cost`` in a child process: RSS and search latency of a process serving ``kb_dir``."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as f:
        json.dump(queries, f, ensure_ascii=False)
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO), "MADOGUCHI_EMBEDDINGS": str(embeddings)}
        cmd = [sys.executable, "-m", "bench.faq_cost", "--kb", str(kb_dir), "--queries", f.name]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    finally:
        Path(f.name).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"faq_cost failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def without_dense(index: FaqIndex) -> FaqIndex:
    """The same index ranking without its e5 field (the previous hybrid)."""
    return FaqIndex(
        index.ids,
        index.fields,
        dataclasses.replace(index.config, dense=0.0),
        index._rows,
        index.synonyms,
        index.latent,
        index.vectors,
        index._wordvec,
    )


SYSTEMS = ("madoguchi", "previous", "bm25")


def print_table(result: dict) -> None:
    """Prints the quality table, then speed and import numbers."""
    cols = ("hit@1", "hit@3", "hit@10", "mrr", "ndcg@10")
    print(f"{'system':10} {'split':6} {'n':>4} " + " ".join(f"{c:>8}" for c in cols))
    for system in SYSTEMS:
        for split, m in result["quality"][system].items():
            print(f"{system:10} {split:6} {m['queries']:>4} " + " ".join(f"{m[c]:>8.3f}" for c in cols))
    print("(madoguchi: new hybrid with e5; previous: the same index without e5; bm25: reference baseline)")
    s = result["speed"]
    print(
        f"search on {s['entries']} entries: p50 {s['search_p50_ms']} ms, p95 {s['search_p95_ms']} ms, "
        f"max {s['search_max_ms']} ms; build {s['build_s']} s; load {s['load_ms']} ms"
    )
    for name, imp in result["import"].items():
        print(
            f"import of {imp['entries']} entries ({name}) through the CLI: {imp['first_s']} s, "
            f"again {imp['again_s']} s"
        )
    for name, c in result["serving"].items():
        print(
            f"serving {name} ({c['entries']} entries, e5 {c['dense']}): search p50 {c['search_p50_ms']} ms, "
            f"p95 {c['search_p95_ms']} ms, max {c['search_max_ms']} ms; first search {c['first_search_ms']} "
            f"ms; RSS loaded {c['rss_mb']['loaded']['VmRSS']} MB, with encoder "
            f"{c['rss_mb']['encoder']['VmRSS']} MB, peak {c['rss_mb']['end']['VmHWM']} MB"
        )
    print(f"peak RSS of the import child processes: {result['import_peak_rss_mb']} MB")
    for name, c in sorted(result["confidence"].items()):
        print(
            f"confidence {name:9}: {c['n']:>3} questions, top-1 right {c['top1_precision']:.2f}, "
            f"top-3 right {c['top3_precision']:.2f}"
        )


def import_twice(table: Path, kb_dir: Path, embeddings: Path, entries: int) -> dict:
    """Imports a table, then the same table again (the second run finds every e5 vector in the cache)."""
    first = cli_import(table, kb_dir, embeddings)
    again = cli_import(table, kb_dir, embeddings)
    return {"entries": entries, "first_s": round(first, 2), "again_s": round(again, 2)}


def run(dataset: Path, embeddings: Path) -> dict:
    """The whole benchmark; returns the result document.

    The localgovFAQ import uses the e5 cache ``embeddings`` (its first run embeds all 3,572 texts, a
    quarter of an hour on 2 busy cores; later runs read them); the shipped FAQ is imported with an empty
    cache of its own (cold), then again (warm).
    """
    ds = localgov.load(dataset)
    queries = list(ds.queries.values())
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "localgovfaq.csv"
        kb_dir = Path(tmp) / "kb"
        write_staff_csv(ds.entries, table)
        imports = {"localgovfaq": import_twice(table, kb_dir, embeddings, len(ds.entries))}
        snapshot = live_base.load_current(kb_dir)
        shipped_kb, shipped_cache = Path(tmp) / "shipped-kb", Path(tmp) / "shipped-embeddings"
        imports["shipped (empty cache first)"] = import_twice(SHIPPED_FAQ, shipped_kb, shipped_cache, 0)
        shipped = live_base.load_current(shipped_kb)
        imports["shipped (empty cache first)"]["entries"] = len(shipped)
        serving = {
            "shipped": serving_cost(shipped_kb, shipped_cache, queries),
            "localgovfaq": serving_cost(kb_dir, embeddings, queries),
        }
        index = snapshot.index
        if not isinstance(index, FaqIndex):
            raise RuntimeError(f"the CLI built a {type(index).__name__}, not a FaqIndex")
        ours = rank_all(index.search, ds.queries)
        previous = rank_all(without_dense(index).search, ds.queries)
        baseline = BaselineBM25(ds.entries)
        theirs = rank_all(baseline.search, ds.queries)
        speed_result = speed(ds.entries, ds.queries, embeddings)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "dataset": str(dataset),
        "config": dataclasses.asdict(index.config),
        "quality": {
            "madoguchi": quality(ours, ds),
            "previous": quality(previous, ds),
            "bm25": quality(theirs, ds),
        },
        "confidence": confidence_report(ours, ds),
        "speed": speed_result,
        "import": imports,
        "import_peak_rss_mb": round(peak_kb / 1024, 1),
        "serving": serving,
        "version": snapshot.version,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faq_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=localgov.DEFAULT_DIR, help="localgovFAQ directory")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="result JSON file")
    parser.add_argument(
        "--embeddings", type=Path, default=REPO / "var" / "embeddings", help="e5 vector cache of the corpus"
    )
    args = parser.parse_args(argv)
    if not (args.dataset / "corpus.json").is_file():
        print(f"error: no localgovFAQ dataset at {args.dataset}", file=sys.stderr)
        return 2
    result = run(args.dataset, args.embeddings)
    print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
