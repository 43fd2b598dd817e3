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
