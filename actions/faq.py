"""Questions no dialogue intent takes with confidence: answered from the FAQ knowledge base."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.answers import answer_faq_entry, send_resolution
from actions.base import intent_name, intent_ranking, latest_entity, user_text
from actions.resolve import resolve, understood_intent


class ActionAnswerFaq(Action):
    """Answers from the FAQ (hot-reloaded after staff imports), else suggests, never a dead end."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        snapshot = context.faq_snapshot()
        chosen = latest_entity(tracker, "faq_id")
        if chosen and snapshot is not None and chosen in snapshot.entries:
            return answer_faq_entry(dispatcher, snapshot.entries[chosen])
        text = user_text(tracker)
        catalog = context.catalog()
        resolution = resolve(
            text, understood_intent(intent_name(tracker), intent_ranking(tracker)), catalog, snapshot
        )
        return [SlotSet("last_question", text or None)] + send_resolution(
            dispatcher, tracker, catalog, resolution, text
        )
