"""Prometheus metrics the servers count: turns, fallbacks, latency, errors, LINE events, failed actions.

Each server process (every Rasa process and action server the runner starts) counts into
``prometheus_client``'s default registry. Under the runner, ``PROMETHEUS_MULTIPROC_DIR`` is set in every
child's environment, so the values go to files in that folder (``var/metrics``) and the runner's one
exporter (:mod:`bot.metrics_exporter`, ``METRICS_PORT``) serves their sum: one scrape target per machine
whatever ``WORKERS`` is, and counters that survive a restarted child (its old file still counts).

Nothing is created at import time: :func:`metrics` makes the metric objects on first use. No label ever
carries a resident's text, id or anything they typed — only channel names, outcome codes, card kinds
and action names from the code.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Histogram

#: Turn latency buckets (seconds). One turn takes ~30-80 ms on 2 cores when alone (bench/README.md) and
#: 1-2 s under saturation; 3 s is when a crisis message is answered from data; 30 s is the turn timeout.
TURN_BUCKETS = (0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

#: Card kinds (``custom.madoguchi.kind``) that mean the assistant did not find an answer.
FALLBACK_KINDS = frozenset({"fallback", "suggestions"})

#: Turn outcomes: an answer from the dialogue; no answer found (fallback kinds above); a crisis answered
#: from data after the turn failed or was slow; an answer from data in another language; a failed turn
#: (``errors_total`` has its code); a request refused before any turn (bad input).
OUTCOMES = ("answered", "fallback", "suggestions", "crisis_from_data", "other_language", "error", "refused")

#: What happens to a LINE webhook event.
LINE_RESULTS = ("received", "answered", "dropped", "duplicate", "send_failed")


@dataclass(frozen=True)
class Metrics:
    """The metric objects of one process."""

    turns: Counter
    fallbacks: Counter
    latency: Histogram
    errors: Counter
    line_events: Counter
    action_failures: Counter
    encoder_texts: Counter


@functools.cache
def metrics() -> Metrics:
    """The process's metrics (registered in the default registry once, on first use)."""
    by_channel = ["channel"]
    return Metrics(
        turns=Counter("madoguchi_turns", "Turns by channel and outcome", [*by_channel, "outcome"]),
        fallbacks=Counter("madoguchi_fallbacks", "Turns without an answer found", [*by_channel, "kind"]),
        latency=Histogram(
            "madoguchi_turn_seconds", "Request to reply, by channel", by_channel, buckets=TURN_BUCKETS
        ),
        errors=Counter("madoguchi_errors", "Failed or refused requests, by code", [*by_channel, "code"]),
        line_events=Counter("madoguchi_line_events", "LINE webhook events by result", ["result"]),
        action_failures=Counter("madoguchi_action_failures", "Custom actions that raised", ["action"]),
        encoder_texts=Counter(
            "madoguchi_encoder_texts", "Sentence-encoder texts by server and kind", ["server", "kind"]
        ),
    )


def card_kinds(messages: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The ``custom.madoguchi.kind`` of each bot message that has one."""
    kinds = []
    for message in messages:
        custom = message.get("custom")
        card = custom.get("madoguchi") if isinstance(custom, Mapping) else None
        if isinstance(card, Mapping) and isinstance(card.get("kind"), str):
            kinds.append(card["kind"])
    return tuple(kinds)


@dataclass(frozen=True)
class TurnRecord:
    """What one turn (or refused request) of a channel came to; no resident text in it."""

    channel: str
    outcome: str
    seconds: float
    error_code: str | None = None
    kinds: tuple[str, ...] = ()

    @classmethod
    def of_answer(
        cls, channel: str, messages: Iterable[Mapping[str, Any]], seconds: float, outcome: str = "answered"
    ) -> TurnRecord:
        """An answered turn; ``answered`` becomes ``fallback`` / ``suggestions`` when that card was sent."""
        kinds = card_kinds(messages)
        if outcome == "answered":
            outcome = next((k for k in kinds if k in FALLBACK_KINDS), outcome)
        return cls(channel, outcome, seconds, None, kinds)


def observe_turn(record: TurnRecord) -> None:
    """Counts one turn: outcome, latency, fallback kind and error code."""
    found = metrics()
    found.turns.labels(record.channel, record.outcome).inc()
    if record.outcome != "refused":  # a refused body never reached the assistant: no latency to tell
        found.latency.labels(record.channel).observe(record.seconds)
    if record.outcome in FALLBACK_KINDS:
        found.fallbacks.labels(record.channel, record.outcome).inc()
    if record.error_code:
        found.errors.labels(record.channel, record.error_code).inc()


def count_line_events(result: str, how_many: int = 1) -> None:
    """Counts LINE webhook events (``received``, ``answered``, ``dropped``...)."""
    if how_many:
        metrics().line_events.labels(result).inc(how_many)


def count_encoder_texts(server: str, kind: str, how_many: int) -> None:
    """Counts sentence-encoder texts of one server process (``rasa`` or ``actions``): ``asked``,
    ``embedded``, ``given`` (:data:`bot.understanding.encoder.COUNTS`); the e5 encoder is most of the
    CPU a message costs, so this shows how many times a message is embedded."""
    if how_many:
        metrics().encoder_texts.labels(server, kind).inc(how_many)


def count_encodings(server: str) -> None:
    """Counts the process's sentence-encoder texts (:func:`count_encoder_texts`) from now on."""
    from bot.understanding.encoder import default_encoder

    default_encoder().observe(functools.partial(count_encoder_texts, server))


def count_action_failure(action: str) -> None:
    """Counts a custom action that raised (the resident got the apology instead)."""
    metrics().action_failures.labels(action or "unknown").inc()
