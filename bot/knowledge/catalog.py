"""The city's procedure catalog: departments, procedures and life events, loaded from YAML.

Files (under the data directory):

- ``departments.yml`` — ``city:`` (name, main phone, address, default hours, callback slots) and
  ``departments:`` (id, name, phone, hours, location).
- ``catalog/*.yml`` — ``procedures:`` lists, one file per life area.
- ``life_events.yml`` — ``life_events:`` (引っ越し, 出産 …) with triggers, a checklist and, for some,
  a clarifying question with options.

:func:`load_catalog` validates everything and raises :class:`CatalogError` listing EVERY problem as
``file: entry id: field: what is wrong``. :meth:`Catalog.match` finds procedures from a resident's words
(aliases compared by surface, katakana reading and content lemmas, see :mod:`bot.knowledge.matching`).
Plain Python: nothing here imports Rasa.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from bot.hours import HoursError, OfficeHours, parse_time
from bot.knowledge import catalog_matching as matching
from bot.knowledge import checklists
from bot.knowledge.catalog_yaml import YamlError, load_yaml

DEPARTMENTS_FILE = "departments.yml"
LIFE_EVENTS_FILE = "life_events.yml"
CATALOG_DIR = "catalog"

#: Scores below this are not reported by :meth:`Catalog.match`.
MIN_MATCH_SCORE = 0.3
#: A life event (or one of its options) needs at least this score.
MIN_LIFE_EVENT_SCORE = 0.5
#: Two options of a life event scoring within this of each other are a tie: the resident is asked.
OPTION_TIE = 0.01

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Japanese numbers as residents read them: 0 + area code, hyphen-separated, 10 digits (or 0120/0570 + 6).
_PHONE = re.compile(r"^0\d{1,4}-\d{1,4}-\d{3,4}$")

PROCEDURE_FIELDS = (
    "id",
    "name",
    "aliases",
    "category",
    "summary",
    "summary_easy",
    "who",
    "deadline",
    "bring",
    "fee",
    "where",
    "online",
    "alternatives",
    "department",
    "details",
    "related",
)
WHERE_FIELDS = ("counter", "mail", "convenience_store", "online")
#: Ways that may be left out of ``where`` (false when absent): 電話で申し込める (粗大ごみ, 水道).
OPTIONAL_WHERE_FIELDS = ("phone",)
ONLINE_FIELDS = ("url", "requires_mynumber_card", "note")


# --------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class CallbackSlot:
    """A time window residents can pick for a call back from the city."""

    id: str
    label: str
    start: time
    end: time


@dataclass(frozen=True)
class City:
    """The city itself: main phone (代表電話), address, default hours and callback slots."""

    name: str
    phone: str
    address: str
    hours: OfficeHours
    callback_slots: tuple[CallbackSlot, ...]

    def slot(self, slot_id: str) -> CallbackSlot | None:
        """The callback slot with this id, or None."""
        return next((s for s in self.callback_slots if s.id == slot_id), None)


@dataclass(frozen=True)
class Department:
    """A department (課) with its own phone line, hours and counter location."""

    id: str
    name: str
    phone: str
    hours: OfficeHours
    location: str
    hours_note: str = ""


@dataclass(frozen=True)
class Where:
    """Ways a procedure can be done."""

    counter: bool
    mail: bool
    convenience_store: bool
    online: bool
    phone: bool = False


@dataclass(frozen=True)
class OnlineService:
    """The city's online form (電子申請) for a procedure."""

    url: str
    requires_mynumber_card: bool
    note: str


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure residents ask about; every text field comes from the data files."""

    id: str
    name: str
    aliases: tuple[str, ...]
    category: str
    summary: str
    summary_easy: str
    who: str
    deadline: str | None
    bring: tuple[str, ...]
    fee: str
    where: Where
    online: OnlineService | None
    alternatives: str
    department: str
    details: str
    related: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True)
class LifeEventOption:
    """One answer to a life event's clarifying question (e.g. 市外から / 市外へ / 市内で)."""

    id: str
    label: str
    triggers: tuple[str, ...]
    checklist: tuple[str, ...]
    #: ``(procedure id, deadline)`` for items whose deadline this checklist words itself.
    deadlines: tuple[tuple[str, str], ...] = ()

    def deadline_of(self, procedure: Procedure) -> str | None:
        """The deadline this checklist shows for a procedure: its own wording, else the procedure's."""
        return dict(self.deadlines).get(procedure.id, procedure.deadline)


@dataclass(frozen=True)
class LifeEvent:
    """A life event (引っ越し, 出産 …) and the procedures it usually needs."""

    id: str
    name: str
    triggers: tuple[str, ...]
    checklist: tuple[str, ...]
    question: str | None = None
    options: tuple[LifeEventOption, ...] = ()
    deadlines: tuple[tuple[str, str], ...] = ()
    #: A sentence shown before the checklist (condolences for 家族が亡くなった), or None.
    intro: str | None = None

    def deadline_of(self, procedure: Procedure) -> str | None:
        """The deadline this checklist shows for a procedure: its own wording, else the procedure's."""
        return dict(self.deadlines).get(procedure.id, procedure.deadline)

    def option(self, option_id: str) -> LifeEventOption | None:
        """The option with this id, or None."""
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True, eq=False)
class Catalog:
    """The whole catalog. Matching indexes are built on first use and cached on the object."""

    city: City
    departments: Mapping[str, Department]
    procedures: Mapping[str, Procedure]
    life_events: Mapping[str, LifeEvent]

    def get(self, procedure_id: str) -> Procedure | None:
        """The procedure with this id, or None."""
        return self.procedures.get(procedure_id)

    def department(self, department_id: str) -> Department | None:
        """The department with this id, or None."""
        return self.departments.get(department_id)

    def department_of(self, procedure_id: str) -> Department | None:
        """The department in charge of a procedure, or None if the procedure is unknown."""
        procedure = self.get(procedure_id)
        return self.departments.get(procedure.department) if procedure else None

    def life_event(self, event_id: str) -> LifeEvent | None:
        """The life event with this id, or None."""
        return self.life_events.get(event_id)

    @functools.cached_property
    def _procedure_index(self) -> matching.PhraseIndex:
        phrases = {p.id: (p.name, *p.aliases) for p in self.procedures.values()}
        return matching.PhraseIndex.build(phrases)

    @functools.cached_property
    def _life_event_index(self) -> matching.PhraseIndex:
        """Keys: event ids (the event's triggers, plus its options' triggers that have a verb) and
        ``event/option`` (the option's triggers). A verbless option trigger (市内の, 県外から) only tells
        the options apart: alone it does not make 市内の病院 a move."""
        phrases: dict[str, tuple[str, ...]] = {}
        for event in self.life_events.values():
            implied = [t for option in event.options for t in option.triggers if matching.has_verb(t)]
            phrases[event.id] = (*event.triggers, *implied)
            for option in event.options:
                phrases[f"{event.id}/{option.id}"] = option.triggers
        return matching.PhraseIndex.build(phrases)

    def match(self, text: str, top_k: int = 3, min_score: float = MIN_MATCH_SCORE) -> list[tuple[str, float]]:
        """Procedures a resident's words most likely refer to.

        The most specific alias wins: a longer alias that the text contains scores higher than a
        shorter one ("転入届" beats "引っ越し").

        Args:
            text: what the resident wrote (any width, kana or kanji).
            top_k: how many procedures to return at most.
            min_score: drop procedures scoring below this.

        Returns:
            ``(procedure id, score)`` pairs, best first, scores in 0..1: 1.0 when the text is exactly
            an alias; 0.6-1.0 when an alias occurs in it (higher the more of the text it covers);
            lemma matches (other inflection or particles) up to 0.95, typo matches up to 0.7.
        """
        scores = self._procedure_index.scores(text)
        ranked = sorted(
            ((pid, s) for pid, s in scores.items() if s >= min_score), key=lambda x: (-x[1], x[0])
        )
        return [(pid, round(s, 4)) for pid, s in ranked[:top_k]]

    def match_life_event(
        self, text: str, min_score: float = MIN_LIFE_EVENT_SCORE
    ) -> tuple[LifeEvent, LifeEventOption | None] | None:
        """The life event a resident's words describe, with the option they already answered, if any.

        An option's triggers that contain a verb (越してきた) also count for their event; verbless ones
        (市外から, 市内の) only pick the option. So "市外から越してきた" gives ``(moving, in)``,
        "引っ越しします" gives ``(moving, None)``, and "市内の病院" gives None. When two options match
        equally well, none is picked (the resident is asked).
        """
        scored = self.match_life_event_scored(text, min_score)
        return (scored[0], scored[1]) if scored else None

    def match_life_event_scored(
        self, text: str, min_score: float = MIN_LIFE_EVENT_SCORE
    ) -> tuple[LifeEvent, LifeEventOption | None, float] | None:
        """Like :meth:`match_life_event`, with the score (0..1, comparable to :meth:`match`)."""
        scores = self._life_event_index.scores(text)
        events = [(score, key) for key, score in scores.items() if "/" not in key and score >= min_score]
        if not events:
            return None
        score, event_id = max(events, key=lambda x: (x[0], x[1]))
        event = self.life_events[event_id]
        return event, self._best_option(event, scores, min_score), score

    @staticmethod
    def _best_option(
        event: LifeEvent, scores: Mapping[str, float], min_score: float
    ) -> LifeEventOption | None:
        """The option the text answers; None when no option, or two equally good ones, match.

        A tie means the words do not tell the options apart (県外の matches both 県外から and 県外へ), so
        the resident is asked rather than guessed for.
        """
        options = [(scores.get(f"{event.id}/{o.id}", 0.0), o) for o in event.options]
        options = sorted(((s, o) for s, o in options if s >= min_score), key=lambda x: -x[0])
        if not options or (len(options) > 1 and options[1][0] >= options[0][0] - OPTION_TIE):
            return None
        return options[0][1]


# ----------------------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the data files."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: {self.message}"


class CatalogError(Exception):
    """The catalog data is not usable; the message lists every problem, one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the catalog data:\n{lines}")


@dataclass
class _Ctx:
    """Where we are while validating: file and entry, and the shared list of problems."""

    file: str
    entry: str
    problems: list[Problem]

    def add(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.entry, field_name, message))

    def text(self, data: Mapping, key: str, nullable: bool = False) -> str | None:
        """A required non-empty string field (None allowed only if nullable)."""
        if key not in data:
            self.add(key, "missing" + (" (write null if it does not apply)" if nullable else ""))
            return None
        value = data[key]
        if value is None and nullable:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.add(key, f"must be non-empty text, got {value!r}")
            return None
        return value.strip()

    def texts(self, data: Mapping, key: str, allow_empty: bool = True) -> tuple[str, ...]:
        """A required list of non-empty strings."""
        if key not in data:
            self.add(key, "missing (write [] if there is nothing)" if allow_empty else "missing")
            return ()
        value = data[key]
        if value is None and allow_empty:
            return ()
        if not isinstance(value, list):
            self.add(key, f"must be a list, got {type(value).__name__}")
            return ()
        items = []
        for i, item in enumerate(value):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                self.add(f"{key}[{i}]", f"must be non-empty text, got {item!r}")
            else:
                items.append(item.strip())
        if not items and not allow_empty:
            self.add(key, "must list at least one item")
        return tuple(items)

    def flag(self, data: Mapping, key: str, prefix: str = "") -> bool:
        """A required true/false field."""
        if key not in data:
            self.add(prefix + key, "missing (true or false)")
            return False
        if not isinstance(data[key], bool):
            self.add(prefix + key, f"must be true or false, got {data[key]!r}")
            return False
        return data[key]

    def ident(self, data: Mapping) -> str | None:
        """The entry's id, checked for form; also renames the context to it."""
        value = data.get("id")
        if not isinstance(value, str) or not _ID.match(value):
            self.add("id", f"{value!r} must be lower-case ascii letters, digits and _ (e.g. juminhyo)")
            return None
        self.entry = value
        return value

    def unknown_keys(self, data: Mapping, allowed: tuple[str, ...]) -> None:
        extra = sorted(str(k) for k in data if k not in allowed)
        if extra:
            self.add(", ".join(extra), f"unknown field(s); allowed: {', '.join(allowed)}")

    def hours(self, data: Mapping, key: str = "hours") -> OfficeHours | None:
        if key not in data:
            self.add(key, "missing")
            return None
        try:
            return OfficeHours.from_mapping(data[key])
        except HoursError as exc:
            for where, message in exc.problems:
                self.add(where, message)
            return None

    def phone(self, data: Mapping, key: str = "phone") -> str | None:
        value = self.text(data, key)
        if value is not None and not is_valid_phone(value):
            self.add(key, f"{value!r} is not a Japanese phone number written like 0XX-XXX-XXXX")
            return None
        return value


def is_valid_phone(value: str) -> bool:
    """Whether a number is a valid Japanese number written with hyphens (e.g. 012-345-6789)."""
    if not _PHONE.match(value):
        return False
    import phonenumbers  # imported lazily: only needed when validating

    try:
        parsed = phonenumbers.parse(value, "JP")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


def is_valid_url(value: str) -> bool:
    """Whether a link is an absolute https URL with a host and no spaces."""
    if any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and "." in (parts.hostname or "")


# ------------------------------------------------------------------------------------------ parsing


def _parse_city(data: Any, ctx: _Ctx) -> City | None:
    if not isinstance(data, Mapping):
        ctx.add("city", "missing or not a mapping (name, phone, address, hours, callback_slots)")
        return None
    ctx.unknown_keys(data, ("name", "phone", "address", "hours", "callback_slots"))
    name, phone, address = ctx.text(data, "name"), ctx.phone(data), ctx.text(data, "address")
    hours = ctx.hours(data)
    slots = _parse_slots(data.get("callback_slots"), hours, ctx)
    if None in (name, phone, address, hours):
        return None
    return City(name, phone, address, hours, slots)


def _parse_slots(data: Any, hours: OfficeHours | None, ctx: _Ctx) -> tuple[CallbackSlot, ...]:
    if not isinstance(data, list) or not data:
        ctx.add("callback_slots", "must list at least one slot {id, label, start, end}")
        return ()
    slots: list[CallbackSlot] = []
    for i, item in enumerate(data):
        where = f"callback_slots[{i}]"
        if not isinstance(item, Mapping):
            ctx.add(where, "must be a mapping {id, label, start, end}")
            continue
        slot_id, label = item.get("id"), item.get("label")
        if not isinstance(slot_id, str) or not _ID.match(slot_id):
            ctx.add(f"{where}.id", f"{slot_id!r} must be lower-case ascii letters, digits and _")
        if not isinstance(label, str) or not label.strip():
            ctx.add(f"{where}.label", "must be non-empty text")
        times = {}
        for key in ("start", "end"):
            try:
                times[key] = parse_time(item.get(key))
            except ValueError as exc:
                ctx.add(f"{where}.{key}", str(exc))
        if len(times) == 2 and times["start"] >= times["end"]:
            ctx.add(where, "start must be before end")
        elif len(times) == 2 and hours is not None and not _inside_hours(hours, times["start"], times["end"]):
            ctx.add(where, "must lie within the city's weekday hours")
        elif len(times) == 2 and isinstance(slot_id, str) and isinstance(label, str) and label.strip():
            if any(s.id == slot_id for s in slots):
                ctx.add(f"{where}.id", f"duplicate slot id {slot_id!r}")
            slots.append(CallbackSlot(slot_id, label.strip(), times["start"], times["end"]))
    return tuple(slots)


def _inside_hours(hours: OfficeHours, start: time, end: time) -> bool:
    return hours.weekdays is not None and hours.weekdays.open <= start and end <= hours.weekdays.close


def _parse_department(data: Any, ctx: _Ctx) -> Department | None:
    if not isinstance(data, Mapping):
        ctx.add("-", "each department must be a mapping")
        return None
    ctx.ident(data)
    ctx.unknown_keys(data, ("id", "name", "phone", "hours", "location", "hours_note"))
    values = (
        data.get("id"),
        ctx.text(data, "name"),
        ctx.phone(data),
        ctx.hours(data),
        ctx.text(data, "location"),
    )
    note = data.get("hours_note") or ""
    if not isinstance(note, str):
        ctx.add("hours_note", "must be text")
        return None
    if None in values or not _ID.match(str(values[0])):
        return None
    return Department(*values, hours_note=note.strip())


def _parse_online(data: Mapping, ctx: _Ctx) -> OnlineService | None:
    value = data.get("online")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        ctx.add("online", "must be a mapping {url, requires_mynumber_card, note} or null")
        return None
    extra = sorted(str(k) for k in value if k not in ONLINE_FIELDS)
    if extra:
        ctx.add("online." + ", ".join(extra), f"unknown field(s); allowed: {', '.join(ONLINE_FIELDS)}")
    url = value.get("url")
    if not isinstance(url, str) or not is_valid_url(url):
        ctx.add("online.url", f"{url!r} is not an https:// link")
        url = None
    card = ctx.flag(value, "requires_mynumber_card", prefix="online.")
    note = value.get("note")
    if not isinstance(note, str) or not note.strip():
        ctx.add("online.note", "must be non-empty text (what residents need to know before applying)")
        return None
    return OnlineService(url, card, note.strip()) if url else None


def _parse_where(data: Mapping, ctx: _Ctx) -> Where | None:
    value = data.get("where")
    if not isinstance(value, Mapping):
        ctx.add("where", "missing or not a mapping {counter, mail, convenience_store, online}")
        return None
    allowed = WHERE_FIELDS + OPTIONAL_WHERE_FIELDS
    extra = sorted(str(k) for k in value if k not in allowed)
    if extra:
        ctx.add("where." + ", ".join(extra), f"unknown field(s); allowed: {', '.join(allowed)}")
    flags = [ctx.flag(value, key, prefix="where.") for key in WHERE_FIELDS]
    flags += [
        ctx.flag(value, key, prefix="where.") if key in value else False for key in OPTIONAL_WHERE_FIELDS
    ]
    return Where(*flags)


def _parse_procedure(data: Any, ctx: _Ctx) -> Procedure | None:
    if not isinstance(data, Mapping):
        ctx.add("-", "each procedure must be a mapping")
        return None
    before = len(ctx.problems)
    pid = ctx.ident(data)
    ctx.unknown_keys(data, PROCEDURE_FIELDS)
    texts = {k: ctx.text(data, k) for k in ("name", "category", "summary", "summary_easy", "who", "fee")}
    texts.update({k: ctx.text(data, k) for k in ("alternatives", "department", "details")})
    deadline = ctx.text(data, "deadline", nullable=True)
    aliases = ctx.texts(data, "aliases", allow_empty=False)
    bring, related = ctx.texts(data, "bring"), ctx.texts(data, "related")
    where = _parse_where(data, ctx)
    if "online" not in data:
        ctx.add("online", "missing (write null if it cannot be done online)")
    online = _parse_online(data, ctx)
    if where is not None and where.online != (data.get("online") is not None):
        ctx.add("where.online", "must be true exactly when an 'online' form is given")
    if len(ctx.problems) > before or pid is None:
        return None
    return Procedure(
        id=pid,
        aliases=aliases,
        deadline=deadline,
        bring=bring,
        where=where,
        online=online,
        related=related,
        source=ctx.file,
        **texts,
    )


def _parse_option(data: Any, ctx: _Ctx, where: str) -> LifeEventOption | None:
    if not isinstance(data, Mapping):
        ctx.add(where, "must be a mapping {id, label, triggers, checklist}")
        return None
    sub = _Ctx(ctx.file, ctx.entry, [])
    oid = data.get("id")
    if not isinstance(oid, str) or not _ID.match(oid):
        sub.add("id", f"{oid!r} must be lower-case ascii letters, digits and _")
    label = sub.text(data, "label")
    triggers = sub.texts(data, "triggers", allow_empty=False)
    checklist, deadlines = checklists.parse_checklist(data.get("checklist"), sub.add)
    for p in sub.problems:
        ctx.add(f"{where}.{p.field}", p.message)
    if sub.problems:
        return None
    return LifeEventOption(oid, label, triggers, checklist, deadlines)


def _parse_life_event(data: Any, ctx: _Ctx) -> LifeEvent | None:
    if not isinstance(data, Mapping):
        ctx.add("-", "each life event must be a mapping")
        return None
    before = len(ctx.problems)
    eid = ctx.ident(data)
    ctx.unknown_keys(data, ("id", "name", "triggers", "checklist", "question", "options", "intro"))
    name = ctx.text(data, "name")
    intro = ctx.text(data, "intro") if "intro" in data else None
    triggers = ctx.texts(data, "triggers", allow_empty=False)
    checklist, deadlines = checklists.parse_checklist(data.get("checklist"), ctx.add)
    question = data.get("question")
    options_data = data.get("options") or []
    if not isinstance(options_data, list):
        ctx.add("options", "must be a list")
        options_data = []
    options = tuple(_parse_option(o, ctx, f"options[{i}]") for i, o in enumerate(options_data))
    if options and (not isinstance(question, str) or not question.strip()):
        ctx.add("question", "must be non-empty text when options are given")
    if question is not None and not options:
        ctx.add("options", "a question needs options to choose from")
    ids = [o.id for o in options if o is not None]
    if len(set(ids)) != len(ids):
        ctx.add("options", "duplicate option ids")
    if len(ctx.problems) > before or eid is None:
        return None
    question = question.strip() if question else None
    return LifeEvent(eid, name, triggers, checklist, question, options, deadlines, intro)


# ------------------------------------------------------------------------------------------ loading


def _load(path: Path, rel: str, problems: list[Problem]) -> Any:
    try:
        return load_yaml(path)
    except FileNotFoundError:
        problems.append(Problem(rel, "(file)", "-", "file not found"))
    except YamlError as exc:
        problems.append(Problem(rel, "(file)", "-", str(exc)))
    return None


def _section(doc: Any, key: str, rel: str, problems: list[Problem]) -> list:
    if doc is None:
        return []
    if not isinstance(doc, Mapping) or not isinstance(doc.get(key), list):
        problems.append(Problem(rel, "(file)", key, f"the file must have a top-level '{key}:' list"))
        return []
    return doc[key]


def _collect(entries: list, rel: str, parse, problems: list[Problem], into: dict, kind: str) -> set[str]:
    """Parses entries into ``into`` by id, reporting duplicates (also across files).

    Returns:
        Every id the entries declare, valid or not, so that references to a broken entry are not
        reported a second time as unknown.
    """
    declared: set[str] = set()
    for i, data in enumerate(entries):
        ctx = _Ctx(rel, f"#{i + 1}", problems)
        if isinstance(data, Mapping) and isinstance(data.get("id"), str):
            declared.add(data["id"])
        item = parse(data, ctx)
        if item is None:
            continue
        if item.id in into:
            other = getattr(into[item.id], "source", "") or rel
            ctx.add("id", f"duplicate {kind} id (also defined in {other})")
            continue
        into[item.id] = item
    return declared


def load_catalog(data_dir: Path) -> Catalog:
    """Loads and validates the catalog under a data directory.

    Raises:
        CatalogError: listing every problem found, as ``file: entry id: field: what is wrong``.
    """
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    doc = _load(data_dir / DEPARTMENTS_FILE, DEPARTMENTS_FILE, problems)
    city = None
    departments: dict[str, Department] = {}
    department_ids: set[str] | None = None  # None: departments.yml unreadable, do not check references
    if doc is not None:
        city_data = doc.get("city") if isinstance(doc, Mapping) else None
        city = _parse_city(city_data, _Ctx(DEPARTMENTS_FILE, "city", problems))
        entries = _section(doc, "departments", DEPARTMENTS_FILE, problems)
        department_ids = _collect(
            entries, DEPARTMENTS_FILE, _parse_department, problems, departments, "department"
        )

    procedures: dict[str, Procedure] = {}
    procedure_ids: set[str] = set()
    files = sorted((data_dir / CATALOG_DIR).glob("*.yml"))
    if not files:
        problems.append(Problem(f"{CATALOG_DIR}/", "(dir)", "-", "no *.yml procedure files found"))
    for path in files:
        rel = f"{CATALOG_DIR}/{path.name}"
        entries = _section(_load(path, rel, problems), "procedures", rel, problems)
        procedure_ids |= _collect(entries, rel, _parse_procedure, problems, procedures, "procedure")

    life_events: dict[str, LifeEvent] = {}
    doc = _load(data_dir / LIFE_EVENTS_FILE, LIFE_EVENTS_FILE, problems)
    entries = _section(doc, "life_events", LIFE_EVENTS_FILE, problems)
    _collect(entries, LIFE_EVENTS_FILE, _parse_life_event, problems, life_events, "life event")

    problems.extend(_check_references(department_ids, procedure_ids, procedures, life_events))
    if problems or city is None:
        raise CatalogError(problems or [Problem(DEPARTMENTS_FILE, "city", "-", "missing")])
    return Catalog(city, departments, procedures, life_events)


def _check_references(
    department_ids: set[str] | None,
    procedure_ids: set[str],
    procedures: Mapping[str, Procedure],
    life_events: Mapping[str, LifeEvent],
) -> list[Problem]:
    """Cross-file checks: departments, related ids, checklists and aliases shared by two procedures."""
    problems: list[Problem] = []
    alias_owner: dict[str, str] = {}
    for p in procedures.values():
        if department_ids is not None and p.department not in department_ids:
            problems.append(Problem(p.source, p.id, "department", f"unknown department {p.department!r}"))
        for rid in p.related:
            if rid == p.id:
                problems.append(Problem(p.source, p.id, "related", "a procedure cannot be related to itself"))
            elif rid not in procedure_ids:
                problems.append(Problem(p.source, p.id, "related", f"unknown procedure id {rid!r}"))
        for alias in (p.name, *p.aliases):
            owner = alias_owner.setdefault(matching.fold(alias), p.id)
            if owner != p.id:
                problems.append(
                    Problem(p.source, p.id, "aliases", f"{alias!r} is also a name or alias of {owner!r}")
                )
    for event in life_events.values():
        lists = [("checklist", event.checklist)]
        lists += [(f"options.{o.id}.checklist", o.checklist) for o in event.options if o is not None]
        for field_name, ids in lists:
            for pid in ids:
                if pid not in procedure_ids:
                    problems.append(
                        Problem(LIFE_EVENTS_FILE, event.id, field_name, f"unknown procedure id {pid!r}")
                    )
    for event in life_events.values():
        own = [("checklist", pid, text) for pid, text in event.deadlines]
        own += [(f"options.{o.id}.checklist", pid, text) for o in event.options for pid, text in o.deadlines]
        for field_name, _pid, message in checklists.deadline_problems(own, procedures):
            problems.append(Problem(LIFE_EVENTS_FILE, event.id, field_name, message))
    return problems


__all__ = [
    "CallbackSlot",
    "Catalog",
    "CatalogError",
    "City",
    "Department",
    "LifeEvent",
    "LifeEventOption",
    "OnlineService",
    "Problem",
    "Procedure",
    "Where",
    "is_valid_phone",
    "is_valid_url",
    "load_catalog",
]
