"""Parsing of LINE webhook payloads into small, typed events.

Only the fields the channel uses are kept. Unknown event or message types parse fine (their ``type`` is
kept so they can be logged and ignored); a malformed event is skipped, never an error for the whole body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class PayloadError(ValueError):
    """The webhook body is not a LINE webhook JSON object."""


@dataclass(frozen=True)
class LineEvent:
    """One webhook event.

    Attributes:
        type: event type (``message``, ``postback``, ``follow``, ``unfollow``, ... or anything newer).
        event_id: ``webhookEventId`` (unique per event, kept across redeliveries).
        mode: ``active`` or ``standby`` (another channel answers in standby).
        is_redelivery: ``deliveryContext.isRedelivery``.
        reply_token: token for the reply call, if the event has one.
        source_type: ``user``, ``group`` or ``room``.
        user_id: LINE user id of the sender, if known.
        chat_id: where answers go: the group/room id in group chats, else the user id.
        message_type: for message events: ``text``, ``sticker``, ``image``, ...
        text: text of a text message.
        postback_data: ``postback.data`` of a postback event.
    """

    type: str
    event_id: str | None = None
    mode: str = "active"
    is_redelivery: bool = False
    reply_token: str | None = None
    source_type: str | None = None
    user_id: str | None = None
    chat_id: str | None = None
    message_type: str | None = None
    text: str | None = None
    postback_data: str | None = None

    @property
    def is_one_on_one(self) -> bool:
        """True for a chat between one user and the official account."""
        return self.source_type == "user"


def parse_body(body: bytes) -> list[LineEvent]:
    """Parses a (signature-checked) webhook body.

    Raises:
        PayloadError: the body is not JSON or has no ``events`` list.
    """
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError("webhook body is not JSON") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise PayloadError("webhook body has no 'events' list")
    events = []
    for raw in payload["events"]:
        event = parse_event(raw)
        if event is not None:
            events.append(event)
    return events


def parse_event(raw: Any) -> LineEvent | None:
    """Parses one event object; returns ``None`` when it has no usable ``type``."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("type"), str):
        return None
    source = _mapping(raw.get("source"))
    message = _mapping(raw.get("message"))
    postback = _mapping(raw.get("postback"))
    delivery = _mapping(raw.get("deliveryContext"))
    user_id = _str(source.get("userId"))
    return LineEvent(
        type=raw["type"],
        event_id=_str(raw.get("webhookEventId")),
        mode=_str(raw.get("mode")) or "active",
        is_redelivery=delivery.get("isRedelivery") is True,
        reply_token=_str(raw.get("replyToken")),
        source_type=_str(source.get("type")),
        user_id=user_id,
        chat_id=_str(source.get("groupId")) or _str(source.get("roomId")) or user_id,
        message_type=_str(message.get("type")),
        text=_text(message.get("text")),
        postback_data=_text(postback.get("data")),
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


#: ``"\ud800"`` in JSON is no text: the pipeline (and UTF-8 stores) would fail on it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str | None:
    """A resident's text, lone surrogates replaced by U+FFFD (what remains is still answered)."""
    text = _str(value)
    return _LONE_SURROGATE.sub("\ufffd", text) if text else text
