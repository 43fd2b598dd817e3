"""Cost of FAQ search in a process of its own: memory (RSS) and per-question latency with the e5 field.

``python -m bench.faq_cost --kb KB_DIR --queries FILE`` loads the published base the way the action
server does (``LiveFaq``), embeds nothing but the questions, and prints one JSON line: resident memory
before loading, after loading the base, after the encoder's first question and at the end (``VmRSS``,
``VmHWM`` from ``/proc/self/status``, MB), and p50 / p95 / max ms per search. ``bench.faq_bench`` runs it
in a child process so that its own memory (dataset, baseline) is not counted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def memory_mb() -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` (peak) of this process in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def percentile(sorted_ms: list[float], share: float) -> float:
    """The value at ``share`` (0..1) of a sorted list (nearest rank below)."""
    return round(sorted_ms[int(share * (len(sorted_ms) - 1))], 2)


def measure(kb_dir: Path, queries: list[str]) -> dict:
    """Loads the base, searches every question once (after a warm-up of 5), returns the figures."""
    start_mem = memory_mb()
    from bot.knowledge.faq.live_base import LiveFaq

    live = LiveFaq(kb_dir)
    start = time.perf_counter()
    snapshot = live.snapshot()
    load_ms = (time.perf_counter() - start) * 1000
    loaded_mem = memory_mb()
    start = time.perf_counter()
    snapshot.search(queries[0], 10)
    first_ms = (time.perf_counter() - start) * 1000
    encoder_mem = memory_mb()
    for text in queries[1:6]:
        snapshot.search(text, 10)
    times = []
    for text in queries:
        start = time.perf_counter()
        live.snapshot().search(text, 10)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "entries": len(snapshot),
        "dense": getattr(snapshot.index, "dense", None) is not None,
        "load_ms": round(load_ms, 1),
        "first_search_ms": round(first_ms, 1),
        "search_p50_ms": round(statistics.median(times), 2),
        "search_p95_ms": percentile(times, 0.95),
        "search_max_ms": round(times[-1], 2),
        "rss_mb": {"start": start_mem, "loaded": loaded_mem, "encoder": encoder_mem, "end": memory_mb()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faq_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, required=True, help="published FAQ base directory")
    parser.add_argument("--queries", type=Path, required=True, help="JSON list of questions")
    args = parser.parse_args(argv)
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    if not queries:
        print("error: no questions", file=sys.stderr)
        return 2
    print(json.dumps(measure(args.kb, queries)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
