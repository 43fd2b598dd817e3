""" "電話で聞きたい / 人と話したい": the right department's number and whether it is open now."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.base import button, payload
from actions.procedures import named_procedure
from bot.hours import OfficeHours, is_open, next_opening, now_jst


def hours_text(hours: OfficeHours, note: str = "") -> str:
    """Opening hours as residents read them (the data's own note wins)."""
    if note:
        return note
    msg = context.messages()
    if hours.weekdays is None:
        return ""
    return msg.text(
        "phone.hours_weekdays",
        open=hours.weekdays.open.strftime("%-H:%M"),
        close=hours.weekdays.close.strftime("%-H:%M"),
    )


def opening_text(moment: datetime) -> str:
    """A date and time such as 11月27日（金）8:30."""
    msg = context.messages()
    weekdays = msg.raw("phone.weekdays")
    return msg.text(
        "phone.next_open_format",
        month=moment.month,
        day=moment.day,
        weekday=weekdays[moment.weekday()],
        time=moment.strftime("%-H:%M"),
    )


class ActionContactPhone(Action):
    """Gives the phone number of the department in charge, open now or next opening, and callback."""

    def name(self) -> str:
        return "action_contact_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        catalog = context.catalog()
        msg = context.messages()
        procedure = named_procedure(tracker, catalog)
        department = catalog.department_of(procedure.id) if procedure else None
        now = now_jst()
        if department is not None:
            name, phone, hours, note = (
                department.name,
                department.phone,
                department.hours,
                department.hours_note,
            )
        else:
            city = catalog.city
            name, phone, hours, note = city.name, city.phone, city.hours, ""
        described = hours_text(hours, note)
        open_now = is_open(hours, now)
        lines = [msg.text("phone.department", department=name, phone=phone)]
        if open_now:
            lines.append(msg.text("phone.open_now", hours=described))
        else:
            lines.append(
                msg.text(
                    "phone.closed_now", next_open=opening_text(next_opening(hours, now)), hours=described
                )
            )
        if department is not None:
            lines.append(msg.text("phone.main", main_phone=catalog.city.phone))
        lines.append(msg.text("phone.callback_offer"))
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[button(msg.text("phone.callback_button"), payload("request_callback"))],
            json_message={
                "madoguchi": {"kind": "phone", "department": name, "phone": phone, "open_now": open_now}
            },
        )
        return []
