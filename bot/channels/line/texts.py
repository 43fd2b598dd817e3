"""Texts the LINE channel sends on its own, loaded from ``data/line/messages.yml``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MESSAGES_FILE = "messages.yml"
UNSUPPORTED_KINDS = ("sticker", "image", "video", "audio", "file", "location", "other")
CARD_LABELS = (
    "deadline",
    "bring",
    "fee",
    "where",
    "online",
    "phone",
    "mynumber_card",
    "call",
    # the same labels when やさしい日本語 is on (the card's easy_fields are shown)
    "deadline_easy",
    "bring_easy",
    "fee_easy",
    "where_easy",
    # the quick reply that sends a checklist again as a message to keep (pin, forward, save to Keep)
    "keep_checklist",
)


class TextsError(ValueError):
    """``messages.yml`` is missing, unreadable or lacks a required entry (named in the message)."""


@dataclass(frozen=True)
class LineTexts:
    """Validated contents of ``messages.yml``.

    Attributes:
        follow: greeting as a Rasa-style message (``text`` and ``buttons``).
        unsupported: reply per LINE message type the assistant cannot read (``other`` as fallback).
        error: reply when answering failed.
        card: labels of the procedure Flex card.
        flood: sent once when the flood guard dropped some of a resident's messages.
    """

    follow: Mapping[str, Any]
    unsupported: Mapping[str, str]
    error: str
    card: Mapping[str, str]
    flood: str

    def unsupported_text(self, message_type: str | None) -> str:
        """Returns the kind text for a message type the assistant does not understand."""
        return self.unsupported.get(message_type or "", self.unsupported["other"])


def load_texts(line_data_dir: Path) -> LineTexts:
    """Loads and validates ``messages.yml`` from the channel's data directory (``data/line``).

    Raises:
        TextsError: naming the file and the missing or malformed entry.
    """
    path = line_data_dir / MESSAGES_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise TextsError(f"{path}: cannot read: {error}") from error
    if not isinstance(raw, dict):
        raise TextsError(f"{path}: expected a mapping at the top level")
    return LineTexts(
        follow=_follow(path, raw.get("follow")),
        unsupported=_labels(path, "unsupported", raw.get("unsupported"), UNSUPPORTED_KINDS),
        error=_text(path, "error", raw.get("error")),
        card=_card(path, raw.get("card")),
        flood=_text(path, "flood", raw.get("flood")),
    )


def _card(path: Path, value: Any) -> dict[str, str]:
    labels = _labels(path, "card", value, CARD_LABELS)
    if labels["call"].count("{phone}") != 1 or "{" in labels["call"].replace("{phone}", ""):
        raise TextsError(f"{path}: 'card.call' must contain '{{phone}}' once and no other placeholder")
    return labels


def _text(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TextsError(f"{path}: '{where}' must be a non-empty text")
    return value.strip()


def _labels(path: Path, where: str, value: Any, keys: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TextsError(f"{path}: '{where}' must be a mapping with keys {', '.join(keys)}")
    return {key: _text(path, f"{where}.{key}", value.get(key)) for key in keys}


def _follow(path: Path, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TextsError(f"{path}: 'follow' must be a mapping with 'text' and optional 'buttons'")
    buttons = value.get("buttons") or []
    if not isinstance(buttons, list):
        raise TextsError(f"{path}: 'follow.buttons' must be a list")
    checked = []
    for index, button in enumerate(buttons):
        where = f"follow.buttons[{index}]"
        if not isinstance(button, dict):
            raise TextsError(f"{path}: '{where}' must be a mapping with 'title' and 'payload'")
        checked.append(
            {
                "title": _text(path, f"{where}.title", button.get("title")),
                "payload": _text(path, f"{where}.payload", button.get("payload")),
            }
        )
    return {"text": _text(path, "follow.text", value.get("text")), "buttons": checked}
