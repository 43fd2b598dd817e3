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
class Text:
    """A text of data/messages.yml by its dotted key, with the values of its {placeholders}.

    A value may itself be a :class:`Text` (「11月27日（金）8:30」 inside 「…は閉まっています。次は…」).
    """

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, messages: Any) -> str:
        """The text residents read (``messages``: :class:`bot.dialogue.knowledge.Messages`)."""
        values = {name: render_line(value, messages) for name, value in self.params.items()}
        return messages.text(self.key, **values)


def text(key: str, **params: Any) -> Text:
    """Shorthand for ``Text(key, params)``."""
    return Text(key, params)


#: A line of a reply: a data/messages.yml text, or words from the catalog/FAQ data shown as they are.
Line = Text | str


def render_line(line: Any, messages: Any) -> Any:
    """A :class:`Text` rendered; anything else as it is."""
    return line.render(messages) if isinstance(line, Text) else line


@dataclass(frozen=True)
class Reply:
    """One bot message.

    Either composed by the core (``lines`` — message keys with their values, or catalog/FAQ words —
    joined by line breaks when rendered; ``buttons``; ``card``) or a fixed answer of domain.yml
    (``response`` with ``params`` for its {placeholders}, optionally a ``card``). Button titles are
    labels, already in the resident's words.
    """

    lines: tuple[Line, ...] = ()
    buttons: tuple[Button, ...] = ()
    card: Card | None = None
    response: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, messages: Any) -> str | None:
        """The message text (None for a domain.yml response)."""
        if not self.lines:
            return None
        return "\n".join(str(render_line(line, messages)) for line in self.lines)

    def keys(self) -> list[str]:
        """The data/messages.yml keys of the lines, in order (what tests assert on)."""
        return [line.key for line in self.lines if isinstance(line, Text)]


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
