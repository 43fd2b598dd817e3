"""利用状況 (analytics): the page's figures from the masked per-turn events (:class:`bot.stores.UsageEvent`)
and the callback requests. Pure functions: events, requests and labels in, :class:`Analytics` out.

Every figure is also a :class:`Table` (columns + rows) so the page, its CSV and its .xlsx show the same
numbers. Days and hours are Japan time; a week starts on Monday.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from bot.stores import JST, CallbackRequest, UsageEvent
from bot.text import normalize

#: Periods the page offers -> how many of them it shows (two weeks of days: what a 課 compares at its
#: weekly meeting; eight weeks: about two months of trend).
PERIODS = {"day": 14, "week": 8}
#: Rows of the "top" tables (most asked procedures, FAQ entries, unanswered wordings).
TOP = 10
#: Outcome groups of the share answered, in the page's order: turn kinds -> group.
GROUPS = {
    "procedure": "procedure",
    "checklist": "procedure",
    "faq": "faq",
    "fallback": "fallback",
    "suggestions": "fallback",
}
GROUP_ORDER = ("procedure", "faq", "fallback", "other")
#: Turn kinds that are a resident's question (the denominator of the 回答率): a failed turn (``error``,
#: shown under その他) is a question that got no answer.
QUESTION_KINDS = frozenset(GROUPS) | {"error"}
ANSWERED_KINDS = frozenset(k for k, g in GROUPS.items() if g != "fallback")


@dataclass(frozen=True)
class Table:
    """One table of the page, as exported (``name`` is its file name)."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class Period:
    """The counts of one day or week."""

    start: date
    label: str
    conversations: int
    messages: int
    by_channel: dict[str, int]
    by_group: dict[str, int]
    helpful: int
    unhelpful: int
    callbacks: int


@dataclass(frozen=True)
class Analytics:
    """Everything the page shows."""

    period: str
    first: date
    last: date
    periods: list[Period]
    conversations: int
    messages: int
    answered: int
    questions: int
    helpful: int
    unhelpful: int
    by_group: dict[str, int]
    channels: list[tuple[str, int, int]]
    hours: list[int]
    tables: dict[str, Table] = field(default_factory=dict)

    @staticmethod
    def percent(part: int, whole: int) -> int | None:
        return round(100 * part / whole) if whole else None

    @property
    def answer_rate(self) -> int | None:
        return self.percent(self.answered, self.questions)

    @property
    def helpful_rate(self) -> int | None:
        return self.percent(self.helpful, self.helpful + self.unhelpful)


def period_start(day: date, period: str) -> date:
    """The first day of the day/week ``day`` is in (weeks start on Monday)."""
    return day - timedelta(days=day.weekday()) if period == "week" else day


def _starts(today: date, period: str) -> list[date]:
    last = period_start(today, period)
    step = timedelta(days=7 if period == "week" else 1)
    return [last - step * i for i in range(PERIODS[period] - 1, -1, -1)]


def window_start(now: datetime, period: str) -> datetime:
    """The first moment the page counts (aware, JST midnight)."""
    first = _starts(now.astimezone(JST).date(), period)[0]
    return datetime(first.year, first.month, first.day, tzinfo=JST)


def _label(start: date, period: str, week_label: str) -> str:
    if period == "week":
        return week_label.format(month=start.month, day=start.day)
    return f"{start.month}/{start.day}"


@dataclass(frozen=True)
class Labels:
    """Names the page shows instead of ids, and the words of the exported tables (``data/staff/ui.yml``)."""

    procedure: Callable[[str], str]
    faq: Callable[[str], str]
    department: Callable[[str | None], str]
    words: Mapping[str, Any]


def _group(kind: str) -> str:
    return GROUPS.get(kind, "other")


def summarize(
    now: datetime,
    period: str,
    events: Iterable[UsageEvent],
    callbacks: Iterable[CallbackRequest],
    labels: Labels,
) -> Analytics:
    """The page's figures for the ``PERIODS[period]`` days or weeks up to ``now`` (aware)."""
    if period not in PERIODS:
        raise ValueError(f"period: {period!r} is not one of {sorted(PERIODS)}")
    starts = _starts(now.astimezone(JST).date(), period)
    first, last = starts[0], starts[-1] + timedelta(days=6 if period == "week" else 0)

    def bucket(moment: datetime) -> date | None:
        day = moment.astimezone(JST).date()
        return period_start(day, period) if first <= day <= last else None

    turns, votes = [], []
    for event in events:
        if bucket(event.at) is None:
            continue
        (votes if event.kind == "feedback" else turns).append(event)
    requests = [r for r in callbacks if bucket(r.created_at) is not None]
    periods = [_period(s, period, turns, votes, requests, bucket, labels) for s in starts]
    by_group = Counter(_group(e.kind) for e in turns)
    hours = Counter(e.at.astimezone(JST).hour for e in turns)
    channels = _channels(turns)
    helpful = sum(1 for v in votes if v.helpful)
    result = Analytics(
        period=period,
        first=first,
        last=last,
        periods=periods,
        conversations=len({e.conversation for e in turns}),
        messages=len(turns),
        answered=sum(1 for e in turns if e.kind in ANSWERED_KINDS),
        questions=sum(1 for e in turns if e.kind in QUESTION_KINDS),
        helpful=helpful,
        unhelpful=len(votes) - helpful,
        by_group={g: by_group[g] for g in GROUP_ORDER},
        channels=channels,
        hours=[hours[h] for h in range(24)],
    )
    result.tables.update(_tables(result, turns, requests, labels))
    return result


def _period(start, period, turns, votes, requests, bucket, labels: Labels) -> Period:
    mine = [e for e in turns if bucket(e.at) == start]
    my_votes = [v for v in votes if bucket(v.at) == start]
    groups = Counter(_group(e.kind) for e in mine)
    helpful = sum(1 for v in my_votes if v.helpful)
    return Period(
        start=start,
        label=_label(start, period, labels.words["week_label"]),
        conversations=len({e.conversation for e in mine}),
        messages=len(mine),
        by_channel=dict(Counter(e.channel for e in mine)),
        by_group={g: groups[g] for g in GROUP_ORDER},
        helpful=helpful,
        unhelpful=len(my_votes) - helpful,
        callbacks=sum(1 for r in requests if bucket(r.created_at) == start),
    )


def _channels(turns: list[UsageEvent]) -> list[tuple[str, int, int]]:
    """(channel, conversations, messages), most messages first."""
    messages = Counter(e.channel for e in turns)
    conversations = Counter(channel for channel, _ in {(e.channel, e.conversation) for e in turns})
    return [(c, conversations[c], n) for c, n in sorted(messages.items(), key=lambda i: (-i[1], i[0]))]


def _top(counts: Counter) -> list[tuple[Any, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))[:TOP]


def _unanswered(turns: list[UsageEvent]) -> list[tuple[str, int]]:
    """Masked wordings of unanswered turns, grouped by their normalized form (latest wording shown)."""
    latest: dict[str, str] = {}
    counts: Counter = Counter()
    for event in turns:
        if event.text:
            key = normalize(event.text)
            latest[key] = event.text
            counts[key] += 1
    return [(latest[key], n) for key, n in _top(counts)]


def _tables(a: Analytics, turns, requests, labels: Labels) -> dict[str, Table]:
    w = labels.words
    channel_names, group_names = w["channels"], w["groups"]
    channel_order = list(channel_names)
    period_rows = [
        (
            p.label,
            p.conversations,
            p.messages,
            *(p.by_channel.get(c, 0) for c in channel_order),
            *(p.by_group[g] for g in GROUP_ORDER),
            p.helpful,
            p.unhelpful,
            p.callbacks,
        )
        for p in a.periods
    ]
    procedures = Counter(e.procedure for e in turns if e.kind in ("procedure", "checklist") and e.procedure)
    faqs = Counter(e.faq_id for e in turns if e.kind == "faq" and e.faq_id)
    departments = Counter(labels.department(r.department) for r in requests)
    tables = [
        Table(
            "periods",
            w["titles"]["periods"][a.period],
            (
                w["columns"]["period"][a.period],
                w["columns"]["conversations"],
                w["columns"]["messages"],
                *(channel_names[c] for c in channel_order),
                *(group_names[g] for g in GROUP_ORDER),
                w["columns"]["helpful"],
                w["columns"]["unhelpful"],
                w["columns"]["callbacks"],
            ),
            period_rows,
        ),
        Table(
            "outcomes",
            w["titles"]["outcomes"],
            (w["columns"]["outcome"], w["columns"]["messages"], w["columns"]["share"]),
            [(group_names[g], n, a.percent(n, a.messages) or 0) for g, n in a.by_group.items()],
        ),
        Table(
            "channels",
            w["titles"]["channels"],
            (w["columns"]["channel"], w["columns"]["conversations"], w["columns"]["messages"]),
            [(channel_names.get(c, c), conv, n) for c, conv, n in a.channels],
        ),
        Table(
            "departments",
            w["titles"]["departments"],
            (w["columns"]["department"], w["columns"]["callbacks"]),
            sorted(departments.items(), key=lambda item: (-item[1], item[0])),
        ),
        Table(
            "procedures",
            w["titles"]["procedures"],
            (w["columns"]["procedure"], w["columns"]["id"], w["columns"]["count"]),
            [(labels.procedure(pid), pid, n) for pid, n in _top(procedures)],
        ),
        Table(
            "faq",
            w["titles"]["faq"],
            (w["columns"]["faq"], w["columns"]["faq_id"], w["columns"]["count"]),
            [(labels.faq(fid), fid, n) for fid, n in _top(faqs)],
        ),
        Table(
            "unanswered",
            w["titles"]["unanswered"],
            (w["columns"]["wording"], w["columns"]["count"]),
            _unanswered(turns),
        ),
        Table(
            "hours",
            w["titles"]["hours"],
            (w["columns"]["hour"], w["columns"]["messages"]),
            [(w["hour_label"].format(hour=h), n) for h, n in enumerate(a.hours)],
        ),
    ]
    return {t.name: t for t in tables}
