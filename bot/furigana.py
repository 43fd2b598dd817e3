"""ふりがな (reading aids) for bot answers, computed from Sudachi reading forms.

The web widget shows these as ``<ruby>`` when a resident turns ふりがな on. :func:`segments` cuts a text
into ``[surface, reading_or_None]`` pairs whose surfaces, joined, give back the text exactly. Only
pieces containing kanji get a reading, in hiragana, and okurigana are left outside the ruby::

    segments("住民票の写しを取りたい")
    # [["住民票", "じゅうみんひょう"], ["の", None], ["写", "うつ"], ["し", None], ["を", None],
    #  ["取", "と"], ["りたい", None]]

Sudachi reads each word on its own. Two data files fix what that gets wrong (see
:mod:`bot.furigana_corrections` and :mod:`bot.furigana_counters`): ``data/furigana/corrections.yml``
(方 = かた after a verb and in 「〜の方」, but ほう in 「こちらの方」; 一丁目; 収集日; place names) and
``data/furigana/counters.yml`` (a counter after an Arabic numeral, read as it sounds after that number:
30分 = ぷん, 3階 = がい, 14日 = か; the number itself gets no ruby). Both are read once per process, on
first use. URLs, e-mail addresses, phone numbers and 受付番号 never get ruby; a word Sudachi cannot read
gets none either: no ruby is better than a wrong one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from pathlib import Path
from typing import Iterable

from bot import furigana_corrections, furigana_counters, settings
from bot.furigana_corrections import KANJI, Corrections, Phrase, split_reading, to_hiragana
from bot.text import COUNTER_POS, Morph, analyze

#: The corrections file under the data directory (see :mod:`bot.furigana_corrections`).
CORRECTIONS_FILE = "corrections.yml"
#: The counters file beside it (see :mod:`bot.furigana_counters`).
COUNTERS_FILE = "counters.yml"

#: A ``[surface, reading]`` pair; ``reading`` is hiragana, or None when no ruby is needed.
Segment = list[str | None]  # [surface, reading]: a list, not a tuple, as it is sent in JSON

_HAS_KANJI = re.compile(f"[{KANJI}]")
_KANA_READING = re.compile("^[\u3041-\u3096\u30fc]+$")
_COUNTER_POS = COUNTER_POS
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters that belong to the one before them: ZWJ, variation selectors, combining marks.
_MARKS = re.compile("[\u200d\ufe00-\ufe0f\U000e0100-\U000e01ef\u0300-\u036f\u3099\u309a\u20e3]+")
_ANNOTATED = re.compile(r"(.+?)([（(][^（()）]*[）)])")
_HAS_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"\d+(?:,\d{3})*")
# One token holding numbers and their counters (1番, 1万5千, 第3子): a prefix, then number+counter pairs.
_NUMBER_WORD = re.compile(r"(\D*?)((?:\d+(?:,\d{3})*\D+)+)")
_NUMBER_AND_COUNTER = re.compile(r"(\d+(?:,\d{3})*)(\D+)")
# URLs (ASCII, as the catalog writes them) and e-mail addresses: kept whole, never with ruby.
_URL = re.compile(
    r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+|[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
)


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
    pieces = split_reading(surface, reading)
    if pieces is None:
        return [[surface, reading]]
    return [[part, part_reading] for part, part_reading in pieces]


def _reading_for(morph: Morph, previous: Morph | None, fixes: Corrections) -> str | None:
    """The hiragana reading to show for a token, or None when it should get no ruby."""
    if not has_kanji(morph.surface) or _HAS_DIGIT.search(morph.surface):
        return None  # no ruby inside numbers (1番, 2026年 as one word)
    adjacent = previous is not None and previous.end == morph.start
    corrected = fixes.word_reading(morph.surface, previous.pos[0] if adjacent and previous.pos else None)
    if corrected:
        return corrected
    reading = to_hiragana(morph.reading)
    if not _KANA_READING.match(reading):
        return None  # unknown words: Sudachi gives no usable reading
    after_numeral = adjacent and previous.surface.isdigit()
    if after_numeral and len(morph.pos) > 2 and morph.pos[2] in _COUNTER_POS:
        return None
    return reading


def _word_segments(morph: Morph, previous: Morph | None, fixes: Corrections) -> list[Segment]:
    reading = _reading_for(morph, previous, fixes)
    if not reading:
        return [[morph.surface, None]]
    # Sudachi takes 「脱退（やめる）」 for a word with its reading in brackets and reads only the word.
    annotated = _ANNOTATED.fullmatch(morph.surface)
    if annotated and has_kanji(annotated.group(1)):
        return [*align(annotated.group(1), reading), [annotated.group(2), None]]
    return align(morph.surface, reading)


def _protected(text: str) -> list[tuple[int, int]]:
    """Spans that never get ruby: URLs and e-mail addresses."""
    return [m.span() for m in _URL.finditer(text)]


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in spans)


def _phrase_at(fixes: Corrections, text: str, start: int, ends: set[int]) -> Phrase | None:
    """The longest correction phrase at ``start`` that ends on a word boundary."""
    for phrase in fixes.phrases_at(text, start):
        if start + len(phrase.text) in ends:
            return phrase
    return None


def default_corrections() -> Corrections:
    """The corrections and counters under ``$MADOGUCHI_DATA/furigana/``, read once per process."""
    return _corrections_in(settings.load().data_dir / "furigana")


@functools.cache
def _corrections_in(folder: Path) -> Corrections:
    fixes = furigana_corrections.cached(folder / CORRECTIONS_FILE)
    return dataclasses.replace(fixes, counters=furigana_counters.cached(folder / COUNTERS_FILE))


def _number(digits: str) -> int:
    return int(unicodedata.normalize("NFKC", digits).replace(",", ""))


def _counter_segments(number: str, counter: str, fixes: Corrections, date: bool) -> list[Segment] | None:
    """Segments of a number and its counter (the number without ruby), or None for an unknown counter."""
    rule = fixes.counters.counters.get(counter)
    if rule is None:
        return None
    reading, whole = rule.after(_number(number), date)
    if whole:
        return [[number + counter, reading]]
    return [[number, None], *align(counter, reading)]


def _after_month(text: str, start: int) -> bool:
    """Whether the number at ``start`` follows a month (4月1日, 毎月 1日): it is then a date."""
    return text[:start].rstrip().endswith("月")


def _number_word(morph: Morph, fixes: Corrections, text: str) -> list[Segment] | None:
    """Segments of one token holding a number and a counter (1番, 8千, 第3子), if it is one."""
    match = _NUMBER_WORD.fullmatch(morph.surface)
    if not match or not has_kanji(morph.surface):
        return None
    prefix, rest = match.groups()
    out: list[Segment] = []
    if prefix:
        out.append([prefix, fixes.counters.prefixes.get(prefix)])
    for number, counter in _NUMBER_AND_COUNTER.findall(rest):
        date = not out and not prefix and _after_month(text, morph.start)
        out.extend(_counter_segments(number, counter, fixes, date) or [[number + counter, None]])
    if any(reading is None and has_kanji(surface) for surface, reading in out):
        return [[morph.surface, None]]  # a number inside a word: no ruby is better than a wrong one
    return out


def _after_number(
    morph: Morph, previous: Morph | None, raw: list[Segment], fixes: Corrections, text: str
) -> bool:
    """Adds the segments of a counter after a number token (30分; 119 番 with one space) to ``raw``."""
    if previous is None or not _NUMBER.fullmatch(previous.surface):
        return False
    gap = text[previous.end : morph.start]
    before = [[previous.surface, None]] + ([[gap, None]] if gap else [])
    if len(gap) > 1 or gap.strip() or raw[-len(before) :] != before:
        return False
    segs = _counter_segments(previous.surface, morph.surface, fixes, _after_month(text, previous.start))
    if segs is None:
        return False
    if len(segs) == 1:  # read as one word with the number (1人 = ひとり): the space goes under the ruby too
        segs = [[previous.surface + gap + morph.surface, segs[0][1]]]
    elif gap:
        segs.insert(1, [gap, None])
    raw[-len(before) :] = segs
    return True


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


def _attach_marks(segs: list[Segment]) -> list[Segment]:
    """Moves joiners, variation selectors and combining marks onto the segment before them (葛󠄀 stays)."""
    out: list[Segment] = []
    for surface, reading in segs:
        marks = _MARKS.match(surface or "")
        if marks and out:
            out[-1][0] += marks.group()
            surface = surface[marks.end() :]
        if surface:
            out.append([surface, reading])
    return out


def _restore(segs: list[Segment], text: str) -> list[Segment]:
    """Gives back the original characters (lone surrogates were replaced, one for one, to analyse)."""
    out, pos = [], 0
    for surface, reading in segs:
        out.append([text[pos : pos + len(surface)], reading])
        pos += len(surface)
    return out


def segments(text: str, corrections: Corrections | None = None) -> list[Segment]:
    """Cuts a text into ``[surface, hiragana_reading_or_None]`` pairs for ruby rendering.

    The surfaces, joined, are exactly ``text`` (whitespace, symbols, emoji and even lone surrogates
    included). URLs, e-mail addresses and numbers get no ruby; only a number read with its counter as
    one word (1人 = ひとり, 20日 = はつか) is under the ruby of that word.

    Args:
        text: a bot answer.
        corrections: readings that override Sudachi's (default: :func:`default_corrections`).
    """
    if not text:
        return []
    fixes = default_corrections() if corrections is None else corrections
    clean = _LONE_SURROGATE.sub("\ufffd", text)  # Sudachi cannot encode them; same length
    segs = _merge_plain(_attach_marks(_segments(clean, fixes)))
    return segs if clean == text else _restore(segs, text)


def _segments(text: str, fixes: Corrections) -> list[Segment]:
    """The segments of a text without lone surrogates, before plain pieces are merged."""
    morphs = analyze(text)
    ends = {m.end for m in morphs}
    protected = _protected(text)
    raw: list[Segment] = []
    pos = 0
    previous: Morph | None = None
    for morph in morphs:
        if morph.start < pos:  # inside a corrected phrase (or overlapping: offsets map to the original)
            previous = morph
            continue
        if morph.start > pos:
            raw.append([text[pos : morph.start], None])
        phrase = _phrase_at(fixes, text, morph.start, ends)
        if phrase and not _inside(morph.start, morph.start + len(phrase.text), protected):
            raw.extend([surface, reading] for surface, reading in phrase.pieces)
            pos = morph.start + len(phrase.text)
        else:
            pos = morph.end
            if _inside(morph.start, morph.end, protected):
                raw.append([morph.surface, None])
            elif not _after_number(morph, previous, raw, fixes, text):
                raw.extend(_number_word(morph, fixes, text) or _word_segments(morph, previous, fixes))
        previous = morph
    if pos < len(text):
        raw.append([text[pos:], None])
    return raw
