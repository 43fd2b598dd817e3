"""One catalog entry at a time: YAML mappings into model objects, every problem reported."""

from __future__ import annotations

from datetime import time
from typing import Any, Mapping

from bot.hours import OfficeHours, parse_time
from bot.knowledge import dates
from bot.knowledge.catalog.model import (
    ONLINE_FIELDS,
    OPTIONAL_WHERE_FIELDS,
    PROCEDURE_FIELDS,
    WHERE_FIELDS,
    CallbackSlot,
    City,
    Department,
    LifeEvent,
    LifeEventOption,
    OnlineService,
    Procedure,
    Where,
)
from bot.knowledge.catalog.validation import ID, EntryChecker, is_valid_url
from bot.knowledge.checklists import parse_checklist


def parse_city(data: Any, ctx: EntryChecker) -> City | None:
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


def _parse_slots(data: Any, hours: OfficeHours | None, ctx: EntryChecker) -> tuple[CallbackSlot, ...]:
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
        if not isinstance(slot_id, str) or not ID.match(slot_id):
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


def parse_department(data: Any, ctx: EntryChecker) -> Department | None:
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
    if None in values or not ID.match(str(values[0])):
        return None
    return Department(*values, hours_note=note.strip())


def _parse_online(data: Mapping, ctx: EntryChecker) -> OnlineService | None:
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


def _parse_where(data: Mapping, ctx: EntryChecker) -> Where | None:
    value = data.get("where")
    if not isinstance(value, Mapping):
        ctx.add("where", "missing or not a mapping {counter, mail, convenience_store, online}")
        return None
    allowed = WHERE_FIELDS + OPTIONAL_WHERE_FIELDS
    extra = sorted(str(k) for k in value if k not in allowed)
    if extra:
        ctx.add("where." + ", ".join(extra), f"unknown field(s); allowed: {', '.join(allowed)}")
    flags = [ctx.flag(value, key, prefix="where.") for key in WHERE_FIELDS]
    flags += [key in value and ctx.flag(value, key, prefix="where.") for key in OPTIONAL_WHERE_FIELDS]
    return Where(*flags)


def parse_procedure(data: Any, ctx: EntryChecker) -> Procedure | None:
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
    verified_on = _verified_on(data, ctx)
    with_phone = "with_phone_answer" in data and ctx.flag(data, "with_phone_answer")
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
        verified_on=verified_on,
        with_phone_answer=with_phone,
        **texts,
    )


def _verified_on(data: Mapping, ctx: EntryChecker) -> str:
    """確認日, optional: any spelling of :mod:`bot.knowledge.dates` (和暦 too), kept as an ISO date."""
    value = data.get("verified_on")
    if value is None or value == "":
        return ""
    iso = dates.iso_date(str(value))
    if iso is None:
        ctx.add("verified_on", f"{value!r} is not a date ({dates.EXAMPLES})")
        return ""
    return iso


def _parse_option(data: Any, ctx: EntryChecker, where: str) -> LifeEventOption | None:
    if not isinstance(data, Mapping):
        ctx.add(where, "must be a mapping {id, label, triggers, checklist}")
        return None
    sub = EntryChecker(ctx.file, ctx.entry, [])
    oid = data.get("id")
    if not isinstance(oid, str) or not ID.match(oid):
        sub.add("id", f"{oid!r} must be lower-case ascii letters, digits and _")
    label = sub.text(data, "label")
    triggers = sub.texts(data, "triggers", allow_empty=False)
    checklist, deadlines = parse_checklist(data.get("checklist"), sub.add)
    for p in sub.problems:
        ctx.add(f"{where}.{p.field}", p.message)
    if sub.problems:
        return None
    return LifeEventOption(oid, label, triggers, checklist, deadlines)


def parse_life_event(data: Any, ctx: EntryChecker) -> LifeEvent | None:
    if not isinstance(data, Mapping):
        ctx.add("-", "each life event must be a mapping")
        return None
    before = len(ctx.problems)
    eid = ctx.ident(data)
    ctx.unknown_keys(
        data, ("id", "name", "triggers", "checklist", "question", "options", "intro", "includes")
    )
    name = ctx.text(data, "name")
    triggers = ctx.texts(data, "triggers", allow_empty=False)
    intro = ctx.text(data, "intro") if "intro" in data else None
    includes = ctx.texts(data, "includes") if "includes" in data else ()
    checklist, deadlines = parse_checklist(data.get("checklist"), ctx.add)
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
    return LifeEvent(eid, name, triggers, checklist, question, options, deadlines, intro, includes)
