"""What an answer to a step of a form is: a name, a time slot, 「わからない」, a question.

Plain text rules (no NLU model): the callback form takes a step's answer from the resident's own text
(Rasa's ``from_text`` mapping), so a question or 「わからない」 typed at the name step arrives here as that
step's value and must be told apart from a name.
"""

from __future__ import annotations

import re
from typing import Iterable

from bot.names import introduced_spans
from bot.phone import without_phone
from bot.text import analyze, is_person_name, normalize

MAX_NAME_LENGTH = 40

#: 「わからない」「分かりません」「わかんない」「知らない」「忘れた」「不明」「覚えてない」.
UNSURE = re.compile(
    r"(?:わか|分か|判)(?:らな|らん|りません|んな|んね)|(?:知|し)(?:らな|らん|りません)|存じ(?:ません|ない)|"
    r"忘れ|わすれ|不明|(?:覚|おぼ)えて(?:い)?(?:ない|ません)"
)
#: A question: a question mark, or a sentence ending like 「…ですか」「…ますか」「…でしょうか」「…かな」.
QUESTION = re.compile(r"[?？]|(?:です|ます|でしょう|ません|ました|の)か(?:ね)?[。.!！\s]*$|かな[。.!！\s]*$")
#: Words no one gives as their name but say at any step (「はい」, thanks, greetings).
NOT_A_NAME = re.compile(
    r"^(?:はい|ええ|うん|いいえ|ありがとう(?:ございます)?|よろしく(?:お願いします)?|こんにちは|こんばんは|"
    r"おはよう(?:ございます)?|すみません|どうも|ok|okay|yes|no)[。.!！\s]*$"
)
#: Endings of a sentence, not of a name: 「…したい」「…ください」「…ません」「…ました」「…ます」.
SENTENCE_ENDING = re.compile(r"(?:たい|ください|下さい|ません|ました|ます|ですが|けど|から)[。.!！\s]*$")
#: Around a name: 「です」「と申します」 after it, 「名前は」「私は」 before it.
_NAME_ENDINGS = re.compile(r"(です|と申します|といいます|と言います|でございます)?[。.!！ ]*$")
_NAME_PREFIXES = re.compile(r"^(名前は|なまえは|私は|わたしは|氏名は)")
#: Separators left beside a name when a phone number is taken out of 「山田花子、090-…」.
SEPARATORS = " 　、,。.・/:："
#: Parts of speech a sentence has and a name written in kanji does not (「保険証について」「住民票のこと」).
SENTENCE_POS = ("助詞", "動詞", "助動詞", "形容詞")
#: Kana and Latin letters only: a name written by sound (「やまもと」 looks like やま+も+と to Sudachi).
_BY_SOUND = re.compile(r"^[\u3040-\u30ffー\sA-Za-z.'-]+$")
#: 「いつでも」「どちらでも」: any time slot will do.
ANY_TIME = re.compile(r"いつでも|何時でも|なんじでも|どちらでも|どっちでも|どの時間でも|どれでも")
#: 「10時ごろ」「15時以降」「3時」: an hour of the day.
HOUR = re.compile(r"(\d{1,2})\s*時")
#: Hours under this are read as afternoon (「3時」 at a city office is 15時, never 3 a.m.).
AFTERNOON_BELOW = 8


def is_payload(text: str) -> bool:
    """A button payload such as ``/ask_procedure{...}`` (pressed from an older message)."""
    return text.strip().startswith("/")


def is_unsure(text: str) -> bool:
    """「わからない」 and the like, anywhere in the text."""
    return bool(UNSURE.search(normalize(text)))


def is_question(text: str) -> bool:
    """A question mark or a question's ending."""
    return bool(QUESTION.search(normalize(text)))


def only_unsure(text: str) -> bool:
    """「わからない」 with nothing else said: no noun beside it (「児童手当がわからない」 says what about)."""
    if not is_unsure(text):
        return False
    return not any(m.pos[0] == "名詞" and not UNSURE.search(m.surface) for m in analyze(text))


def clean_name(value: str) -> str | None:
    """The name without 「です」 or 「名前は」; None when it cannot be a name (empty, too long, digits)."""
    name = _NAME_ENDINGS.sub("", _NAME_PREFIXES.sub("", (value or "").strip())).strip()
    if not name or len(name) > MAX_NAME_LENGTH or any(ch.isdigit() for ch in name):
        return None
    return name


def introduced_name(text: str) -> str | None:
    """The resident's own name when the text introduces them (see :mod:`bot.names`), else None."""
    for start, end in introduced_spans(text):
        return clean_name(text[start:end])
    return None


def _is_sentence(text: str) -> bool:
    folded = normalize(text)
    return bool(
        is_payload(text)
        or UNSURE.search(folded)
        or QUESTION.search(folded)
        or NOT_A_NAME.match(folded)
        or SENTENCE_ENDING.search(folded)
    )


def as_name(text: str) -> str | None:
    """The name an answer to 「お名前を教えてください」 gives, or None when it is something else (a question,
    「わからない」, 「はい」, a sentence).

    「山田です」「名前は佐藤と申します」「やまだ はなこ」 are names;
    「山田花子、090-1234-5678」 gives 山田花子.
    """
    if is_payload(text):
        return None
    introduced = introduced_name(text)
    if introduced:
        return introduced
    rest = without_phone(text).strip(SEPARATORS)
    if not rest or _is_sentence(rest):
        return None
    name = clean_name(rest)
    return name if name and _could_be_name(name) else None


def _could_be_name(name: str) -> bool:
    """Person-name words only, a name written by sound, or kanji words without particles or verbs."""
    morphs = [m for m in analyze(name) if m.surface.strip()]
    if all(is_person_name(m) for m in morphs) or _BY_SOUND.match(name):
        return True
    return not any(m.pos[0] in SENTENCE_POS for m in morphs)


def name_beside_number(text: str) -> str | None:
    """The name given together with a phone number: 「山田です、03-…」, 「090-… 山田花子」; else None.

    Without a cue (です, 名前は) only words Sudachi tags as a person's name count, so 「090-… お願いします」
    gives no name.
    """
    introduced = introduced_name(text)
    if introduced:
        return introduced
    rest = without_phone(text).strip(SEPARATORS)
    if not rest or _is_sentence(rest):
        return None
    morphs = [m for m in analyze(rest) if m.surface.strip(SEPARATORS)]
    if morphs and all(is_person_name(m) for m in morphs):
        return clean_name(rest)
    return None


def find_slot(slots: Iterable, value: str):
    """The callback time slot (of ``slots``: ``CallbackSlot``) a button id or the resident's words refer to,
    or None: its id, its label, 「午前」/「朝」 or 「午後」/「夕方」, an hour (「10時ごろ」),
    「いつでも」 (the first)."""
    slots = list(slots)
    if not value:
        return None
    for slot in slots:
        if value == slot.id:
            return slot
    text = normalize(value)
    for slot in slots:
        if normalize(slot.label) in text:
            return slot
    wants_morning = "午前" in text or "朝" in text
    wants_afternoon = "午後" in text or "夕方" in text
    if wants_morning != wants_afternoon:
        return next((s for s in slots if (s.start.hour < 12) == wants_morning), None)
    hour = HOUR.search(text)
    if hour:
        h = int(hour.group(1))
        h = h + 12 if h < AFTERNOON_BELOW else h
        return next((s for s in slots if s.start.hour <= h < s.end.hour), None)
    if ANY_TIME.search(text) and slots:
        return slots[0]
    return None
