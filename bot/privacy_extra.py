"""More of residents' personal data for :func:`bot.privacy.mask`: street addresses without 丁目/番地,
and names written bare (「山田花子ですが…」, 「やまだはなこです」, 「ヤマダハナコと申します」).

Kept apart from :mod:`bot.privacy` (which owns the self-introduction cues 名前は / 私は… / …と申します)
so that both can change without stepping on each other; ``privacy._find`` adds these spans.

* Addresses: a municipality (…市/区/町/村/郡, optionally after a prefecture) directly followed by a
  block number written with dashes or の (「東京都千代田区1-2-3」「千代田区丸の内1の2」「中央町3-4-5
  201号室」). A municipality alone (「千代田区役所」) is not personal and is kept.
* Names: a run of morphemes Sudachi tags as a person's name (名詞,固有名詞,人名), written in kanji or
  kana, that is a whole name (family + given name), or a single name part in the place of a
  self-introduction (at the start of a sentence before です/でございます/と申します/といいます…, or
  before an honorific さん/様/くん/ちゃん). 「田中さんの件」 hides 田中; 「山田町の住民票」 (a place) is kept.
* Escaped text: :func:`unescape_for_masking` turns ``\\uXXXX`` escapes (JSON log lines, e.g. Rasa's
  structlog output) back into characters so the masker can see them.

Every pattern has bounded repetition (linear time).
"""

from __future__ import annotations

import re
import threading
from typing import Iterator

from bot.text import analyze

NAME = "[氏名]"
ADDRESS = "[住所]"

_DASH = "\\-\u2010-\u2015\u2212\u30fc\uff70"
_KANJI_NUM = "一二三四五六七八九十〇"
_BLOCK = rf"[0-9{_KANJI_NUM}]{{1,5}}"
_PLACE_CHARS = r"[\u3041-\u3096\u30a1-\u30fa\u30fc\u3005\u4e00-\u9fff]"
# The municipality's own name has no hiragana (so 「住所は東京都…」 starts at 東京都); the town after it may
# (丸の内, あざみ野), and so may Hokkaido's 北1条西.
_MUNICIPALITY = (
    r"(?:[\u4e00-\u9fff]{2,4}[都道府県])?[\u30a1-\u30fa\u30fc\u3005\u4e00-\u9fff]{1,8}?[市区町村郡]"
)
_TOWN = rf"(?:{_PLACE_CHARS}|[0-9]{{1,3}}条){{0,8}}?"
_ADDRESS_RE = re.compile(
    rf"{_MUNICIPALITY}{_TOWN}\s?{_BLOCK}(?:\s?(?:[{_DASH}]|の)\s?{_BLOCK}){{1,3}}"
    rf"(?:\s?号)?(?:\s?[0-9]{{1,5}}\s?号室)?"
)

# After the name: the cue that it is a self-introduction (or an honorific: someone's name).
_INTRO_AFTER = re.compile(
    r"\s?(?:です|でござ|と(?:申|もう|いい|言)|さん|様|さま|くん|君|ちゃん|氏(?![名])|殿)"
)
# Before the name: start of the text or of a sentence, or a self-introduction opener.
_SENTENCE_START = re.compile(r"(?:^|[。、！？!?\n\s「（(]|(?:私|わたし|わたくし|僕|ぼく|俺)(?:は|、))$")
_HONORIFIC = re.compile(r"\s?(?:さん|様|さま|くん|君|ちゃん|殿)")
_MAX_NAME_CHARS = 12
_I_AM_BEFORE = re.compile(r"(?:私|わたし|わたくし|僕|ぼく|俺)(?:は|、)\s?$")
_KEEP_RE = re.compile(
    r"(?<![0-9a-z])(?:cb-[0-9]{8}-[0-9]{4,6}|[0-9]{8}t[0-9]{6,12}z(?:-[0-9]{1,4})?)(?![0-9])"
)

_sudachi_lock = threading.Lock()


def address_spans(norm: str) -> list[tuple[int, int]]:
    """Spans of street addresses with block numbers in normalized text."""
    return [(m.start(), m.end()) for m in _ADDRESS_RE.finditer(norm)]


def _is_name_part(morph) -> bool:
    return len(morph.pos) > 2 and morph.pos[2] == "人名"


def _is_proper_place(morph) -> bool:
    """松本, 松田…: Sudachi may read a family name as a place; before さん/様 it is a person."""
    return len(morph.pos) > 2 and morph.pos[1] == "固有名詞" and morph.pos[2] == "地名"


def _is_kana_noun(morph) -> bool:
    return morph.pos[0] == "名詞" and re.fullmatch(r"[\u3041-\u30fc]{2,8}", morph.surface) is not None


def _morphs(norm: str) -> list:
    try:
        with _sudachi_lock:
            return analyze(norm)
    except Exception:  # noqa: BLE001 - masking must never fail a log line; names stay to the cues
        return []


def _name_runs(morphs: list) -> Iterator[tuple[int, int, int]]:
    """(start, end, parts) of each run of person-name morphemes."""
    run: list = []
    for morph in [*morphs, None]:
        if morph is not None and _is_name_part(morph):
            run.append(morph)
            continue
        if run:
            yield run[0].start, run[-1].end, len(run)
            run = []


def name_spans(norm: str) -> list[tuple[int, int]]:
    """Spans of bare names (see the module docstring) in normalized text."""
    if not re.search(r"[\u3041-\u30fa\u4e00-\u9fff]", norm):
        return []
    morphs = _morphs(norm)
    spans = []
    for start, end, parts in _name_runs(morphs):
        if end - start > _MAX_NAME_CHARS:
            continue
        introduced = _INTRO_AFTER.match(norm, end) is not None
        at_start = _SENTENCE_START.search(norm[max(0, start - 4) : start]) is not None
        if parts >= 2 or (introduced and at_start) or _HONORIFIC.match(norm, end):
            spans.append((start, end))
    for morph in morphs:
        if _is_proper_place(morph) and _HONORIFIC.match(norm, morph.end):
            spans.append((morph.start, morph.end))
        elif _is_kana_noun(morph) and _I_AM_BEFORE.search(norm[max(0, morph.start - 5) : morph.start]):
            if _INTRO_AFTER.match(norm, morph.end):  # 「わたしはさとうです」 (さとう read as sugar)
                spans.append((morph.start, morph.end))
    return spans


def keep_spans(norm: str) -> list[tuple[int, int]]:
    """Identifiers staff need to trace a case, which look like number runs but are not personal:
    callback tickets (``CB-20261126-0001``) and FAQ version ids (``20261201T204455123456Z-2``)."""
    return [(m.start(), m.end()) for m in _KEEP_RE.finditer(norm)]


_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)
_NON_ASCII_ESCAPE = re.compile(
    r"\\u(00[89a-f][0-9a-f]|0[1-9a-f][0-9a-f]{2}|[1-9a-f][0-9a-f]{3})", re.IGNORECASE
)


def unescape_for_masking(text: str) -> str:
    """``\\u5c71\\u7530`` -> ``山田`` (non-ASCII escapes only, so JSON stays JSON); lone surrogates stay."""
    if "\\u" not in text:
        return text

    def pair(match: re.Match[str]) -> str:
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))

    def single(match: re.Match[str]) -> str:
        code = int(match.group(1), 16)
        return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)

    return _NON_ASCII_ESCAPE.sub(single, _SURROGATE_PAIR.sub(pair, text))
