"""Questions no dialogue intent takes with confidence: answered from the FAQ knowledge base."""

from __future__ import annotations

from rasa_sdk import Action

from actions.adapter import Decided
from bot.dialogue.decide import Ask


class ActionAnswerFaq(Decided, Action):
    """Answers from the FAQ (hot-reloaded after staff imports), else suggests, never a dead end."""

    ask = Ask.FAQ

    def name(self) -> str:
        return "action_answer_faq"
