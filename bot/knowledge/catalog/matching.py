"""Finding which catalog phrase (procedure alias, life-event trigger) a resident's words refer to.

Every phrase is compared with the resident's text in four ways, strongest first:

1. surface: the normalized phrase occurs in the normalized text (住民票 in 住民票取りたい);
2. reading: its katakana reading occurs in the text's reading (じゅうみんひょう, ｼﾞｭｳﾐﾝﾋｮｳ), starting
   where a word of the text starts, and not at a particle, auxiliary or suffix: なくなった does not match
   inside いらなくなった (いら|なく|なっ|た), where なく is an auxiliary. A phrase with kanji needs a
   reading of at least 6 kana for this (亡くなった reads like 無くなった);
3. lemmas: the phrase's lemmas (Sudachi mode A, particles left out, weighted by rarity) occur in the
   text's lemmas, whatever the inflection or word order (原付を廃車 / 原付の廃車); the rarest one must;
4. fuzzy reading: the whole text reads almost like the phrase (a typo such as じゅうみんひょ).

A match scores ``kind weight × (0.6 + 0.4 × coverage)``, where coverage is the phrase's share of the
text's content words; so when two phrases occur in the same text, the longer, more specific one wins.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Iterable, Mapping

from bot.text import (
    FUNCTION_POS,
    NO_START_POS,
    Morph,
    analyze,
    is_content,
    lemma_reading,
    normalize,
    spaced_kana_words,
    to_katakana,
)

SURFACE_WEIGHT = 1.0
READING_WEIGHT = 0.95
LEMMA_WEIGHT = 0.95
FUZZY_WEIGHT = 0.7

#: Readings shorter than this are too ambiguous to match inside other words (e.g. ゼイ).
MIN_READING_LEN = 3
#: A phrase with kanji matches by reading only when its reading is at least this long: short readings
#: have homophones (亡くなった / 無くなった ナクナッタ); kana spellings residents use are listed as aliases.
MIN_KANJI_READING_LEN = 6
#: Share of a phrase's (rarity-weighted) lemmas the text must contain.
MIN_LEMMA_SHARE = 0.75
#: Fuzzy matching (a mistyped alias): shortest phrase reading, and how similar the whole text must be.
MIN_FUZZY_LEN = 5
MIN_FUZZY_SIMILARITY = 0.85
#: ... and how many characters, counted on both sides, may differ (one wrong, missing or extra kana).
MAX_FUZZY_DIFFERENCE = 2

# Parts of speech, and light verbs, that carry no topic for lemma matching.
_FUNCTION_POS = FUNCTION_POS
_LIGHT_LEMMAS = frozenset({"為る", "居る", "有る", "成る", "言う", "思う", "下さる"})
#: Particles kept as lemmas because they give a direction: 市外から (moving in) is not 市外に (moving out).
_DIRECTION_PARTICLES = frozenset({"から"})
# A phrase written only in hiragana: Sudachi's split of it is guesswork, so only its reading is used.
#: Shortest particle-free reading compared as a whole (shorter ones collide inside other words).
MIN_BARE_LEN = 6
# Left out of the "bare" reading: particles, auxiliaries (ます, た) and symbols, which residents add,
# drop or conjugate freely.
_BARE_SKIPPED_POS = FUNCTION_POS
_HIRAGANA_ONLY = re.compile(r"^[\u3041-\u309fー]+$")
#: A reading match may not start at these parts of speech (なく in いらなくなった, 内 in 市内) — unless
#: the phrase reads at least this long: then it may start at any word, since Sudachi splits all-kana text
#: (romaji read as kana) at guesses and tags a word's first kana as a particle (ひっこすので|てん|しゅ|つと
#: |どけ: テンシュツトドケ starts at 「てん」, read as a particle). Six kana, as :data:`MIN_BARE_LEN` and
#: :data:`MIN_KANJI_READING_LEN`: the blocked examples (ナクナッタ, ナイ) are shorter.
LOOSE_START_LEN = 6
_NO_START_POS = NO_START_POS


def _all_kana(text: str) -> bool:
    """Whether a text is written in kana only (symbols and digits aside)."""
    return all("\u3041" <= c <= "\u30ff" or not c.isalpha() for c in text)


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

    @functools.cached_property
    def kana_only(self) -> bool:
        """Whether the phrase is written in kana only (asked of every phrase for every text: kept)."""
        return _all_kana(self.norm)

    @functools.cached_property
    def kana_forms(self) -> frozenset[str]:
        """A kana phrase's reading and its spelling in katakana, as compared with a text's readings."""
        return frozenset({self.kana, fold(self.norm)})


@dataclass(frozen=True)
class Reading:
    """A katakana form of the text and the offsets where a reading match may start."""

    kana: str
    starts: frozenset[int]
    #: offsets where a word ends (for matches that must end with a word).
    ends: frozenset[int] = frozenset()
    #: offsets where any word starts, a particle's too (for readings of :data:`LOOSE_START_LEN`); a
    #: superset of ``starts``.
    words: frozenset[int] = frozenset()

    def contains(self, kana: str, whole_words: bool = False) -> bool:
        """Whether ``kana`` occurs starting at an allowed offset (and, if asked, ending where a word ends)."""
        starts = self.words if len(kana) >= LOOSE_START_LEN and self.words else self.starts
        at = self.kana.find(kana)
        while at >= 0:
            if at in starts and (not whole_words or at + len(kana) in self.ends):
                return True
            at = self.kana.find(kana, at + 1)
        return False


@dataclass(frozen=True)
class Query:
    """A resident's text, analysed once per call (``size``: reading length of its content words)."""

    norm: str
    kanas: tuple[str, ...]
    lemmas: frozenset[str]
    size: int
    bare: str = ""
    #: the readings of ``kanas`` with their allowed start offsets (word starts).
    readings: tuple[Reading, ...] = ()
    bare_reading: Reading | None = None
    #: readings of the words of a text written in kana with spaces between its words (see
    #: :func:`_spaced_kana_keys`); a phrase's lemma is found in such a text by its reading too.
    kana_keys: frozenset[str] = frozenset()
    #: of those, the readings of whole spaced words (ゼイキン), the only ones a phrase's rarest lemma is
    #: found by: なくしました gives the key ナクス, which must not find 亡くす (亡くした, a death).
    kana_words: frozenset[str] = frozenset()

    @functools.cached_property
    def kana_only_kanas(self) -> tuple[str, ...]:
        """The readings written in kana only (the ones a fuzzy match is tried against)."""
        return tuple(k for k in self.kanas if _all_kana(k))


def _meaningful(morph: Morph) -> bool:
    if morph.pos[:2] == ("助詞", "格助詞") and morph.lemma in _DIRECTION_PARTICLES:
        return True
    return bool(morph.pos) and morph.pos[0] not in _FUNCTION_POS and morph.lemma not in _LIGHT_LEMMAS


def _modal_ikenai(morphs: list[Morph], i: int) -> bool:
    """Whether 行く is the modal いけない / いけません written in kana (出さなきゃいけない: "must", not "go").

    Other auxiliary uses of verbs are kept: 引っ越してきた / 出ていく carry the direction of a move.
    """
    m = morphs[i]
    following = morphs[i + 1].lemma if i + 1 < len(morphs) else ""
    return m.lemma == "行く" and m.surface in ("いけ", "いか") and following in ("ない", "ず", "ます")


def _reading_and_lemmas(text: str) -> tuple[str, frozenset[str], int, str]:
    """Katakana reading (mode C), lemmas of non-function words (mode A, modal いけない left out),
    reading length of content words, and the reading without particles and symbols."""
    morphs = analyze(text, "C")
    kana = "".join(m.reading for m in morphs)
    bare = "".join(m.reading for m in morphs if m.pos and m.pos[0] not in _BARE_SKIPPED_POS)
    size = sum(len(m.reading) for m in morphs if is_content(m))
    short = analyze(text, "A")
    lemmas = frozenset(m.lemma for i, m in enumerate(short) if _meaningful(m) and not _modal_ikenai(short, i))
    return kana, lemmas, size, bare


def has_verb(text: str) -> bool:
    """Whether a phrase contains a verb (引っ越してきた, 実家に戻る; not 市外から)."""
    return any(m.pos and m.pos[0] == "動詞" for m in analyze(text, "C"))


def analyse_phrase(text: str) -> Phrase:
    """Analyses one alias or trigger."""
    norm = normalize(text).replace(" ", "")
    kana, lemmas, size, bare = _reading_and_lemmas(text)
    if _HIRAGANA_ONLY.match(norm):
        lemmas = frozenset()
    return Phrase(
        text=text, norm=norm, kana=kana, lemmas=lemmas, size=size or len(kana) or len(norm), bare=bare
    )


def _word_starts(parts: list[tuple[str, bool]]) -> Reading:
    """Joins (kana, may start a match) pieces into a :class:`Reading`."""
    kana, starts, ends, words, at = [], set(), set(), set(), 0
    for piece, may_start in parts:
        if may_start:
            starts.add(at)
        words.add(at)
        kana.append(piece)
        at += len(piece)
        ends.add(at)
    return Reading("".join(kana), frozenset(starts), frozenset(ends), frozenset(words))


def _query_readings(text: str) -> tuple[tuple[Reading, ...], Reading]:
    """The text's readings (Sudachi's, and the literal kana of its words) and its particle-free reading."""
    morphs = analyze(text, "C")
    starts = [bool(m.pos) and m.pos[0] not in _NO_START_POS for m in morphs]
    if morphs:
        starts[0] = True
    by_reading = _word_starts([(m.reading, s) for m, s in zip(morphs, starts, strict=True)])
    literal = _word_starts([(fold(m.surface), s) for m, s in zip(morphs, starts, strict=True)])
    bare = _word_starts(
        [
            (m.reading, s)
            for m, s in zip(morphs, starts, strict=True)
            if m.pos and m.pos[0] not in _BARE_SKIPPED_POS
        ]
    )
    readings = tuple({r.kana: r for r in (by_reading, literal) if r.kana}.values())
    return readings, bare


#: Shortest reading of a spaced kana word compared with a phrase's lemmas (ハ, テ: too many words).
MIN_KEY_LEN = 2


def _spaced_kana_keys(text: str) -> tuple[frozenset[str], frozenset[str], Reading | None]:
    """For a text written in kana with spaces between its words (ぜいきん が はらえません): the words'
    readings (ゼイキン; without a one-kana particle written onto them, ぜいきんが; and the dictionary forms
    Sudachi finds in them, はらえません: ハラウ), the readings of the whole words alone, and its katakana
    with matches allowed to start at every word the resident spaced. Sudachi splits a run of kana at
    guesses (ぜ|いき|ん), so a phrase's lemmas (税金, 払う) are looked for among these readings as well.
    Empty for a text without such spacing."""
    words = spaced_kana_words(text)
    if not words:
        return frozenset(), frozenset(), None
    keys: set[str] = set()
    whole: set[str] = set()
    for _at, word in words:
        whole.add(to_katakana(word))
        morphs = analyze(word, "A")
        if len(morphs) > 1 and morphs[-1].pos[0] == "助詞" and len(morphs[-1].surface) == 1:
            whole.add(to_katakana(word[: -len(morphs[-1].surface)]))
        keys.update(lemma_reading(m.lemma) for m in morphs if _meaningful(m))
    spaced = [(fold(w), True) for w in normalize(text).split(" ") if w]
    whole = {k for k in whole if len(k) >= MIN_KEY_LEN}
    return (
        frozenset(whole | {k for k in keys if len(k) >= MIN_KEY_LEN}),
        frozenset(whole),
        _word_starts(spaced),
    )


def analyse_query(text: str) -> Query:
    """Analyses a resident's text."""
    norm = normalize(text).replace(" ", "")
    kana, lemmas, size, bare = _reading_and_lemmas(text)
    kanas = tuple(dict.fromkeys(k for k in (kana, to_katakana(norm)) if k))
    readings, bare_reading = _query_readings(text)
    kana_keys, kana_words, spaced = _spaced_kana_keys(text)
    if spaced is not None and spaced.kana:
        readings = (*readings, spaced)
    return Query(
        norm=norm,
        kanas=kanas,
        lemmas=lemmas,
        size=max(size, 1) if norm else 0,
        bare=bare,
        readings=readings,
        bare_reading=bare_reading,
        kana_keys=kana_keys,
        kana_words=kana_words,
    )


def _similarity(kana: str, target: str) -> float:
    """How alike two readings are as a whole (0..1); 0 when they differ by more than a typo."""
    if abs(len(kana) - len(target)) > MAX_FUZZY_DIFFERENCE:
        return 0.0  # cheap early exit: lengths alone differ by more than a typo
    matcher = SequenceMatcher(None, kana, target, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    if len(kana) + len(target) - 2 * same > MAX_FUZZY_DIFFERENCE:
        return 0.0
    return 2 * same / (len(kana) + len(target))


#: Texts whose :meth:`PhraseIndex.best_phrases` an index remembers. One turn matches the same message
#: 2-4 times (the decision, the resolution, its explanation); scoring every phrase was 87% of the action
#: server's busy time at 20 users (py-spy, bench/README.md, Load). 64 covers the turns under way.
RECENT_TEXTS = 64
#: Also: what a phrase's score needs that does not depend on the text (is it all kana, its katakana
#: spelling, its rarest lemma and the weight of its lemmas) is worked out once per phrase, not once per
#: phrase and text: with varied texts at 20 users these were most of the matcher's own time (py-spy,
#: action server: ``_all_kana``, its generator and ``_lemma_share`` 33% of the busy samples; bench/README.md,
#: Load, third run).


@dataclass(frozen=True)
class PhraseIndex:
    """Analysed phrases grouped by key (procedure id, life event id …), with lemma rarity weights."""

    phrases: Mapping[str, tuple[Phrase, ...]]
    idf: Mapping[str, float]
    _recent: OrderedDict = field(default_factory=OrderedDict, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

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
        """For each matching key, its best score and the phrase that gave it (to explain a match).

        The results of the last :data:`RECENT_TEXTS` texts are remembered (the index never changes).
        """
        with self._lock:
            found = self._recent.get(text)
            if found is not None:
                self._recent.move_to_end(text)
                return dict(found)
        found = self._best_phrases(text)
        with self._lock:
            self._recent[text] = found
            while len(self._recent) > RECENT_TEXTS:
                self._recent.popitem(last=False)
        return dict(found)

    def _best_phrases(self, text: str) -> dict[str, tuple[float, str]]:
        query = analyse_query(text)
        if not query.norm:
            return {}
        result: dict[str, tuple[float, str]] = {}
        for key, items in self.phrases.items():
            best = max(((self.score(p, query), p.text) for p in items), default=(0.0, ""))
            if best[0] > 0:
                result[key] = best
        return result

    @functools.cached_property
    def _lemma_weights(self) -> dict[int, tuple[str, float]]:
        """Per phrase (by identity: the index holds them): its rarest lemma and its lemmas' total weight."""
        out = {}
        for items in self.phrases.values():
            for phrase in items:
                if phrase.lemmas:
                    rarest = max(phrase.lemmas, key=lambda lemma: (self.idf.get(lemma, 1.0), lemma))
                    out[id(phrase)] = (rarest, sum(self.idf.get(lemma, 1.0) for lemma in phrase.lemmas))
        return out

    def score(self, phrase: Phrase, query: Query) -> float:
        """How well one phrase matches a query, 0..1."""
        size = phrase.size

        def scaled(weight: float, covered: float) -> float:
            return weight * (0.6 + 0.4 * min(1.0, covered / query.size))

        best = 0.0
        if phrase.norm and not phrase.kana_only and phrase.norm in query.norm:
            # (kana-only phrases are compared below, where a match must start at a word)
            best = scaled(SURFACE_WEIGHT, size)
        elif self._reading_found(phrase, query):
            best = scaled(READING_WEIGHT, size)
        elif (  # whole words only: 引っ越してき(た) is not 引っ越し|決まった
            len(phrase.bare) >= MIN_BARE_LEN
            and query.bare_reading is not None
            and query.bare_reading.contains(phrase.bare, whole_words=True)
        ):
            # the same words with a particle added or dropped (マイナカードなくした / マイナカードをなくした)
            best = scaled(READING_WEIGHT, size)
        if best:
            return best
        share = self._lemma_share(phrase, query)
        if share >= MIN_LEMMA_SHARE:
            best = scaled(LEMMA_WEIGHT * share, size * share)
        if len(phrase.kana) >= MIN_FUZZY_LEN:
            # only against all-kana readings: オ金ガナクナッタ is one "typo" away from オヤガナクナッタ
            fuzzy = max((_similarity(phrase.kana, k) for k in query.kana_only_kanas), default=0.0)
            if fuzzy >= MIN_FUZZY_SIMILARITY:
                best = max(best, scaled(FUZZY_WEIGHT * fuzzy, size * fuzzy))
        return best

    @staticmethod
    def _reading_found(phrase: Phrase, query: Query) -> bool:
        """Whether the phrase's reading (or, for a kana phrase, its spelling) starts at a word of the text."""
        if phrase.kana_only:
            forms = phrase.kana_forms
            return any(len(f) >= MIN_READING_LEN and r.contains(f) for f in forms for r in query.readings)
        if len(phrase.kana) < MIN_KANJI_READING_LEN:
            return False
        return any(r.contains(phrase.kana) for r in query.readings)

    def _lemma_share(self, phrase: Phrase, query: Query) -> float:
        """Rarity-weighted share of the phrase's lemmas in the text; 0 unless its rarest lemma is there."""
        if not phrase.lemmas:
            return 0.0
        known = self._lemma_weights.get(id(phrase))
        if known is None:  # a phrase from outside the index
            rarest = max(phrase.lemmas, key=lambda lemma: (self.idf.get(lemma, 1.0), lemma))
            total = sum(self.idf.get(lemma, 1.0) for lemma in phrase.lemmas)
        else:
            rarest, total = known
        found = phrase.lemmas & query.lemmas
        if query.kana_keys:  # spaced kana (ぜいきん が はらえません): a lemma is also found by its reading
            found |= {lemma for lemma in phrase.lemmas if lemma_reading(lemma) in query.kana_keys}
            if rarest not in query.lemmas and lemma_reading(rarest) not in query.kana_words:
                return 0.0  # the rarest one only as a word the resident spaced (ゼイキン, not ナクス)
        if rarest not in found:
            return 0.0
        hit = sum(self.idf.get(lemma, 1.0) for lemma in found)
        return hit / total if total else 0.0
