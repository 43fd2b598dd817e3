"""Business hours of the city's counters, in Japan time.

Counters open on weekdays (and on optional extra days such as 第2・第4土曜), and close on national
holidays (``jpholiday``, substitute holidays included) and over the year-end break 12/29–1/3.
Japan has no daylight saving time, so a fixed UTC+9 zone is exact.

Hours come from ``data/departments.yml`` in this shape::

    hours:
      weekdays: {open: "8:30", close: "17:15"}
      extra:
        - {weekday: sat, weeks: [2, 4], open: "9:00", close: "12:00", note: "..."}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from bot.clock import JST

#: Keys staff use for days of the week, Monday first (index = ``date.weekday()``).
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: How far ahead :func:`next_opening` looks before giving up.
SEARCH_DAYS = 400

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class HoursError(ValueError):
    """Hours data that cannot be used; ``problems`` holds ``(field, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


@dataclass(frozen=True)
class TimeRange:
    """One opening period of a day, ``open <= t < close``."""

    open: time
    close: time

    def contains(self, moment: time) -> bool:
        """Whether a time of day falls inside this period."""
        return self.open <= moment < self.close


@dataclass(frozen=True)
class ExtraOpening:
    """An opening outside normal weekdays, e.g. the 2nd and 4th Saturday morning.

    Attributes:
        weekday: 0 = Monday … 6 = Sunday.
        weeks: which occurrences of that weekday in the month (1–5); empty means every week.
        period: the opening period on those days.
        note: what residents can do then (text from the data file).
    """

    weekday: int
    weeks: tuple[int, ...]
    period: TimeRange
    note: str = ""

    def applies(self, day: date) -> bool:
        """Whether this opening happens on a given date (holidays are checked elsewhere)."""
        if day.weekday() != self.weekday:
            return False
        return not self.weeks or (day.day - 1) // 7 + 1 in self.weeks


@dataclass(frozen=True)
class OfficeHours:
    """Opening hours of one counter: a weekday period plus optional extra openings."""

    weekdays: TimeRange | None
    extra: tuple[ExtraOpening, ...] = field(default_factory=tuple)

    @classmethod
    def from_mapping(cls, data: Any) -> OfficeHours:
        """Builds hours from the YAML mapping; raises :class:`HoursError` listing every problem."""
        problems: list[tuple[str, str]] = []
        if not isinstance(data, Mapping):
            raise HoursError([("hours", "must be a mapping with 'weekdays' (open/close)")])
        weekdays = None
        if data.get("weekdays") is not None:
            weekdays = _parse_range(data["weekdays"], "hours.weekdays", problems)
        extra_data = data.get("extra") or []
        extras: list[ExtraOpening] = []
        if not isinstance(extra_data, list):
            problems.append(("hours.extra", "must be a list"))
            extra_data = []
        for i, item in enumerate(extra_data):
            extra = _parse_extra(item, f"hours.extra[{i}]", problems)
            if extra is not None:
                extras.append(extra)
        if weekdays is None and not extras:
            problems.append(("hours.weekdays", "missing (give open/close, or at least one extra opening)"))
        unknown = sorted(set(data) - {"weekdays", "extra"})
        if unknown:
            problems.append(("hours", f"unknown keys {unknown}; use 'weekdays' and 'extra'"))
        if problems:
            raise HoursError(problems)
        return cls(weekdays=weekdays, extra=tuple(extras))

    def openings_on(self, day: date) -> list[TimeRange]:
        """Opening periods on a date, earliest first; empty on closed days."""
        if is_closed_day(day):
            return []
        periods = []
        if self.weekdays is not None and day.weekday() < 5:
            periods.append(self.weekdays)
        periods.extend(e.period for e in self.extra if e.applies(day))
        return sorted(periods, key=lambda p: p.open)


def parse_time(value: Any) -> time:
    """Parses "H:MM" / "HH:MM" (24-hour clock); raises ValueError otherwise."""
    if isinstance(value, str):
        m = _TIME.match(value.strip())
        if m:
            return time(int(m.group(1)), int(m.group(2)))
    raise ValueError(f'{value!r} is not a time; write it as "HH:MM" (e.g. "08:30")')


def _parse_range(data: Any, where: str, problems: list[tuple[str, str]]) -> TimeRange | None:
    if not isinstance(data, Mapping):
        problems.append((where, "must be a mapping with open and close"))
        return None
    times = {}
    for key in ("open", "close"):
        try:
            times[key] = parse_time(data.get(key))
        except ValueError as exc:
            problems.append((f"{where}.{key}", str(exc)))
    if len(times) < 2:
        return None
    if times["open"] >= times["close"]:
        problems.append((where, f"open {times['open']:%H:%M} must be before close {times['close']:%H:%M}"))
        return None
    return TimeRange(times["open"], times["close"])


def _parse_extra(data: Any, where: str, problems: list[tuple[str, str]]) -> ExtraOpening | None:
    if not isinstance(data, Mapping):
        problems.append((where, "must be a mapping with weekday, weeks, open, close"))
        return None
    before = len(problems)
    weekday = data.get("weekday")
    if weekday not in WEEKDAY_KEYS:
        problems.append((f"{where}.weekday", f"{weekday!r} is not one of {', '.join(WEEKDAY_KEYS)}"))
    weeks = data.get("weeks") or []
    if not isinstance(weeks, list) or not all(isinstance(w, int) and 1 <= w <= 5 for w in weeks):
        problems.append((f"{where}.weeks", f"{weeks!r} must be a list of week numbers 1-5"))
    period = _parse_range(data, where, problems)
    if len(problems) > before or period is None:
        return None
    note = data.get("note") or ""
    return ExtraOpening(WEEKDAY_KEYS.index(weekday), tuple(sorted(set(weeks))), period, str(note))


def is_year_end(day: date) -> bool:
    """Whether a date is in the year-end break (12/29–1/3)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_closed_day(day: date) -> bool:
    """Whether every counter is closed on a date (national holiday or year-end break)."""
    import jpholiday  # imported lazily: only needed when a date is checked

    return is_year_end(day) or jpholiday.is_holiday(day)


def to_jst(moment: datetime) -> datetime:
    """Converts an aware datetime to Japan time; a naive datetime is taken as Japan time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=JST)
    return moment.astimezone(JST)


def is_open(hours: OfficeHours, now: datetime) -> bool:
    """Whether the counter is open at a moment."""
    local = to_jst(now)
    return any(p.contains(local.time()) for p in hours.openings_on(local.date()))


def next_opening(hours: OfficeHours, now: datetime) -> datetime:
    """The earliest moment at or after ``now`` when the counter is open (``now`` itself if open).

    Returns:
        An aware datetime in Japan time.

    Raises:
        ValueError: if the counter never opens within :data:`SEARCH_DAYS` days.
    """
    local = to_jst(now)
    for offset in range(SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        for period in hours.openings_on(day):
            start = datetime.combine(day, period.open, tzinfo=JST)
            end = datetime.combine(day, period.close, tzinfo=JST)
            if local < end:
                return max(start, local)
    raise ValueError(f"no opening within {SEARCH_DAYS} days of {local:%Y-%m-%d}")


def closes_at(hours: OfficeHours, now: datetime) -> datetime | None:
    """When the current opening period ends, or None if the counter is closed at ``now``."""
    local = to_jst(now)
    for period in hours.openings_on(local.date()):
        if period.contains(local.time()):
            return datetime.combine(local.date(), period.close, tzinfo=JST)
    return None


def next_weekday_window(hours: OfficeHours, start: time, end: time, after: datetime) -> date:
    """The first weekday after ``after``'s date (Japan time) on which the counter is open for the whole of
    ``start``–``end`` (its weekday hours cover it; holidays and the year-end break are skipped).

    Used for the day of a call back: a request made today is called back from the next business day, when
    staff work through the queue (the promise the reply makes must be one the counter can keep).

    Raises:
        ValueError: if no such day comes within :data:`SEARCH_DAYS` days (the window lies outside the
            weekday hours, which ``madoguchi catalog check`` already rejects).
    """
    first = to_jst(after).date() + timedelta(days=1)
    period = hours.weekdays
    if period is not None and period.open <= start and end <= period.close:
        for offset in range(SEARCH_DAYS):
            day = first + timedelta(days=offset)
            if day.weekday() < 5 and not is_closed_day(day):
                return day
    raise ValueError(f"no weekday opening covers {start:%H:%M}-{end:%H:%M} after {first:%Y-%m-%d}")
