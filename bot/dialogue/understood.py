"""The resident's message as the NLU understood it: what the core needs of a tracker, nothing more."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Understood:
    """One message of the resident.

    Attributes:
        text: the words ("" for a button payload such as ``/ask_procedure{...}``).
        intent: the predicted intent name.
        ranking: the NLU's intent ranking ({"name", "confidence"} mappings), best first.
        entities: the first value of each entity in the message (buttons carry entities).
        slots: the conversation's slots that matter (``procedure``: the topic so far).
        easy: the resident switched on やさしい日本語 (widget metadata ``yasashii``).
        crisis: what the safety component found (``{"intent", "category", "level", "source"}``), if anything;
            ``level`` "unsure": the answer comes with that crisis line (see :func:`crisis_line`).
    """

    text: str = ""
    intent: str = ""
    ranking: tuple[Mapping[str, Any], ...] = ()
    entities: Mapping[str, Any] = field(default_factory=dict)
    slots: Mapping[str, Any] = field(default_factory=dict)
    easy: bool = False
    crisis: Mapping[str, Any] | None = None

    def entity(self, name: str) -> Any:
        """The entity's value, or None."""
        return self.entities.get(name)


def crisis_line(understood: Understood) -> str | None:
    """The safety response (``utter_dv`` …) to send before the answer when the NLU was unsure whether
    the message is a crisis ("when unsure, the reply carries the crisis line"); None otherwise."""
    found = understood.crisis or {}
    if found.get("level") != "unsure" or not found.get("intent"):
        return None
    return f"utter_{found['intent']}"
