"""Residents who write in a language other than Japanese: detection, and answers from data.

:func:`detect` is a small rule on the characters and words of a message:

* any kana, or a slash command (a button's payload) → ``ja`` (the normal Japanese turn);
* Hangul → ``ko``; Devanagari → ``ne``;
* kanji without kana → ``zh`` only with a character or word Japanese does not use (这, 们, 吗, 我, 你 …),
  else ``ja`` (「住民票 手数料」 is Japanese);
* Latin letters: a letter only Vietnamese uses (ă đ ơ ư, ạ ả ấ …) → ``vi``; otherwise the language whose
  common words (:data:`MARKER_WORDS`) occur most: ``en``, ``pt`` or ``tl``. Latin text with no such word
  (a name typed in romaji during a callback request) → ``ja``: it is left to the normal turn. In Japanese
  typed in romaji, short words that read as kana (``no``, ``to``, ``ko``) are not counted as markers.
* any other script (Thai, Cyrillic, Arabic …) → ``other``.

:class:`LanguageDesk` answers a non-Japanese message from ``data/languages/``: in English with the card
essentials of the procedure it means (nearest by meaning, :mod:`bot.english_meaning`, else named by its
English alias words; ``en.yml``: name, summary, what to bring; where, phone and the online form come from
the Japanese catalog so they never disagree) or the number to call when it asks for one, and in the other
languages with a one-line notice in that language on how to get help in person and the city's phone
(``notices.yml``). A crisis comes first: the crisis desk's judge (rules and the multilingual meaning
classifier, :meth:`bot.crisis.CrisisDesk.judge`) and the English crisis words.
:func:`check` validates those files against the catalog (``madoguchi catalog check``). Plain Python.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from bot import romaji
from bot.knowledge.catalog import Catalog, Procedure
from bot.knowledge.catalog.yaml_files import YamlError, load_yaml

logger = logging.getLogger(__name__)

LANGUAGES_DIR = "languages"
ENGLISH_FILE = "en.yml"
NOTICES_FILE = "notices.yml"

#: Languages that get at least a notice in their own language (the largest foreign-resident groups in
#: Kanagawa besides English speakers); English has full content.
NOTICE_LANGUAGES = ("zh", "ko", "vi", "pt", "tl", "ne")
ENGLISH_MESSAGES = (
    "title",
    "bring",
    "where",
    "department",
    "online",
    "online_card",
    "no_online",
    "open_form",
    "help_in_person",
    "not_understood",
    "menu_intro",
    "japanese_hint",
    "checklist_heading",
    "checklist_footer",
    "condolence",
    "phone_city",
    "phone_department",
)
#: Card kinds that answer a question (a procedure's English card, a life event's English checklist).
ANSWER_KINDS = ("procedure_en", "checklist_en")
WHERE_KEYS = ("counter", "mail", "convenience_store", "online", "phone")
CRISIS_KINDS = ("emergency", "self_harm", "abuse", "dv")
#: The kind of crisis answered by 119/110 (its English words win over the meaning classifier's kind).
EMERGENCY = "emergency"

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
#: Letters only Vietnamese uses among the languages we detect (ă đ ơ ư and the Latin Extended Additional
#: block of tone-marked vowels, ạ ả ấ … ỹ).
_VIETNAMESE = re.compile(r"[ăĂđĐơƠưƯ\u1ea0-\u1ef9]")
#: Characters of Simplified Chinese that Japanese does not use, and Chinese words rare in kanji-only
#: Japanese questions (我 你 吗 呢).
_CHINESE = re.compile(r"[这们么吗呢请问怎样哪办证书户还给让说谢对时电话搬疗险领个为发过我你]")
#: Letters of other scripts (Thai, Cyrillic, Arabic, Greek, Hebrew…): answered with the English notice.
_OTHER_SCRIPT = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u0e00-\u0e7f]")
_WORD = re.compile(r"[a-z\u00e0-\u024f\u1e00-\u1eff']+")
_TOKEN = re.compile(r"[a-z0-9\u00e0-\u024f\u1e00-\u1eff']+")

#: Common words that tell the Latin-script languages apart (lower case, accents kept).
MARKER_WORDS: Mapping[str, frozenset[str]] = {
    "en": frozenset(
        "the a an i i'm my me you your how what where when which who can could do does is are was to for "
        "of in on at need want get please help hello hi should would have has moved move english apply "
        "with this that there here and or not no".split()
    ),
    "pt": frozenset(
        "não nao você voce como onde preciso quero fazer para obrigado obrigada olá ola bom dia prefeitura "
        "cidade mudei tenho meu minha sou está estou qual quando posso português ajuda endereço "
        "documento com uma um".split()
    ),
    "tl": frozenset(
        "ang ng mga po paano saan ako ko kailangan ba sa lumipat magandang salamat opo gusto kumuha ano "
        "ito namin tulong mayroon wala hindi kami siya".split()
    ),
}


#: A romaji message whose kana reading names a catalog procedure at least this well (the score of
#: :meth:`bot.knowledge.catalog.Catalog.match`; the resolver's ``PROCEDURE_LIKELY``) goes to the Japanese
#: turn, which reads it in kana with the action asked and the parts of the message, rather than to the
#: English alias words: 「kokuho wo yameru tetsuzuki wa?」 is the leaving, not the "kokuho" card, and
#: 「tenshutsu todoke wa online de dasemasu ka」 the 転出届's online form, not the online overview
#: (blind set 9, tune half: 2 romaji misses of that kind).
ROMAJI_NAMED_IN_KANA = 0.6

#: In a message that reads as romaji (:func:`bot.romaji.looks_like_romaji`), marker words this short that
#: also read as kana (no, to, do, ko, sa, um) do not count: 「gomi no dashikata」 is not English.
ROMAJI_MARKER_LETTERS = 3


def detect(text: str) -> str:
    """The language of a resident's message: ``ja``, ``en``, ``zh``, ``ko``, ``vi``, ``pt``, ``tl``,
    ``ne`` or ``other`` (see the module docstring for the rule)."""
    text = unicodedata.normalize("NFC", text or "").strip()
    if not text or text.startswith("/") or _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    if _DEVANAGARI.search(text):
        return "ne"
    if _HAN.search(text):
        return "zh" if _CHINESE.search(text) else "ja"
    if _OTHER_SCRIPT.search(text):
        return "other"
    if not _LATIN.search(text):
        return "ja"
    if _VIETNAMESE.search(text):
        return "vi"
    words = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
    if romaji.looks_like_romaji(text):
        # Japanese typed in romaji: its particles (no, to, de, ka) are not English, Tagalog (ko, sa)
        # or Portuguese (um) words
        words = [w for w in words if len(w) > ROMAJI_MARKER_LETTERS or not romaji.reads_as_kana(w)]
    scores = {lang: sum(1 for w in words if w in markers) for lang, markers in MARKER_WORDS.items()}
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] else "ja"


def _chosen_applies(text: str, detected: str, hint: str | None) -> bool:
    """Whether the language a resident chose in the widget (``hint``) overrides :func:`detect`.

    Only where the text does not tell: another script (Cyrillic, Thai …) for any language we answer;
    kanji without kana for 中文 (「住民票」 is also Japanese, so only a Chinese reader's choice says so);
    Latin text without marker words for Vietnamese written without its accents, Portuguese or Tagalog.
    Never for kana, a button's payload, or English (a romaji name stays a Japanese turn)."""
    text = (text or "").strip()
    if hint not in (*NOTICE_LANGUAGES, "en") or not text or text.startswith("/") or _KANA.search(text):
        return False
    if detected == "other":
        return True
    if detected != "ja":
        return False
    if hint == "zh":
        return bool(_HAN.search(text)) and not _LATIN.search(text)
    return hint in ("vi", "pt", "tl") and is_latin_only(text)


def is_latin_only(text: str) -> bool:
    """Whether a message has Latin letters and no kana, kanji, Hangul or Devanagari (nor a command)."""
    text = (text or "").strip()
    if text.startswith("/") or any(p.search(text) for p in (_KANA, _HAN, _HANGUL, _DEVANAGARI)):
        return False
    return bool(_LATIN.search(text))


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class EnglishProcedure:
    """The English essentials of one procedure."""

    name: str
    summary: str
    bring: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class EnglishLifeEvent:
    """A life event residents describe in English, pointing at a checklist of data/life_events.yml."""

    id: str
    event: str
    option: str | None
    name: str
    triggers: tuple[str, ...]


@dataclass(frozen=True)
class LanguagePack:
    """The contents of ``data/languages/``."""

    messages: Mapping[str, str]
    where_labels: Mapping[str, str]
    menu: tuple[str, ...]
    departments: Mapping[str, Mapping[str, str]]
    procedures: Mapping[str, EnglishProcedure]
    notices: Mapping[str, Mapping[str, str]]
    #: id -> EnglishLifeEvent
    life_events: Mapping[str, EnglishLifeEvent] = ()
    #: kind (emergency, self_harm, abuse, dv) -> (phrases, text, phones)
    crisis: Mapping[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = ()
    #: phrases of a resident who asks for a phone number or a person (normalized)
    phone_words: tuple[str, ...] = ()


class LanguageError(Exception):
    """The language files are not usable; ``problems`` lists every problem as ``file: entry: field: …``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the language files:\n" + "\n".join(problems))


def _kind(message: Mapping[str, Any]) -> str | None:
    return ((message.get("custom") or {}).get("madoguchi") or {}).get("kind")


def _texts(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return None
    return tuple(v.strip() for v in value)


def _read(data_dir: Path, name: str, problems: list[str]) -> Mapping:
    rel = f"{LANGUAGES_DIR}/{name}"
    try:
        doc = load_yaml(Path(data_dir) / LANGUAGES_DIR / name)
    except FileNotFoundError:
        problems.append(f"{rel}: (file): -: file not found")
        return {}
    except YamlError as exc:
        problems.append(f"{rel}: (file): -: {exc}")
        return {}
    if not isinstance(doc, Mapping):
        problems.append(f"{rel}: (file): -: must be a mapping")
        return {}
    return doc


def _procedures(doc: Mapping, rel: str, problems: list[str]) -> dict[str, EnglishProcedure]:
    entries = doc.get("procedures")
    if not isinstance(entries, Mapping):
        problems.append(f"{rel}: (file): procedures: must map procedure ids to their English content")
        return {}
    out = {}
    for pid, entry in entries.items():
        entry = entry if isinstance(entry, Mapping) else {}
        name, summary = entry.get("name"), entry.get("summary")
        bring, aliases = _texts(entry.get("bring")), _texts(entry.get("aliases"))
        for field_name, ok in (
            ("name", isinstance(name, str) and name.strip()),
            ("summary", isinstance(summary, str) and summary.strip()),
            ("bring", bring is not None),
            ("aliases", bool(aliases)),
        ):
            if not ok:
                problems.append(
                    f"{rel}: {pid}: {field_name}: missing or not "
                    + ("non-empty text" if field_name in ("name", "summary") else "a list of non-empty text")
                )
        extra = sorted(str(k) for k in entry if k not in ("name", "summary", "bring", "aliases"))
        if extra:
            problems.append(f"{rel}: {pid}: {', '.join(extra)}: unknown field(s)")
        if name and summary and bring is not None and aliases:
            out[str(pid)] = EnglishProcedure(name.strip(), " ".join(summary.split()), bring, aliases)
    return out


def load_pack(data_dir: Path) -> LanguagePack:
    """Reads ``data/languages/``.

    Raises:
        LanguageError: listing every problem in the files themselves (see :func:`check` for the
            cross-checks against the catalog).
    """
    problems: list[str] = []
    en_rel, notices_rel = f"{LANGUAGES_DIR}/{ENGLISH_FILE}", f"{LANGUAGES_DIR}/{NOTICES_FILE}"
    doc = _read(data_dir, ENGLISH_FILE, problems)
    messages = doc.get("messages") if isinstance(doc.get("messages"), Mapping) else {}
    for key in ENGLISH_MESSAGES:
        if not isinstance(messages.get(key), str) or not messages[key].strip():
            problems.append(f"{en_rel}: messages: {key}: missing or empty")
    labels = doc.get("where_labels") if isinstance(doc.get("where_labels"), Mapping) else {}
    for key in WHERE_KEYS:
        if not isinstance(labels.get(key), str) or not labels[key].strip():
            problems.append(f"{en_rel}: where_labels: {key}: missing or empty")
    menu = _texts(doc.get("menu")) or ()
    departments = doc.get("departments") if isinstance(doc.get("departments"), Mapping) else {}
    procedures = _procedures(doc, en_rel, problems) if doc else {}
    notices_doc = _read(data_dir, NOTICES_FILE, problems).get("languages") or {}
    notices: dict[str, dict[str, str]] = {}
    for lang in NOTICE_LANGUAGES:
        entry = notices_doc.get(lang) if isinstance(notices_doc, Mapping) else None
        notice = entry.get("notice") if isinstance(entry, Mapping) else None
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(notice, str) or "{phone}" not in notice or not isinstance(name, str):
            problems.append(f"{notices_rel}: {lang}: notice: missing, or without the {{phone}} placeholder")
            continue
        notices[lang] = {"name": name.strip(), "notice": " ".join(notice.split())}
    crisis = _crisis(doc.get("crisis"), en_rel, problems)
    life_events = _life_events(doc.get("life_events"), en_rel, problems)
    if problems:
        raise LanguageError(problems)
    return LanguagePack(
        messages={k: " ".join(str(v).split()) for k, v in messages.items()},
        where_labels={k: str(v) for k, v in labels.items()},
        menu=menu,
        departments={str(k): v for k, v in departments.items() if isinstance(v, Mapping)},
        procedures=procedures,
        notices=notices,
        crisis=crisis,
        life_events=life_events,
        phone_words=tuple(normalize_english(w) for w in _texts(doc.get("phone_words")) or ()),
    )


def _life_events(value: Any, rel: str, problems: list[str]) -> dict[str, EnglishLifeEvent]:
    out = {}
    for eid, entry in (value if isinstance(value, Mapping) else {}).items():
        entry = entry if isinstance(entry, Mapping) else {}
        name, event, option = entry.get("name"), entry.get("event"), entry.get("option")
        triggers = _texts(entry.get("triggers"))
        if not (isinstance(name, str) and name.strip() and isinstance(event, str) and triggers):
            problems.append(f"{rel}: life_events: {eid}: needs event, name and triggers")
            continue
        option = option if isinstance(option, str) else None
        triggers = tuple(normalize_english(t) for t in triggers)
        out[str(eid)] = EnglishLifeEvent(str(eid), event, option, name.strip(), triggers)
    return out


def _crisis(
    value: Any, rel: str, problems: list[str]
) -> dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]]:
    """The English crisis answers: every kind needs words, a text, and the phones its text gives."""
    value = value if isinstance(value, Mapping) else {}
    out = {}
    for kind in CRISIS_KINDS:
        entry = value.get(kind) if isinstance(value.get(kind), Mapping) else {}
        words, phones, text = _texts(entry.get("words")), _texts(entry.get("phones")), entry.get("text")
        if not words or not phones or not isinstance(text, str) or not text.strip():
            problems.append(f"{rel}: crisis: {kind}: needs words, text and phones")
            continue
        text = " ".join(text.split())
        for phone in phones:
            if phone not in text:
                problems.append(f"{rel}: crisis: {kind}: the text does not give {phone}")
        out[kind] = (tuple(normalize_english(w) for w in words), text, phones)
    return out


def check(data_dir: Path, catalog: Catalog) -> list[str]:
    """Every problem of ``data/languages/``, including its agreement with the catalog: each procedure
    and department has English content, no unknown ids, no English alias shared by two procedures."""
    try:
        pack = load_pack(data_dir)
    except LanguageError as exc:
        return exc.problems
    rel = f"{LANGUAGES_DIR}/{ENGLISH_FILE}"
    problems = [
        f"{rel}: {pid}: -: no English content" for pid in catalog.procedures if pid not in pack.procedures
    ]
    problems += [
        f"{rel}: {pid}: -: unknown procedure id" for pid in pack.procedures if catalog.get(pid) is None
    ]
    problems += [
        f"{rel}: menu: -: unknown procedure id {pid!r}" for pid in pack.menu if catalog.get(pid) is None
    ]
    for did in catalog.departments:
        entry = pack.departments.get(did) or {}
        if not all(isinstance(entry.get(k), str) and entry[k].strip() for k in ("name", "location")):
            problems.append(f"{rel}: departments: {did}: needs an English name and location")
    for english in pack.life_events.values():
        event = catalog.life_event(english.event)
        if event is None:
            problems.append(f"{rel}: life_events: {english.id}: unknown life event {english.event!r}")
        elif (english.option is None) != (not event.options) or (
            english.option is not None and event.option(english.option) is None
        ):
            options = ", ".join(o.id for o in event.options) or "none"
            problems.append(
                f"{rel}: life_events: {english.id}: option must be one of the event's ({options})"
            )
    owner: dict[str, str] = {}
    for pid, procedure in pack.procedures.items():
        if procedure.bring == () and catalog.get(pid) is not None and catalog.get(pid).bring:
            problems.append(f"{rel}: {pid}: bring: empty, but the Japanese card lists what to bring")
        for alias in procedure.aliases:
            key = normalize_english(alias)
            if owner.setdefault(key, pid) != pid:
                problems.append(f"{rel}: {pid}: aliases: {alias!r} is also an alias of {owner[key]!r}")
    return problems


# ------------------------------------------------------------------------------------------ answers


def normalize_english(text: str) -> str:
    """Lower case, words only, a final plural ``s`` dropped (``certificates`` = ``certificate``)."""
    words = _TOKEN.findall(unicodedata.normalize("NFKC", text).lower().replace("’", "'"))
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


class LanguageDesk:
    """Answers messages that are not in Japanese, from the catalog and ``data/languages/``."""

    def __init__(
        self,
        catalog: Catalog,
        pack: LanguagePack,
        meaning: Any = None,
        crisis_judge: Callable[[str], tuple[str, bool] | None] | None = None,
    ) -> None:
        """
        Args:
            meaning: finds the procedure an English question means (:class:`bot.english_meaning.
                EnglishMeaning`); None: English alias words only.
            crisis_judge: text -> ``(safety intent, sure)`` or None (:meth:`bot.crisis.CrisisDesk.judge`,
                the rules and the multilingual meaning classifier); None: the English crisis words only.
        """
        self.catalog = catalog
        self.pack = pack
        self.meaning = meaning
        self.crisis_judge = crisis_judge
        self._aliases = sorted(
            (
                (tuple(normalize_english(alias).split()), pid)
                for pid, english in pack.procedures.items()
                for alias in (english.name, *english.aliases)
            ),
            key=lambda item: (-len(item[0]), -len(" ".join(item[0]))),
        )

    def match(self, text: str) -> str | None:
        """The procedure whose English name or alias the text contains: every word of the alias occurs
        in the text, in any order ("lost my insurance card" has "lost insurance card"); the alias with
        the most words wins."""
        words = set(normalize_english(text).split())
        for alias, pid in self._aliases:
            if alias and words.issuperset(alias):
                return pid
        return None

    def answer(self, text: str, hint: str | None = None) -> list[dict[str, Any]] | None:
        """Bot messages (Rasa's dict shape) for a message not in Japanese; ``None`` for Japanese.

        Args:
            text: the resident's message.
            hint: a language the resident chose in the widget (used when the text itself is not
                Japanese but its language is unclear).
        """
        lang = detect(text)
        if _chosen_applies(text, lang, hint):
            lang = hint  # the language the resident chose in the widget, where the text does not tell
        if lang == "ja":
            crisis = self.crisis(text) if is_latin_only(text) else None
            if crisis is not None:
                return [crisis]
            # Latin words without a common English word ("child allowance", a button of ours) still get
            # the English card when they name a procedure; a romaji name goes on to the Japanese turn, and
            # so does Japanese in romaji whose kana reading names a procedure (ROMAJI_NAMED_IN_KANA).
            if self._named_in_kana(text):
                return None
            pid = self.match(text) if is_latin_only(text) else None
            return [self.english_card(self.catalog.get(pid))] if pid and self.catalog.get(pid) else None
        crisis, sure = self._crisis_first(text)
        answer = self._answer_in(lang, text)
        if crisis is None:
            return answer
        if sure and not any(_kind(m) in ANSWER_KINDS for m in answer):
            # the crisis is the answer (with the notice in the resident's language, if any)
            return [crisis] + [m for m in answer if _kind(m) == "phone" and lang in self.pack.notices]
        # unsure, or the message also asks about a procedure ("throw away an old mattress" once read
        # as abuse): the crisis answer first, then the answer to the question
        return [crisis] + answer

    def _named_in_kana(self, text: str) -> bool:
        """Whether a romaji message's kana reading names a catalog procedure (ROMAJI_NAMED_IN_KANA)."""
        if not romaji.looks_like_romaji(text):
            return False
        return bool(self.catalog.match(romaji.to_kana(text), top_k=1, min_score=ROMAJI_NAMED_IN_KANA))

    def _crisis_first(self, text: str) -> tuple[dict[str, Any] | None, bool]:
        """(the English crisis answer, whether it is the whole answer) for a message not in Japanese.

        With a judge: a sure finding is the whole answer; an unsure one, or English crisis words the
        judge does not confirm ("fire insurance"), go first, before the answer to the question (recall
        first, as for Japanese). Without a judge the crisis words are the whole answer. When emergency
        words (collapsed, fire, bleeding: the body or a fire, now) meet a judge of another kind (the
        classifier, trained mostly on Japanese, read "my grandmother collapsed" as the abuse of an
        elder: an elder and a family word), the 119/110 answer is given: the words are the
        staff-reviewed list, and the emergency answer also gives 110 for violence."""
        judged = self.crisis_judge(text) if self.crisis_judge is not None else None
        words = self.crisis(text)
        if judged is not None and judged[0] in self.pack.crisis:
            urgent = words is not None and words["custom"]["madoguchi"]["category"] == EMERGENCY
            return self._crisis_message(EMERGENCY if urgent else judged[0]), judged[1]
        return words, words is not None and self.crisis_judge is None

    def _answer_in(self, lang: str, text: str) -> list[dict[str, Any]]:
        """The answer to a message in English (checklist, card or "not found") or a notice language."""
        checklist = self.life_event_answer(text) if lang not in self.pack.notices else None
        if checklist is not None:
            return [checklist]
        if lang in self.pack.notices:
            # The notice in the resident's language; the English card too when English words in the
            # question name a procedure ("Paano po kumuha ng residence certificate?").
            pid = self.match(text)
            procedure = self.catalog.get(pid) if pid else None
            return [self._notice(lang)] + ([self.english_card(procedure)] if procedure else [])
        pid = self.english_procedure(text)
        procedure = self.catalog.get(pid) if pid else None
        if self.asks_for_phone(text):
            return [self.phone_answer(procedure)]
        if procedure is None:
            return [self._not_understood()]
        if procedure.with_phone_answer:
            # the office hours: an hours question is a phone question, the card and the number
            return [self.english_card(procedure), self.phone_answer(procedure)]
        return [self.english_card(procedure)]

    def english_procedure(self, text: str) -> str | None:
        """The procedure an English question is about: the nearest by meaning when it is near enough
        (:data:`bot.english_meaning.SURE`), else the one its alias words name."""
        meant = self.meaning.procedure(text) if self.meaning is not None else None
        return meant if meant and self.catalog.get(meant) else self.match(text)

    def asks_for_phone(self, text: str) -> bool:
        """Whether the message asks for a phone number or a person (``phone_words`` of en.yml)."""
        padded = f" {normalize_english(text)} "
        return any(f" {w} " in padded for w in self.pack.phone_words if w)

    def phone_answer(self, procedure: Procedure | None = None) -> dict[str, Any]:
        """The number to call: the department of the procedure asked about, else the city's."""
        msg = self.pack.messages
        department = self.catalog.department_of(procedure.id) if procedure else None
        if department is None:
            phone, line = self._phone(), msg["phone_city"].format(phone=self._phone())
        else:
            name = self.pack.departments.get(procedure.department, {}).get("name", department.name)
            phone = department.phone
            line = msg["phone_department"].format(department=name, phone=phone, city=self._phone())
        card = {"kind": "phone", "lang": "en", "phone": phone}
        if procedure is not None:
            card["procedure"] = procedure.id
        return {"text": line, "custom": {"madoguchi": card}}

    def life_event_answer(self, text: str) -> dict[str, Any] | None:
        """The checklist, with English names, of the life event the text describes; else None."""
        padded = f" {normalize_english(text)} "
        english = next(
            (e for e in self.pack.life_events.values() if any(f" {t} " in padded for t in e.triggers if t)),
            None,
        )
        event = self.catalog.life_event(english.event) if english else None
        if event is None:
            return None
        holder = event.option(english.option) if english.option else event
        if holder is None:
            return None
        pids = [pid for pid in holder.checklist if pid in self.pack.procedures and self.catalog.get(pid)]
        msg = self.pack.messages
        names = [self.pack.procedures[pid].name for pid in pids]
        lines = [msg["condolence"]] if event.id == "death" else []
        lines += [msg["checklist_heading"].format(name=english.name), *(f"• {n}" for n in names)]
        lines += [msg["checklist_footer"], msg["help_in_person"].format(phone=self._phone())]
        return {
            "text": "\n".join(lines),
            "buttons": [{"title": n, "payload": n} for n in names],
            "custom": {
                "madoguchi": {
                    "kind": "checklist_en",
                    "lang": "en",
                    "life_event": event.id,
                    "option": english.option,
                    "procedures": pids,
                }
            },
        }

    def crisis(self, text: str) -> dict[str, Any] | None:
        """The English crisis answer when the words name an emergency, self-harm or violence, else None."""
        padded = f" {normalize_english(text)} "
        for kind in CRISIS_KINDS:
            words, _, _ = self.pack.crisis.get(kind, ((), "", ()))
            if any(f" {w} " in padded for w in words if w):
                return self._crisis_message(kind)
        return None

    def _crisis_message(self, kind: str) -> dict[str, Any]:
        _, answer, phones = self.pack.crisis[kind]
        return {
            "text": answer,
            "custom": {
                "madoguchi": {"kind": "safety", "category": kind, "phones": list(phones), "lang": "en"}
            },
        }

    def _phone(self) -> str:
        return self.catalog.city.phone

    def _notice(self, lang: str) -> dict[str, Any]:
        """The notice in the resident's language, then the English one; a ``phone`` card (the city's
        number), so that LINE and the widget offer it as one tap."""
        entry = self.pack.notices[lang]
        english = self.pack.messages["not_understood"].format(phone=self._phone())
        return {
            "text": entry["notice"].format(phone=self._phone()) + "\n" + english,
            "custom": {
                # the text is the notice in the resident's language, then the same in English
                "madoguchi": {
                    "kind": "phone",
                    "lang": lang,
                    "line_langs": [lang, "en"],
                    "phone": self._phone(),
                },
            },
        }

    def _not_understood(self) -> dict[str, Any]:
        msg = self.pack.messages
        menu = [self.catalog.get(pid) for pid in self.pack.menu if self.catalog.get(pid)]
        return {
            "text": msg["not_understood"].format(phone=self._phone()) + "\n" + msg["menu_intro"],
            "buttons": [
                {"title": self.pack.procedures[p.id].name, "payload": self.pack.procedures[p.id].name}
                for p in menu
                if p.id in self.pack.procedures
            ],
            "custom": {
                "madoguchi": {"kind": "phone", "lang": "en", "phone": self._phone()},
            },
        }

    def english_card(self, procedure: Procedure) -> dict[str, Any]:
        """The English answer for one procedure: name, summary, what to bring, where, phone, form."""
        msg, english = self.pack.messages, self.pack.procedures[procedure.id]
        department = self.catalog.department_of(procedure.id)
        dept_en = self.pack.departments.get(procedure.department, {})
        where = [self.pack.where_labels[k] for k in WHERE_KEYS if getattr(procedure.where, k, False)]
        lines = [msg["title"].format(name=english.name, name_ja=procedure.name), english.summary]
        if english.bring:
            lines += [msg["bring"], *(f"• {item}" for item in english.bring)]
        if where:
            lines.append(msg["where"].format(where=", ".join(where)))
        if procedure.online:
            card = f" {msg['online_card']}" if procedure.online.requires_mynumber_card else ""
            lines.append(msg["online"].format(url=procedure.online.url) + card)
        else:
            lines.append(msg["no_online"])
        if department:
            lines.append(
                msg["department"].format(
                    department=dept_en.get("name", department.name),
                    location=dept_en.get("location", department.location),
                    phone=department.phone,
                )
            )
        lines += [msg["help_in_person"].format(phone=self._phone()), msg["japanese_hint"]]
        buttons = [{"title": msg["open_form"], "payload": procedure.online.url}] if procedure.online else []
        return {
            "text": "\n".join(lines),
            "buttons": buttons,
            "custom": {
                "madoguchi": {
                    "kind": "procedure_en",
                    "lang": "en",
                    "procedure": procedure.id,
                    "name": english.name,
                    "name_ja": procedure.name,
                    "summary": english.summary,
                    "bring": list(english.bring),
                    "where": where,
                    "online": (
                        {
                            "url": procedure.online.url,
                            "requires_mynumber_card": procedure.online.requires_mynumber_card,
                        }
                        if procedure.online
                        else None
                    ),
                    "department": (
                        {
                            "name": dept_en.get("name", department.name),
                            "phone": department.phone,
                            "location": dept_en.get("location", department.location),
                        }
                        if department
                        else None
                    ),
                }
            },
        }


def load_desk(
    data_dir: Path,
    catalog: Catalog | None = None,
    encoder: Any = None,
    cache_dir: Path | None = None,
    crisis_judge: Callable[[str], tuple[str, bool] | None] | None = None,
) -> LanguageDesk:
    """The desk for a data directory (loads the catalog unless given).

    Args:
        encoder: the sentence encoder; with it English questions are also understood by meaning
            (:mod:`bot.english_meaning`; its vectors cached under ``cache_dir``). When the index cannot
            be built the desk matches English alias words only, and an ERROR line says why.
        crisis_judge: see :class:`LanguageDesk`.

    Raises:
        CatalogError, LanguageError: when the data files are broken.
    """
    from bot.knowledge.catalog import load_catalog

    pack = load_pack(Path(data_dir))
    meaning = None
    if encoder is not None:
        from bot import english_meaning

        try:
            meaning = english_meaning.build(pack, encoder, cache_dir)
        except Exception as error:  # noqa: BLE001 — aliases still answer; said loudly at start
            logger.error("language desk: English by meaning is off (%s)", type(error).__name__)
    return LanguageDesk(catalog or load_catalog(Path(data_dir)), pack, meaning, crisis_judge)


__all__ = [
    "LanguageDesk",
    "LanguageError",
    "LanguagePack",
    "MARKER_WORDS",
    "NOTICE_LANGUAGES",
    "check",
    "detect",
    "is_latin_only",
    "load_desk",
    "load_pack",
    "normalize_english",
]
