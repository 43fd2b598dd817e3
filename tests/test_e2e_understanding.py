"""Understanding, guarded: residents' questions, each in a fresh conversation, get a reply that names what
they need (the judge is bench/unseen_check.py; the sets and how they were measured: tests/nlu/README.md).

- ``blind_questions.yml`` (first writer, now seen): the issue's definition of done, at least 90%.
- ``blind_questions_2.yml`` (second writer): a regression guard at 85% on all 80 (measured: 90%, i.e. 96.9%
  on the tune half and 85.4% on the check half). On failure only the tune half's misses are printed, so that
  the check half stays unread. ``blind_questions_3.yml`` is not run here: it is kept unread for the next
  round (``make bench-unseen`` reports its total).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.unseen_check import evaluate, half, load_questions, rest_sender

pytestmark = pytest.mark.e2e

SETS = Path(__file__).resolve().parent / "nlu"


def test_blind_questions_get_a_reply_that_names_what_they_need(running_bot):
    result = evaluate(rest_sender(running_bot.rasa_url), load_questions(SETS / "blind_questions.yml"))
    misses = "\n".join(f"{m['text']} -> expected {m['expect']}" for m in result["misses"])
    assert result["strict"] >= 0.9, f"{result['strict']:.1%} named what was needed; misses:\n{misses}"


def test_second_blind_set_does_not_regress(running_bot):
    result = evaluate(rest_sender(running_bot.rasa_url), load_questions(SETS / "blind_questions_2.yml"))
    tune_misses = "\n".join(
        f"{m['text']} -> expected {m['expect']}" for m in result["misses"] if half(m["text"]) == "tune"
    )
    hidden = sum(half(m["text"]) == "check" for m in result["misses"])
    assert result["strict"] >= 0.85, (
        f"{result['strict']:.1%} named what was needed; tune-half misses:\n{tune_misses}\n"
        f"(+{hidden} check-half misses, not shown)"
    )
