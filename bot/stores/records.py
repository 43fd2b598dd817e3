"""Records kept by the stores, and the rules every back end shares (tickets, validation, time)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from bot.clock import JST
from bot.phone import parse_phone
from bot.privacy import mask
from bot.text import normalize

#: Kinds of question the review log accepts.
REVIEW_KINDS = frozenset({"low_confidence", "fallback", "unhelpful"})
CALLBACK_STATUSES = ("open", "done")
_MAX_FIELD = 500
_MAX_QUESTION = 2000


class StoreError(ValueError):
    """A value a store refuses; the message names the field."""


def ticket_for(day: datetime, sequence: int) -> str:
    """Formats a callback ticket: ``CB-20261126-0007`` (more digits past 9999 on one day)."""
    return f"CB-{day.astimezone(JST):%Y%m%d}-{sequence:04d}"


def ticket_day(day: datetime) -> str:
    """The per-day sequence key of a ticket (``20261126``)."""
    return f"{day.astimezone(JST):%Y%m%d}"


_FULL_TICKET = re.compile(r"^CB-(\d{4})(\d{2})(\d{2})-(\d{4,})$")
#: What a resident reads out or staff type: the full ticket, ``20261202-0001``, ``1202-0001``,
#: ``12/2 0001``, ``12月2日の0001番`` (year left out: the latest such day up to today).
_SPOKEN_TICKET = re.compile(
    r"^(?:CB-?)?(?:(?P<y>\d{4})?(?P<m>\d{2})(?P<d>\d{2})|(?P<m2>\d{1,2})(?:月|/|\.)(?P<d2>\d{1,2})日?)"
    r"(?:受付)?[-\s]*(?:の)?\s*(?P<n>\d{1,6})番?$"
)


def ticket_parts(ticket: str) -> tuple[date, int] | None:
    """The day and the number of that day of a ticket (``CB-20261202-0001`` → 2026-12-02, 1), or None."""
    match = _FULL_TICKET.match(ticket or "")
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])), int(match[4])
    except ValueError:
        return None


def spoken_number(ticket: str) -> str | None:
    """The short number residents read out with the day (``CB-20261202-0001`` → ``0001``), or None."""
    match = _FULL_TICKET.match(ticket or "")
    return match[4] if match else None


def resolve_ticket(text: str, today: date) -> str | None:
    """The full ticket a resident or a clerk means (see :data:`_SPOKEN_TICKET`), or None.

    Full-width digits and hyphens are accepted. Without a year, the day is the latest one with that
    month and day that is not after ``today`` (on 1月5日, 「12月30日の0001」 is last year's).
    """
    raw = unicodedata.normalize("NFKC", text or "").strip().upper().replace("ー", "-").replace("−", "-")
    match = _SPOKEN_TICKET.match(raw)
    if not match:
        return None
    month, day = int(match["m"] or match["m2"]), int(match["d"] or match["d2"])
    years = [int(match["y"])] if match["y"] else [today.year, today.year - 1]
    for year in years:
        try:
            when = date(year, month, day)
        except ValueError:
            continue
        if match["y"] or when <= today:
            return f"CB-{when:%Y%m%d}-{int(match['n']):04d}"
    return None


@dataclass(frozen=True)
class CallbackRequest:
    """A resident's request to be called back by the city.

    Attributes:
        ticket: ``CB-YYYYMMDD-NNNN``.
        phone: digits only, national format.
        name: name as given (may be empty).
        slot: preferred time slot as chosen by the resident.
        topic: what the call is about (procedure id or short text).
        department: department id, if known.
        status: ``"open"`` or ``"done"``.
        created_at: when the request was made (aware, JST).
        done_at: when staff marked it done, or ``None``.
    """

    ticket: str
    phone: str
    name: str
    slot: str
    topic: str
    department: str | None
    status: str
    created_at: datetime
    done_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601 strings)."""
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["done_at"] = self.done_at.isoformat() if self.done_at else None
        return data


@dataclass(frozen=True)
class CallbackInput:
    """Validated fields of a new callback request."""

    phone: str
    name: str
    slot: str
    topic: str
    department: str | None


def _text_field(name: str, value: object, *, required: bool) -> str:
    if not isinstance(value, str):
        raise StoreError(f"{name}: expected text, got {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise StoreError(f"{name}: must not be empty")
    if len(value) > _MAX_FIELD:
        raise StoreError(f"{name}: longer than {_MAX_FIELD} characters")
    return value


def validate_callback(
    phone: str, name: str | None, slot: str, topic: str, department: str | None
) -> CallbackInput:
    """Checks and normalizes the fields of a callback request.

    Raises:
        StoreError: naming the first bad field (the phone number itself is never echoed).
    """
    number = parse_phone(phone) if isinstance(phone, str) else None
    if number is None:
        raise StoreError("phone: not a valid Japanese telephone number")
    dept = None if department is None else _text_field("department", department, required=True)
    return CallbackInput(
        phone=number.national,
        name=_text_field("name", name or "", required=False),
        slot=_text_field("slot", slot, required=True),
        topic=_text_field("topic", topic, required=True),
        department=dept,
    )


@dataclass(frozen=True)
class ReviewEntry:
    """One recorded question (already masked)."""

    question: str
    key: str
    kind: str
    guesses: tuple[str, ...]
    asked_at: datetime


@dataclass(frozen=True)
class ReviewGroup:
    """All records of one distinct (masked, normalized) question.

    Attributes:
        question: the latest masked wording.
        count: how many times it was recorded.
        first_asked: first time (aware).
        last_asked: last time (aware).
        kinds: distinct kinds, most frequent first.
        guesses: distinct guessed FAQ/procedure ids, most frequent first.
    """

    question: str
    count: int
    first_asked: datetime
    last_asked: datetime
    kinds: list[str] = field(default_factory=list)
    guesses: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["first_asked"] = self.first_asked.isoformat()
        data["last_asked"] = self.last_asked.isoformat()
        return data


def prepare_review(question: str, kind: str, guesses: list[str], asked_at: datetime) -> ReviewEntry:
    """Validates and masks a review record before any back end stores it.

    Raises:
        StoreError: for an unknown kind, a non-text question or bad guesses.
    """
    if kind not in REVIEW_KINDS:
        raise StoreError(f"kind: {kind!r} is not one of {sorted(REVIEW_KINDS)}")
    if not isinstance(question, str) or not question.strip():
        raise StoreError("question: must be non-empty text")
    if not isinstance(guesses, (list, tuple)) or not all(isinstance(g, str) and g for g in guesses):
        raise StoreError("guesses: expected a list of FAQ/procedure ids")
    masked = mask(question.strip()[:_MAX_QUESTION])
    return ReviewEntry(masked, normalize(masked), kind, tuple(guesses), asked_at)


def _by_frequency(values: Iterable[str]) -> list[str]:
    counts = Counter(values)
    return [value for value, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def group_reviews(entries: Iterable[ReviewEntry]) -> list[ReviewGroup]:
    """Groups review entries by normalized question; most asked first, then most recent."""
    buckets: dict[str, list[ReviewEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.asked_at):
        buckets.setdefault(entry.key, []).append(entry)
    groups = [
        ReviewGroup(
            question=items[-1].question,
            count=len(items),
            first_asked=items[0].asked_at,
            last_asked=items[-1].asked_at,
            kinds=_by_frequency(e.kind for e in items),
            guesses=_by_frequency(g for e in items for g in e.guesses),
        )
        for items in buckets.values()
    ]
    return sorted(groups, key=lambda g: (-g.count, -g.last_asked.timestamp()))


@dataclass(frozen=True)
class FeedbackEntry:
    """One helpful / not helpful answer from a resident (question masked)."""

    helpful: bool
    question: str | None
    answer_ref: str | None
    given_at: datetime


def prepare_feedback(
    helpful: bool, question: str | None, answer_ref: str | None, given_at: datetime
) -> FeedbackEntry:
    """Validates and masks a feedback record.

    Raises:
        StoreError: when ``helpful`` is not a bool or a field is not text.
    """
    if not isinstance(helpful, bool):
        raise StoreError("helpful: expected true or false")
    if question is not None and not isinstance(question, str):
        raise StoreError("question: expected text or nothing")
    ref = None if answer_ref is None else _text_field("answer_ref", answer_ref, required=True)
    masked = mask(question.strip()[:_MAX_QUESTION]) if question and question.strip() else None
    return FeedbackEntry(helpful, masked, ref, given_at)


def summarize_feedback(entries: Iterable[tuple[bool, str | None]]) -> dict[str, Any]:
    """Totals of (helpful, answer_ref) pairs.

    Returns:
        ``{"total", "helpful", "unhelpful", "helpful_rate" (None when empty),
        "by_answer": {ref: {"helpful", "unhelpful"}}}``.
    """
    total = helpful = 0
    by_answer: dict[str, dict[str, int]] = {}
    for is_helpful, ref in entries:
        total += 1
        helpful += int(is_helpful)
        if ref is not None:
            counts = by_answer.setdefault(ref, {"helpful": 0, "unhelpful": 0})
            counts["helpful" if is_helpful else "unhelpful"] += 1
    return {
        "total": total,
        "helpful": helpful,
        "unhelpful": total - helpful,
        "helpful_rate": round(helpful / total, 4) if total else None,
        "by_answer": dict(sorted(by_answer.items())),
    }


#: A callback request's idempotency key: hex digits (a hash; never a resident's data).
_REQUEST_KEY = re.compile(r"^[0-9a-f]{16,64}$")
#: How long a request key (or its "not stored" mark) is remembered; far longer than a conversation.
REQUEST_KEY_TTL_SECONDS = 86400
#: A settled key whose request was not stored (Redis value; SQLite keeps it in its own table).
NOT_STORED_MARK = "-"


class RequestNotStored(StoreError):
    """An add under a request key that was settled as not stored: nothing was stored, and never will be."""


def check_request_key(key: str | None) -> None:
    """Raises :class:`StoreError` unless ``key`` is None or 16-64 lowercase hex digits."""
    if key is not None and (not isinstance(key, str) or not _REQUEST_KEY.match(key)):
        raise StoreError("key: expected 16-64 lowercase hex digits")


def check_event_id(event_id: str, ttl_seconds: int) -> None:
    """Raises :class:`StoreError` for an empty event id or a non-positive ttl."""
    if not isinstance(event_id, str) or not event_id or len(event_id) > _MAX_FIELD:
        raise StoreError("event_id: expected non-empty text")
    if not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
        raise StoreError("ttl_seconds: expected a positive whole number")


def parse_time(value: str | None) -> datetime | None:
    """Reads an ISO 8601 timestamp written by :func:`datetime.isoformat`."""
    return datetime.fromisoformat(value) if value else None
