"""見直し in the console: the questions the bot could not answer, and turning one into a paraphrase of an
existing FAQ entry — through the same :func:`bot.knowledge.faq.review.apply_review` checks and atomic
:func:`bot.knowledge.faq.live_base.publish` as ``madoguchi review import``, so the bot answers it within the
action server's reload interval (2 s) and ``madoguchi faq rollback`` undoes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from bot.knowledge.faq import live_base as base
from bot.knowledge.faq.review import (
    ReviewGroupLike,
    ReviewOutcome,
    apply_review,
    known_wordings,
    next_faq_id,
)
from bot.knowledge.faq.tables import Column, Row, Table
from bot.text import normalize

#: How many of the bot's guesses a review item shows.
MAX_GUESSES = 3
#: How many answers the search box shows.
SEARCH_RESULTS = 5
SOURCE = "staff-console"
#: How the bot logs an FAQ guess in the review log (``faq:F0085``; procedures are ``procedure:…``).
FAQ_GUESS = "faq:"


@dataclass(frozen=True)
class ReviewItem:
    """One distinct unanswered question (already masked) with what the bot would answer now."""

    key: str
    question: str
    count: int
    last_asked: dt.datetime
    kinds: tuple[str, ...]
    guesses: tuple[tuple[str, str], ...]

    @property
    def ref(self) -> str:
        """The item's name in a link (:func:`ref_of`)."""
        return ref_of(self.key)


def items(groups: Iterable[ReviewGroupLike], snapshot: base.Snapshot) -> list[ReviewItem]:
    """The groups whose wording the base does not know yet, most asked first."""
    known = known_wordings(snapshot.entries.values())
    result = []
    for group in sorted(groups, key=lambda g: (-g.count, -g.last_asked.timestamp())):
        key = normalize(group.question)
        if key in known:
            continue
        logged = [g.removeprefix(FAQ_GUESS) for g in group.guesses if g.startswith(FAQ_GUESS)]
        ids = [*logged, *(e.id for e, _ in snapshot.search(group.question, top_k=MAX_GUESSES))]
        guesses = tuple(
            (faq_id, snapshot.get(faq_id).question) for faq_id in dict.fromkeys(ids) if snapshot.get(faq_id)
        )[:MAX_GUESSES]
        result.append(
            ReviewItem(key, group.question, group.count, group.last_asked, tuple(group.kinds), guesses)
        )
    return result


def find(groups: Sequence[ReviewGroupLike], key: str) -> ReviewGroupLike | None:
    """The group a form names by its key (only wordings residents actually asked can be added)."""
    return next((g for g in groups if normalize(g.question) == key), None)


def ref_of(key: str) -> str:
    """A short hash naming a review item in a URL: the resident's wording (masked, but still their words)
    never goes into a link, the access log or the browser history."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def find_ref(groups: Sequence[ReviewGroupLike], ref: str) -> ReviewGroupLike | None:
    """The group a link names by :func:`ref_of` (None when it is gone or never was)."""
    return next((g for g in groups if ref_of(normalize(g.question)) == ref), None) if ref else None


def new_entry_values(asked: str, snapshot: base.Snapshot, empty: dict[str, str]) -> dict[str, str]:
    """The FAQ form's fields for a new entry written from a review item: the next free 番号 and the
    resident's wording as its question (staff may rewrite it: :func:`keep_wording` keeps the wording)."""
    return {**empty, "id": next_faq_id(snapshot.entries), "question": asked}


def keep_wording(values: dict[str, str], asked: str) -> dict[str, str]:
    """The form's fields with the resident's wording added as a 言い換え unless it is the question or
    already one of them, so the review item is answered (and leaves the list) whatever staff typed."""
    lines = [line for line in values.get("paraphrases", "").replace("\r\n", "\n").split("\n")]
    known = {normalize(values.get("question", "")), *(normalize(line) for line in lines if line.strip())}
    if normalize(asked) in known:
        return values
    kept = "\n".join([*(line for line in lines if line.strip()), asked])
    return {**values, "paraphrases": kept}


def add_paraphrase(
    kb_dir: Path, snapshot: base.Snapshot, asked: str, faq_id: str, today: dt.date
) -> tuple[ReviewOutcome, str | None]:
    """Adds ``asked`` as a paraphrase of ``faq_id`` and publishes; returns the outcome and the new version
    (None when the checks failed or nothing changed).

    Raises:
        VersionConflict: the base was published by someone else since ``snapshot`` was read.
    """
    columns = (Column(1, "住民の質問", "asked"), Column(2, "FAQ番号", "faq_id"))
    table = Table(SOURCE, "form", columns, (Row(2, {"asked": asked, "faq_id": faq_id.strip()}),))
    outcome = apply_review(table, list(snapshot.entries.values()), today=today)
    if not outcome.report.ok or not outcome.changed:
        return outcome, None
    version = base.publish(outcome.entries, kb_dir, source=SOURCE, expected_version=snapshot.version)
    return outcome, version
