"""Turns FAQ text and residents' questions into the token fields the FAQ ranking matches on.

One Sudachi pass (split mode C) gives, per text:

- ``lem``: normalized forms of content words in split mode A (short units: 個人 / 番号 / カード);
- ``cmp``: normalized forms of content words in split mode C (compounds: 個人番号カード);
- ``syn``: Sudachi synonym group ids of those words (``s21989`` for both マイナンバーカード and
  個人番号カード), read from the ``sudachidict_core`` lexicon: synonym expansion without another package;
- ``chr``: character bigrams of the normalized text (catches words Sudachi splits differently);
- ``kana``: katakana-reading trigrams (so that じゅうみんひょう meets 住民票);
- ``grp``: the city's word groups found in the text (``data/synonyms``, see ``rank_synonyms``).

Words that carry no topic in questions (する, ある, 教える, 知る, 方法 …) are dropped from the word fields
when ``stop=True``; BM25's idf already discounts them in answers, but in short questions they dominate.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Collection, Iterable

from bot.knowledge.faq.rank_synonyms import SynonymMatcher
from bot.text import SYMBOL_POS, chunks, get_tokenizer, is_content_pos, normalize

#: Field names, in the order the index keeps them.
FIELDS = ("lem", "cmp", "syn", "grp", "chr", "kana")

#: Normalized forms that say how a resident asks, not what about (質問文の定型表現).
STOP_LEMMAS = frozenset(
    {
        "する", "ある", "居る", "成る", "出来る", "為る", "有る", "在る", "行う", "言う", "思う", "考える",
        "教える", "知る", "分かる", "聞く", "尋ねる", "伺う", "頂く", "下さる", "貰う", "呉れる",
        "欲しい", "良い", "宜しい", "無い", "どう", "如何", "何", "何処", "どの", "どんな",
        "方法", "仕方", "場合", "事", "物", "為", "時", "所", "様", "方", "際", "件", "等", "について",
        "ください", "いい", "よい", "もう", "少し", "又", "また", "是非", "是非とも", "なる", "いる",
    }
)  # fmt: skip

_MAX_CHUNK = 1000
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc]+")
_SKIP_POS = SYMBOL_POS


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LN"


def char_ngrams(text: str, n: int = 2) -> list[str]:
    """Character n-grams of the letter/digit runs of already normalized text."""
    grams: list[str] = []
    run: list[str] = []
    for ch in text + " ":
        if _is_word_char(ch):
            run.append(ch)
            continue
        if len(run) >= n:
            grams.extend("".join(run[i : i + n]) for i in range(len(run) - n + 1))
        elif run:
            grams.append("".join(run))
        run = []
    return grams


def kana_ngrams(readings: Iterable[str], n: int = 3) -> list[str]:
    """Katakana n-grams over consecutive readings (runs break where a reading is None)."""
    grams: list[str] = []
    run: list[str] = []

    def flush() -> None:
        text = "".join(run)
        for piece in _KATAKANA.findall(text):
            if len(piece) >= n:
                grams.extend(piece[i : i + n] for i in range(len(piece) - n + 1))
            elif len(piece) >= 2:
                grams.append(piece)
        run.clear()

    for r in readings:
        if r is None:
            flush()
        else:
            run.append(r)
    flush()
    return grams


def analyze_fields(
    text: str,
    stop: bool = True,
    synonyms: SynonymMatcher | None = None,
    kinds: Collection[str] = FIELDS,
) -> dict[str, list[str]]:
    """Analyses one text into the ranking fields (see the module docstring).

    Args:
        text: FAQ question, paraphrase, answer or a resident's question, as written.
        stop: drop :data:`STOP_LEMMAS` and dependent (非自立可能) words from the word fields.
        synonyms: the city's word groups for the ``grp`` field (none when None).
        kinds: the fields wanted; the others stay empty (saves time when building an index).

    Returns:
        Mapping of every name in :data:`FIELDS` to its tokens (possibly empty lists).
    """
    from sudachipy import SplitMode

    norm = normalize(text)
    fields: dict[str, list[str]] = {name: [] for name in FIELDS}
    if not norm:
        return fields
    tokenizer = get_tokenizer("C")
    readings: list[str | None] = []
    for _, chunk in chunks(norm, _MAX_CHUNK):
        for m in tokenizer.tokenize(chunk):
            pos = tuple(m.part_of_speech())
            if pos[0] in _SKIP_POS:
                readings.append(None)
                continue
            readings.append(m.reading_form())
            if not is_content_pos(pos):
                continue
            _add_word(fields, m, pos, stop, SplitMode.A)
    if "chr" in kinds:
        fields["chr"] = char_ngrams(norm, 2)
    if "kana" in kinds:
        fields["kana"] = kana_ngrams(readings, 3)
    if synonyms is not None and "grp" in kinds:
        fields["grp"] = synonyms.tokens(norm, normalized=True)
    return fields


def _kept(lemma: str, pos: tuple[str, ...], stop: bool) -> bool:
    if not stop:
        return True
    return lemma not in STOP_LEMMAS and pos[1] != "非自立可能"


def _add_word(fields: dict[str, list[str]], m, pos: tuple[str, ...], stop: bool, mode_a) -> None:
    """Adds one mode-C content word and its mode-A parts to the word fields."""
    lemma = m.normalized_form()
    kept = _kept(lemma, pos, stop)
    if kept:
        fields["cmp"].append(lemma)
        fields["syn"].extend(f"s{gid}" for gid in m.synonym_group_ids())
    parts = m.split(mode_a)  # empty when the word is a single mode-A unit
    if not parts:
        if kept:
            fields["lem"].append(lemma)
        return
    for part in parts:
        ppos = tuple(part.part_of_speech())
        plemma = part.normalized_form()
        if is_content_pos(ppos) and _kept(plemma, ppos, stop):
            fields["lem"].append(plemma)
            fields["syn"].extend(f"s{gid}" for gid in part.synonym_group_ids())
