"""The "a reply names what the resident needs" check over tests/nlu/unseen_questions.yml.

Every question goes to a running madoguchi in a fresh conversation through the REST channel. A reply
counts when its structured part (``custom.madoguchi``) names the expected thing:
- ``procedure: ID``: a procedure answer for ID, or a life-event checklist/clarification that leads to it
  (lenient count also accepts ID among the "もしかして" buttons); the language desk's English card and
  checklist (``procedure_en``, ``checklist_en``) count as that procedure's and that event's answers;
- ``safety: 119|110|inochi|dv|189``: the matching safety routing (189: abuse of a child or an elder);
- ``phone: true``: the phone answer, or the callback form's first question;
- ``life_event: ID``: that event's checklist or its clarifying question.

``python -m bench.unseen_check --url http://localhost:5005 [--questions FILE] [--half tune|check]`` (default:
the unseen set; e.g. ``--questions tests/nlu/dev_questions.yml`` for the development set). ``--half`` keeps
one fixed half of a set (by a hash of each question's text): misses may be read on ``tune`` to improve the
bot while ``check`` stays unread, its total the honest figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Callable

import yaml

from bench.splits import half

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "tests" / "nlu" / "unseen_questions.yml"
#: Card kinds that answer a procedure question (``procedure_en``: the English card of bot/language.py).
PROCEDURE_KINDS = ("procedure", "details", "online", "procedure_en")
#: Card kinds of a life event's checklist (``checklist_en``: the English one).
CHECKLIST_KINDS = ("checklist", "checklist_en")
SAFETY_CATEGORY = {
    "119": "emergency",
    "110": "emergency",
    "inochi": "self_harm",
    "dv": "dv",
    "189": "abuse",
}


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    """The questions with their expected outcome."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]


def rest_sender(url: str) -> Callable[[str], list[dict]]:
    """A function sending one message in a fresh conversation and returning the bot's messages."""

    def send(text: str) -> list[dict]:
        body = json.dumps({"sender": f"unseen-{uuid.uuid4().hex}", "message": text}).encode()
        request = urllib.request.Request(
            f"{url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310 - the bot under test
            return json.loads(reply.read())

    return send


def cards(messages: list[dict]) -> list[dict]:
    """The structured parts of a reply."""
    out = []
    for m in messages:
        custom = m.get("custom") or {}
        if isinstance(custom, dict) and isinstance(custom.get("madoguchi"), dict):
            out.append(custom["madoguchi"])
    return out


def judge(expect: dict, messages: list[dict]) -> tuple[bool, bool]:
    """(strict, lenient) verdicts for one reply."""
    found = cards(messages)
    buttons = " ".join(b.get("payload", "") for m in messages for b in m.get("buttons") or [])
    if "procedure" in expect:
        pid = expect["procedure"]
        strict = any(
            (c.get("kind") in PROCEDURE_KINDS and c.get("procedure") == pid)
            or (c.get("kind") in CHECKLIST_KINDS and pid in c.get("procedures", []))
            for c in found
        )
        return strict, strict or f'"procedure":"{pid}"' in buttons
    if "safety" in expect:
        category = SAFETY_CATEGORY[str(expect["safety"])]
        ok = any(c.get("kind") == "safety" and c.get("category") == category for c in found)
        return ok, ok
    if "phone" in expect:
        ok = any(c.get("kind") in ("phone", "callback_form") for c in found)
        return ok, ok
    if "life_event" in expect:
        event = expect["life_event"]
        ok = any(
            c.get("kind") in (*CHECKLIST_KINDS, "clarify") and c.get("life_event") == event for c in found
        )
        return ok, ok
    raise ValueError(f"unknown expectation {expect}")


def kind_of(expect: dict) -> str:
    """The route kind a question expects: procedure, life_event, safety or phone."""
    (kind,) = expect
    return kind


def evaluate(send: Callable[[str], list[dict]], questions: list[dict]) -> dict:
    """Runs every question; returns the rates, the strict counts per kind and per style, and the misses."""
    strict = lenient = 0
    misses = []
    groups: dict[str, list[int]] = {}
    for q in questions:
        messages = send(q["text"])
        ok, near = judge(q["expect"], messages)
        strict += ok
        lenient += near
        for group in (
            f"half {half(q['text'])}",
            f"kind {kind_of(q['expect'])}",
            f"style {q.get('style', '-')}",
            f"style {q.get('style', '-')} ({half(q['text'])})",
        ):
            tally = groups.setdefault(group, [0, 0])
            tally[0] += ok
            tally[1] += 1
        if not ok:
            misses.append({"text": q["text"], "expect": q["expect"], "got": cards(messages)})
    n = len(questions)
    return {
        "questions": n,
        "strict": strict / n,
        "lenient": lenient / n,
        "groups": {k: tuple(v) for k, v in sorted(groups.items())},
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="questions file (same format)")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--half", choices=("tune", "check", "all"), default="all", help="one fixed half only")
    parser.add_argument(
        "--start", action="store_true", help="start a throwaway madoguchi on free ports instead of --url"
    )
    args = parser.parse_args(argv)
    if args.half == "check" and args.show_misses:
        parser.error("the check half's misses are not shown: read only its total")
    bot = None
    if args.start:
        from tests.servers import start_bot, stop_bot

        bot = start_bot()
        args.url = bot.rasa_url
    try:
        questions = [q for q in load_questions(args.questions) if args.half in ("all", half(q["text"]))]
        result = evaluate(rest_sender(args.url), questions)
    finally:
        if bot is not None:
            stop_bot(bot)
    print(
        f"{args.questions.name} ({args.half}): {result['questions']} questions  "
        f"strict {result['strict']:.1%}  "
        f"lenient (incl. suggestions) {result['lenient']:.1%}"
    )
    for group, (ok, n) in result["groups"].items():
        print(f"  {group:<24} {ok:>3}/{n:<3} {ok / n:6.1%}")
    if args.show_misses:
        for miss in result["misses"]:
            print(json.dumps(miss, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
