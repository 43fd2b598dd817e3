"""Masks residents' personal data before anything is logged or kept.

:func:`mask` replaces phone numbers, e-mail addresses, postal codes, long number runs (My Number,
card numbers), names after self-introduction phrases and street addresses with placeholder tokens.
Detection runs over :func:`bot.text.normalize` output (so ``０９０ー…`` and ``090-…`` look alike) and
the replacements are applied to the ORIGINAL text through the offset map, so the rest of the
sentence is kept exactly as the resident wrote it.

Phrases that introduce a name (名前は…, 氏名：…, …と申します) always mask what they introduce; the looser
forms (私は…です, 氏名… without a separator) are masked when Sudachi tags a person's name there, or
when the tokenizer fails (masking fails closed). Every self-introduction the callback form takes a name
from (:mod:`bot.names`: 「山田です」「私は山田」「山田太郎、090-…」) is masked too. Every pattern has
bounded repetition, so the time is linear in the text length.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

from bot.names import introduced_spans
from bot.text import analyze, is_person_name, normalize_with_offsets

PHONE = "[電話番号]"
EMAIL = "[メール]"
POSTAL = "[郵便番号]"
NUMBER = "[番号]"
NAME = "[氏名]"
ADDRESS = "[住所]"

# Dash look-alikes that survive NFKC (ー is the katakana long vowel mark people type for hyphens).
_DASH_CHARS = "\\-\u2010-\u2015\u2212\u30fc\uff70~\u301c"
_D = f"[{_DASH_CHARS}]"
# Between phone number groups: up to three of space, dash, dot, parenthesis.
_PSEP = rf"[\s().{_DASH_CHARS}]{{0,3}}"
_KANJI_NUM = "一二三四五六七八九十〇"
_NUM = rf"[0-9{_KANJI_NUM}]{{1,6}}"
# Letters of a place name before a block number (kanji, katakana; hiragana would eat particles).
_PLACE = r"[\u30a1-\u30fa\u30fc\u3005\u4e00-\u9fff]"
# Letters a name is written with (kana, kanji, the ・ between foreign given and family names).
_KANA_KANJI = r"[\u3041-\u3096\u30a1-\u30fc\u3005\u4e00-\u9fff]"

# Quantifiers are bounded everywhere so that no input makes a pattern quadratic.
_EMAIL_RE = re.compile(r"[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}")
# 0 + area code, or +81 with an optional (0); then one to three more digit groups.
_PHONE_RE = re.compile(
    rf"(?<![0-9])(?:\+\s?81{_PSEP}(?:0\)?)?{_PSEP}|\(?0)[0-9]{{0,4}}(?:{_PSEP}[0-9]{{1,4}}){{1,3}}(?![0-9])"
)
_POSTAL_RE = re.compile(rf"〒\s?[0-9]{{3}}{_D}?[0-9]{{4}}|(?<![0-9])[0-9]{{3}}{_D}[0-9]{{4}}(?!{_D}?[0-9])")
_LONG_NUMBER_RE = re.compile(r"(?<![0-9])(?:[0-9]{4}(?:[\s-]?[0-9]{4}){2,3}|[0-9]{12,})(?![0-9])")
_ADDRESS_RE = re.compile(
    rf"(?:{_NUM}\s?丁目(?:\s?{_NUM}\s?(?:番地?|{_D}))?(?:\s?{_NUM}\s?(?:号|{_D}{_NUM})?)?"
    rf"|{_NUM}\s?番地(?:\s?の?\s?{_NUM}\s?号?)?"
    rf"|{_NUM}\s?番\s?{_NUM}\s?号"
    rf"|(?<=[町村丁字])\s?[0-9]{{1,6}}(?:{_D}[0-9]{{1,6}}){{1,3}}(?:\s?号)?)"
    rf"(?:\s?[0-9]{{1,6}}\s?号室)?"
)
_PLACE_BEFORE_RE = re.compile(rf"{_PLACE}{{1,16}}$")
# Names: "名前は山田太郎です", "氏名：山田 太郎", "山田と申します", "私は山田です".
_NAME = rf"({_KANA_KANJI}{{1,10}}?(?:\s{_KANA_KANJI}{{1,8}}?)?)"
_NAME_END = r"(?=です|でござ|で(?:$|[、。\s])|と(?:申|もう|いい|言)|[。、,.!?\s]|$)"
_NAME_AFTER_RE = re.compile(rf"(?:お?名前|なまえ|氏名)(?:\s?(?:は|:)\s?|\s){_NAME}{_NAME_END}")
_NAME_BARE_RE = re.compile(rf"氏名{_NAME}{_NAME_END}")  # "氏名山田太郎", but not "氏名変更の届け"
_I_AM = r"(?:私|わたし|わたくし|僕|ぼく|俺)(?:は|、)\s?"
_NAME_BEFORE_RE = re.compile(
    rf"(?<!{_KANA_KANJI})(?:{_I_AM})?{_NAME}(?=と(?:申します|もうします|いいます|言います))"
)
_I_AM_RE = re.compile(rf"{_I_AM}{_NAME}(?=です|でございます)")

_sudachi_lock = threading.Lock()


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    token: str


def _address_spans(norm: str) -> Iterator[tuple[int, int]]:
    """Yields block-number spans widened to the place name written just before them."""
    for match in _ADDRESS_RE.finditer(norm):
        before = _PLACE_BEFORE_RE.search(norm, max(0, match.start() - 16), match.start())
        yield (before.start() if before else match.start()), match.end()


def _looks_like_person(candidate: str) -> bool:
    """True when Sudachi sees a person's name, or when it cannot tell (masking fails closed)."""
    try:
        with _sudachi_lock:
            morphs = analyze(candidate)
    except Exception:  # noqa: BLE001 - any tokenizer failure must still hide the text
        return True
    return any(is_person_name(m) for m in morphs)


def _group_spans(pattern: re.Pattern[str], norm: str, keep: Callable[[str], bool] | None = None):
    for match in pattern.finditer(norm):
        if match.group(1) and (keep is None or keep(match.group(1))):
            yield match.start(1), match.end(1)


def _find(norm: str) -> list[_Span]:
    found: list[_Span] = []
    found += [_Span(m.start(), m.end(), EMAIL) for m in _EMAIL_RE.finditer(norm)]
    found += [_Span(*_balanced(m), PHONE) for m in _PHONE_RE.finditer(norm) if _is_phone(m.group())]
    found += [_Span(m.start(), m.end(), NUMBER) for m in _LONG_NUMBER_RE.finditer(norm)]
    found += [_Span(m.start(), m.end(), POSTAL) for m in _POSTAL_RE.finditer(norm)]
    found += [_Span(s, e, ADDRESS) for s, e in _address_spans(norm)]
    found += [_Span(s, e, NAME) for s, e in _group_spans(_NAME_AFTER_RE, norm)]
    found += [_Span(s, e, NAME) for s, e in _group_spans(_NAME_BARE_RE, norm, _looks_like_person)]
    found += [_Span(s, e, NAME) for s, e in _group_spans(_NAME_BEFORE_RE, norm)]
    found += [_Span(s, e, NAME) for s, e in _group_spans(_I_AM_RE, norm, _looks_like_person)]
    found += [_Span(s, e, NAME) for s, e in _introduced(norm)]
    return found


def _introduced(norm: str) -> list[tuple[int, int]]:
    """Names the writer introduces themself with (:mod:`bot.names`, the callback form's own rule)."""
    try:
        with _sudachi_lock:
            return introduced_spans(norm)
    except Exception:  # noqa: BLE001 - the regular expressions above still apply
        logging.getLogger(__name__).warning("privacy: name detection unavailable")
        return []


def _is_phone(candidate: str) -> bool:
    digits = re.sub(r"[^0-9]", "", candidate)
    if candidate.lstrip().startswith("+"):
        return 10 <= len(digits) <= 13
    return digits.startswith("0") and 10 <= len(digits) <= 11


def _balanced(match: re.Match[str]) -> tuple[int, int]:
    """Leaves out an opening parenthesis whose closing one is outside the match: "(0120-000-000)"."""
    text, start = match.group(), match.start()
    if text.startswith("(") and text.count("(") > text.count(")"):
        start += 1
    return start, match.end()


def _merge(spans: list[_Span]) -> list[_Span]:
    """Keeps the earliest-listed detector's span where spans overlap; returns them in text order."""
    starts: list[int] = []
    chosen: list[_Span] = []
    for span in spans:
        i = bisect.bisect_left(starts, span.start)
        if i > 0 and chosen[i - 1].end > span.start:
            continue
        if i < len(chosen) and chosen[i].start < span.end:
            continue
        starts.insert(i, span.start)
        chosen.insert(i, span)
    return chosen


def mask(text: str) -> str:
    """Replaces personal data in ``text`` with placeholder tokens.

    Args:
        text: any text a resident wrote (chat message, free-text field, log message).

    Returns:
        The same text with ``[電話番号]``, ``[メール]``, ``[郵便番号]``, ``[番号]``, ``[氏名]`` and ``[住所]``
        in place of what they stand for. Text without personal data is returned unchanged.
    """
    if not text:
        return text
    norm, starts, ends = normalize_with_offsets(text)
    spans = _merge(_find(norm))
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for span in spans:
        begin, finish = starts[span.start], ends[span.end - 1]
        out.append(text[pos:begin])
        out.append(span.token)
        pos = finish
    out.append(text[pos:])
    return "".join(out)


class PiiSafeFilter(logging.Filter):
    """A logging filter that masks the message, its arguments and any traceback text.

    The formatted message replaces ``record.msg`` and ``record.args`` is cleared, so that handlers and
    formatters further down never see the raw values. The record is always let through.
    """

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging API name
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not leak the arguments
            message = f"{record.msg} {record.args!r}"
        record.msg = mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def install_log_masking(logger: logging.Logger | None = None) -> int:
    """Attaches one :class:`PiiSafeFilter` to every handler of ``logger`` (root by default).

    Filters on handlers see records propagated from every child logger (Rasa, aiohttp, ours).
    Calling it again does not add a second filter.

    Returns:
        How many handlers received the filter on this call.
    """
    target = logger or logging.getLogger()
    added = 0
    for handler in target.handlers:
        if not any(isinstance(f, PiiSafeFilter) for f in handler.filters):
            handler.addFilter(PiiSafeFilter())
            added += 1
    return added
