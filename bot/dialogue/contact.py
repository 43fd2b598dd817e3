"""Ways to a person: the right number and whether it is open now (the callback form: .callback_form)."""

from __future__ import annotations

from datetime import datetime

from bot.dialogue.cards import PhoneCard
from bot.dialogue.knowledge import Knowledge
from bot.dialogue.replies import Button, Line, Reply, Text, Turn, payload, render_line, text
from bot.hours import OfficeHours, is_open, next_opening
from bot.knowledge.catalog import Procedure


def hours_text(hours: OfficeHours, note: str = "") -> Line:
    """Opening hours as residents read them (the data's own note wins)."""
    if note:
        return note
    if hours.weekdays is None:
        return ""
    return text(
        "phone.hours_weekdays",
        open=hours.weekdays.open.strftime("%-H:%M"),
        close=hours.weekdays.close.strftime("%-H:%M"),
    )


def opening_text(k: Knowledge, moment: datetime) -> Text:
    """A date and time such as 11月27日（金）8:30."""
    weekdays = k.messages.raw("phone.weekdays")
    return text(
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
    described = hours_text(hours, note)
    open_now = is_open(hours, now)
    lines = [text("phone.department", department=name, phone=number)]
    if open_now:
        lines.append(text("phone.open_now", hours=described))
    else:
        next_open = opening_text(k, next_opening(hours, now))
        lines.append(text("phone.closed_now", next_open=next_open, hours=described))
    if department is not None:
        lines.append(text("phone.main", main_phone=catalog.city.phone))
    lines.append(text("phone.callback_offer"))
    reply = Reply(
        lines=tuple(lines),
        buttons=(Button(msg.text("phone.callback_button"), payload("request_callback")),),
        card=PhoneCard(department=name, phone=number, open_now=open_now),
    )
    return Turn((reply,))


def phone_give_up(k: Knowledge) -> Turn:
    """After too many unreadable numbers: the main number and its hours (a domain.yml answer)."""
    city = k.catalog.city
    params = {"main_phone": city.phone, "hours": render_line(hours_text(city.hours), k.messages)}
    return Turn((Reply(response="utter_phone_give_up", params=params),))
