"""Dates as staff write them in a spreadsheet: 2026-04-01, 2026/4/1, 2026年4月1日, 令和8年4月1日, R8.4.1.

One reader for the FAQ's and the catalog's 確認日, so both accept the same spellings and give the same
error. 和暦 follows the era tables the city's forms use (令和 from 2019-05-01, 平成 from 1989-01-08,
昭和 from 1926-12-25); 元年 is year 1. A date before its era began (令和1年4月1日) is refused.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

#: Era name (and its one-letter abbreviation) -> (first day, Gregorian year of 元年).
ERAS: dict[str, tuple[dt.date, int]] = {
    "令和": (dt.date(2019, 5, 1), 2019),
    "平成": (dt.date(1989, 1, 8), 1989),
    "昭和": (dt.date(1926, 12, 25), 1926),
}
_ERA_LETTERS = {"R": "令和", "H": "平成", "S": "昭和"}

_GREGORIAN = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
_WAREKI = re.compile(
    r"^(令和|平成|昭和|[RHS])\s*(元|\d{1,2})\s*(?:年|[./\-])\s*(\d{1,2})\s*(?:月|[./\-])\s*(\d{1,2})日?$"
)
#: What staff read when a date cannot be read (the FAQ and the catalog say the same).
EXAMPLES = "2026-04-01、2026/4/1、令和8年4月1日"


def parse_date(text: str) -> dt.date | None:
    """The date a cell means, or None when it is not a readable date (midnight times are ignored)."""
    text = unicodedata.normalize("NFKC", str(text)).strip().upper()
    text = re.sub(r"[ T]00:00(:00)?$", "", text)
    for pattern in _GREGORIAN:
        match = pattern.match(text)
        if match:
            return _date(*(int(g) for g in match.groups()))
    match = _WAREKI.match(text)
    if match is None:
        return None
    era = _ERA_LETTERS.get(match.group(1), match.group(1))
    start, first_year = ERAS[era]
    year = 1 if match.group(2) == "元" else int(match.group(2))
    found = _date(first_year + year - 1, int(match.group(3)), int(match.group(4)))
    return found if found is not None and found >= start else None


def iso_date(text: str) -> str | None:
    """:func:`parse_date` as an ISO string (2026-04-01), or None."""
    found = parse_date(text)
    return found.isoformat() if found else None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
