"""After a safety answer: the procedure the message also names, so that nothing the resident asked is lost.

See :func:`bot.dialogue.decide._safety_followup`.
"""

from __future__ import annotations

from rasa_sdk import Action

from actions.adapter import Decided
from bot.dialogue.decide import Ask


class ActionSafetyFollowup(Decided, Action):
    """After a crisis answer: the card of a procedure the message names clearly; nothing otherwise."""

    ask = Ask.SAFETY_FOLLOWUP

    def name(self) -> str:
        return "action_safety_followup"
