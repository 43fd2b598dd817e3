"""What the core answers with: replies (text, buttons, card), slot changes, and a note for the review log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from bot.dialogue.cards import Card

#: Button payloads that start with these are links, not messages (see docs/architecture.md).
LINK_PREFIXES = ("https://", "http://")


def payload(intent: str, **entities: Any) -> str:
    """A button payload triggering ``intent`` with ``entities`` (JSON): ``/ask_phone{"procedure":"x"}``."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, ensure_ascii=False, separators=(',', ':'))}"


@dataclass(frozen=True)
class Button:
    """A button: ``payload`` is sent back as the resident's message, or opened when it is a link."""

    title: str
    payload: str

    @property
    def is_link(self) -> bool:
        return self.payload.startswith(LINK_PREFIXES)

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class Reply:
    """One bot message.

    Either composed here (``text`` from data/messages.yml and the catalog/FAQ, ``buttons``, ``card``) or
    a fixed answer of domain.yml (``response`` with ``params`` for its {placeholders}, optionally a
    ``card``).
    """

    text: str | None = None
    buttons: tuple[Button, ...] = ()
    card: Card | None = None
    response: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


#: The "役に立ちましたか？" question every answer ends with (a domain.yml response with two buttons).
ASK_FEEDBACK = Reply(response="utter_ask_feedback")


@dataclass(frozen=True)
class ReviewNote:
    """A question the bot could not answer well, for the staff review list (masked by the store)."""

    question: str
    kind: str  # "low_confidence" | "fallback" | "unhelpful"
    guesses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Turn:
    """The whole decision of one turn.

    Attributes:
        replies: messages to send, in order.
        slots: slot changes, in order ((name, value) pairs; the adapters turn them into ``SlotSet``).
        review: what to keep for staff review, if anything.
    """

    replies: tuple[Reply, ...] = ()
    slots: tuple[tuple[str, Any], ...] = ()
    review: ReviewNote | None = None

    def then(self, other: Turn) -> Turn:
        """This turn followed by ``other`` (replies and slot changes concatenated)."""
        return Turn(self.replies + other.replies, self.slots + other.slots, other.review or self.review)
