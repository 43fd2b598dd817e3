"""Business hours: weekdays, extra Saturday/Thursday openings, national holidays and the year-end break."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.hours import JST, HoursError, OfficeHours, closes_at, is_closed_day, is_open, next_opening, to_jst

CITY = OfficeHours.from_mapping({"weekdays": {"open": "8:30", "close": "17:15"}})
SHIMIN = OfficeHours.from_mapping(
    {
        "weekdays": {"open": "8:30", "close": "17:15"},
        "extra": [
            {"weekday": "thu", "open": "17:15", "close": "19:00"},
            {"weekday": "sat", "weeks": [2, 4], "open": "9:00", "close": "12:00", "note": "x"},
        ],
    }
)


def jst(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=JST)


@pytest.mark.parametrize(
    ("hours", "moment", "expected"),
    [
        (CITY, jst(2026, 11, 24, 10), True),  # Tuesday
        (CITY, jst(2026, 11, 24, 8, 29), False),  # before opening
        (CITY, jst(2026, 11, 24, 8, 30), True),  # opening minute
        (CITY, jst(2026, 11, 24, 17, 15), False),  # closing minute is closed
        (CITY, jst(2026, 11, 23, 10), False),  # 勤労感謝の日 (Monday)
        (CITY, jst(2026, 5, 6, 10), False),  # 振替休日
        (CITY, jst(2026, 9, 22, 10), False),  # 国民の休日
        (CITY, jst(2026, 12, 28, 10), True),  # last working day of the year
        (CITY, jst(2026, 12, 29, 10), False),  # year-end break (Tuesday)
        (CITY, jst(2027, 1, 2, 10), False),  # year-end break (Saturday)
        (CITY, jst(2027, 1, 4, 10), True),  # first working day
        (CITY, jst(2026, 12, 12, 10), False),  # 2nd Saturday: the city in general is closed
        (SHIMIN, jst(2026, 12, 12, 10), True),  # 2nd Saturday morning: 市民課 is open
        (SHIMIN, jst(2026, 12, 12, 12), False),  # ... until noon
        (SHIMIN, jst(2026, 12, 26, 9), True),  # 4th Saturday
        (SHIMIN, jst(2026, 12, 19, 10), False),  # 3rd Saturday
        (SHIMIN, jst(2026, 12, 5, 10), False),  # 1st Saturday
        (SHIMIN, jst(2026, 12, 13, 10), False),  # Sunday
        (SHIMIN, jst(2030, 2, 23, 10), False),  # 4th Saturday that is 天皇誕生日
        (SHIMIN, jst(2026, 11, 26, 18), True),  # Thursday evening counter
        (CITY, jst(2026, 11, 26, 18), False),
        (SHIMIN, jst(2026, 11, 27, 18), False),  # Friday evening
    ],
)
def test_is_open(hours: OfficeHours, moment: datetime, expected: bool) -> None:
    assert is_open(hours, moment) is expected


@pytest.mark.parametrize(
    ("hours", "moment", "expected"),
    [
        (CITY, jst(2026, 11, 23, 10), jst(2026, 11, 24, 8, 30)),  # holiday -> next day
        (CITY, jst(2026, 11, 24, 10), jst(2026, 11, 24, 10)),  # open now -> now
        (CITY, jst(2026, 11, 24, 7), jst(2026, 11, 24, 8, 30)),  # early morning -> same day
        (CITY, jst(2026, 11, 27, 17, 15), jst(2026, 11, 30, 8, 30)),  # Friday close -> Monday
        (CITY, jst(2026, 12, 28, 17, 30), jst(2027, 1, 4, 8, 30)),  # over the year-end break
        (CITY, jst(2027, 1, 2, 10), jst(2027, 1, 4, 8, 30)),
        (SHIMIN, jst(2026, 12, 25, 18), jst(2026, 12, 26, 9)),  # Friday evening -> 4th Saturday
        (SHIMIN, jst(2026, 12, 12, 12), jst(2026, 12, 14, 8, 30)),  # Saturday noon -> Monday
        (SHIMIN, jst(2026, 11, 26, 17, 15), jst(2026, 11, 26, 17, 15)),  # Thursday: no gap at 17:15
        (SHIMIN, jst(2026, 11, 26, 19), jst(2026, 11, 27, 8, 30)),
        (SHIMIN, jst(2030, 2, 22, 18), jst(2030, 2, 25, 8, 30)),  # skips the holiday Saturday
    ],
)
def test_next_opening(hours: OfficeHours, moment: datetime, expected: datetime) -> None:
    assert next_opening(hours, moment) == expected


def test_times_in_other_zones_are_converted_to_japan_time() -> None:
    utc_midnight = datetime(2026, 11, 24, 0, 0, tzinfo=timezone.utc)  # 09:00 in Japan
    assert is_open(CITY, utc_midnight)
    assert to_jst(utc_midnight).hour == 9
    late_utc = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # 18:00 in Japan
    assert not is_open(CITY, late_utc)
    assert next_opening(CITY, late_utc) == jst(2026, 11, 25, 8, 30)
    assert next_opening(CITY, late_utc).utcoffset() == timedelta(hours=9)


def test_naive_times_are_taken_as_japan_time() -> None:
    assert is_open(CITY, datetime(2026, 11, 24, 9, 0))
    assert not is_open(CITY, datetime(2026, 11, 23, 9, 0))


def test_closes_at() -> None:
    assert closes_at(SHIMIN, jst(2026, 12, 12, 10)) == jst(2026, 12, 12, 12)
    assert closes_at(CITY, jst(2026, 11, 24, 10)) == jst(2026, 11, 24, 17, 15)
    assert closes_at(CITY, jst(2026, 11, 23, 10)) is None


def test_closed_days() -> None:
    assert is_closed_day(jst(2026, 11, 23).date())
    assert is_closed_day(jst(2026, 12, 31).date())
    assert is_closed_day(jst(2027, 1, 3).date())
    assert not is_closed_day(jst(2027, 1, 4).date())
    assert not is_closed_day(jst(2026, 11, 24).date())


def test_never_open_hours_raise() -> None:
    with pytest.raises(ValueError, match="no opening"):
        next_opening(OfficeHours(weekdays=None), jst(2026, 11, 24, 10))


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"weekdays": {"open": "17:00", "close": "9:00"}}, "hours.weekdays", "before close"),
        ({"weekdays": {"open": "25:00", "close": "26:00"}}, "hours.weekdays.open", "HH:MM"),
        ({"weekdays": {"open": 540, "close": "17:00"}}, "hours.weekdays.open", "HH:MM"),
        ({"weekdays": {"open": "9:00"}}, "hours.weekdays.close", "HH:MM"),
        ({}, "hours.weekdays", "missing"),
        (
            {
                "weekdays": {"open": "9:00", "close": "17:00"},
                "extra": [{"weekday": "saturday", "open": "9:00", "close": "12:00"}],
            },
            "hours.extra[0].weekday",
            "mon",
        ),
        (
            {
                "weekdays": {"open": "9:00", "close": "17:00"},
                "extra": [{"weekday": "sat", "weeks": [6], "open": "9:00", "close": "12:00"}],
            },
            "hours.extra[0].weeks",
            "1-5",
        ),
        ({"weekdays": {"open": "9:00", "close": "17:00"}, "sat": {}}, "hours", "unknown"),
    ],
)
def test_bad_hours_name_the_field(data: dict, field: str, fragment: str) -> None:
    with pytest.raises(HoursError) as info:
        OfficeHours.from_mapping(data)
    assert any(f == field and fragment in m for f, m in info.value.problems), info.value.problems


def test_the_next_weekday_window_skips_weekends_holidays_and_the_year_end():
    from datetime import date, time

    from bot.hours import next_weekday_window

    am = (time(9), time(12))
    assert next_weekday_window(CITY, *am, jst(2026, 11, 24, 10)) == date(2026, 11, 25)  # never the same day
    assert next_weekday_window(CITY, *am, jst(2026, 11, 27, 10)) == date(2026, 11, 30)  # Friday -> Monday
    assert next_weekday_window(CITY, *am, jst(2026, 11, 20, 10)) == date(2026, 11, 24)  # 11/23 勤労感謝の日
    assert next_weekday_window(CITY, *am, jst(2026, 12, 28, 16)) == date(2027, 1, 4)  # year-end break
    assert next_weekday_window(SHIMIN, *am, jst(2026, 12, 11, 10)) == date(
        2026, 12, 14
    )  # not the 2nd Saturday
    with pytest.raises(ValueError):
        next_weekday_window(CITY, time(18), time(19), jst(2026, 11, 24, 10))  # outside the weekday hours
