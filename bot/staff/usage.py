"""利用状況 from the records the stores already keep (no message text, no phone numbers, no LINE ids):
callback requests by day and by 担当課, residents' 役に立った answers, the most asked unanswered wordings
(masked when they were recorded). Pure functions; the per-turn event record the issue asks for (channels,
share answered by card / FAQ / fallback) does not exist yet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping

from bot.stores import JST, CallbackRequest
from bot.stores.records import FeedbackEntry, ReviewGroup

#: Days shown in the daily table (one week: what a 課 reviews at its weekly meeting).
DAYS = 7
#: Rows of the "top" tables.
TOP = 10


@dataclass(frozen=True)
class Bar:
    """One labelled count with its share of the largest (0–100, for the bar's width)."""

    label: str
    count: int
    percent: int


@dataclass(frozen=True)
class Day:
    """Counts of one day (JST)."""

    day: date
    callbacks: int
    helpful: int
    unhelpful: int


@dataclass(frozen=True)
class Usage:
    """Everything the page shows."""

    days: list[Day]
    by_department: list[Bar]
    helpful: int
    unhelpful: int
    unanswered: list[Bar]
    review_records: int

    @property
    def helpful_rate(self) -> int | None:
        total = self.helpful + self.unhelpful
        return round(100 * self.helpful / total) if total else None


def bars(counts: Iterable[tuple[str, int]]) -> list[Bar]:
    """Bars, largest first, scaled to the largest count."""
    items = sorted(counts, key=lambda item: (-item[1], item[0]))
    top = max((count for _, count in items), default=0)
    return [Bar(label, count, round(100 * count / top) if top else 0) for label, count in items]


def _day(moment: datetime) -> date:
    return moment.astimezone(JST).date()


def summarize(
    now: datetime,
    callbacks: list[CallbackRequest],
    feedback: list[FeedbackEntry],
    review: list[ReviewGroup],
    review_records: int,
    department_names: Mapping[str, str],
    no_department: str,
) -> Usage:
    """The page's figures at ``now`` (aware)."""
    today = _day(now)
    first = today - timedelta(days=DAYS - 1)
    per_day = Counter(_day(r.created_at) for r in callbacks)
    votes = Counter((_day(f.given_at), f.helpful) for f in feedback)
    days = [
        Day(d, per_day[d], votes[(d, True)], votes[(d, False)])
        for d in (first + timedelta(days=i) for i in range(DAYS))
    ]
    departments = Counter(
        department_names.get(r.department, r.department) if r.department else no_department for r in callbacks
    )
    helpful = sum(1 for f in feedback if f.helpful)
    return Usage(
        days=days,
        by_department=bars(departments.items()),
        helpful=helpful,
        unhelpful=len(feedback) - helpful,
        unanswered=bars((g.question, g.count) for g in review)[:TOP],
        review_records=review_records,
    )
