"""Flex bubble card for a procedure answer (what to bring, fee, where, online button, phone button).

The card is built from the structured part of a bot message, ``custom["madoguchi"]`` with
``kind: procedure``. Accepted fields (all display-ready strings; the action composes them from the data
files): ``name`` (required), ``summary`` and/or ``summary_easy`` (``easy: true`` picks the easy one, and
the rows of ``easy_fields`` when the card has them: every field in やさしい日本語), ``deadline``,
``bring`` (list or text),
``fee``, ``where`` (list or text), ``online`` (``{"url", "requires_mynumber_card"}``; flat ``online_url`` /
``requires_mynumber_card`` also accepted), ``department`` (``{"name", "phone"}`` or a name) and ``phone``.
Labels come from ``data/line/messages.yml`` (``card:``).

A safety answer (``kind: safety`` with ``phones``) and a phone answer (``kind: phone`` with ``phone``)
become a bubble with the answer's text and one ``tel:`` button per number (:func:`call_bubble`): LINE
links numbers in plain text by itself, but a resident in danger gets buttons, not a long press.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

MAX_ALT_TEXT = 1500
MAX_BUTTON_LABEL = 40
MAX_URI = 1000
ACCENT = "#1F4E79"
MUTED = "#555555"
ALERT = "#A1201A"
MAX_CALL_BUTTONS = 4  # the longest safety answer names three numbers; a bubble stays short on a phone
_PHONE = re.compile(r"^#?[0-9][0-9-]{1,15}$")
CALL_KINDS = ("safety", "phone")


def tel_uri(phone: str) -> str | None:
    """``tel:`` URI of a number as written (``012-345-6701`` → ``tel:0123456701``, ``#8008`` →
    ``tel:%238008``), or ``None`` when it is not a phone number."""
    phone = phone.strip().replace("＃", "#").replace("－", "-")
    if not _PHONE.match(phone):
        return None
    return "tel:" + quote(phone.replace("-", ""), safe="")


def call_phones(custom: Any) -> list[str]:
    """The numbers a safety or phone answer offers to call (``custom["madoguchi"]``), in order."""
    card = custom.get("madoguchi") if isinstance(custom, Mapping) else None
    if not isinstance(card, Mapping) or card.get("kind") not in CALL_KINDS:
        return []
    raw = card.get("phones") if card.get("kind") == "safety" else [card.get("phone")]
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return []
    phones = [p.strip() for p in raw if isinstance(p, str) and tel_uri(p)]
    return list(dict.fromkeys(phones))[:MAX_CALL_BUTTONS]


def call_bubble(text: str, phones: Sequence[str], labels: Mapping[str, str], urgent: bool) -> dict[str, Any]:
    """A Flex message: the answer's text, then one call button per number (red when ``urgent``).

    Args:
        text: the answer as written (shown whole, and as the notification's alt text).
        phones: numbers as written (see :func:`call_phones`).
        labels: card labels; ``call`` has a ``{phone}`` placeholder.
        urgent: a safety answer (the first button is the primary one, in the alert colour).
    """
    buttons = []
    for index, phone in enumerate(phones):
        style = "primary" if urgent or index == 0 else "secondary"
        button = _button(labels["call"].format(phone=phone), tel_uri(phone) or "", style=style)
        button["height"] = "md"
        if style == "primary":
            button["color"] = ALERT if urgent else ACCENT
        buttons.append(button)
    bubble = {
        "type": "bubble",
        "body": _box([{"type": "text", "text": text, "wrap": True}], spacing="md"),
        "footer": _box(buttons, spacing="sm"),
    }
    return {"type": "flex", "altText": text[:MAX_ALT_TEXT], "contents": bubble}


def procedure_card(custom: Any) -> Mapping[str, Any] | None:
    """Returns the procedure card data of a bot message's ``custom`` field, or ``None``."""
    if not isinstance(custom, Mapping):
        return None
    card = custom.get("madoguchi")
    if not isinstance(card, Mapping) or card.get("kind") != "procedure":
        return None
    return card if _text(card.get("name")) else None


def procedure_bubble(card: Mapping[str, Any], labels: Mapping[str, str], alt_text: str) -> dict[str, Any]:
    """Builds a Flex message (type ``flex``) showing one procedure.

    Args:
        card: the ``custom["madoguchi"]`` mapping (see the module docstring).
        labels: card labels from ``messages.yml``.
        alt_text: text shown in notifications and by screen readers (the message's plain text).
    """
    body: list[dict[str, Any]] = []
    summary = _summary(card)
    if summary:
        body.append({"type": "text", "text": summary, "wrap": True, "size": "sm"})
    easy = card.get("easy_fields") if card.get("easy") is True else None
    fields, suffix = (easy, "_easy") if isinstance(easy, Mapping) else (card, "")
    rows = [
        (labels["deadline" + suffix], _text(fields.get("deadline"))),
        (labels["bring" + suffix], _joined(fields.get("bring"))),
        (labels["fee" + suffix], _text(fields.get("fee"))),
        (labels["where" + suffix], _joined(fields.get("where"), separator=" / ")),
    ]
    detail_rows = [_row(label, value) for label, value in rows if value]
    if detail_rows:
        if body:
            body.append({"type": "separator", "margin": "md"})
        body.extend(detail_rows)
    online_url, needs_card = _online(card)
    if online_url and needs_card:
        body.append(
            {"type": "text", "text": labels["mynumber_card"], "wrap": True, "size": "xs", "color": MUTED}
        )
    name = _text(card.get("name")) or ""
    bubble: dict[str, Any] = {
        "type": "bubble",
        "header": _box([{"type": "text", "text": name, "weight": "bold", "size": "lg", "wrap": True}]),
        "body": _box(body or [{"type": "text", "text": name, "wrap": True}], spacing="md"),
    }
    footer = _footer(online_url, _phone(card), labels)
    if footer:
        bubble["footer"] = _box(footer, spacing="sm")
    alt = (alt_text or name).strip() or name
    return {"type": "flex", "altText": alt[:MAX_ALT_TEXT], "contents": bubble}


def _summary(card: Mapping[str, Any]) -> str | None:
    easy = _text(card.get("summary_easy"))
    if card.get("easy") is True and easy:
        return easy
    return _text(card.get("summary")) or easy


def _footer(online_url: str | None, phone: str | None, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    buttons = []
    if online_url:
        buttons.append(_button(labels["online"], online_url, style="primary"))
    uri = tel_uri(phone) if phone else None
    if uri:
        buttons.append(_button(f"{labels['phone']} {phone}", uri, style="secondary"))
    return buttons


def _button(label: str, uri: str, style: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "style": style,
        "height": "sm",
        "action": {"type": "uri", "label": label[:MAX_BUTTON_LABEL], "uri": uri},
    }
    if style == "primary":
        button["color"] = ACCENT
    return button


def _row(label: str, value: str) -> dict[str, Any]:
    return {
        "type": "box",
        "layout": "baseline",
        "spacing": "sm",
        "contents": [
            {"type": "text", "text": label, "size": "sm", "color": MUTED, "flex": 2, "wrap": True},
            {"type": "text", "text": value, "size": "sm", "flex": 5, "wrap": True},
        ],
    }


def _box(contents: list[dict[str, Any]], spacing: str = "none") -> dict[str, Any]:
    return {"type": "box", "layout": "vertical", "spacing": spacing, "contents": contents}


def _online(card: Mapping[str, Any]) -> tuple[str | None, bool]:
    online = card.get("online")
    if isinstance(online, Mapping):
        url, needs_card = online.get("url"), online.get("requires_mynumber_card")
    else:
        url, needs_card = card.get("online_url"), card.get("requires_mynumber_card")
    url = _text(url)
    if not url or not url.startswith(("https://", "http://")) or len(url) > MAX_URI:
        return None, False
    return url, needs_card is True


def _phone(card: Mapping[str, Any]) -> str | None:
    department = card.get("department")
    if isinstance(department, Mapping) and _text(department.get("phone")):
        return _text(department.get("phone"))
    return _text(card.get("phone")) or _text(card.get("department_phone"))


def _joined(value: Any, separator: str = "\n") -> str | None:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Sequence):
        items = [item.strip() for item in value if isinstance(item, str) and item.strip()]
        return separator.join(items) or None
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None
