""" "電話で聞きたい / 人と話したい": the right department's number and whether it is open now."""

from __future__ import annotations

from rasa_sdk import Action

from actions.adapter import Decided
from bot.dialogue.decide import Ask


class ActionContactPhone(Decided, Action):
    """Gives the phone number of the department in charge, open now or next opening, and callback."""

    ask = Ask.PHONE

    def name(self) -> str:
        return "action_contact_phone"
