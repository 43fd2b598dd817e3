"""Japan time and the clock everything that needs "now" is given (tests pass a fixed one)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

#: Japan Standard Time. Japan has no daylight saving time, so a fixed UTC+9 zone is exact.
JST = timezone(timedelta(hours=9), name="JST")

#: Returns the current time, aware. Injected wherever "now" matters (stores, hours, the dialogue).
Clock = Callable[[], datetime]


def now_jst() -> datetime:
    """The current time, aware, in Japan time (the default :data:`Clock`)."""
    return datetime.now(JST)


def jst_text(value: datetime | str | None) -> str:
    """A moment as staff read it: ``2026-04-01 09:30 JST`` (ISO text and naive values are taken as UTC).

    Every time staff see (console, exports, ``madoguchi … status``) goes through this, so none shows UTC.
    """
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def version_time(version: str) -> str:
    """The JST moment a FAQ version id (``20260401T003000123456Z``, UTC) names, or the id itself."""
    try:
        moment = datetime.strptime(version.split("-")[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return version
    return jst_text(moment)
