"""Ways to a person: the right number and whether it is open now, and the callback form's replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.dialogue.cards import CallbackCard, CallbackFormCard, PhoneCard
from bot.dialogue.knowledge import Knowledge
from bot.dialogue.replies import Button, Reply, Turn, payload
from bot.hours import OfficeHours, is_open, next_opening
from bot.knowledge.catalog import Procedure


def hours_text(k: Knowledge, hours: OfficeHours, note: str = "") -> str:
    """Opening hours as residents read them (the data's own note wins)."""
    if note:
        return note
    if hours.weekdays is None:
        return ""
    return k.messages.text(
        "phone.hours_weekdays",
        open=hours.weekdays.open.strftime("%-H:%M"),
        close=hours.weekdays.close.strftime("%-H:%M"),
    )


def opening_text(k: Knowledge, moment: datetime) -> str:
    """A date and time such as 11月27日（金）8:30."""
    msg = k.messages
    weekdays = msg.raw("phone.weekdays")
    return msg.text(
        "phone.next_open_format",
        month=moment.month,
        day=moment.day,
        weekday=weekdays[moment.weekday()],
        time=moment.strftime("%-H:%M"),
    )


def phone(k: Knowledge, procedure: Procedure | None) -> Turn:
    """The number of the department in charge (else the city's), open now or next opening, callback."""
    catalog, msg, now = k.catalog, k.messages, k.now
    department = catalog.department_of(procedure.id) if procedure else None
    if department is not None:
        name, number, hours, note = department.name, department.phone, department.hours, department.hours_note
    else:
        name, number, hours, note = catalog.city.name, catalog.city.phone, catalog.city.hours, ""
    described = hours_text(k, hours, note)
    open_now = is_open(hours, now)
    lines = [msg.text("phone.department", department=name, phone=number)]
    if open_now:
        lines.append(msg.text("phone.open_now", hours=described))
    else:
        next_open = opening_text(k, next_opening(hours, now))
        lines.append(msg.text("phone.closed_now", next_open=next_open, hours=described))
    if department is not None:
        lines.append(msg.text("phone.main", main_phone=catalog.city.phone))
    lines.append(msg.text("phone.callback_offer"))
    reply = Reply(
        text="\n".join(lines),
        buttons=(Button(msg.text("phone.callback_button"), payload("request_callback")),),
        card=PhoneCard(department=name, phone=number, open_now=open_now),
    )
    return Turn((reply,))


def callback_slot_prompt(k: Knowledge) -> Turn:
    """The callback time slots (all within business hours) as buttons."""
    slots = k.catalog.city.callback_slots
    reply = Reply(
        text=k.messages.text("callback.slot_prompt"),
        buttons=tuple(Button(s.label, payload("inform", time_slot=s.id)) for s in slots),
        card=CallbackFormCard(step="slot"),
    )
    return Turn((reply,))


def callback_confirmation(k: Knowledge, *, phone: str, name: Any, slot_id: str, topic: Any) -> Turn:
    """The request read back, with yes/no buttons (``phone``: as the resident should read it)."""
    msg = k.messages
    slot = k.catalog.city.slot(slot_id)
    reply = Reply(
        text=msg.text(
            "callback.confirm", phone=phone, name=name, slot=slot.label if slot else "", topic=topic
        ),
        buttons=(
            Button(msg.text("callback.confirm_yes"), payload("affirm")),
            Button(msg.text("callback.confirm_no"), payload("deny")),
        ),
        card=CallbackFormCard(step="confirm"),
    )
    return Turn((reply,))


def callback_done(k: Knowledge, *, ticket: str, slot_label: str, department: Any, phone_display: str) -> Turn:
    """The 受付番号 of a stored request and who will call (``department``: a Department or None)."""
    city = k.catalog.city
    params = {
        "ticket": ticket,
        "slot_label": slot_label,
        "department_name": department.name if department else city.name,
        "department_phone": department.phone if department else city.phone,
        "phone_display": phone_display,
    }
    return Turn((Reply(response="utter_callback_done", params=params, card=CallbackCard(ticket=ticket)),))


def phone_give_up(k: Knowledge) -> Turn:
    """After too many unreadable numbers: the main number and its hours (a domain.yml answer)."""
    city = k.catalog.city
    params = {"main_phone": city.phone, "hours": hours_text(k, city.hours)}
    return Turn((Reply(response="utter_phone_give_up", params=params),))
