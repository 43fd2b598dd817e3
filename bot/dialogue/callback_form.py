"""The callback form's steps, decided without Rasa: what an answer gives, and how each step is asked.

Every answer either fills its step (and whatever else it clearly gives: the name beside the number, a
corrected number at the read-back) or leaves the step empty with a *reason*, kept in the ``callback_retry``
slot; the step's ask then says why and gives an example (:func:`ask`). Nothing typed into the form ends it
except 「やめる」 (intent ``deny``), which is the rules' business (data/rules.yml); a crisis answer comes
before the step is asked again (a sure crisis: the rules; one the NLU was unsure of:
:func:`with_crisis_line`).

Steps are the form's slot names; ``take(step, value, so_far, k)`` validates one answer,
``ask(step, so_far, retry, k)`` asks a step (first time or again), ``done(...)`` tells the 受付番号 and the
day and hours of the call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from bot.dialogue import form_answers as answers
from bot.dialogue.cards import CallbackCard, CallbackFormCard, PhoneCard
from bot.dialogue.contact import hours_text, phone_give_up
from bot.dialogue.knowledge import Knowledge
from bot.dialogue.replies import Button, Line, Reply, Text, Turn, payload, render_line, text
from bot.hours import next_weekday_window
from bot.phone import parse_phone, without_phone
from bot.stores.records import ticket_parts

PHONE = "callback_phone"
NAME = "callback_name"
SLOT = "callback_slot"
TOPIC = "callback_topic"
CONFIRMED = "callback_confirmed"
#: The form's steps in order (domain.yml ``forms.callback_form.required_slots``).
STEPS = (PHONE, NAME, SLOT, TOPIC, CONFIRMED)
ATTEMPTS = "callback_phone_attempts"
GAVE_UP = "callback_gave_up"
#: Why the step is asked again (one of the reasons below), or None when it is asked the first time.
RETRY = "callback_retry"

#: Reasons a step is asked again: digits that are no phone number, 「わからない」, anything else (a question,
#: 「はい」, a button of an older message), a number given where a name was asked, the number already
#: given typed again at the read-back, the read-back corrected (a new number or name).
INVALID, UNSURE, OTHER, HAVE_PHONE, SAME_PHONE, CHANGED = (
    "invalid",
    "unsure",
    "other",
    "have_phone",
    "same_phone",
    "changed",
)

#: What became of a confirmed request that got no 受付番号 (``PhoneCard.callback``): certainly not stored,
#: or perhaps stored (the store did not answer whether it was).
NOT_STORED, UNSURE = "not_stored", "unsure"

#: Unreadable phone numbers (answers with digits) accepted before the main number is given instead; answers
#: without digits (「わからない」, a question) are re-asked without counting.
MAX_PHONE_ATTEMPTS = 3
MAX_TOPIC_LENGTH = 200
#: The step names the ``callback_form`` card carries.
CARD_STEPS = {PHONE: "phone", NAME: "name", SLOT: "slot", TOPIC: "topic", CONFIRMED: "confirm"}


@dataclass(frozen=True)
class SoFar:
    """What the form holds before this answer (the slots' values)."""

    phone: str | None = None
    name: str | None = None
    slot: str | None = None
    topic: str | None = None
    attempts: int = 0


def take(step: str, value: Any, so_far: SoFar, k: Knowledge, said: str = "") -> Turn:
    """One answer to ``step`` (the mapped value: the resident's text, a button's entity, True for 「はい」;
    ``said``: the words typed, "" for a button).

    Returns the slot changes (the step's value or None, and ``callback_retry`` when it is to be asked
    again) and, only after too many unreadable numbers, the main number (the form then ends).
    """
    takers = {PHONE: _take_phone, NAME: _take_name, SLOT: _take_slot, TOPIC: _take_topic}
    if step == CONFIRMED:
        return _take_confirmation(value, so_far, said)
    return takers[step]("" if value is None else str(value), so_far, k)


def with_crisis_line(line: str | None, replies: tuple[Reply, ...]) -> tuple[Reply, ...]:
    """The replies to a form answer, after the crisis line (``utter_<safety intent>``) when the message
    may be a crisis: the resident gets the number and the form goes on, as it was."""
    return ((Reply(response=line),) if line else ()) + tuple(replies)


def _again(step: str, reason: str, *changes: tuple[str, Any]) -> Turn:
    return Turn(slots=(*changes, (step, None), (RETRY, reason)))


def _why_not(text: str) -> str:
    return UNSURE if answers.is_unsure(text) and not answers.is_payload(text) else OTHER


def _take_phone(text: str, so_far: SoFar, k: Knowledge) -> Turn:
    parsed = parse_phone(text)
    if parsed is not None:
        changes = [(PHONE, parsed.national), (ATTEMPTS, 0)]
        name = None if so_far.name else answers.name_beside_number(text)
        if name:
            changes.append((NAME, name))
        return Turn(slots=tuple(changes))
    if answers.is_payload(text) or not any(ch.isdigit() for ch in text):
        return _again(PHONE, _why_not(text))
    attempts = so_far.attempts + 1
    if attempts >= MAX_PHONE_ATTEMPTS:
        gave_up = Turn(slots=((PHONE, None), (ATTEMPTS, attempts), (GAVE_UP, True)))
        return phone_give_up(k).then(gave_up)
    return _again(PHONE, INVALID, (ATTEMPTS, attempts))


def _take_name(text: str, so_far: SoFar, k: Knowledge) -> Turn:
    parsed = parse_phone(text)
    changes = [(PHONE, parsed.national)] if parsed and parsed.national != so_far.phone else []
    name = answers.as_name(text)
    if name:
        return Turn(slots=(*changes, (NAME, name)))
    return _again(NAME, HAVE_PHONE if parsed else _why_not(text), *changes)


def _take_slot(text: str, so_far: SoFar, k: Knowledge) -> Turn:
    slot = answers.find_slot(k.catalog.city.callback_slots, text)
    if slot is not None:
        return Turn(slots=((SLOT, slot.id),))
    return _again(SLOT, _why_not(text))


def _take_topic(text: str, so_far: SoFar, k: Knowledge) -> Turn:
    topic = " ".join(text.split())
    if not topic or answers.is_payload(topic) or answers.only_unsure(topic):
        return _again(TOPIC, _why_not(topic))
    if parse_phone(topic) and not without_phone(topic).strip(answers.SEPARATORS):
        return _again(TOPIC, HAVE_PHONE)
    return Turn(slots=((TOPIC, topic[:MAX_TOPIC_LENGTH]),))


def _take_confirmation(value: Any, so_far: SoFar, said: str) -> Turn:
    """「はい」 (True) confirms — unless the words are 「わかりません」 or a question the classifier took
    for a yes; a number or a name typed at the read-back corrects it; anything else asks again.
    「やめる」 never arrives here (intent deny cancels the form)."""
    if value is True:
        if said and (answers.is_unsure(said) or answers.is_question(said)):
            return _again(CONFIRMED, _why_not(said))
        return Turn(slots=((CONFIRMED, True),))
    said = "" if value is None else str(value)
    parsed = parse_phone(said)
    name = answers.name_beside_number(said) if parsed else answers.introduced_name(said)
    changes = []
    if parsed and parsed.national != so_far.phone:
        changes.append((PHONE, parsed.national))
    if name and name != so_far.name:
        changes.append((NAME, name))
    if changes:
        return _again(CONFIRMED, CHANGED, *changes)
    return _again(CONFIRMED, SAME_PHONE if parsed else _why_not(said))


def ask(step: str, so_far: SoFar, retry: str | None, k: Knowledge) -> Turn:
    """Asks ``step``: the first time as domain.yml words it, again (``retry``: why) with the reason and an
    example. Clears ``callback_retry``."""
    askers = {
        PHONE: _ask_phone,
        NAME: _ask_name,
        SLOT: _ask_slot,
        TOPIC: _ask_topic,
        CONFIRMED: _ask_confirmation,
    }
    reply = askers[step](so_far, retry, k)
    return Turn(replies=(reply,), slots=((RETRY, None),) if retry else ())


def _retry_line(step: str, retry: str, k: Knowledge, **params: Any) -> Text:
    """The re-ask text of this step and reason (callback.retry.<step>.<reason>; ``other`` when the data has
    no text for that reason)."""
    section = k.messages.raw(f"callback.retry.{CARD_STEPS[step]}")
    key = retry if retry in section else OTHER
    return text(f"callback.retry.{CARD_STEPS[step]}.{key}", **params)


def _first_or_again(step: str, retry: str | None, k: Knowledge, **params: Any) -> Reply:
    card = CallbackFormCard(step=CARD_STEPS[step])
    if not retry:
        return Reply(response=f"utter_ask_{step}", card=None)
    return Reply(lines=(_retry_line(step, retry, k, **params),), card=card)


def _ask_phone(so_far: SoFar, retry: str | None, k: Knowledge) -> Reply:
    city = k.catalog.city
    hours = render_line(hours_text(city.hours), k.messages)
    return _first_or_again(PHONE, retry, k, city=city.name, main_phone=city.phone, hours=hours)


def _ask_name(so_far: SoFar, retry: str | None, k: Knowledge) -> Reply:
    return _first_or_again(NAME, retry, k, phone=readable_phone(so_far.phone))


def _ask_topic(so_far: SoFar, retry: str | None, k: Knowledge) -> Reply:
    return _first_or_again(TOPIC, retry, k)


def _ask_slot(so_far: SoFar, retry: str | None, k: Knowledge) -> Reply:
    slots = k.catalog.city.callback_slots
    lines: tuple[Line, ...] = (text("callback.slot_prompt"),)
    if retry:
        lines = (_retry_line(SLOT, retry, k),) + lines
    return Reply(
        lines=lines,
        buttons=tuple(Button(s.label, payload("inform", time_slot=s.id)) for s in slots),
        card=CallbackFormCard(step="slot"),
    )


def _ask_confirmation(so_far: SoFar, retry: str | None, k: Knowledge) -> Reply:
    msg = k.messages
    slot = k.catalog.city.slot(so_far.slot or "")
    phone = readable_phone(so_far.phone)
    read_back = text(
        "callback.confirm",
        phone=phone,
        name=so_far.name,
        slot=call_when(k, slot) if slot else "",
        topic=so_far.topic,
    )
    lines: tuple[Line, ...] = (read_back,)
    if retry:
        lines = (_retry_line(CONFIRMED, retry, k, phone=phone), read_back)
        if retry != OTHER:
            lines += (text("callback.retry.confirm.other"),)
    return Reply(
        lines=lines,
        buttons=(
            Button(msg.text("callback.confirm_yes"), payload("affirm")),
            Button(msg.text("callback.confirm_no"), payload("deny")),
        ),
        card=CallbackFormCard(step="confirm"),
    )


def readable_phone(national: str | None) -> str:
    """The number as the resident reads it back (090-1234-5678), else as it is."""
    parsed = parse_phone(national or "")
    return parsed.formatted if parsed else (national or "")


def call_day(k: Knowledge, slot) -> date:
    """The day of the call for a request made now: the next weekday the city is open for the slot."""
    return next_weekday_window(k.catalog.city.hours, slot.start, slot.end, k.now)


def _clock_time(moment: time) -> Text:
    if moment.minute:
        return text("callback.hour_minute", hour=moment.hour, minute=moment.minute)
    return text("callback.hour", hour=moment.hour)


def call_when(k: Knowledge, slot) -> Text:
    """「12月3日（木）の午前中（9時〜12時）」: the day and the hours of the call."""
    day = call_day(k, slot)
    weekdays = k.messages.raw("phone.weekdays")
    part = "callback.part_morning" if slot.start.hour < 12 else "callback.part_afternoon"
    return text(
        "callback.call_when",
        date=text("callback.call_date", month=day.month, day=day.day, weekday=weekdays[day.weekday()]),
        part=text(part),
        start=_clock_time(slot.start),
        end=_clock_time(slot.end),
    )


def done(
    k: Knowledge, *, ticket: str, slot_id: str, slot_text: str, department: Any, phone_display: str
) -> Turn:
    """The 受付番号 of a stored request, the day and hours of the call, who will call.

    ``slot_text``: the slot as stored (said as it is when ``slot_id`` is no longer in the data);
    ``department``: a Department or None (the city's main number then)."""
    city = k.catalog.city
    slot = city.slot(slot_id)
    when = render_line(call_when(k, slot), k.messages) if slot else slot_text
    weekdays = k.messages.raw("phone.weekdays")
    received, number = ticket_parts(ticket) or (k.now.date(), 0)
    day = text(
        "callback.call_date", month=received.month, day=received.day, weekday=weekdays[received.weekday()]
    )
    received_label = render_line(day, k.messages)
    spoken = f"{number:04d}"
    params = {
        "ticket": ticket,
        "ticket_number": spoken,
        "ticket_day": received_label,
        "slot_label": slot.label if slot else slot_text,
        "call_when": when,
        "department_name": department.name if department else city.name,
        "department_phone": department.phone if department else city.phone,
        "phone_display": phone_display,
    }
    card = CallbackCard(
        ticket=ticket,
        call_date=call_day(k, slot).isoformat() if slot else None,
        slot=slot.id if slot else None,
        number=spoken,
        received=received.isoformat(),
        received_label=received_label,
        call_when=when,
    )
    return Turn((Reply(response="utter_callback_done", params=params, card=card),))


def not_done(k: Knowledge, *, outcome: str, department: Any) -> Turn:
    """A confirmed request without a 受付番号: ``outcome`` :data:`NOT_STORED` or :data:`UNSURE`, said as it
    is, with the number of the department (or the city) to call instead."""
    if outcome not in (NOT_STORED, UNSURE):
        raise ValueError(f"outcome: {outcome!r} is not {NOT_STORED!r} or {UNSURE!r}")
    city = k.catalog.city
    name, number = (department.name, department.phone) if department else (city.name, city.phone)
    hours = hours_text(department.hours, department.hours_note) if department else hours_text(city.hours)
    line = text(f"callback.{outcome}", department_name=name, department_phone=number, hours=hours)
    card = PhoneCard(department=name, phone=number, callback=outcome)
    return Turn((Reply(lines=(line,), card=card),))


def request_key(conversation: str, form_started: Any) -> str:
    """The idempotency key of the request of one run of the form (``form_started``: the timestamp of its
    activation): a hash, so no id or time of the resident is stored with it."""
    digest = hashlib.sha256(f"madoguchi-callback:{conversation}:{form_started}".encode())
    return digest.hexdigest()[:32]
