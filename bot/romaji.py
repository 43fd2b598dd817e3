"""Japanese typed in romaji (``juuminhyou wo toritai``, ``mainanbaa kaado nakushita``) read as kana.

Residents without a Japanese keyboard, and some foreign residents, type Japanese in Latin letters. The
catalog matcher compares readings, so the same words in hiragana find the same procedures: this module
turns a romaji message into hiragana (Hepburn and kunrei spellings, ``nn`` / ``n'`` / a final ``n``,
doubled consonants as っ, ``-`` as ー) and says whether a message looks like romaji at all. A word of its
own ``wa`` / ``e`` / ``o`` is the particle は / へ / を; a few loanwords of the city's procedures read as
katakana (:data:`LOANWORDS`: ``mainanbaa kaado``, ``mynumber card`` → マイナンバー カード); a word that
does not read as kana (an English word inside the romaji) and numbers (``090-1234-5678``) are kept as
written, never turned into stray kana.

:func:`looks_like_romaji` is deliberately strict: only Latin letters, spaces and light punctuation, and at
least :data:`MIN_SHARE` of the words must read as kana with nothing left over (English words such as
"certificate" leave consonant clusters behind). English messages are answered by
:mod:`bot.language`, never here. Plain Python.
"""

from __future__ import annotations

import re

from bot.text import normalize

#: Share of a message's words that must convert completely for it to count as romaji.
MIN_SHARE = 0.75
#: Fewest letters: 2-letter messages ("ok", "hi") are not Japanese questions.
MIN_LETTERS = 4

_SYLLABLES = {
    # three letters
    "kya": "きゃ", "kyu": "きゅ", "kyo": "きょ", "gya": "ぎゃ", "gyu": "ぎゅ", "gyo": "ぎょ",
    "sha": "しゃ", "shu": "しゅ", "sho": "しょ", "shi": "し", "chi": "ち", "cha": "ちゃ", "chu": "ちゅ",
    "cho": "ちょ", "che": "ちぇ", "tsu": "つ", "nya": "にゃ", "nyu": "にゅ", "nyo": "にょ", "hya": "ひゃ",
    "hyu": "ひゅ", "hyo": "ひょ", "mya": "みゃ", "myu": "みゅ", "myo": "みょ", "rya": "りゃ", "ryu": "りゅ",
    "ryo": "りょ", "bya": "びゃ", "byu": "びゅ", "byo": "びょ", "pya": "ぴゃ", "pyu": "ぴゅ", "pyo": "ぴょ",
    "sya": "しゃ", "syu": "しゅ", "syo": "しょ", "tya": "ちゃ", "tyu": "ちゅ", "tyo": "ちょ", "zya": "じゃ",
    "zyu": "じゅ", "zyo": "じょ", "dya": "ぢゃ", "dyu": "ぢゅ", "dyo": "ぢょ",
    # two letters
    "ka": "か", "ki": "き", "ku": "く", "ke": "け", "ko": "こ", "ga": "が", "gi": "ぎ", "gu": "ぐ",
    "ge": "げ",
    "go": "ご", "sa": "さ", "si": "し", "su": "す", "se": "せ", "so": "そ", "za": "ざ", "ji": "じ",
    "zi": "じ",
    "zu": "ず", "ze": "ぜ", "zo": "ぞ", "ja": "じゃ", "ju": "じゅ", "jo": "じょ", "je": "じぇ", "ta": "た",
    "ti": "ち", "tu": "つ", "te": "て", "to": "と", "da": "だ", "di": "ぢ", "du": "づ", "de": "で",
    "do": "ど",
    "na": "な", "ni": "に", "nu": "ぬ", "ne": "ね", "no": "の", "ha": "は", "hi": "ひ", "fu": "ふ",
    "hu": "ふ",
    "he": "へ", "ho": "ほ", "fa": "ふぁ", "fi": "ふぃ", "fe": "ふぇ", "fo": "ふぉ", "ba": "ば", "bi": "び",
    "bu": "ぶ", "be": "べ", "bo": "ぼ", "pa": "ぱ", "pi": "ぴ", "pu": "ぷ", "pe": "ぺ", "po": "ぽ",
    "ma": "ま",
    "mi": "み", "mu": "む", "me": "め", "mo": "も", "ya": "や", "yu": "ゆ", "yo": "よ", "ra": "ら",
    "ri": "り",
    "ru": "る", "re": "れ", "ro": "ろ", "wa": "わ", "wo": "を", "vu": "ゔ", "la": "ら", "li": "り",
    "lu": "る",
    "le": "れ", "lo": "ろ",
    # one letter
    "a": "あ", "i": "い", "u": "う", "e": "え", "o": "お", "-": "ー",
}  # fmt: skip
_VOWELS = frozenset("aeiou")
_LATIN_MESSAGE = re.compile(r"^[A-Za-z0-9' \-,.!?~]+$")
#: Romaji words and the parts of the message they are made of: numbers (kept as written) and words.
_PART = re.compile(r"[0-9][0-9\-]*|[a-z'\-]+")
#: The parts of the reading: numbers, words and sentence punctuation (kept as Japanese punctuation, so that
#: a cry for help, 「たすけて！」, and the sentences of a longer message are still told apart).
_READ_PART = re.compile(r"[0-9][0-9\-]*|[a-z'\-]+|[.,!?]")
PUNCTUATION = {".": "。", ",": "、", "!": "！", "?": "？"}
#: A word of its own that is a particle: written as pronounced (wa, e, o), read as は, へ, を.
PARTICLES = {"wa": "は", "e": "へ", "o": "を", "wo": "を"}
#: Loanwords of the city's procedures, as residents type them in romaji or in English inside romaji
#: (a long vowel written ``aa`` is ー in katakana, which the syllable table cannot know).
LOANWORDS = {
    "mainanbaa": "マイナンバー", "mainambaa": "マイナンバー", "mynumber": "マイナンバー",
    "mainanba": "マイナンバー", "kaado": "カード", "card": "カード", "konbini": "コンビニ",
    "kombini": "コンビニ", "apaato": "アパート", "paato": "パート", "baito": "バイト",
}  # fmt: skip


def _word_to_kana(word: str) -> tuple[str, bool]:
    """(hiragana, converted completely) for one lower-case word."""
    out, i, complete = [], 0, True
    while i < len(word):
        c = word[i]
        if c == "n" and (i + 1 == len(word) or word[i + 1] in "n'" or word[i + 1] not in _VOWELS | {"y"}):
            out.append("ん")
            i += 2 if i + 1 < len(word) and word[i + 1] in "n'" and not _starts_syllable(word, i + 1) else 1
            continue
        if i + 1 < len(word) and c == word[i + 1] and c not in _VOWELS and c != "n" and c.isalpha():
            out.append("っ")  # a doubled consonant: kk, tt, ss, pp
            i += 1
            continue
        if c == "t" and word[i : i + 3] == "tch":
            out.append("っ")
            i += 1
            continue
        for size in (3, 2, 1):
            kana = _SYLLABLES.get(word[i : i + size])
            if kana:
                out.append(kana)
                i += size
                break
        else:
            complete = complete and c == "'"
            out.append(c if c != "'" else "")
            i += 1
    return "".join(out), complete


def _starts_syllable(word: str, i: int) -> bool:
    """Whether ``word[i:]`` starts with a syllable beginning with n (nn + a: ん + な, not ん + ん)."""
    return word[i] == "n" and i + 1 < len(word) and word[i + 1] in _VOWELS | {"y"}


def _read_word(word: str) -> str:
    """One word or number of a romaji message in kana (see the module docstring)."""
    if word[0].isdigit():
        return word
    if word in PUNCTUATION:
        return PUNCTUATION[word]
    known = PARTICLES.get(word) or LOANWORDS.get(word)
    if known:
        return known
    kana, complete = _word_to_kana(word)
    return kana if complete else f" {word} "


def to_kana(text: str) -> str:
    """The kana reading of a romaji text (words joined without spaces, ``. , ! ?`` as 。、！？; a word
    that is not romaji stays in Latin letters between spaces)."""
    parts = _READ_PART.findall(text.lower())
    return " ".join("".join(_read_word(p) for p in parts).split())


def _is_word(part: str) -> bool:
    return not part[0].isdigit()


def reads_as_kana(word: str) -> bool:
    """Whether one lower-case word reads completely as kana (``no``, ``desu``; not ``card``)."""
    return bool(word) and _word_to_kana(word)[1]


def looks_like_romaji(text: str) -> bool:
    """Whether a message is Japanese typed in Latin letters (see the module docstring)."""
    if not text or not _LATIN_MESSAGE.match(text.strip()):
        return False
    words = [p for p in _PART.findall(text.lower()) if _is_word(p)]
    if not words or sum(len(w) for w in words) < MIN_LETTERS:
        return False
    # the city's loanwords (mynumber, card, konbini) tell nothing either way: the other words decide,
    # so "card" alone is English, and "mynumber card wo nakushita" is romaji
    words = [w for w in words if w not in LOANWORDS]
    if not words:
        return False
    complete = sum(1 for w in words if _word_to_kana(w)[1])
    return complete >= MIN_SHARE * len(words)


def reading(text: str) -> str:
    """The text the Japanese turn should read: a romaji message in kana, any other message unchanged."""
    return to_kana(text) if text and looks_like_romaji(text) else text


def readings(text: str) -> tuple[str, ...]:
    """The texts the safety rules read: the normalized message, and its normalized kana reading when it is
    Japanese typed in romaji (「otto ni nagurareru」 is also read as 「おっとになぐられる」), so a caller that
    did not convert the message (the crisis desk, the language desk, a benchmark) judges it as the
    channels' Japanese turn does."""
    normalized = normalize(text)
    kana = reading(text)
    return (normalized,) if kana == text else (normalized, normalize(kana))
