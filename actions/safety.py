"""After a safety answer: the procedure the message also names, so that nothing the resident asked is lost.

The classifier sometimes reads a sad message about something else as a crisis (「飼っていた犬が死んで
しまいました」 → crisis lines). The crisis answer always comes first and is never taken back; when the same
message also names a procedure clearly (the catalog's :data:`actions.resolve.PROCEDURE_SURE`), its card
follows (犬の死亡の届出; 生活の困りごと相談 for 「借金が返せなくて死ぬしかない」).
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.answers import send_procedure_card
from actions.base import user_text
from actions.resolve import PROCEDURE_SURE


class ActionSafetyFollowup(Action):
    """Adds the card of a procedure the message names clearly; says nothing otherwise."""

    def name(self) -> str:
        return "action_safety_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        text = user_text(tracker)
        if not text:
            return []
        catalog = context.catalog()
        matches = catalog.match(text, top_k=1, min_score=PROCEDURE_SURE)
        if not matches:
            return []
        procedure = catalog.get(matches[0][0])
        dispatcher.utter_message(text=context.messages().text("safety.procedure_too", name=procedure.name))
        return send_procedure_card(dispatcher, tracker, catalog, procedure)
