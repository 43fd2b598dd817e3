"""Composing answers from the catalog and the FAQ base into channel messages.

Every text comes from ``data/messages.yml`` or the catalog/FAQ data; this module only decides which
pieces to show. Answers end with the "役に立ちましたか？" question so votes can be recorded.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.base import button, payload, wants_easy_japanese
from bot.knowledge.catalog import Catalog, LifeEvent, LifeEventOption, Procedure

logger = logging.getLogger(__name__)

#: Most buttons a suggestion list shows (LINE quick replies and small screens stay readable).
MAX_SUGGESTIONS = 3
_WHERE_ORDER = ("counter", "mail", "convenience_store", "online", "phone")


def where_labels(procedure: Procedure) -> list[str]:
    """Human labels of the places a procedure can be done, in a fixed order."""
    labels = context.messages().raw("procedure.where_labels")
    return [labels[key] for key in _WHERE_ORDER if getattr(procedure.where, key)]


def procedure_card(catalog: Catalog, procedure: Procedure, easy: bool = False) -> dict[str, Any]:
    """Structured fields of a procedure answer (``custom.madoguchi``) for rich channels.

    ``easy`` tells rich channels to show ``summary_easy`` (the resident switched on やさしい日本語).
    """
    department = catalog.department_of(procedure.id)
    return {
        "kind": "procedure",
        "easy": easy,
        "procedure": procedure.id,
        "name": procedure.name,
        "summary": procedure.summary,
        "summary_easy": procedure.summary_easy,
        "deadline": procedure.deadline,
        "bring": list(procedure.bring),
        "fee": procedure.fee,
        "where": where_labels(procedure),
        "online": (
            {"url": procedure.online.url, "requires_mynumber_card": procedure.online.requires_mynumber_card}
            if procedure.online
            else None
        ),
        "department": {"name": department.name, "phone": department.phone} if department else None,
    }


def procedure_text(catalog: Catalog, procedure: Procedure, easy: bool) -> str:
    """The short answer: what, deadline, what to bring, where, who to call."""
    msg = context.messages()
    sep = msg.text("procedure.list_separator")
    lines = [msg.text("procedure.title", name=procedure.name)]
    lines.append(procedure.summary_easy if easy and procedure.summary_easy else procedure.summary)
    if procedure.deadline:
        lines.append(msg.text("procedure.deadline", deadline=procedure.deadline))
    if procedure.bring:
        lines.append(msg.text("procedure.bring", bring=sep.join(procedure.bring)))
    if procedure.fee:
        lines.append(msg.text("procedure.fee", fee=procedure.fee))
    places = where_labels(procedure)
    if places:
        lines.append(msg.text("procedure.where", where=sep.join(places)))
    department = catalog.department_of(procedure.id)
    if department:
        lines.append(msg.text("procedure.department", department=department.name, phone=department.phone))
    return "\n".join(lines)


def procedure_buttons(procedure: Procedure) -> list[dict[str, str]]:
    """Online form (a link), details, ask by phone."""
    labels = context.messages().raw("procedure.buttons")
    buttons = []
    if procedure.online:
        buttons.append(button(labels["online"], payload("ask_online", procedure=procedure.id)))
    buttons.append(button(labels["details"], payload("ask_details", procedure=procedure.id)))
    buttons.append(button(labels["phone"], payload("ask_phone", procedure=procedure.id)))
    return buttons


def answer_procedure(
    dispatcher: CollectingDispatcher, tracker: Tracker, catalog: Catalog, procedure: Procedure
) -> list[dict[str, Any]]:
    """Sends the short answer for one procedure and asks for feedback."""
    events = send_procedure_card(dispatcher, tracker, catalog, procedure)
    dispatcher.utter_message(response="utter_ask_feedback")
    return events


def send_procedure_card(
    dispatcher: CollectingDispatcher, tracker: Tracker, catalog: Catalog, procedure: Procedure
) -> list[dict[str, Any]]:
    """Sends the short answer for one procedure (text, buttons, structured card), nothing else."""
    easy = wants_easy_japanese(tracker)
    dispatcher.utter_message(
        text=procedure_text(catalog, procedure, easy),
        buttons=procedure_buttons(procedure),
        json_message={"madoguchi": procedure_card(catalog, procedure, easy)},
    )
    return [SlotSet("procedure", procedure.id), SlotSet("last_answer", f"procedure:{procedure.id}")]


def answer_life_event(
    dispatcher: CollectingDispatcher,
    catalog: Catalog,
    event: LifeEvent,
    option: LifeEventOption | None,
) -> list[dict[str, Any]]:
    """A checklist of related procedures, or one clarifying question first."""
    msg = context.messages()
    if event.options and option is None:
        dispatcher.utter_message(
            text=msg.text("life_event.clarify", question=event.question or event.name),
            buttons=[
                button(o.label, payload("life_event", life_event=event.id, move_type=o.id))
                for o in event.options
            ],
            json_message={"madoguchi": {"kind": "clarify", "life_event": event.id}},
        )
        return [SlotSet("life_event", event.id), SlotSet("move_type", None)]
    checklist = option.checklist if option else event.checklist
    name = f"{event.name}（{option.label}）" if option else event.name
    procedures = [p for p in (catalog.get(pid) for pid in checklist) if p is not None]
    deadlines = {p.id: (option or event).deadline_of(p) for p in procedures}
    lines = [event.intro] if event.intro else []
    lines.append(msg.text("life_event.checklist_heading", name=name))
    for p in procedures:
        key = "life_event.checklist_item" if deadlines[p.id] else "life_event.checklist_item_no_deadline"
        lines.append(msg.text(key, name=p.name, deadline=deadlines[p.id] or ""))
    lines.append(msg.text("life_event.checklist_footer"))
    dispatcher.utter_message(
        text="\n".join(lines),
        buttons=[button(p.name, payload("ask_procedure", procedure=p.id)) for p in procedures],
        json_message={
            "madoguchi": {
                "kind": "checklist",
                "life_event": event.id,
                "option": option.id if option else None,
                "procedures": [p.id for p in procedures],
                "deadlines": deadlines,
                "intro": event.intro,
            }
        },
    )
    dispatcher.utter_message(response="utter_ask_feedback")
    return [
        SlotSet("life_event", event.id),
        SlotSet("move_type", option.id if option else None),
        SlotSet("last_answer", f"life_event:{event.id}:{option.id if option else ''}"),
    ]


def answer_faq_entry(dispatcher: CollectingDispatcher, entry) -> list[dict[str, Any]]:
    """Sends one FAQ answer with its department, link and 確認日."""
    msg = context.messages()
    lines = [msg.text("faq.answer", answer=entry.answer)]
    if entry.department:
        lines.append(msg.text("faq.meta_department", department=entry.department))
    if entry.verified_on:
        lines.append(msg.text("faq.meta_verified", verified_on=entry.verified_on))
    buttons = [button(msg.text("faq.more_link"), entry.url)] if entry.url else []
    dispatcher.utter_message(
        text="\n".join(lines),
        buttons=buttons or None,
        json_message={
            "madoguchi": {
                "kind": "faq",
                "faq_id": entry.id,
                "question": entry.question,
                "department": entry.department,
                "url": entry.url or None,
                "verified_on": entry.verified_on or None,
            }
        },
    )
    dispatcher.utter_message(response="utter_ask_feedback")
    return [SlotSet("last_answer", f"faq:{entry.id}")]


def people_buttons() -> list[dict[str, str]]:
    """The two ways to a person that every dead end offers."""
    msg = context.messages()
    return [
        button(msg.text("fallback.phone_button"), payload("ask_phone")),
        button(msg.text("fallback.callback_button"), payload("request_callback")),
    ]


def suggest(
    dispatcher: CollectingDispatcher, suggestions: list[tuple[str, str]], intro_key: str
) -> list[dict[str, Any]]:
    """Up to three "もしかして" buttons plus phone and callback; never a dead end.

    Args:
        suggestions: (title, payload) pairs, best first.
        intro_key: the messages.yml key of the text above the buttons.
    """
    msg = context.messages()
    if suggestions:
        buttons = [button(title, p) for title, p in suggestions[:MAX_SUGGESTIONS]] + people_buttons()
        dispatcher.utter_message(
            text=msg.text(intro_key),
            buttons=buttons,
            json_message={
                "madoguchi": {"kind": "suggestions", "count": min(len(suggestions), MAX_SUGGESTIONS)}
            },
        )
    else:
        dispatcher.utter_message(
            text=msg.text("fallback.nothing") + "\n" + msg.text("fallback.rephrase_hint"),
            buttons=people_buttons(),
            json_message={"madoguchi": {"kind": "fallback"}},
        )
    return [SlotSet("last_answer", "fallback")]


def send_resolution(
    dispatcher: CollectingDispatcher, tracker: Tracker, catalog: Catalog, resolution, question: str
) -> list[dict[str, Any]]:
    """Sends the answer a :class:`actions.resolve.Resolution` calls for.

    Unclear questions (suggestions or nothing) are recorded, masked, in the review log so staff can
    turn them into FAQ content.
    """
    if resolution.kind == "procedure":
        return answer_procedure(dispatcher, tracker, catalog, resolution.procedure)
    if resolution.kind == "life_event":
        return answer_life_event(dispatcher, catalog, resolution.event, resolution.option)
    if resolution.kind == "faq":
        return answer_faq_entry(dispatcher, resolution.faq_entry)
    record_review(
        question, "low_confidence" if resolution.kind == "close" else "fallback", resolution.guesses
    )
    only_faq = all(g.startswith("faq:") for g in resolution.guesses)
    intro = "faq.close_intro" if resolution.kind == "close" and only_faq else "fallback.suggest_intro"
    return suggest(dispatcher, resolution.suggestions, intro)


def record_review(question: str, kind: str, guesses: list[str]) -> None:
    """Keeps an unanswered question for staff review (masked by the store); never fails the turn."""
    if not question.strip():
        return
    try:
        context.stores().review.record(question, kind, guesses)
    except Exception as error:  # the resident still gets an answer when the store is down
        logger.error("could not record a question for review: %s", type(error).__name__)
