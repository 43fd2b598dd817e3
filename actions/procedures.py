"""Procedure questions: the short answer, the details, and "can I do it online?"."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.answers import answer_procedure, procedure_buttons, send_resolution, where_labels
from actions.base import button, intent_name, intent_ranking, latest_entity, payload, user_text
from actions.resolve import Resolution, named_in_text, resolve, understood_intent
from bot.knowledge.catalog import Catalog, Procedure

logger = logging.getLogger(__name__)

#: Catalog entry answered when someone asks "what can I do online?" without naming a procedure.
ONLINE_OVERVIEW_ID = "online_list"


def named_procedure(
    tracker: Tracker, catalog: Catalog, use_text: bool = True, generic: str | None = None
) -> Procedure | None:
    """The procedure the resident means: a button's entity, else their words, else the last topic.

    ``generic``: a catalog entry the question's framing matches (``online_list`` for "can I do it
    online?"); see :func:`actions.resolve.named_in_text`.
    """
    explicit = latest_entity(tracker, "procedure")
    if explicit and catalog.get(explicit):
        return catalog.get(explicit)
    text = user_text(tracker)
    if use_text and text:
        pid = named_in_text(catalog, text, generic)
        if pid:
            return catalog.get(pid)
    remembered = tracker.get_slot("procedure")
    return catalog.get(remembered) if remembered else None


class ActionAnswerProcedure(Action):
    """Answers a procedure question or a life event from the catalog (no per-procedure code)."""

    def name(self) -> str:
        return "action_answer_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        catalog = context.catalog()
        text = user_text(tracker)
        events: list = [SlotSet("last_question", text or None)]

        explicit = latest_entity(tracker, "procedure")
        if explicit and catalog.get(explicit):
            return events + answer_procedure(dispatcher, tracker, catalog, catalog.get(explicit))

        if not text and not latest_entity(tracker, "life_event"):
            return events + offer_menu(dispatcher, catalog)

        event_id = latest_entity(tracker, "life_event")
        if event_id and catalog.life_event(event_id):
            event = catalog.life_event(event_id)
            option = event.option(latest_entity(tracker, "move_type") or "")
            resolution = Resolution("life_event", event=event, option=option)
        else:
            resolution = resolve(
                text,
                understood_intent(intent_name(tracker), intent_ranking(tracker)),
                catalog,
                context.faq_snapshot(),
            )
        return events + send_resolution(dispatcher, tracker, catalog, resolution, text)


def offer_menu(dispatcher: CollectingDispatcher, catalog: Catalog) -> list:
    """Popular procedures as buttons (「手続きをさがす」 with nothing named yet)."""
    procedures = [catalog.get(pid) for pid in context.menu() if catalog.get(pid)]
    dispatcher.utter_message(
        text=context.messages().text("procedure.menu_intro"),
        buttons=[button(p.name, payload("ask_procedure", procedure=p.id)) for p in procedures[:12]],
        json_message={"madoguchi": {"kind": "menu", "procedures": [p.id for p in procedures[:12]]}},
    )
    return []


class ActionProcedureDetails(Action):
    """The longer explanation of the procedure just discussed (or named now)."""

    def name(self) -> str:
        return "action_procedure_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        catalog = context.catalog()
        procedure = named_procedure(tracker, catalog)
        msg = context.messages()
        if procedure is None:
            dispatcher.utter_message(text=msg.text("details.which"))
            return []
        lines = [msg.text("procedure.details_heading", name=procedure.name), procedure.details]
        if procedure.who:
            lines.append(msg.text("procedure.who", who=procedure.who))
        if procedure.alternatives:
            lines.append(procedure.alternatives)
        related = [catalog.get(r) for r in procedure.related if catalog.get(r)]
        buttons = procedure_buttons(procedure)
        buttons = [b for b in buttons if not b["payload"].startswith("/ask_details")]
        buttons += [button(r.name, payload("ask_procedure", procedure=r.id)) for r in related[:3]]
        dispatcher.utter_message(
            text="\n".join(line for line in lines if line),
            buttons=buttons,
            json_message={"madoguchi": {"kind": "details", "procedure": procedure.id}},
        )
        dispatcher.utter_message(response="utter_ask_feedback")
        return [SlotSet("procedure", procedure.id), SlotSet("last_answer", f"details:{procedure.id}")]


class ActionAnswerOnline(Action):
    """ "Can I do this online?": the form when there is one, the honest alternatives when not."""

    def name(self) -> str:
        return "action_answer_online"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        catalog = context.catalog()
        procedure = named_procedure(tracker, catalog, generic=ONLINE_OVERVIEW_ID)
        if procedure is None:
            overview = catalog.get(ONLINE_OVERVIEW_ID)
            if overview is None:
                dispatcher.utter_message(text=context.messages().text("online.which_procedure"))
                return []
            return answer_procedure(dispatcher, tracker, catalog, overview)
        return online_answer(dispatcher, procedure)


def online_answer(dispatcher: CollectingDispatcher, procedure: Procedure) -> list:
    """Sends the online form (with whether a マイナンバーカード is needed) or the alternatives."""
    msg = context.messages()
    sep = msg.text("procedure.list_separator")
    if procedure.online:
        lines = [msg.text("online.available", name=procedure.name, url=procedure.online.url)]
        key = "online.requires_card" if procedure.online.requires_mynumber_card else "online.no_card_needed"
        lines.append(msg.text(key))
        if procedure.online.note:
            lines.append(msg.text("online.note", note=procedure.online.note))
        buttons = [button(msg.text("online.open_form_button"), procedure.online.url)]
    else:
        lines = [
            msg.text("online.not_available", name=procedure.name),
            msg.text("online.alternatives_heading"),
        ]
        places = [p for p in where_labels(procedure) if p]
        if places:
            lines.append(msg.text("procedure.where", where=sep.join(places)))
        if procedure.alternatives:
            lines.append(procedure.alternatives)
        buttons = []
    buttons += [b for b in procedure_buttons(procedure) if not b["payload"].startswith("/ask_online")]
    dispatcher.utter_message(
        text="\n".join(lines),
        buttons=buttons,
        json_message={
            "madoguchi": {
                "kind": "online",
                "procedure": procedure.id,
                "online": (
                    {
                        "url": procedure.online.url,
                        "requires_mynumber_card": procedure.online.requires_mynumber_card,
                    }
                    if procedure.online
                    else None
                ),
            }
        },
    )
    dispatcher.utter_message(response="utter_ask_feedback")
    return [SlotSet("procedure", procedure.id), SlotSet("last_answer", f"online:{procedure.id}")]
