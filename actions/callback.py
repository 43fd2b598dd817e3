"""The phone-callback request: phone number, name, time slot, topic, confirmation, 受付番号.

Thin adapters over :mod:`bot.dialogue.callback_form`, which decides what each answer gives and how each
step is asked (again). The request is written durably to the callback queue before the resident is told
the 受付番号, and the personal slots are cleared from the conversation right after.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.adapter import send, understood, user_text
from actions.context import Context, UsesContext
from bot.callback_mail import Notice
from bot.dialogue import callback_form as form
from bot.dialogue.form_answers import introduced_name
from bot.dialogue.replies import Turn
from bot.dialogue.understood import crisis_line
from bot.knowledge.routing import department_for
from bot.phone import parse_phone
from bot.stores.records import CallbackRequest, RequestNotStored, StoreError

logger = logging.getLogger(__name__)

PERSONAL_SLOTS = (
    form.PHONE,
    form.NAME,
    form.SLOT,
    form.TOPIC,
    form.CONFIRMED,
    form.GAVE_UP,
    form.RETRY,
)


def clear_personal_slots() -> list[Dict[str, Any]]:
    """Events that remove the resident's callback details from the conversation."""
    return [SlotSet(name, None) for name in PERSONAL_SLOTS] + [
        SlotSet(form.ATTEMPTS, 0),
        SlotSet("requested_slot", None),
    ]


def so_far(tracker: Tracker) -> form.SoFar:
    """What the form holds (its slots)."""
    return form.SoFar(
        phone=tracker.get_slot(form.PHONE),
        name=tracker.get_slot(form.NAME),
        slot=tracker.get_slot(form.SLOT),
        topic=tracker.get_slot(form.TOPIC),
        attempts=int(tracker.get_slot(form.ATTEMPTS) or 0),
    )


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

    async def _take(
        self, step: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        """One answer of the form. A possible crisis the NLU was unsure of (its line could not go beside
        an answer here) gets its crisis line first; the answer is then taken as usual and the form goes
        on (a sure crisis is the rules' business: data/rules.yml)."""
        knowledge = self.context.turn()
        turn = form.take(step, value, so_far(tracker), knowledge, said=user_text(tracker))
        replies = form.with_crisis_line(crisis_line(understood(tracker)), turn.replies)
        await send(dispatcher, Turn(replies=replies, review=turn.review), knowledge, self.context)
        return dict(turn.slots)

    async def validate_callback_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return await self._take(form.PHONE, value, dispatcher, tracker)

    async def validate_callback_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return await self._take(form.NAME, value, dispatcher, tracker)

    async def validate_callback_slot(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return await self._take(form.SLOT, value, dispatcher, tracker)

    async def validate_callback_topic(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return await self._take(form.TOPIC, value, dispatcher, tracker)

    async def validate_callback_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return await self._take(form.CONFIRMED, value, dispatcher, tracker)


class AskCallbackStep(UsesContext):
    """Mixin of the actions asking one step (``step``) of the form: the first time, or again with the reason
    and an example."""

    step: str

    def name(self) -> str:
        return f"action_ask_{self.step}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        knowledge = self.context.turn()
        turn = form.ask(self.step, so_far(tracker), tracker.get_slot(form.RETRY), knowledge)
        return await send(dispatcher, turn, knowledge, self.context)


class ActionAskCallbackPhone(AskCallbackStep, Action):
    step = form.PHONE


class ActionAskCallbackName(AskCallbackStep, Action):
    step = form.NAME


class ActionAskCallbackSlot(AskCallbackStep, Action):
    step = form.SLOT


class ActionAskCallbackTopic(AskCallbackStep, Action):
    step = form.TOPIC


class ActionAskCallbackConfirmed(AskCallbackStep, Action):
    step = form.CONFIRMED


class ActionSubmitCallback(UsesContext, Action):
    """Stores the confirmed request durably, then tells the resident the 受付番号."""

    def name(self) -> str:
        return "action_submit_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if tracker.get_slot(form.GAVE_UP) or not tracker.get_slot(form.CONFIRMED):
            return clear_personal_slots()
        knowledge = self.context.turn()
        catalog = knowledge.catalog
        department = department_for(
            catalog, tracker.get_slot("procedure"), tracker.get_slot("callback_topic")
        )
        slot = catalog.city.slot(tracker.get_slot("callback_slot"))
        details = {
            "phone": tracker.get_slot("callback_phone"),
            "name": tracker.get_slot("callback_name"),
            "slot": slot.label if slot else tracker.get_slot("callback_slot"),
            "topic": tracker.get_slot("callback_topic"),
            "department": department.id if department else None,
        }
        request = await store_request(self.context, request_key(tracker), details)
        if isinstance(request, str):  # not stored, or not known: said as it is, with a number to call
            await send(
                dispatcher,
                form.not_done(knowledge, outcome=request, department=department),
                knowledge,
                self.context,
            )
            return clear_personal_slots()
        turn = form.done(
            knowledge,
            ticket=request.ticket,
            slot_id=slot.id if slot else "",
            slot_text=request.slot or "",
            department=department,
            phone_display=form.readable_phone(request.phone),
        )
        # no phone, name or topic in the mail: staff open the request in the console
        self.context.notify_callback(
            Notice(
                ticket=request.ticket,
                department=department.name if department else None,
                slot=slot.label if slot else None,
                received=request.created_at,
            )
        )
        await send(dispatcher, turn, knowledge, self.context)
        logger.info("callback request stored: %s", request.ticket)
        return clear_personal_slots()


def request_key(tracker: Tracker) -> str:
    """The key of this run of the form: the same for every submit of it (a second try stores nothing
    new), different for the next run; a fresh random key when the form's start is not in the tracker."""
    started = None
    for event in reversed(tracker.events or []):
        if event.get("event") == "active_loop" and event.get("name") == "callback_form":
            started = event.get("timestamp")
            break
    return form.request_key(tracker.sender_id, started if started is not None else uuid.uuid4().hex)


async def store_request(context: Context, key: str, details: Dict[str, Any]) -> CallbackRequest | str:
    """Stores the request; returns it, or :data:`form.NOT_STORED` / :data:`form.UNSURE`.

    The write is awaited to its end (bounded by the store itself), never abandoned. When it fails, the
    store is asked once, atomically, whether the request is there (:meth:`CallbackQueue.settle`): a hung
    Redis may run a command whose answer never came back; once settled, such a late write stores
    nothing. If the store cannot answer that either, the resident is told it is not known.
    """
    try:
        return await context.store_call(lambda s: s.callbacks.add(**details, key=key), timeout=None)
    except RequestNotStored:
        return form.NOT_STORED  # this run of the form was already answered "not received"
    except StoreError:
        raise  # a bad field: a fault of ours, not of the store (the action fails with the apology)
    except Exception as error:  # noqa: BLE001 — the outcome is looked up below
        logger.warning("callback request not confirmed by the store (%s); settling it", type(error).__name__)
    try:
        settled = await context.store_call(lambda s: s.callbacks.settle(key), timeout=None)
    except Exception as error:  # noqa: BLE001 — said to the resident as not known
        logger.error(
            "callback request: the store cannot say whether it was stored (%s)", type(error).__name__
        )
        return form.UNSURE
    if settled is None:
        logger.error("callback request not stored")
        return form.NOT_STORED
    logger.info("callback request stored (found after a failed answer): %s", settled.ticket)
    return settled


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
