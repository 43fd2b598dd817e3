"""Turns the bot messages of one turn into LINE message objects, within LINE's limits.

Limits handled here: 5,000 characters per text (longer texts are split, preferably at a line break),
5 message objects per call (adjacent texts are merged first; what still does not fit goes into later
batches), 13 quick-reply buttons with labels of at most 20 characters, 300-character postback data.
Buttons of every message in the turn become quick replies on the last message (LINE shows quick replies
only on the newest message); a URL button opens as a ``uri`` action.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.channels.line.flex import call_bubble, call_phones, procedure_bubble, procedure_card

logger = logging.getLogger(__name__)

MAX_MESSAGES_PER_CALL = 5
MAX_TEXT = 5000
MAX_QUICK_REPLY_ITEMS = 13
MAX_QUICK_REPLY_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_DISPLAY_TEXT = 300
MAX_URI = 1000
MAX_CALL_TEXT = 2000  # a call card's text in one Flex bubble; safety and phone answers are < 300
ELLIPSIS = "…"

Message = dict[str, Any]


def render_turn(messages: Iterable[Mapping[str, Any]], card_labels: Mapping[str, str]) -> list[Message]:
    """Converts the turn's bot messages (Rasa's message dicts) into LINE message objects.

    Args:
        messages: dicts as Rasa passes them to ``OutputChannel.send_response`` (``text``, ``buttons``,
            ``quick_replies``, ``image``, ``custom`` ...).
        card_labels: labels of the procedure card.

    Returns:
        The message objects in order; quick replies are attached to the last one. May be longer than 5:
        :func:`batches` cuts it into calls.
    """
    objects: list[dict[str, Any]] = []
    buttons: list[Mapping[str, Any]] = []
    for message in messages:
        objects.extend(_objects_for(message, card_labels))
        keep = keep_button(message.get("custom"), card_labels)
        if keep:
            buttons.append(keep)  # first: a long checklist has more procedures than quick replies
        for key in ("buttons", "quick_replies"):
            value = message.get(key)
            if isinstance(value, list):
                buttons.extend(b for b in value if isinstance(b, Mapping))
    objects = merge_texts(objects, MAX_MESSAGES_PER_CALL)
    quick = quick_reply(buttons)
    if objects and quick:
        objects[-1] = {**objects[-1], "quickReply": quick}
    return objects


def batches(objects: Sequence[Message], size: int = MAX_MESSAGES_PER_CALL) -> list[list[Message]]:
    """Cuts message objects into API calls of at most ``size`` messages."""
    return [list(objects[i : i + size]) for i in range(0, len(objects), size)]


def _procedure_objects(custom: Any, text: str, card_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    card = procedure_card(custom)
    if card is None:
        return _text_objects(custom, text, card_labels)
    return [procedure_bubble(card, card_labels, text)]


def _text_objects(custom: Any, text: str, card_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    return [text_message(part) for part in split_text(text.strip())] if text.strip() else []


def _call_objects(custom: Any, text: str, card_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Safety and phone answers: the text in a Flex bubble with one tel: button per number."""
    phones = call_phones(custom)
    if not phones or not text.strip() or utf16_len(text.strip()) > MAX_CALL_TEXT:
        return _text_objects(custom, text, card_labels)
    urgent = custom["madoguchi"]["kind"] == "safety"
    return [call_bubble(text.strip(), phones, card_labels, urgent)]


#: How LINE shows each ``custom.madoguchi`` card kind (bot.dialogue.cards.CARD_TYPES; tests/test_cards.py
#: fails when a kind is missing): a Flex bubble, or the message's text (its buttons become quick replies).
CARD_RENDERERS = {
    "procedure": _procedure_objects,
    "safety": _call_objects,
    "phone": _call_objects,
    **dict.fromkeys(
        (
            "details",
            "online",
            "checklist",
            "clarify",
            "menu",
            "faq",
            "suggestions",
            "fallback",
            "callback_form",
            "callback",
        ),
        _text_objects,
    ),
}


def _card_kind(custom: Any) -> str:
    card = custom.get("madoguchi") if isinstance(custom, Mapping) else None
    return str(card.get("kind") or "") if isinstance(card, Mapping) else ""


def _objects_for(message: Mapping[str, Any], card_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    custom = message.get("custom")
    render = CARD_RENDERERS.get(_card_kind(custom), _text_objects)
    objects = render(custom, text, card_labels)
    objects.extend(_passthrough(custom))
    image = message.get("image")
    if isinstance(image, str) and image:
        objects.append(_image(image))
    return objects


def text_message(text: str) -> dict[str, Any]:
    """A LINE text message object."""
    return {"type": "text", "text": text}


def _image(url: str) -> dict[str, Any]:
    if url.startswith("https://") and len(url) <= 2000:
        return {"type": "image", "originalContentUrl": url, "previewImageUrl": url}
    return text_message(url)


def _passthrough(custom: Any) -> list[dict[str, Any]]:
    """LINE message objects given verbatim by a response (``custom: {line: {...}}`` in domain.yml)."""
    if not isinstance(custom, Mapping) or "line" not in custom:
        return []
    value = custom["line"]
    items = value if isinstance(value, list) else [value]
    return [dict(item) for item in items if isinstance(item, Mapping) and isinstance(item.get("type"), str)]


def utf16_len(text: str) -> int:
    """Length as LINE counts it (UTF-16 code units; an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


#: Postback data of 「このリストを残す」: ``madoguchi:keep:<life event id>/<option id or nothing>``. It is
#: answered by the LINE channel itself (:mod:`bot.channels.line.keep`), never sent to Rasa.
KEEP_PREFIX = "madoguchi:keep:"


def keep_button(custom: Any, card_labels: Mapping[str, str]) -> dict[str, str] | None:
    """The 「このリストを残す」 button of a checklist answer (``custom.madoguchi`` of kind checklist)."""
    card = custom.get("madoguchi") if isinstance(custom, Mapping) else None
    if not isinstance(card, Mapping) or card.get("kind") != "checklist":
        return None
    event, option = card.get("life_event"), card.get("option")
    if not isinstance(event, str) or not event or not (option is None or isinstance(option, str)):
        return None
    return {"title": card_labels["keep_checklist"], "payload": f"{KEEP_PREFIX}{event}/{option or ''}"}


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Splits ``text`` into parts of at most ``limit`` UTF-16 units, at a line break when one is near."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _fit(rest, limit)
        newline = rest.rfind("\n", 0, cut)
        if newline >= cut // 2:
            cut = newline
        head, rest = rest[:cut].rstrip("\n"), rest[cut:].lstrip("\n")
        if head:
            parts.append(head)
    if rest:
        parts.append(rest)
    return parts


def _fit(text: str, limit: int) -> int:
    """Number of leading characters of ``text`` that fit into ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def merge_texts(objects: list[dict[str, Any]], max_count: int) -> list[dict[str, Any]]:
    """Merges adjacent plain texts (joined by a blank line) when there are more than ``max_count``."""
    if len(objects) <= max_count:
        return objects
    merged: list[dict[str, Any]] = []
    for obj in objects:
        previous = merged[-1] if merged else None
        if previous is not None and _plain_text(previous) and _plain_text(obj):
            joined = previous["text"] + "\n\n" + obj["text"]
            if utf16_len(joined) <= MAX_TEXT:
                merged[-1] = text_message(joined)
                continue
        merged.append(obj)
    return merged


def _plain_text(obj: Mapping[str, Any]) -> bool:
    return obj.get("type") == "text" and set(obj) == {"type", "text"}


def quick_reply(buttons: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Builds a quick reply from Rasa buttons: first 13 distinct usable buttons, or ``None``."""
    items: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for button in buttons:
        action = button_action(button)
        if action is None:
            continue
        key = (action["type"], action.get("data") or action.get("uri") or "")
        if key in seen:
            continue
        seen.add(key)
        items.append({"type": "action", "action": action})
        if len(items) == MAX_QUICK_REPLY_ITEMS:
            break
    return {"items": items} if items else None


def button_action(button: Mapping[str, Any]) -> dict[str, Any] | None:
    """Converts one Rasa button (``title`` + ``payload`` or ``url``) into a LINE action.

    A payload that is an http(s) URL (or a ``url`` key) becomes a ``uri`` action; anything else a
    ``postback`` whose data is the Rasa payload and whose display text is the title.
    """
    title = button.get("title")
    target = button.get("url") or button.get("payload")
    if not isinstance(title, str) or not title.strip() or not isinstance(target, str) or not target.strip():
        return None
    title, target = title.strip(), target.strip()
    label = cut_label(title, MAX_QUICK_REPLY_LABEL)
    if target.startswith(("https://", "http://")):
        if len(target) > MAX_URI:
            logger.warning("line: button URL longer than %d characters dropped", MAX_URI)
            return None
        return {"type": "uri", "label": label, "uri": target}
    if len(target) > MAX_POSTBACK_DATA:
        logger.warning("line: button payload longer than %d characters dropped", MAX_POSTBACK_DATA)
        return None
    return {"type": "postback", "label": label, "data": target, "displayText": title[:MAX_DISPLAY_TEXT]}


def cut_label(label: str, limit: int) -> str:
    """Cuts a label to ``limit`` characters, ending with an ellipsis when something was cut."""
    return label if len(label) <= limit else label[: limit - 1] + ELLIPSIS
