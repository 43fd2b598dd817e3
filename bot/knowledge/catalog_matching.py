"""Finding which catalog phrase (procedure alias, life-event trigger) a resident's words refer to.

Every phrase is compared with the resident's text in four ways, strongest first:

1. surface: the normalized phrase occurs in the normalized text (住民票 in 住民票取りたい);
2. reading: its katakana reading occurs in the text's reading (じゅうみんひょう, ｼﾞｭｳﾐﾝﾋｮｳ);
3. lemmas: the phrase's lemmas (Sudachi mode A, particles left out, weighted by rarity) occur in the
   text's lemmas, whatever the inflection or word order (原付を廃車 / 原付の廃車); the rarest one must;
4. fuzzy reading: the whole text reads almost like the phrase (a typo such as じゅうみんひょ).

A match scores ``kind weight × (0.6 + 0.4 × coverage)``, where coverage is the phrase's share of the
text's content words; so when two phrases occur in the same text, the longer, more specific one wins.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Iterable, Mapping

from bot.text import Morph, analyze, is_content, normalize, to_katakana

SURFACE_WEIGHT = 1.0
READING_WEIGHT = 0.95
LEMMA_WEIGHT = 0.95
FUZZY_WEIGHT = 0.7

#: Readings shorter than this are too ambiguous to match inside other words (e.g. ゼイ).
MIN_READING_LEN = 3
#: Share of a phrase's (rarity-weighted) lemmas the text must contain.
MIN_LEMMA_SHARE = 0.75
#: Fuzzy matching (a mistyped alias): shortest phrase reading, and how similar the whole text must be.
MIN_FUZZY_LEN = 5
MIN_FUZZY_SIMILARITY = 0.85
#: ... and how many characters, counted on both sides, may differ (one wrong, missing or extra kana).
MAX_FUZZY_DIFFERENCE = 2

# Parts of speech, and light verbs, that carry no topic for lemma matching.
_FUNCTION_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})
_LIGHT_LEMMAS = frozenset({"為る", "居る", "有る", "成る", "言う", "思う", "下さる"})
# A phrase written only in hiragana: Sudachi's split of it is guesswork, so only its reading is used.
#: Shortest particle-free reading compared as a whole (shorter ones collide inside other words).
MIN_BARE_LEN = 6
# Left out of the "bare" reading: particles, auxiliaries (ます, た) and symbols, which residents add,
# drop or conjugate freely.
_BARE_SKIPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})
_HIRAGANA_ONLY = re.compile(r"^[\u3041-\u309fー]+$")


def fold(text: str) -> str:
    """The form two phrases are compared in: normalized, katakana, without spaces."""
    return to_katakana(normalize(text)).replace(" ", "")


@dataclass(frozen=True)
class Phrase:
    """A phrase from the data, analysed once (``size``: reading length of its content words)."""

    text: str
    norm: str
    kana: str
    lemmas: frozenset[str]
    size: int
    #: the reading without particles and symbols: マイナカードなくした ~ マイナカードをなくした
    bare: str = ""


@dataclass(frozen=True)
class Query:
    """A resident's text, analysed once per call (``size``: reading length of its content words)."""

    norm: str
    kanas: tuple[str, ...]
    lemmas: frozenset[str]
    size: int
    bare: str = ""


def _meaningful(morph: Morph) -> bool:
    return bool(morph.pos) and morph.pos[0] not in _FUNCTION_POS and morph.lemma not in _LIGHT_LEMMAS


def _reading_and_lemmas(text: str) -> tuple[str, frozenset[str], int, str]:
    """Katakana reading (mode C), lemmas of non-function words (mode A), reading length of content words,
    and the reading without particles and symbols."""
    morphs = analyze(text, "C")
    kana = "".join(m.reading for m in morphs)
    bare = "".join(m.reading for m in morphs if m.pos and m.pos[0] not in _BARE_SKIPPED_POS)
    size = sum(len(m.reading) for m in morphs if is_content(m))
    lemmas = frozenset(m.lemma for m in analyze(text, "A") if _meaningful(m))
    return kana, lemmas, size, bare


def analyse_phrase(text: str) -> Phrase:
    """Analyses one alias or trigger."""
    norm = normalize(text).replace(" ", "")
    kana, lemmas, size, bare = _reading_and_lemmas(text)
    if _HIRAGANA_ONLY.match(norm):
        lemmas = frozenset()
    return Phrase(
        text=text, norm=norm, kana=kana, lemmas=lemmas, size=size or len(kana) or len(norm), bare=bare
    )


def analyse_query(text: str) -> Query:
    """Analyses a resident's text."""
    norm = normalize(text).replace(" ", "")
    kana, lemmas, size, bare = _reading_and_lemmas(text)
    kanas = tuple(dict.fromkeys(k for k in (kana, to_katakana(norm)) if k))
    return Query(norm=norm, kanas=kanas, lemmas=lemmas, size=max(size, 1) if norm else 0, bare=bare)


def _similarity(kana: str, target: str) -> float:
    """How alike two readings are as a whole (0..1); 0 when they differ by more than a typo."""
    if abs(len(kana) - len(target)) > MAX_FUZZY_DIFFERENCE:
        return 0.0  # cheap early exit: lengths alone differ by more than a typo
    matcher = SequenceMatcher(None, kana, target, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    if len(kana) + len(target) - 2 * same > MAX_FUZZY_DIFFERENCE:
        return 0.0
    return 2 * same / (len(kana) + len(target))


@dataclass(frozen=True)
class PhraseIndex:
    """Analysed phrases grouped by key (procedure id, life event id …), with lemma rarity weights."""

    phrases: Mapping[str, tuple[Phrase, ...]]
    idf: Mapping[str, float]

    @classmethod
    def build(cls, phrases: Mapping[str, Iterable[str]]) -> PhraseIndex:
        """Analyses every phrase; a lemma found under fewer keys weighs more."""
        analysed = {
            key: tuple(analyse_phrase(t) for t in dict.fromkeys(texts)) for key, texts in phrases.items()
        }
        df: Counter[str] = Counter()
        for items in analysed.values():
            df.update(set().union(*(p.lemmas for p in items)) if items else set())
        n = max(len(analysed), 1)
        idf = {lemma: math.log(1 + n / count) for lemma, count in df.items()}
        return cls(analysed, idf)

    def scores(self, text: str) -> dict[str, float]:
        """The best score (0..1) of each key's phrases against a text; keys that do not match are left out."""
        return {key: score for key, (score, _) in self.best_phrases(text).items()}

    def best_phrases(self, text: str) -> dict[str, tuple[float, str]]:
        """For each matching key, its best score and the phrase that gave it (to explain a match)."""
        query = analyse_query(text)
        if not query.norm:
            return {}
        result: dict[str, tuple[float, str]] = {}
        for key, items in self.phrases.items():
            best = max(((self.score(p, query), p.text) for p in items), default=(0.0, ""))
            if best[0] > 0:
                result[key] = best
        return result

    def score(self, phrase: Phrase, query: Query) -> float:
        """How well one phrase matches a query, 0..1."""
        size = phrase.size

        def scaled(weight: float, covered: float) -> float:
            return weight * (0.6 + 0.4 * min(1.0, covered / query.size))

        best = 0.0
        if phrase.norm and phrase.norm in query.norm:
            best = scaled(SURFACE_WEIGHT, size)
        elif len(phrase.kana) >= MIN_READING_LEN and any(phrase.kana in k for k in query.kanas):
            best = scaled(READING_WEIGHT, size)
        elif len(phrase.bare) >= MIN_BARE_LEN and phrase.bare in query.bare:
            # the same words with a particle added or dropped (マイナカードなくした / マイナカードをなくした)
            best = scaled(READING_WEIGHT, size)
        if best:
            return best
        share = self._lemma_share(phrase, query)
        if share >= MIN_LEMMA_SHARE:
            best = scaled(LEMMA_WEIGHT * share, size * share)
        if len(phrase.kana) >= MIN_FUZZY_LEN:
            fuzzy = max(_similarity(phrase.kana, k) for k in query.kanas)
            if fuzzy >= MIN_FUZZY_SIMILARITY:
                best = max(best, scaled(FUZZY_WEIGHT * fuzzy, size * fuzzy))
        return best

    def _lemma_share(self, phrase: Phrase, query: Query) -> float:
        """Rarity-weighted share of the phrase's lemmas in the text; 0 unless its rarest lemma is there."""
        if not phrase.lemmas:
            return 0.0
        rarest = max(phrase.lemmas, key=lambda lemma: (self.idf.get(lemma, 1.0), lemma))
        if rarest not in query.lemmas:
            return 0.0
        total = sum(self.idf.get(lemma, 1.0) for lemma in phrase.lemmas)
        hit = sum(self.idf.get(lemma, 1.0) for lemma in phrase.lemmas & query.lemmas)
        return hit / total if total else 0.0
