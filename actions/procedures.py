"""Procedure questions: the short answer (or life event, FAQ, suggestions), the details, "online?".

Thin adapters: the decision is :func:`bot.dialogue.decide.decide`.
"""

from __future__ import annotations

from rasa_sdk import Action

from actions.adapter import Decided
from bot.dialogue.decide import Ask


class ActionAnswerProcedure(Decided, Action):
    """Answers a procedure question or a life event from the catalog (no per-procedure code)."""

    ask = Ask.ANSWER

    def name(self) -> str:
        return "action_answer_procedure"


class ActionProcedureDetails(Decided, Action):
    """The longer explanation of the procedure just discussed (or named now)."""

    ask = Ask.DETAILS

    def name(self) -> str:
        return "action_procedure_details"


class ActionAnswerOnline(Decided, Action):
    """ "Can I do this online?": the form when there is one, the honest alternatives when not."""

    ask = Ask.ONLINE

    def name(self) -> str:
        return "action_answer_online"


class ActionAnswerOutOfScope(Decided, Action):
    """A question the classifier called out of scope: answered from the catalog or FAQ when they are sure,
    otherwise the out-of-scope answer (``utter_out_of_scope``)."""

    ask = Ask.OUT_OF_SCOPE

    def name(self) -> str:
        return "action_answer_out_of_scope"
