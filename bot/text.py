"""One Japanese text normalization, shared by the NLU pipeline and the FAQ ranking.

Residents type full-width digits (０９０), half-width kana (ｼﾞｭｳﾐﾝﾋｮｳ), ideographic spaces and
mixed scripts. :func:`normalize` folds these with NFKC, lower-cases ASCII and folds whitespace.
:func:`analyze` runs SudachiPy over the normalized text but reports every token's offsets in the
ORIGINAL text, so that entity spans taken from it stay correct.

The Sudachi dictionary is loaded lazily on first use (never at import time) and cached per process.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Iterable

#: Sudachi split modes by name: A (shortest units), B (middle), C (named entities, longest).
SPLIT_MODES = ("A", "B", "C")

# --- Sudachi parts of speech (the one home of these sets; pos[0] unless said otherwise) -----------------
#: Parts of speech whose normalized forms carry meaning for matching and ranking.
CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "副詞", "接頭辞", "形状詞"})
#: Punctuation and white space (skipped by the NLU tokenizer when asked to).
PUNCTUATION_POS = frozenset({"補助記号", "空白"})
#: Punctuation, white space and symbols: never part of a word that is matched or ranked.
SYMBOL_POS = PUNCTUATION_POS | {"記号"}
#: Particles and auxiliaries plus :data:`SYMBOL_POS`: words that carry no topic of their own.
FUNCTION_POS = SYMBOL_POS | {"助詞", "助動詞"}
#: Words a matched phrase never starts with (:data:`FUNCTION_POS` and suffixes).
NO_START_POS = FUNCTION_POS | {"接尾辞"}
#: pos[2] of counters (人, 枚, 回), read after a numeral.
COUNTER_POS = frozenset({"助数詞", "助数詞可能"})
#: pos[2] of a person's name (姓, 名).
PERSON_NAME_POS = "人名"

# Sudachi refuses very long inputs; analyse long texts in chunks cut at sentence ends.
_MAX_CHUNK = 2000
_CHUNK_BREAK = re.compile(r"[。！？!?\n]")

# Characters that NFKC may compose with the character before them.
_COMBINING_EXTRA = frozenset({"\uff9e", "\uff9f", "\u3099", "\u309a"})


@dataclass(frozen=True)
class Morph:
    """One token of Japanese text.

    Attributes:
        surface: the token as written in the original text.
        lemma: Sudachi's normalized form (引越し -> 引っ越し, 手つづき -> 手続き).
        reading: katakana reading (Sudachi's reading form).
        pos: Sudachi part-of-speech tuple.
        start: start offset in the original text.
        end: end offset (exclusive) in the original text.
    """

    surface: str
    lemma: str
    reading: str
    pos: tuple[str, ...]
    start: int
    end: int


def _clusters(text: str) -> Iterable[tuple[int, int]]:
    """Yields (start, end) spans of characters that NFKC must see together."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or text[j] in _COMBINING_EXTRA):
            j += 1
        yield i, j
        i = j


def _fold_char(ch: str) -> str:
    if ch.isspace():
        return " "
    if "A" <= ch <= "Z":
        return ch.lower()
    return ch


def normalize_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """Normalizes text and keeps, for every output character, its span in the input.

    Returns:
        ``(normalized, starts, ends)`` where ``normalized[i]`` came from ``text[starts[i]:ends[i]]``.
        A span of normalized text ``[i, j)`` maps back to ``text[starts[i]:ends[j - 1]]``.
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for start, end in _clusters(text):
        for ch in unicodedata.normalize("NFKC", text[start:end]):
            ch = _fold_char(ch)
            if ch == " " and (not out or out[-1] == " "):
                continue  # fold runs of whitespace, drop leading whitespace
            out.append(ch)
            starts.append(start)
            ends.append(end)
    while out and out[-1] == " ":
        out.pop()
        starts.pop()
        ends.pop()
    return "".join(out), starts, ends


def normalize(text: str) -> str:
    """NFKC + width folding + ASCII lower-casing + whitespace folding; kana and kanji are kept."""
    return normalize_with_offsets(text)[0]


_lock = threading.Lock()


@functools.cache
def _dictionary(dict_name: str, user_dicts: tuple[str, ...]):
    from sudachipy import Dictionary  # imported lazily: loading the dictionary takes time

    config = {"userDict": list(user_dicts)} if user_dicts else None
    if config:
        import json

        return Dictionary(dict=dict_name, config=json.dumps(config))
    return Dictionary(dict=dict_name)


#: The calling thread's tokenizers (see :func:`get_tokenizer`).
_per_thread = threading.local()


def get_tokenizer(mode: str = "C", dict_name: str = "core", user_dicts: tuple[str, ...] = ()):
    """Returns a cached SudachiPy tokenizer for a split mode ("A", "B" or "C"), one per thread.

    A Sudachi tokenizer may not be used by two threads at once (SudachiPy 0.7 raises "Tokenizer is
    already in use"), and the servers tokenize on several: the understanding thread (the NLU, the
    crisis checks), the event loop (ふりがな), the store threads (log masking). The dictionary itself is
    loaded once and shared."""
    from sudachipy import SplitMode

    if mode not in SPLIT_MODES:
        raise ValueError(f"unknown Sudachi split mode {mode!r}; use one of {SPLIT_MODES}")
    mine = getattr(_per_thread, "tokenizers", None)
    if mine is None:
        mine = _per_thread.tokenizers = {}
    key = (mode, dict_name, user_dicts)
    if key not in mine:
        with _lock:
            dictionary = _dictionary(dict_name, user_dicts)
        mine[key] = dictionary.create(mode=getattr(SplitMode, mode))
    return mine[key]


def chunks(text: str, max_chars: int = _MAX_CHUNK) -> Iterable[tuple[int, str]]:
    """Cuts text into ``(offset, piece)`` pairs Sudachi accepts, at sentence ends where possible."""
    pos = 0
    while pos < len(text):
        end = min(pos + max_chars, len(text))
        if end < len(text):
            breaks = [m.end() for m in _CHUNK_BREAK.finditer(text, pos, end)]
            if breaks:
                end = breaks[-1]
        yield pos, text[pos:end]
        pos = end


def analyze(text: str, mode: str = "C", tokenizer=None) -> list[Morph]:
    """Tokenizes text with SudachiPy; offsets refer to the ORIGINAL text.

    Args:
        text: the text as the resident wrote it.
        mode: Sudachi split mode ("A", "B" or "C").
        tokenizer: a SudachiPy tokenizer to use instead of the cached one (e.g. with a user dictionary).
    """
    norm, starts, ends = normalize_with_offsets(text)
    if not norm:
        return []
    tok = tokenizer or get_tokenizer(mode)
    morphs: list[Morph] = []
    for offset, chunk in chunks(norm):
        for m in tok.tokenize(chunk):
            b, e = offset + m.begin(), offset + m.end()
            if b == e or not m.surface().strip():
                continue
            start, end = starts[b], ends[e - 1]
            morphs.append(
                Morph(
                    surface=text[start:end],
                    lemma=m.normalized_form(),
                    reading=m.reading_form(),
                    pos=tuple(m.part_of_speech()),
                    start=start,
                    end=end,
                )
            )
    return morphs


def is_content_pos(pos: tuple[str, ...]) -> bool:
    """Whether a Sudachi part of speech is a content word (noun, verb, adjective, adverb, prefix,
    adjectival noun; numerals excluded)."""
    return bool(pos) and pos[0] in CONTENT_POS and pos[1] != "数詞"


def is_person_name(morph: Morph) -> bool:
    """Whether Sudachi tags a word as (part of) a person's name."""
    return len(morph.pos) > 2 and morph.pos[2] == PERSON_NAME_POS


def is_content(morph: Morph) -> bool:
    """Whether a token is a content word (see :func:`is_content_pos`)."""
    return is_content_pos(morph.pos)


def content_lemmas(text: str, mode: str = "C") -> list[str]:
    """Normalized forms of the content words of a text, in order."""
    return [m.lemma for m in analyze(text, mode) if is_content(m)]


def reading(text: str, mode: str = "C") -> str:
    """Katakana reading of a text (for kana-only spellings such as じゅうみんひょう)."""
    return "".join(m.reading for m in analyze(text, mode))


def to_katakana(text: str) -> str:
    """Hiragana -> katakana, leaving everything else as it is."""
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


#: Where a message's sentences end (the crisis rules and detector judge each sentence of a longer
#: message too): 。！？, new lines and an ellipsis (「…を聞きたかったんですが…あ、今…」).
SENTENCE_END = re.compile(r"[。！？!?\n…]+|\.{3,}")


def sentences(text: str) -> list[str]:
    """The sentences of a message with more than one (else [])."""
    parts = [p.strip() for p in SENTENCE_END.split(text) if p.strip()]
    return parts if len(parts) > 1 else []


_KANA_WORD = re.compile(r"^[\u3041-\u309f\u30a0-\u30ffー]+$")


def spaced_kana_words(text: str) -> tuple[tuple[int, str], ...]:
    """The kana words of a message written with spaces between its words (ぜいきん が はらえません,
    じゅうみんひょう を とりたい です), as ``(offset in the normalized text, word)``; () when the
    normalized text has no space or no word of two or more kana. A resident who spaces kana tells where
    each word ends, which Sudachi cannot see in a run of kana (ぜいきん is read ぜ|いき|ん)."""
    norm = normalize(text)
    if " " not in norm:
        return ()
    out, at = [], 0
    for word in norm.split(" "):
        if len(word) >= 2 and _KANA_WORD.match(word):
            out.append((at, word))
        at += len(word) + 1
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def lemma_reading(lemma: str) -> str:
    """A dictionary form as its katakana reading (なくす and 無くす are both ナクス; 税金 ゼイキン)."""
    return "".join(m.reading for m in analyze(lemma, "A")) or to_katakana(lemma)


_KATAKANA_WORD = re.compile(r"^[\u30a1-\u30faー]+$")
_HAS_KATAKANA = re.compile(r"[\u30a1-\u30faー]")


def to_hiragana(text: str) -> str:
    """Katakana -> hiragana, leaving everything else as it is."""
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


def kana_reading(text: str) -> str:
    """The text as a resident writing kana only would type it: each word in hiragana (a word written in
    katakana stays so), a space before each word that follows a particle or an auxiliary
    (税金が払えません → ぜいきんが はらえません). Symbols, digits without a reading and letters stay as
    written."""
    out: list[str] = []
    after_function = True
    for m in analyze(text, "C"):
        if m.pos[0] in SYMBOL_POS:
            out.append(m.surface)
            after_function = True
            continue
        if _KATAKANA_WORD.match(m.surface) or not _HAS_KATAKANA.search(m.reading or ""):
            word = m.surface
        else:
            word = to_hiragana(m.reading)
        function = m.pos[0] in NO_START_POS
        if out and not function and after_function and not out[-1].endswith(" "):
            out.append(" ")
        out.append(word)
        after_function = function
    return "".join(out).strip()


_HIRAGANA = re.compile(r"[\u3041-\u3096]")
_NOT_KANA_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆a-z]")


def is_kana_only(text: str) -> bool:
    """Whether a message is written in kana alone (hiragana, perhaps katakana words, digits and
    punctuation; no kanji, no letters), as foreign and elderly residents often type
    (ぜいきんがはらえません)."""
    norm = normalize(text)
    return bool(_HIRAGANA.search(norm)) and not _NOT_KANA_ONLY.search(norm)
