"""The phone-callback request: phone number, name, time slot, topic, confirmation, 受付番号.

The request is written durably to the callback queue before the resident is told the 受付番号, and the
personal slots are cleared from the conversation right after.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.adapter import send
from actions.context import UsesContext
from bot.dialogue import contact
from bot.phone import parse_phone
from bot.text import analyze, normalize

logger = logging.getLogger(__name__)

#: Invalid phone numbers accepted before the main number is given instead.
MAX_PHONE_ATTEMPTS = 3
MAX_NAME_LENGTH = 40
MAX_TOPIC_LENGTH = 200
_NAME_ENDINGS = re.compile(r"(です|と申します|といいます|と言います|でございます)?[。.!！ ]*$")
_NAME_PREFIXES = re.compile(r"^(名前は|なまえは|私は|わたしは|氏名は)")
# A name in the request itself counts only when the resident introduces themself with it:
# 「山田です」「佐藤花子といいます」「名前は鈴木」「山田太郎、090-…」 (not 「高橋さんに折り返して」).
_INTRO_AFTER = re.compile(r"\s*(?:です|でございます|と申します|ともうします|といいます|と言います)")
_INTRO_BEFORE = re.compile(r"(?:お?名前は|なまえは|氏名は|私は|わたしは|わたくしは)\s*$")
_NUMBER_AFTER = re.compile(r"\s*[、,]\s*[0-9０-９(（+＋]")

PERSONAL_SLOTS = (
    "callback_phone",
    "callback_name",
    "callback_slot",
    "callback_topic",
    "callback_confirmed",
    "callback_gave_up",
)


def clear_personal_slots() -> list[Dict[str, Any]]:
    """Events that remove the resident's callback details from the conversation."""
    return [SlotSet(name, None) for name in PERSONAL_SLOTS] + [
        SlotSet("callback_phone_attempts", 0),
        SlotSet("requested_slot", None),
    ]


def find_slot(slots, value: str):
    """The callback time slot (of ``slots``) a button id or the resident's words refer to, or None."""
    if not value:
        return None
    for slot in slots:
        if value == slot.id:
            return slot
    text = normalize(value)
    for slot in slots:
        if normalize(slot.label) in text:
            return slot
    wants_morning = "午前" in text or "朝" in text
    wants_afternoon = "午後" in text or "夕方" in text
    if wants_morning != wants_afternoon:
        for slot in slots:
            if (slot.start.hour < 12) == wants_morning:
                return slot
    return None


def clean_name(value: str) -> str | None:
    """The name without "です" or "名前は"; None when it cannot be a name."""
    name = _NAME_ENDINGS.sub("", _NAME_PREFIXES.sub("", (value or "").strip())).strip()
    if not name or len(name) > MAX_NAME_LENGTH or sum(ch.isdigit() for ch in name) > 0:
        return None
    return name


def introduced_name(text: str) -> str | None:
    """The resident's own name when the text introduces them (see ``_INTRO_*``), else None.

    A name is a run of Sudachi 人名 words (姓, 名); offsets come from the original text.
    """
    runs: list[list[int]] = []
    for m in analyze(text):
        if len(m.pos) > 2 and m.pos[2] == "人名":
            if runs and runs[-1][1] == m.start:
                runs[-1][1] = m.end
            else:
                runs.append([m.start, m.end])
    for start, end in runs:
        before, after = text[:start], text[end:]
        if _INTRO_AFTER.match(after) or _NUMBER_AFTER.match(after) or _INTRO_BEFORE.search(before):
            return clean_name(text[start:end])
    return None


def _opening_request(tracker: Tracker, slot: str) -> str:
    """The text of the message that opened the form (a ``request_callback``) while ``slot`` is still empty;
    "" at any later turn, where the form's own slot mappings take the answers."""
    starting = tracker.get_slot("requested_slot") is None and not tracker.get_slot(slot)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if not starting or intent != "request_callback":
        return ""
    return tracker.latest_message.get("text") or ""


class ValidateCallbackForm(UsesContext, FormValidationAction):
    """Validates each answer of the callback form; re-asks with an example when invalid."""

    def name(self) -> str:
        return "validate_callback_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        """After three invalid phone numbers, nothing more is asked (the form ends)."""
        if tracker.get_slot("callback_gave_up"):
            return []
        return domain_slots

    async def extract_callback_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Takes the number from the request itself (「折り返しください、090-…」) so it is not asked again."""
        parsed = parse_phone(_opening_request(tracker, "callback_phone"))
        return {"callback_phone": parsed.national} if parsed else {}

    async def extract_callback_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Takes the name from the request itself (「山田です。折り返しください」): not asked again."""
        name = introduced_name(_opening_request(tracker, "callback_name"))
        return {"callback_name": name} if name else {}

    def validate_callback_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        parsed = parse_phone(str(value or ""))
        if parsed is not None:
            return {"callback_phone": parsed.national, "callback_phone_attempts": 0}
        attempts = int(tracker.get_slot("callback_phone_attempts") or 0) + 1
        if attempts >= MAX_PHONE_ATTEMPTS:
            send(dispatcher, contact.phone_give_up(self.context.turn()), self.context)
            return {"callback_phone": None, "callback_phone_attempts": attempts, "callback_gave_up": True}
        dispatcher.utter_message(response="utter_invalid_phone")
        return {"callback_phone": None, "callback_phone_attempts": attempts}

    def validate_callback_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        name = clean_name(str(value or ""))
        if name is None:
            dispatcher.utter_message(text=self.context.knowledge.messages().text("callback.invalid_name"))
        return {"callback_name": name}

    def validate_callback_slot(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        slot = find_slot(self.context.knowledge.catalog().city.callback_slots, str(value or ""))
        if slot is None:
            dispatcher.utter_message(text=self.context.knowledge.messages().text("callback.invalid_slot"))
            return {"callback_slot": None}
        return {"callback_slot": slot.id}

    def validate_callback_topic(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        topic = " ".join(str(value or "").split())
        if not topic or topic.startswith("/"):
            dispatcher.utter_message(text=self.context.knowledge.messages().text("callback.invalid_topic"))
            return {"callback_topic": None}
        return {"callback_topic": topic[:MAX_TOPIC_LENGTH]}


class ActionAskCallbackPhone(Action):
    """Asks for the phone number once; after an invalid one, the re-ask with an example is enough."""

    def name(self) -> str:
        return "action_ask_callback_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if not tracker.get_slot("callback_phone_attempts"):
            dispatcher.utter_message(response="utter_ask_callback_phone")
        return []


class ActionAskCallbackSlot(UsesContext, Action):
    """Offers the callback time slots (all within business hours) as buttons."""

    def name(self) -> str:
        return "action_ask_callback_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        return send(dispatcher, contact.callback_slot_prompt(self.context.turn()), self.context)


class ActionAskCallbackConfirmed(UsesContext, Action):
    """Reads the request back and asks for confirmation."""

    def name(self) -> str:
        return "action_ask_callback_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        parsed = parse_phone(tracker.get_slot("callback_phone") or "")
        turn = contact.callback_confirmation(
            self.context.turn(),
            phone=parsed.formatted if parsed else tracker.get_slot("callback_phone"),
            name=tracker.get_slot("callback_name"),
            slot_id=tracker.get_slot("callback_slot") or "",
            topic=tracker.get_slot("callback_topic"),
        )
        return send(dispatcher, turn, self.context)


class ActionSubmitCallback(UsesContext, Action):
    """Stores the confirmed request durably, then tells the resident the 受付番号."""

    def name(self) -> str:
        return "action_submit_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if tracker.get_slot("callback_gave_up") or not tracker.get_slot("callback_confirmed"):
            return clear_personal_slots()
        knowledge = self.context.turn()
        catalog = knowledge.catalog
        procedure_id: str | None = tracker.get_slot("procedure")
        department = catalog.department_of(procedure_id) if procedure_id else None
        slot = catalog.city.slot(tracker.get_slot("callback_slot"))
        request = self.context.stores().callbacks.add(
            phone=tracker.get_slot("callback_phone"),
            name=tracker.get_slot("callback_name"),
            slot=slot.label if slot else tracker.get_slot("callback_slot"),
            topic=tracker.get_slot("callback_topic"),
            department=department.id if department else None,
        )
        parsed = parse_phone(request.phone)
        turn = contact.callback_done(
            knowledge,
            ticket=request.ticket,
            slot_label=slot.label if slot else "",
            department=department,
            phone_display=parsed.formatted if parsed else request.phone,
        )
        send(dispatcher, turn, self.context)
        logger.info("callback request stored: %s", request.ticket)
        return clear_personal_slots()


class ActionCancelCallback(Action):
    """Stops the callback form and forgets what was typed into it."""

    def name(self) -> str:
        return "action_cancel_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if (
            tracker.active_loop_name == "callback_form"
            and tracker.latest_message.get("intent", {}).get("name") == "deny"
        ):
            dispatcher.utter_message(response="utter_callback_cancelled")
        return [ActiveLoop(None)] + clear_personal_slots()
