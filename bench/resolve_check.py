"""Fast check of the catalog resolver (no Rasa model): does ``bot.dialogue.resolve`` name what is needed?

Runs :func:`bot.dialogue.resolve.resolve` directly over a questions file (format of
``tests/nlu/dev_questions.yml``), with one intent for every question (default ``ask_procedure``) and no FAQ
snapshot, and prints the accuracy per half and the misses. The halves are fixed by a hash of the question
text (``sha256(text)[0] % 2``: 0 = "tune", 1 = "check"): tune data and rules on "tune" only and read
"check" to see whether a fix generalizes.

Judging, as close as possible to ``bench/unseen_check.py`` without a running bot:

- ``procedure: ID`` — a procedure answer for ID, or a life-event checklist containing ID (an event with
  options counts only when the option is known, otherwise the bot asks a question first); the lenient
  count also accepts ID among the "もしかして" suggestions;
- ``life_event: ID`` — that event (checklist or clarifying question);
- ``safety: 119|110|inochi|dv`` — with ``--safety``, the rules in ``data/safety.yml`` route it (the NLU
  model catches more; reported apart; off by default because it imports Rasa, which takes a minute);
- ``phone: true`` — needs the NLU intent; listed, never counted.

With ``--nlu-model models/madoguchi.tar.gz`` (imports Rasa; NLU only, no servers) each question is first
classified, and routed as data/rules.yml does: safety intents and ``ask_phone``/``request_callback`` are
judged by the intent, ``ask_details``/``ask_online`` take the best catalog match, ``ask_procedure``,
``life_event``, ``inform`` and ``nlu_fallback`` go to ``resolve`` with that intent, anything else
(out_of_scope, greet …) is a miss. This is the closest to ``bench/unseen_check.py`` without a running bot.

With ``--meaning`` the resolver also gets what the action server gives it: the semantic index of the catalog
(:mod:`bot.understanding.meaning`), the action words of ``data/asked_actions.yml`` and the sample FAQ (for
the catalog-vs-FAQ weighing); ``--cost`` then prints the milliseconds per message of the resolver with and
without the meaning signal (the sentence embedding included).

``python -m bench.resolve_check [--questions FILE] [--intent INTENT] [--split tune|check|all] [--safety]
[--nlu-model PATH] [--meaning [--cost]]``
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.splits import half

REPO = Path(__file__).resolve().parent.parent
DEV_QUESTIONS = REPO / "tests" / "nlu" / "dev_questions.yml"
SAFETY_INTENT = {"119": "emergency", "110": "emergency", "inochi": "self_harm", "dv": "dv"}


def load_questions(path: Path) -> list[dict]:
    """The questions with their expectation."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]


@dataclass
class Verdict:
    """The outcome for one question."""

    text: str
    expect: dict
    kind: str  # "resolver" | "safety" | "phone"
    strict: bool
    lenient: bool
    got: str


def describe(resolution) -> str:
    """A short description of a resolution for the miss list."""
    if resolution.kind == "procedure":
        return f"procedure:{resolution.procedure.id}"
    if resolution.kind == "life_event":
        option = f"/{resolution.option.id}" if resolution.option else ""
        return f"life_event:{resolution.event.id}{option}"
    return f"{resolution.kind}:{','.join(resolution.guesses)}"


def judge_resolution(expect: dict, resolution) -> tuple[bool, bool]:
    """(strict, lenient) for a procedure or life-event expectation."""
    if "life_event" in expect:
        ok = resolution.kind == "life_event" and resolution.event.id == expect["life_event"]
        return ok, ok
    pid = expect["procedure"]
    if resolution.kind == "procedure":
        strict = resolution.procedure.id == pid
    elif resolution.kind == "life_event":
        event, option = resolution.event, resolution.option
        checklist = option.checklist if option else (() if event.options else event.checklist)
        strict = pid in checklist
    else:
        strict = False
    return strict, strict or pid in resolution.guesses


RESOLVED_INTENTS = frozenset({"ask_procedure", "life_event", "inform", "nlu_fallback"})
NAMED_INTENTS = frozenset({"ask_details", "ask_online"})
PHONE_INTENTS = frozenset({"ask_phone", "request_callback"})


def nlu_classifier(model_path: Path):
    """A function text -> intent name, from a trained Rasa model (NLU part only), read as the actions
    read it (``bot.dialogue.resolve.understood_intent``)."""
    import asyncio

    from rasa.core.agent import Agent

    # Rasa logs every parsed message at debug level: that would print the questions of the check half
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    loop = asyncio.new_event_loop()
    agent = Agent.load(str(model_path))

    def classify(text: str) -> str:
        from bot.dialogue.resolve import understood_intent

        parsed = loop.run_until_complete(agent.parse_message(text))
        return understood_intent(parsed["intent"]["name"], parsed.get("intent_ranking") or [])

    return classify


class Semantic:
    """What the action server adds to the resolver: meaning, action words, the FAQ (``--meaning``)."""

    def __init__(self, catalog, data_dir: Path, var_dir: Path) -> None:
        import tempfile

        from bot.dialogue.live import MEANING_FILE
        from bot.knowledge.asked import load_asked_actions
        from bot.knowledge.faq.import_export import ensure_live_base
        from bot.knowledge.faq.live_base import LiveFaq
        from bot.understanding.encoder import default_encoder
        from bot.understanding.meaning import Meaning, build_index, catalog_rows, load_examples

        encoder = default_encoder()
        rows = catalog_rows(catalog, load_examples(data_dir / MEANING_FILE))
        cache = var_dir / "embeddings"
        self.meaning = Meaning(build_index(rows, encoder, cache), encoder, cache_dir=cache)
        self.asked = load_asked_actions(data_dir, catalog.procedures)
        faq_dir = Path(tempfile.mkdtemp(prefix="resolve-check-faq-"))
        ensure_live_base(faq_dir, data_dir / "faq" / "sample_faq.csv")
        self.faq = LiveFaq(faq_dir).snapshot()

    def resolve(self, text: str, intent: str, catalog):
        from bot.dialogue.resolve import matchable, resolve

        return resolve(
            text,
            intent,
            catalog,
            self.faq,
            meaning=self.meaning.neighbours(matchable(text)),
            asked=self.asked,
            similarity=self.meaning.similarity,
        )


def cost(questions: list[dict], catalog, semantic: Semantic) -> None:
    """Milliseconds per message of the resolver, words only and with meaning (embedding included)."""
    import statistics
    import time

    from bot.dialogue.resolve import resolve

    def timed(fn) -> list[float]:
        out = []
        for q in questions:
            started = time.perf_counter()
            fn(q["text"])
            out.append((time.perf_counter() - started) * 1000)
        return sorted(out)

    words = timed(lambda t: resolve(t, "ask_procedure", catalog, semantic.faq))
    semantic.meaning._vectors.clear()
    full = timed(lambda t: semantic.resolve(t, "ask_procedure", catalog))
    for name, ms in (("words only", words), ("with meaning", full)):
        p95 = ms[int(0.95 * (len(ms) - 1))]
        print(f"{name:13} {len(ms)} messages  p50 {statistics.median(ms):.1f} ms  p95 {p95:.1f} ms")


def check_with_nlu(questions: list[dict], classify, semantic: Semantic | None = None) -> list[Verdict]:
    """Judges every question after routing it by the NLU intent (see the module docstring)."""
    from bot import settings
    from bot.dialogue.decide import ONLINE_OVERVIEW_ID
    from bot.dialogue.resolve import named_in_text, resolve
    from bot.knowledge.catalog import load_catalog

    catalog = load_catalog(settings.load().data_dir)
    verdicts = []
    for q in questions:
        text, expect = q["text"], q["expect"]
        intent = classify(text)
        kind = "safety" if "safety" in expect else "phone" if "phone" in expect else "resolver"
        if kind == "safety":
            ok = intent == SAFETY_INTENT[str(expect["safety"])]
            verdicts.append(Verdict(text, expect, kind, ok, ok, f"intent:{intent}"))
        elif kind == "phone":
            ok = intent in PHONE_INTENTS
            verdicts.append(Verdict(text, expect, kind, ok, ok, f"intent:{intent}"))
        elif intent in RESOLVED_INTENTS:
            if semantic is not None:
                resolution = semantic.resolve(text, intent, catalog)
            else:
                resolution = resolve(text, intent, catalog, None)
            strict, lenient = judge_resolution(expect, resolution)
            verdicts.append(Verdict(text, expect, kind, strict, lenient, f"{intent}->{describe(resolution)}"))
        elif intent in NAMED_INTENTS:
            generic = ONLINE_OVERVIEW_ID if intent == "ask_online" else None
            pid = named_in_text(catalog, text, generic) or generic
            ok = pid is not None and expect.get("procedure") == pid
            verdicts.append(Verdict(text, expect, kind, ok, ok, f"{intent}->procedure:{pid}"))
        else:
            verdicts.append(Verdict(text, expect, kind, False, False, f"intent:{intent}"))
    return verdicts


def check(
    questions: list[dict], intent: str, with_safety: bool = False, semantic: Semantic | None = None
) -> list[Verdict]:
    """Judges every question."""
    from bot import settings
    from bot.dialogue.resolve import resolve
    from bot.knowledge.catalog import load_catalog

    data_dir = settings.load().data_dir
    catalog = load_catalog(data_dir)
    rules = None
    verdicts = []
    for q in questions:
        text, expect = q["text"], q["expect"]
        if "safety" in expect and not with_safety:
            verdicts.append(Verdict(text, expect, "safety", False, False, "not checked (--safety)"))
        elif "safety" in expect:
            if rules is None:
                from bot.crisis import load_rules

                rules = load_rules(data_dir / "safety.yml")
            got = safety_intent(rules, text)
            ok = got == SAFETY_INTENT[str(expect["safety"])]
            verdicts.append(Verdict(text, expect, "safety", ok, ok, f"safety:{got}"))
        elif "phone" in expect:
            verdicts.append(Verdict(text, expect, "phone", False, False, "needs NLU"))
        elif semantic is not None:
            resolution = semantic.resolve(text, q.get("intent", intent), catalog)
            strict, lenient = judge_resolution(expect, resolution)
            verdicts.append(Verdict(text, expect, "resolver", strict, lenient, describe(resolution)))
        else:
            resolution = resolve(text, q.get("intent", intent), catalog, None)
            strict, lenient = judge_resolution(expect, resolution)
            verdicts.append(Verdict(text, expect, "resolver", strict, lenient, describe(resolution)))
    return verdicts


def safety_intent(rules, text: str) -> str | None:
    """The safety intent the rules give a text, if any (first rule wins)."""
    from bot.text import normalize

    normalized = normalize(text)
    return next((r.intent for r in rules if r.matches(normalized)), None)


def report(verdicts: list[Verdict], split: str | None) -> None:
    """Prints accuracy per half and the misses of ``split`` ("tune", "check", "all"; None: no misses)."""
    for name in ("tune", "check", "all"):
        chosen = [v for v in verdicts if name == "all" or half(v.text) == name]
        resolver = [v for v in chosen if v.kind == "resolver"]
        safety = [v for v in chosen if v.kind == "safety" and v.got.startswith(("safety:", "intent:"))]
        phone = [v for v in chosen if v.kind == "phone" and v.got.startswith("intent:")]
        n = max(len(resolver), 1)
        print(
            f"{name:5}  resolver {sum(v.strict for v in resolver)}/{len(resolver)} "
            f"strict {sum(v.strict for v in resolver) / n:.1%}  "
            f"lenient {sum(v.lenient for v in resolver) / n:.1%}   "
            f"safety {sum(v.strict for v in safety)}/{len(safety)}  "
            f"phone {sum(v.strict for v in phone)}/{len(phone)}"
        )
    if split is not None:
        for v in verdicts:
            if split not in ("all", half(v.text)):
                continue
            if not v.strict and (v.kind == "resolver" or v.got.startswith(("safety:", "intent:"))):
                mark = "~" if v.lenient else "x"
                print(f"{mark} [{half(v.text)}] {v.text}  expect {v.expect}  got {v.got}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    parser.add_argument(
        "--intent", default="ask_procedure", help="intent given to resolve() for every question"
    )
    parser.add_argument("--split", choices=("tune", "check", "all"), default="all", help="misses to list")
    parser.add_argument("--safety", action="store_true", help="also check data/safety.yml (imports Rasa)")
    parser.add_argument("--nlu-model", type=Path, help="route by a trained model's intents (imports Rasa)")
    parser.add_argument("--quiet", action="store_true", help="do not list the misses")
    parser.add_argument("--meaning", action="store_true", help="with the semantic layer, action words, FAQ")
    parser.add_argument("--cost", action="store_true", help="with --meaning: ms per message, no judging")
    args = parser.parse_args(argv)
    questions = load_questions(args.questions)
    semantic = None
    if args.meaning:
        from bot import settings
        from bot.knowledge.catalog import load_catalog

        config = settings.load()
        catalog = load_catalog(config.data_dir)
        semantic = Semantic(catalog, config.data_dir, config.var_dir)
        if args.cost:
            cost(questions, catalog, semantic)
            return 0
    if args.nlu_model:
        verdicts = check_with_nlu(questions, nlu_classifier(args.nlu_model), semantic)
    else:
        verdicts = check(questions, args.intent, with_safety=args.safety, semantic=semantic)
    report(verdicts, split=None if args.quiet else args.split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
