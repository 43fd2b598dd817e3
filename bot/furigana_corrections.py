"""Corrections to Sudachi's readings for ふりがな, kept by staff in ``data/furigana/corrections.yml``.

Sudachi reads each word from its dictionary; a few words common in municipal text need a reading
that depends on the words around them (方 is かた in 「加入する方」「お持ちの方」 but ほう in
「こちらの方が」), and a few names of the city are not in its dictionary. The file has two lists:

``phrases``
    ``{text, reading}``: wherever ``text`` occurs in an answer, starting and ending on word
    boundaries, its kanji are read as in ``reading`` (hiragana, the whole phrase). The longest phrase
    wins: 「こちらの方」 (ほう) beats 「の方」 (かた).
``words``
    ``{surface, reading, after_pos}``: a word read as ``reading`` when the word just before it has a
    part of speech in ``after_pos`` (Sudachi's first level: 動詞, 助動詞 …), e.g. 方 after 「する」;
    without ``after_pos``, always (園 = えん, never その).

Both may carry a ``note`` for the people who edit the file. The file is read once per process, on
first use (never at import time), and validated: every error names the list, the entry's number and
its text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.files import read_yaml
from bot.furigana_counters import Counters

#: Sudachi's first-level parts of speech, the values ``after_pos`` may name.
SUDACHI_POS = frozenset(
    {
        "名詞", "代名詞", "形状詞", "連体詞", "副詞", "接続詞", "感動詞", "動詞", "形容詞", "助動詞",
        "助詞", "接頭辞", "接尾辞", "記号", "補助記号", "空白",
    }
)  # fmt: skip

#: Kanji as a regex character class body: 々 〆 〇 〻, the CJK blocks and the supplementary planes (𠮷).
KANJI = "\u3005\u3006\u3007\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_KANJI_RUN = re.compile(f"[{KANJI}]+")
_HIRAGANA = re.compile("^[\u3041-\u3096\u30fc]+$")
_PHRASE_KEYS = frozenset({"text", "reading", "note"})
_WORD_KEYS = frozenset({"surface", "reading", "after_pos", "note"})


class CorrectionsError(ValueError):
    """The corrections file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Phrase:
    """A text whose kanji runs get fixed readings: ``pieces`` is ``(surface, reading_or_None)``."""

    text: str
    reading: str
    pieces: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class WordRule:
    """A word read as ``reading`` right after a word of a part of speech in ``after_pos`` (none: always)."""

    surface: str
    reading: str
    after_pos: frozenset[str]


@dataclass(frozen=True)
class Corrections:
    """All corrections, indexed for lookup while cutting a text."""

    phrases: tuple[Phrase, ...] = ()
    words: tuple[WordRule, ...] = ()
    counters: Counters = field(default_factory=Counters)
    _by_first: dict[str, tuple[Phrase, ...]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Phrase]] = {}
        for phrase in sorted(self.phrases, key=lambda p: -len(p.text)):
            index.setdefault(phrase.text[0], []).append(phrase)
        self._by_first.update({k: tuple(v) for k, v in index.items()})

    def phrases_at(self, text: str, start: int) -> tuple[Phrase, ...]:
        """Phrases that occur in ``text`` at ``start``, longest first."""
        if start >= len(text):
            return ()
        return tuple(p for p in self._by_first.get(text[start], ()) if text.startswith(p.text, start))

    def word_reading(self, surface: str, previous_pos: str | None) -> str | None:
        """The corrected reading of a word after a word of part of speech ``previous_pos``, if any."""
        for rule in self.words:
            if rule.surface == surface and (not rule.after_pos or previous_pos in rule.after_pos):
                return rule.reading
        return None


def split_reading(text: str, reading: str) -> list[tuple[str, str | None]] | None:
    """Splits ``text`` into kanji runs with their part of ``reading`` and kana without.

    Returns None when the kana of ``text`` do not all appear, in order, in ``reading``.
    """
    parts = [p for p in re.split(f"([{KANJI}]+)", text) if p]
    pattern = "".join("(.+?)" if _KANJI_RUN.fullmatch(p) else re.escape(to_hiragana(p)) for p in parts)
    match = re.fullmatch(pattern, reading)
    if not match:
        return None
    groups = iter(match.groups())
    return [(p, next(groups)) if _KANJI_RUN.fullmatch(p) else (p, None) for p in parts]


def to_hiragana(text: str) -> str:
    """Katakana -> hiragana (ァ..ヶ), leaving everything else (ー, kanji, ASCII) as it is."""
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


def parse(raw: Any, source: str) -> Corrections:
    """Builds and validates corrections from their plain data form (as in the YAML file)."""
    if raw is None:
        return Corrections()
    if not isinstance(raw, dict) or set(raw) - {"phrases", "words"}:
        raise CorrectionsError(f"{source}: expected a mapping with 'phrases' and 'words' lists")
    raw_phrases, raw_words = _list(raw, "phrases", source), _list(raw, "words", source)
    phrases = tuple(_phrase(e, f"{source}: phrases[{i}]") for i, e in enumerate(raw_phrases, 1))
    words = tuple(_word(e, f"{source}: words[{i}]") for i, e in enumerate(raw_words, 1))
    words = tuple(sorted(words, key=lambda w: not w.after_pos))  # rules with a context first
    _no_duplicates([p.text for p in phrases], f"{source}: phrases", "text")
    _no_duplicates([(w.surface, tuple(sorted(w.after_pos))) for w in words], f"{source}: words", "surface")
    return Corrections(phrases, words)


def _list(raw: dict, key: str, source: str) -> list:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise CorrectionsError(f"{source}: '{key}' must be a list")
    return value


def _entry(entry: Any, where: str, keys: frozenset[str], name_key: str) -> tuple[str, str, str]:
    if not isinstance(entry, dict):
        raise CorrectionsError(f"{where}: expected a mapping with {sorted(keys - {'note'})}")
    name = entry.get(name_key)
    where = f"{where} ({name_key}: {name})"
    unknown = set(entry) - keys
    if unknown:
        raise CorrectionsError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(keys)}")
    reading = entry.get("reading")
    if not isinstance(name, str) or not _KANJI_RUN.search(name):
        raise CorrectionsError(f"{where}: '{name_key}' must be a text containing kanji")
    # Besides hiragana, a phrase's reading repeats the text's own symbols and digits: （月） -> （げつ）
    kept = {c for c in name if not _KANJI_RUN.match(c) and not _HIRAGANA.match(to_hiragana(c))}
    if (
        not isinstance(reading, str)
        or not reading
        or not all(_HIRAGANA.match(c) or c in kept for c in reading)
    ):
        raise CorrectionsError(f"{where}: 'reading' must be hiragana only, got {reading!r}")
    return where, name, reading


def _phrase(entry: Any, where: str) -> Phrase:
    where, text, reading = _entry(entry, where, _PHRASE_KEYS, "text")
    pieces = split_reading(text, reading)
    if pieces is None:
        raise CorrectionsError(f"{where}: the kana of the text do not appear, in order, in {reading!r}")
    return Phrase(text, reading, tuple(pieces))


def _word(entry: Any, where: str) -> WordRule:
    where, surface, reading = _entry(entry, where, _WORD_KEYS, "surface")
    if not _KANJI_RUN.fullmatch(surface):
        raise CorrectionsError(f"{where}: 'surface' must be kanji only (put kana in a phrase)")
    if "after_pos" not in entry:
        return WordRule(surface, reading, frozenset())  # always
    after = entry.get("after_pos")
    if not isinstance(after, list) or not after or not all(isinstance(p, str) for p in after):
        raise CorrectionsError(f"{where}: 'after_pos' must be a non-empty list of parts of speech")
    unknown = sorted(set(after) - SUDACHI_POS)
    if unknown:
        raise CorrectionsError(f"{where}: unknown parts of speech {unknown}; use {sorted(SUDACHI_POS)}")
    return WordRule(surface, reading, frozenset(after))


def _no_duplicates(keys: list, where: str, name: str) -> None:
    seen = set()
    for index, key in enumerate(keys, 1):
        if key in seen:
            raise CorrectionsError(f"{where}[{index}]: {name} {key!r} is listed twice")
        seen.add(key)


def load(path: Path) -> Corrections:
    """Reads and validates a corrections file.

    Raises:
        CorrectionsError: naming the entry when the file is malformed, or when it is missing (a city
            that wants none keeps an empty file).
    """
    missing = "the ふりがな corrections file is missing (an empty file means none)"
    return parse(read_yaml(path, CorrectionsError, missing), str(path))


@functools.cache
def cached(path: Path) -> Corrections:
    """:func:`load`, once per process and path."""
    return load(path)
