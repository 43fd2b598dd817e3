"""The masked per-turn event record behind 利用状況 (analytics): what kind of answer each turn got.

One record per resident turn (and one per 役に立った vote), written by the channels where a turn's reply
is known (:mod:`bot.analytics`). A record never holds a phone number, a name, a LINE user id or the
conversation id: the conversation is a salted hash, and the resident's wording is kept only for turns
the bot could not answer, masked with :func:`bot.privacy.mask` (the same masking as the review log).
Records expire with the other records (``Stores.purge_expired``).
"""

from __future__ import annotations

import abc
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.privacy import mask
from bot.stores.records import StoreError, parse_time

#: Channels a turn can come from (Rasa input channel names).
CHANNELS = ("rest", "line", "socketio")
#: What a turn's answer was, read from its ``custom.madoguchi`` cards (:func:`bot.analytics.outcome_of`):
#: procedure (a procedure card, its details or online answer), faq, checklist (a life event's list),
#: safety (a crisis answer), phone (a number to call), callback (a stored callback request), form (a step
#: of the callback form, a clarifying question or the menu), suggestions (「もしかして」 guesses),
#: fallback (nothing matched), other (greetings, thanks: no card), error (the turn failed: the resident
#: got the error text with the city's number); "feedback" is a 役に立った vote.
TURN_KINDS = (
    "procedure",
    "faq",
    "checklist",
    "safety",
    "phone",
    "callback",
    "form",
    "suggestions",
    "fallback",
    "other",
    "error",
)
EVENT_KINDS = TURN_KINDS + ("feedback",)
#: Kinds whose (masked) wording is kept: the questions staff should look at.
UNANSWERED_KINDS = frozenset({"fallback", "suggestions"})
#: A salted hash (hex) of the conversation id; anything else is refused so a raw id never lands here.
_CONVERSATION = re.compile(r"^[0-9a-f]{32}$")
_REF = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_MAX_DEPARTMENT = 80
_MAX_TEXT = 500


@dataclass(frozen=True)
class UsageEvent:
    """One turn (or vote) as analytics keeps it.

    Attributes:
        at: when (aware).
        channel: one of :data:`CHANNELS`.
        conversation: salted hash of the conversation id (32 hex digits).
        kind: one of :data:`EVENT_KINDS`.
        procedure: the procedure id (procedure kinds) or life event id (checklist), else None.
        faq_id: the FAQ entry id (faq), else None.
        department: the 担当課 the answer named (its name as the card shows it), else None.
        helpful: the vote (feedback only), else None.
        text: the resident's wording, masked, for :data:`UNANSWERED_KINDS` only; else None.
    """

    at: datetime
    channel: str
    conversation: str
    kind: str
    procedure: str | None = None
    faq_id: str | None = None
    department: str | None = None
    helpful: bool | None = None
    text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


def event_from_dict(data: dict[str, Any]) -> UsageEvent:
    """Reads back :meth:`UsageEvent.to_dict`."""
    return UsageEvent(**{**data, "at": parse_time(data["at"])})


def _ref(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _REF.match(value):
        raise StoreError(f"{name}: expected an id of letters, digits and _ . : -")
    return value


def prepare_event(event: UsageEvent) -> UsageEvent:
    """Validates an event and masks its text; the text of an answered turn is dropped.

    Raises:
        StoreError: naming the first bad field.
    """
    if not isinstance(event.at, datetime) or event.at.tzinfo is None:
        raise StoreError("at: expected an aware datetime")
    if event.channel not in CHANNELS:
        raise StoreError(f"channel: {event.channel!r} is not one of {list(CHANNELS)}")
    if not isinstance(event.conversation, str) or not _CONVERSATION.match(event.conversation):
        raise StoreError("conversation: expected a salted hash (32 hex digits), never a raw id")
    if event.kind not in EVENT_KINDS:
        raise StoreError(f"kind: {event.kind!r} is not one of {list(EVENT_KINDS)}")
    if event.helpful is not None and not isinstance(event.helpful, bool):
        raise StoreError("helpful: expected true, false or nothing")
    if (event.kind == "feedback") != (event.helpful is not None):
        raise StoreError("helpful: required for feedback events and only for them")
    department = event.department
    if department is not None and (not isinstance(department, str) or len(department) > _MAX_DEPARTMENT):
        raise StoreError(f"department: expected text of at most {_MAX_DEPARTMENT} characters")
    text = None
    if event.kind in UNANSWERED_KINDS and isinstance(event.text, str) and event.text.strip():
        text = mask(event.text.strip()[:_MAX_TEXT])
    return UsageEvent(
        at=event.at,
        channel=event.channel,
        conversation=event.conversation,
        kind=event.kind,
        procedure=_ref("procedure", event.procedure),
        faq_id=_ref("faq_id", event.faq_id),
        department=mask(department) if department else None,
        helpful=event.helpful,
        text=text,
    )


class AnalyticsLog(abc.ABC):
    """The per-turn event record (:class:`UsageEvent`), oldest first."""

    @abc.abstractmethod
    def record(self, event: UsageEvent) -> UsageEvent:
        """Validates, masks (:func:`prepare_event`) and stores one event; returns what was stored.

        Raises:
            StoreError: naming the bad field.
        """

    @abc.abstractmethod
    def events(self, since: datetime | None = None) -> list[UsageEvent]:
        """Events at or after ``since`` (all when None), oldest first."""

    @abc.abstractmethod
    def purge(self, older_than: datetime) -> int:
        """Deletes events before ``older_than``; returns how many."""

    @abc.abstractmethod
    def count_expired(self, older_than: datetime) -> int:
        """How many events :meth:`purge` would delete."""

    @abc.abstractmethod
    def count(self) -> int:
        """How many events are kept."""
