"""ふりがな (reading aids) for bot answers, computed from Sudachi reading forms.

The web widget shows these as ``<ruby>`` when a resident turns ふりがな on. :func:`segments` cuts a text
into ``[surface, reading_or_None]`` pairs whose surfaces, joined, give back the text exactly. Only
pieces containing kanji get a reading, in hiragana, and okurigana are left outside the ruby::

    segments("住民票の写しを取りたい")
    # [["住民票", "じゅうみんひょう"], ["の", None], ["写", "うつ"], ["し", None], ["を", None],
    #  ["取", "と"], ["りたい", None]]

Sudachi reads each word on its own, so a counter after an Arabic numeral (30分, 1階, 10日) would get a
reading that ignores sound changes (ふん for ぷん). Such counters get no reading: no ruby is better than a
wrong one.
"""

from __future__ import annotations

import re
from typing import Iterable

from bot.text import COUNTER_POS, Morph, analyze

#: A ``[surface, reading]`` pair; ``reading`` is hiragana, or None when no ruby is needed.
Segment = list[str | None]  # [surface, reading]: a list, not a tuple, as it is sent in JSON

_KANJI = "\u3005\u3006\u3007\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_KANJI = re.compile(f"[{_KANJI}]")
_KANJI_RUN = re.compile(f"[{_KANJI}]+")
_KANA_READING = re.compile("^[\u3041-\u3096\u30fc]+$")
_COUNTER_POS = COUNTER_POS


def to_hiragana(text: str) -> str:
    """Katakana -> hiragana (ァ..ヶ), leaving everything else (ー, kanji, ASCII) as it is."""
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


def has_kanji(text: str) -> bool:
    """Whether a text contains a kanji (including 々 and 〆)."""
    return bool(_HAS_KANJI.search(text))


def align(surface: str, reading: str) -> list[Segment]:
    """Splits one word into kanji runs with their readings and kana without.

    The kana of the surface (okurigana, and kana between kanji as in 引っ越し) are matched literally
    against the reading; each kanji run takes what lies between them.

    Args:
        surface: the word as written (e.g. 取り).
        reading: its reading in hiragana (e.g. とり).

    Returns:
        Segments covering ``surface``; the whole word with the whole reading when the kana cannot be
        aligned, and ``[[surface, None]]`` when the word has no kanji.
    """
    if not has_kanji(surface):
        return [[surface, None]]
    parts = [p for p in re.split(f"([{_KANJI}]+)", surface) if p]
    pattern = "".join("(.+?)" if _KANJI_RUN.fullmatch(p) else re.escape(to_hiragana(p)) for p in parts)
    match = re.fullmatch(pattern, reading)
    if not match:
        return [[surface, reading]]
    out: list[Segment] = []
    groups = iter(match.groups())
    for part in parts:
        out.append([part, next(groups)] if _KANJI_RUN.fullmatch(part) else [part, None])
    return out


def _reading_for(morph: Morph, previous: Morph | None) -> str | None:
    """The hiragana reading to show for a token, or None when it should get no ruby."""
    if not has_kanji(morph.surface):
        return None
    reading = to_hiragana(morph.reading)
    if not _KANA_READING.match(reading):
        return None  # unknown words: Sudachi gives no usable reading
    after_numeral = previous is not None and previous.end == morph.start and previous.surface.isdigit()
    if after_numeral and len(morph.pos) > 2 and morph.pos[2] in _COUNTER_POS:
        return None
    return reading


def _merge_plain(segs: Iterable[Segment]) -> list[Segment]:
    """Joins neighbouring segments that have no reading, so the output stays short."""
    out: list[Segment] = []
    for surface, reading in segs:
        if not surface:
            continue
        if reading is None and out and out[-1][1] is None:
            out[-1][0] += surface
        else:
            out.append([surface, reading])
    return out


def segments(text: str) -> list[Segment]:
    """Cuts a text into ``[surface, hiragana_reading_or_None]`` pairs for ruby rendering.

    The surfaces, joined, are exactly ``text`` (whitespace and symbols included).
    """
    if not text:
        return []
    raw: list[Segment] = []
    pos = 0
    previous: Morph | None = None
    for morph in analyze(text):
        if morph.start < pos:  # never overlap (defensive: offsets map to the original text)
            continue
        if morph.start > pos:
            raw.append([text[pos : morph.start], None])
        reading = _reading_for(morph, previous)
        raw.extend(align(morph.surface, reading) if reading else [[morph.surface, None]])
        pos = morph.end
        previous = morph
    if pos < len(text):
        raw.append([text[pos:], None])
    return _merge_plain(raw)
