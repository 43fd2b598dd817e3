"""Building the analytics events of a turn and of a 役に立った vote (pure functions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from bot.analytics.identity import conversation_hash
from bot.analytics.outcome import outcome_of
from bot.stores.analytics import UsageEvent


def resident_wording(text: str | None) -> str | None:
    """The resident's own words (a button's ``/intent{...}`` payload is not wording)."""
    if not isinstance(text, str) or not text.strip() or text.lstrip().startswith("/"):
        return None
    return text


def turn_event(
    salt: bytes,
    at: datetime,
    channel: str,
    sender: str,
    text: str | None,
    messages: Iterable[Mapping[str, Any]],
    failed: bool = False,
) -> UsageEvent:
    """The event of one turn; the store masks ``text`` and keeps it only when nothing answered it.

    ``failed``: the turn failed and the resident got the channel's error text (kind ``error``, no wording).
    """
    if failed:
        return UsageEvent(
            at=at, channel=channel, conversation=conversation_hash(salt, channel, sender), kind="error"
        )
    outcome = outcome_of(messages)
    return UsageEvent(
        at=at,
        channel=channel,
        conversation=conversation_hash(salt, channel, sender),
        kind=outcome.kind,
        procedure=outcome.procedure,
        faq_id=outcome.faq_id,
        department=outcome.department,
        text=resident_wording(text),
    )


def answer_ids(answer_ref: str | None) -> tuple[str | None, str | None]:
    """(procedure or life event id, FAQ id) of a ``last_answer`` slot (``procedure:ID``, ``faq:ID``,
    ``life_event:ID:OPTION``, ``fallback``)."""
    kind, _, rest = (answer_ref or "").partition(":")
    if kind == "faq" and rest:
        return None, rest
    if kind in ("procedure", "life_event") and rest:
        return rest.split(":")[0] or None, None
    return None, None


def feedback_event(
    salt: bytes, at: datetime, channel: str, sender: str, helpful: bool, answer_ref: str | None
) -> UsageEvent:
    """The event of one 役に立った / 役に立たなかった vote about the answer ``answer_ref``."""
    procedure, faq_id = answer_ids(answer_ref)
    return UsageEvent(
        at=at,
        channel=channel,
        conversation=conversation_hash(salt, channel, sender),
        kind="feedback",
        procedure=procedure,
        faq_id=faq_id,
        helpful=helpful,
    )
