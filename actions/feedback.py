"""The "役に立ちましたか？" vote, recorded with the question it was about."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.adapter import latest_entity, record_review
from actions.context import UsesContext
from bot.analytics.events import feedback_event
from bot.dialogue.replies import ReviewNote

logger = logging.getLogger(__name__)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


class ActionRecordFeedback(UsesContext, Action):
    """Records a vote; a "役に立たなかった" also sends the question to the staff review list."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        helpful = _as_bool(latest_entity(tracker, "helpful"))
        if helpful is None:
            helpful = _as_bool(tracker.get_slot("helpful"))
        question = tracker.get_slot("last_question")
        answer = tracker.get_slot("last_answer")
        if helpful is None:
            dispatcher.utter_message(response="utter_ask_feedback")
            return []
        try:
            await self.context.store_call(lambda s: s.feedback.record(helpful, question, answer))
        except Exception as error:
            logger.error("could not record feedback: %s", type(error).__name__)
        await self._record_vote(tracker, helpful, answer)
        if helpful:
            dispatcher.utter_message(response="utter_feedback_thanks")
        else:
            if question:
                note = ReviewNote(question, "unhelpful", (answer,) if answer else ())
                await record_review(self.context, note)
            dispatcher.utter_message(response="utter_feedback_sorry")
        return []

    async def _record_vote(self, tracker: Tracker, helpful: bool, answer: str | None) -> None:
        """The vote in the analytics record (利用状況: 役に立った ratio by channel); never fails the turn."""
        channel = tracker.get_latest_input_channel() or ""
        try:
            at = self.context.knowledge.clock()
            event = feedback_event(
                self.context.analytics_salt(), at, channel, tracker.sender_id, helpful, answer
            )
            await self.context.store_call(lambda s: s.analytics.record(event))
        except Exception as error:  # an unknown channel (rasa shell) or a store that is down
            logger.warning("feedback vote not in the analytics record: %s", type(error).__name__)
