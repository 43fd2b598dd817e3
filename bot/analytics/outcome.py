"""What kind of answer a turn got, from the structured ``custom.madoguchi`` part of its bot messages.

A turn can carry several cards (a crisis line beside a procedure card, a 受付番号 after the form); the
most important one names the turn, in :data:`PRECEDENCE` order. Only card fields are read, never texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

#: Card kind -> turn kind (:data:`bot.stores.analytics.TURN_KINDS`).
CARD_TO_KIND = {
    "safety": "safety",
    "callback": "callback",
    "procedure": "procedure",
    "details": "procedure",
    "online": "procedure",
    "checklist": "checklist",
    "faq": "faq",
    "phone": "phone",
    "suggestions": "suggestions",
    "fallback": "fallback",
    "callback_form": "form",
    "clarify": "form",
    "menu": "form",
}
#: When a turn has cards of several kinds, the first kind here names it: a crisis answer always counts
#: as one; a stored callback request is what the form was for; an answer beats "nothing matched".
PRECEDENCE = (
    "safety",
    "callback",
    "procedure",
    "checklist",
    "faq",
    "phone",
    "suggestions",
    "fallback",
    "form",
)


@dataclass(frozen=True)
class Outcome:
    """The kind of a turn's answer and the ids it named."""

    kind: str
    procedure: str | None = None
    faq_id: str | None = None
    department: str | None = None


def cards(messages: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ``custom.madoguchi`` payloads of Rasa bot messages, in order (malformed ones skipped)."""
    found = []
    for message in messages:
        custom = message.get("custom") if isinstance(message, Mapping) else None
        card = custom.get("madoguchi") if isinstance(custom, Mapping) else None
        if isinstance(card, Mapping) and isinstance(card.get("kind"), str):
            found.append(card)
    return found


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _department(card: Mapping[str, Any]) -> str | None:
    value = card.get("department")
    if isinstance(value, Mapping):  # a procedure card's Contact
        return _text(value.get("name"))
    return _text(value)


def _outcome(kind: str, card: Mapping[str, Any]) -> Outcome:
    if kind == "procedure":
        return Outcome(kind, procedure=_text(card.get("procedure")), department=_department(card))
    if kind == "checklist":
        return Outcome(kind, procedure=_text(card.get("life_event")))
    if kind == "faq":
        return Outcome(kind, faq_id=_text(card.get("faq_id")), department=_department(card))
    if kind == "phone":
        return Outcome(kind, department=_department(card))
    return Outcome(kind)


def outcome_of(messages: Iterable[Mapping[str, Any]]) -> Outcome:
    """The turn's outcome; ``other`` when no message carries a card (greetings, thanks, votes)."""
    by_kind: dict[str, Mapping[str, Any]] = {}
    for card in cards(messages):
        kind = CARD_TO_KIND.get(card["kind"])
        if kind is not None:
            by_kind.setdefault(kind, card)
    for kind in PRECEDENCE:
        if kind in by_kind:
            return _outcome(kind, by_kind[kind])
    return Outcome("other")
