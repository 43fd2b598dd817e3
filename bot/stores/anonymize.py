"""Personal data out of stored conversations: what the tracker stores write is masked first.

Rasa keeps every raw user message, every bot message and every ``SlotSet`` of a conversation (the
callback form's phone number and name included, long after the request was stored) for the whole
retention period. Before a tracker store persists a conversation, :func:`anonymize_events` passes the
texts of user and bot events, entity values, metadata and slot values through
:func:`bot.privacy.mask`, and drops the e5 vector the NLU hands to the action server (an embedding of the
resident's words, :mod:`bot.understanding.handover`). The one exception is what the conversation still
needs: the latest value of each callback-form slot while the form is active (the resident is being asked
for the rest). Once the form ends — the request stored in the callback queue, or abandoned — those values
are masked too, so the callback request is the only place a phone number or name lives.

Plain dicts (Rasa's ``Event.as_dict()`` shape); used by ``bot.rasa_stores`` and
``bot.rasa_sql``. The in-memory tracker of the running turn is never changed.
"""

from __future__ import annotations

import functools
from typing import Any

from bot.privacy import mask
from bot.understanding.handover import PARSE_KEY as VECTOR_KEY

#: Slots the callback form fills over several turns (domain.yml); the only raw values kept, and only
#: while the form runs.
FORM_SLOTS = frozenset({"callback_phone", "callback_name"})


#: Texts remembered masked. Every save masks the whole conversation again (Redis rewrites it, the SQL
#: store rebuilds it), and bot texts repeat across conversations. Measured on a 50-turn conversation
#: (200 events): 240 ms to mask it all cold, 7 ms once its texts are cached — each turn only adds new ones.
MASK_CACHE_SIZE = 16_384


@functools.lru_cache(maxsize=MASK_CACHE_SIZE)
def _mask_cached(text: str) -> str:
    return mask(text)


def mask_value(value: Any) -> Any:
    """Masks every string inside ``value`` (strings, lists, dicts); other values are returned as is."""
    if isinstance(value, str):
        return _mask_cached(value)
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    return value


def form_is_active(events: list[dict[str, Any]]) -> bool:
    """Whether the last ``active_loop`` event started a loop (a form) rather than ended one."""
    for event in reversed(events):
        if event.get("event") == "active_loop":
            return event.get("name") is not None
    return False


def raw_slot_indexes(events: list[dict[str, Any]]) -> set[int]:
    """Indexes of the ``SlotSet`` events whose value must stay raw (see the module docstring)."""
    if not form_is_active(events):
        return set()
    latest: dict[str, int] = {}
    for index, event in enumerate(events):
        if event.get("event") == "slot" and event.get("name") in FORM_SLOTS:
            latest[event["name"]] = index
    return set(latest.values())


def _anonymize(event: dict[str, Any], keep_raw: bool) -> dict[str, Any]:
    """A masked copy of one event (new dicts and lists wherever something nested is masked)."""
    kind = event.get("event")
    out = dict(event)
    if kind == "user":
        out["text"] = mask_value(out.get("text"))
        parse = out.get("parse_data")
        if isinstance(parse, dict):
            parse = out["parse_data"] = dict(parse)
            parse.pop(VECTOR_KEY, None)  # the message's e5 vector (bot.understanding.handover): not kept
            parse["text"] = mask_value(parse.get("text"))
            if isinstance(parse.get("entities"), list):
                parse["entities"] = mask_value(parse["entities"])
        if "entities" in out:
            out["entities"] = mask_value(out["entities"])
    elif kind == "bot":
        out["text"] = mask_value(out.get("text"))
        out["data"] = mask_value(out.get("data"))
    elif kind == "slot" and not keep_raw:
        out["value"] = mask_value(out.get("value"))
    if "metadata" in out:  # every kind: a bot message's metadata may echo what the resident gave
        out["metadata"] = mask_value(out["metadata"])
    return out


def anonymize_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``events`` with personal data masked (never changes the given dicts)."""
    keep = raw_slot_indexes(events)
    return [_anonymize(event, index in keep) for index, event in enumerate(events)]


def anonymize_new(events: list[dict[str, Any]], first_new: int) -> list[dict[str, Any]]:
    """Masked copies of ``events[first_new:]``, the events not stored yet, judged within the whole
    conversation (which form slot is the latest). The stored events only need their ``event`` and
    ``name`` keys here (a ``SlotSet``'s slot, an ``active_loop``'s form)."""
    keep = raw_slot_indexes(events)
    return [_anonymize(event, index in keep) for index, event in enumerate(events) if index >= first_new]
