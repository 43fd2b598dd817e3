"""Between rasa_sdk and the conversation core: a tracker in, a :class:`~bot.dialogue.replies.Turn` out.

:func:`understood` reads what the core needs from the tracker; :func:`send` utters the turn's replies
and returns its slot changes as events (and keeps its review note, masked, for staff, off the event loop).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Context, UsesContext
from bot.dialogue.decide import Ask, decide
from bot.dialogue.knowledge import Knowledge, Messages
from bot.dialogue.replies import Reply, ReviewNote, Turn
from bot.dialogue.understood import Understood

logger = logging.getLogger(__name__)

#: Entities the core reads (buttons carry them; the first value of each counts).
ENTITIES = ("procedure", "life_event", "move_type", "faq_id", "helpful")
#: Slots the core reads.
SLOTS = ("procedure",)


def user_text(tracker: Tracker) -> str:
    """The resident's latest message text ("" for button payloads)."""
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") else text


def metadata(tracker: Tracker) -> dict[str, Any]:
    """Metadata the channel sent with the latest message (e.g. ``{"yasashii": true}``)."""
    value = (tracker.latest_message or {}).get("metadata") or {}
    return value if isinstance(value, dict) else {}


def latest_entity(tracker: Tracker, name: str) -> Any:
    """The value of an entity in the latest message (button payloads carry entities)."""
    return next(tracker.get_latest_entity_values(name), None)


def intent_name(tracker: Tracker) -> str:
    """The intent of the latest message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def understood(tracker: Tracker) -> Understood:
    """The latest message as the core sees it."""
    entities = {}
    for name in ENTITIES:
        value = latest_entity(tracker, name)
        if value is not None:
            entities[name] = value
    return Understood(
        text=user_text(tracker),
        intent=intent_name(tracker),
        ranking=tuple((tracker.latest_message or {}).get("intent_ranking") or ()),
        entities=entities,
        slots={name: tracker.get_slot(name) for name in SLOTS},
        easy=bool(metadata(tracker).get("yasashii")),
        crisis=_crisis(tracker),
    )


def _crisis(tracker: Tracker) -> dict[str, Any] | None:
    """What the safety component (bot.nlu.safety, parse-data key ``crisis``) found, if anything."""
    found = (tracker.latest_message or {}).get("crisis")
    return found if isinstance(found, dict) else None


def utter(dispatcher: CollectingDispatcher, reply: Reply, messages: Messages) -> None:
    """Sends one reply (text + buttons + ``custom.madoguchi``, or a domain.yml response)."""
    dispatcher.utter_message(
        text=reply.text(messages),
        buttons=[b.to_json() for b in reply.buttons] or None,
        json_message={"madoguchi": reply.card.to_json()} if reply.card else None,
        response=reply.response,
        **dict(reply.params),
    )


async def send(
    dispatcher: CollectingDispatcher, turn: Turn, knowledge: Knowledge, context: Context
) -> list[dict[str, Any]]:
    """Utters the turn's replies (texts from ``knowledge.messages``), records its review note, returns its
    slot changes as events."""
    for reply in turn.replies:
        utter(dispatcher, reply, knowledge.messages)
    if turn.review is not None:
        await record_review(context, turn.review)
    return [SlotSet(name, value) for name, value in turn.slots]


async def record_review(context: Context, note: ReviewNote) -> None:
    """Keeps an unanswered question for staff review (masked by the store, off the event loop); never
    fails the turn."""
    if not note.question.strip():
        return
    try:
        await context.store_call(lambda s: s.review.record(note.question, note.kind, list(note.guesses)))
    except Exception as error:  # the resident still gets an answer when the store is down
        logger.error("could not record a question for review: %s", type(error).__name__)


class Decided(UsesContext):
    """Mixin of the actions that run the core for one :class:`~bot.dialogue.decide.Ask` (``ask``)."""

    ask: Ask

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        knowledge = self.context.turn()
        turn = decide(self.ask, understood(tracker), knowledge)
        return await send(dispatcher, turn, knowledge, self.context)
