"""``madoguchi ask "…"``: what the bot would answer to a message, and why (every source, with its score).

Staff use it to predict an answer before or after editing the catalog, the action words or the FAQ:

    madoguchi ask "市役所の駐車場は無料ですか"
    madoguchi ask --intent ask_procedure "マイナンバーカードがなくなった"   # skip the NLU model (fast)

The message is classified by the trained model (``models/madoguchi.tar.gz``, loaded here: about a minute),
unless ``--intent`` is given; then the conversation core decides exactly as the action server does, from
the live data files, the current FAQ version and the semantic index. Printed: the intent ranking and any
crisis finding, the catalog's word matches, the life event, the nearest procedures by meaning, the
actions asked, the fused ranking, the FAQ ranking and its confidence, and the answer (kind, id, reason,
the buttons offered beside it, the cards of the reply). ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot import settings

#: Intents the dialogue rules (data/rules.yml) answer without the catalog.
SAFETY_INTENTS = ("emergency", "self_harm", "dv", "abuse")
#: Intent -> what the policy asks the core for (data/rules.yml); others are answered by the rules alone.
ASKS = {
    "ask_procedure": "answer",
    "life_event": "answer",
    "nlu_fallback": "faq",
    "inform": "faq",
    "ask_details": "details",
    "ask_online": "online",
    "ask_phone": "phone",
    "out_of_scope": "out_of_scope",
}


def register(subparsers) -> None:
    """Adds the ``ask`` command."""
    parser = subparsers.add_parser(
        "ask", help="ボットの答えとその理由 / what the bot would answer to a message, with every score"
    )
    parser.add_argument("text", help="the resident's message, e.g. 市役所の駐車場は無料ですか")
    parser.add_argument("--intent", help="use this intent instead of the NLU model's (fast)")
    parser.add_argument(
        "--model", type=Path, default=None, help="trained model (default: models/madoguchi.tar.gz)"
    )
    parser.add_argument("--no-meaning", action="store_true", help="without the semantic layer (words only)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run_ask)


def run_ask(args: argparse.Namespace) -> int:
    """Prints the answer and its sources; exit status 1 when the model or the data cannot be read."""
    config = settings.load()
    try:
        parsed = (
            {"intent": {"name": args.intent}, "intent_ranking": []} if args.intent else _parse(args, config)
        )
    except (OSError, RuntimeError) as error:
        print(f"cannot classify the message: {error} (give --intent to skip the model)", file=sys.stderr)
        return 1
    report = explain(args.text, parsed, config, meaning=not args.no_meaning)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


def _parse(args: argparse.Namespace, config) -> dict:
    """The NLU parse of the message by the trained model (imports Rasa)."""
    import asyncio
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    from bot.training import model_path

    configure_structlog(logging.WARNING)
    path = args.model or model_path()
    if not Path(path).exists():
        raise OSError(f"no trained model at {path} (run `make model`)")
    agent = Agent.load(str(path))
    return asyncio.new_event_loop().run_until_complete(agent.parse_message(args.text))


def explain(text: str, parsed: dict, config, meaning: bool = True) -> dict[str, Any]:
    """What the core decides for ``text`` with the NLU's ``parsed`` data, and every source's scores."""
    from bot.dialogue.decide import Ask, decide, resolve_understood
    from bot.dialogue.live import LiveKnowledge
    from bot.dialogue.understood import Understood

    encoder = None
    if meaning:
        from bot.understanding.encoder import default_encoder

        encoder = default_encoder()
    live = LiveKnowledge(config, encoder=encoder)
    k = live.now()
    intent = (parsed.get("intent") or {}).get("name") or ""
    ranking = tuple(parsed.get("intent_ranking") or ())
    crisis = parsed.get("crisis") if isinstance(parsed.get("crisis"), dict) else None
    report: dict[str, Any] = {
        "text": text,
        "intent": intent,
        "ranking": [(r.get("name"), round(float(r.get("confidence") or 0), 3)) for r in ranking[:3]],
        "crisis": crisis,
    }
    if intent in SAFETY_INTENTS and (crisis or {}).get("level") != "unsure":
        report["answer"] = {"kind": "safety", "response": f"utter_{intent}"}
        return report
    ask = ASKS.get(intent)
    if ask is None:
        report["answer"] = {"kind": "rule", "response": f"(data/rules.yml answers the intent {intent})"}
        return report
    understood = Understood(text=text, intent=intent, ranking=ranking, crisis=crisis)
    resolution = resolve_understood(understood, k)
    report["sources"] = _sources(resolution.signals, k)
    turn = decide(Ask(ask), understood, k)
    kind = _kind(ask, resolution, turn)
    report["answer"] = {
        "kind": kind,
        "id": None if kind == "out_of_scope" else _answer_id(resolution),
        "reason": resolution.reason,
        "offer": resolution.offer,
        "offers": [ref for _, _, ref in resolution.offers],
        "cards": [r.card.to_json() for r in turn.replies if r.card is not None],
        "responses": [r.response for r in turn.replies if r.response],
        "review": turn.review.kind if turn.review else None,
    }
    return report


def _kind(ask: str, resolution, turn) -> str:
    """What the answer is: the resolution's kind for a question, else what was asked (``out_of_scope``
    when the core kept the out-of-scope answer)."""
    if ask in ("answer", "faq"):
        return resolution.kind
    if ask == "out_of_scope":
        from bot.dialogue.decide import OUT_OF_SCOPE_RESPONSE

        kept = any(r.response == OUT_OF_SCOPE_RESPONSE for r in turn.replies)
        return ask if kept else resolution.kind
    return ask


def _answer_id(resolution) -> str | None:
    if resolution.procedure is not None:
        return resolution.procedure.id
    if resolution.event is not None:
        return resolution.event.id + (f"/{resolution.option.id}" if resolution.option else "")
    if resolution.faq_entry is not None:
        return f"faq:{resolution.faq_entry.id}"
    return None


def _sources(signals, k) -> dict[str, Any]:
    if signals is None:
        return {}
    meaning = signals.meaning
    return {
        "words": list(signals.words),
        "life_event": list(signals.life_event) if signals.life_event else None,
        "meaning_procedures": list(meaning.procedures) if meaning else None,
        "meaning_life_events": list(meaning.life_events) if meaning else None,
        "actions": dict(signals.actions),
        "fused": list(signals.fused),
        "faq": [(fid, round(score, 3)) for fid, score in signals.faq],
        "faq_level": signals.faq_level,
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    lines = [f"message: {report['text']}"]
    ranking = ", ".join(f"{name} {conf:.2f}" for name, conf in report.get("ranking") or [])
    lines.append(f"intent:  {report['intent']}" + (f"  ({ranking})" if ranking else ""))
    if report.get("crisis"):
        lines.append(f"crisis:  {report['crisis']}")
    sources = report.get("sources") or {}
    for key, label in (
        ("words", "words (catalog aliases)"),
        ("life_event", "life event (triggers)"),
        ("meaning_procedures", "meaning: procedures"),
        ("meaning_life_events", "meaning: life events"),
        ("actions", "actions asked"),
        ("fused", "words + meaning"),
        ("faq", f"FAQ ({sources.get('faq_level', 'none')})"),
    ):
        if key in sources:
            lines.append(f"  {label:26} {_plain(sources[key])}")
    answer = report.get("answer") or {}
    lines.append(
        "answer:  "
        + " ".join(
            f"{k}={_plain(v)}" for k, v in answer.items() if k not in ("cards",) and v not in (None, [], "")
        )
    )
    for card in answer.get("cards") or []:
        lines.append(f"  card {json.dumps(card, ensure_ascii=False)[:300]}")
    return "\n".join(lines)


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(
            _plain(v) if isinstance(v, (list, tuple)) and len(v) != 2 else _pair(v) for v in value
        )
    if isinstance(value, dict):
        return ", ".join(f"{k}:{v}" for k, v in value.items())
    return str(value)


def _pair(value: Any) -> str:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        score = value[1]
        return f"{value[0]} {score:.3f}" if isinstance(score, float) else f"{value[0]} {score}"
    return str(value)
