"""Small helpers shared by the madoguchi actions (no actions are defined here)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker

logger = logging.getLogger(__name__)

#: Button payloads that start with these are links, not messages (see docs/architecture.md).
LINK_PREFIXES = ("https://", "http://")


def button(title: str, payload: str) -> dict[str, str]:
    """A button as Rasa channels expect it."""
    return {"title": title, "payload": payload}


def payload(intent: str, **entities: Any) -> str:
    """A button payload that triggers ``intent`` with ``entities`` (JSON-encoded)."""
    import json

    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, ensure_ascii=False, separators=(',', ':'))}"


def user_text(tracker: Tracker) -> str:
    """The resident's latest message text ("" for button payloads)."""
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") else text


def metadata(tracker: Tracker) -> dict[str, Any]:
    """Metadata the channel sent with the latest message (e.g. ``{"yasashii": true}``)."""
    value = (tracker.latest_message or {}).get("metadata") or {}
    return value if isinstance(value, dict) else {}


def wants_easy_japanese(tracker: Tracker) -> bool:
    """Whether the resident switched on やさしい日本語 in the widget."""
    return bool(metadata(tracker).get("yasashii"))


def latest_entity(tracker: Tracker, name: str) -> str | None:
    """The value of an entity in the latest message (button payloads carry entities)."""
    return next(tracker.get_latest_entity_values(name), None)


def intent_name(tracker: Tracker) -> str:
    """The intent of the latest message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def intent_ranking(tracker: Tracker) -> list[dict]:
    """The NLU's intent ranking of the latest message (name, confidence), best first."""
    return list((tracker.latest_message or {}).get("intent_ranking") or [])
