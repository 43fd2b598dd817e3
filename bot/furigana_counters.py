"""Readings of counters after an Arabic numeral (30分, 3階, 14日), kept in ``data/furigana/counters.yml``.

Sudachi reads a counter on its own (分 = ふん), not as it sounds after the number (30分 = さんじゅっぷん).
The number itself never gets ruby; the counter's kanji get the reading they have after that number:
``numbers`` (by the whole number) before ``endings`` (by the last digit, 0 for 10, 20, 100 …) before
``reading``. A few numbers are read with their counter as one word (1人 = ひとり, 20日 = はつか): those are
``words``, whose ruby covers the number and the counter; ``dates`` are such words only right after a
month (4月1日 = ついたち, but 1日3回 = いちにち).

The file is read once per process, on first use, and validated (errors name the counter).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.files import read_yaml

_HIRAGANA = re.compile("^[\u3041-\u3096\u30fc]+$")
_KEYS = frozenset({"reading", "endings", "numbers", "words", "dates"})


class CountersError(ValueError):
    """The counters file is malformed; the message names the counter."""


@dataclass(frozen=True)
class Counter:
    """How one counter is read after a number."""

    reading: str
    endings: dict[int, str] = field(default_factory=dict)
    numbers: dict[int, str] = field(default_factory=dict)
    words: dict[int, str] = field(default_factory=dict)
    dates: dict[int, str] = field(default_factory=dict)

    def after(self, number: int, date: bool = False) -> tuple[str, bool]:
        """``(reading, whole)``: the reading after ``number``, and whether it covers the number too.

        ``date``: the number follows a month (4月1日 = ついたち, but 1日3回 = いちにち).
        """
        if date and number in self.dates:
            return self.dates[number], True
        if number in self.words:
            return self.words[number], True
        if number in self.numbers:
            return self.numbers[number], False
        return self.endings.get(number % 10, self.reading), False


def _readings(value: Any, where: str, name: str) -> dict[int, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CountersError(f"{where}: '{name}' must map numbers to readings")
    out = {}
    for number, reading in value.items():
        if not isinstance(number, int) or number < 0 or (name == "endings" and number > 9):
            limit = " 0-9" if name == "endings" else ""
            raise CountersError(f"{where}: '{name}' key {number!r} must be a number{limit}")
        if not isinstance(reading, str) or not _HIRAGANA.match(reading):
            raise CountersError(f"{where}: '{name}' {number}: reading must be hiragana, got {reading!r}")
        out[number] = reading
    return out


@dataclass(frozen=True)
class Counters:
    """All counters by surface, and the prefixes written before a number in the same word (第)."""

    counters: dict[str, Counter] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)


def parse(raw: Any, source: str) -> Counters:
    """Builds and validates the counters from their plain data form (as in the YAML file)."""
    counters = raw.get("counters") if isinstance(raw, dict) else None
    if not isinstance(counters, dict) or set(raw) - {"counters", "prefixes"}:
        raise CountersError(
            f"{source}: expected a mapping 'counters' of counter -> readings (and 'prefixes')"
        )
    return Counters(_counters(counters, source), _prefixes(raw.get("prefixes"), source))


def _prefixes(raw: Any, source: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CountersError(f"{source}: 'prefixes' must map a prefix to its reading")
    for prefix, reading in raw.items():
        if not isinstance(reading, str) or not _HIRAGANA.match(reading):
            raise CountersError(f"{source}: prefixes: {prefix}: reading must be hiragana, got {reading!r}")
    return {str(k): v for k, v in raw.items()}


def _counters(counters: dict, source: str) -> dict[str, Counter]:
    out = {}
    for surface, entry in counters.items():
        where = f"{source}: counters: {surface}"
        if not isinstance(entry, dict) or set(entry) - _KEYS:
            raise CountersError(f"{where}: expected a mapping with keys among {sorted(_KEYS)}")
        reading = entry.get("reading")
        if not isinstance(reading, str) or not _HIRAGANA.match(reading):
            raise CountersError(f"{where}: 'reading' must be hiragana, got {reading!r}")
        out[str(surface)] = Counter(
            reading,
            *(_readings(entry.get(key), where, key) for key in ("endings", "numbers", "words", "dates")),
        )
    return out


def load(path: Path) -> Counters:
    """Reads and validates a counters file.

    Raises:
        CountersError: naming the counter when the file is malformed or missing.
    """
    return parse(read_yaml(path, CountersError, "the ふりがな counters file is missing"), str(path))


@functools.cache
def cached(path: Path) -> Counters:
    """:func:`load`, once per process and path."""
    return load(path)
