"""「このリストを残す」 on LINE: a checklist sent again as one plain text message to keep.

A checklist answer carries a quick reply whose postback data is ``madoguchi:keep:<event>/<option>``
(:func:`bot.channels.line.render.keep_button`). The channel answers it itself, from the data as it is
now (:func:`bot.dialogue.compose.kept_checklist`): the list with each deadline and the department to
call, without quick replies, so it stays in the chat as it is — the resident can pin it, forward it to
family, or save it to Keep. Nothing is sent to Rasa and nothing is stored.
"""

from __future__ import annotations

from typing import Any, Callable

from bot.channels.line.render import KEEP_PREFIX, split_text, text_message
from bot.dialogue import compose
from bot.dialogue.knowledge import Knowledge


class ChecklistKeeper:
    """Answers 「このリストを残す」 postbacks; ``knowledge`` gives the data of the moment."""

    def __init__(self, knowledge: Callable[[], Knowledge]) -> None:
        self._knowledge = knowledge

    @staticmethod
    def wants(data: str | None) -> bool:
        """Whether a postback is a 「このリストを残す」 (and so is not for Rasa)."""
        return bool(data) and data.startswith(KEEP_PREFIX)

    def answer(self, data: str) -> list[dict[str, Any]] | None:
        """The checklist as plain text messages (no quick replies), or None for an unknown list."""
        event, _, option = data[len(KEEP_PREFIX) :].partition("/")
        kept = compose.kept_checklist(self._knowledge(), event, option or None)
        if kept is None:
            return None
        return [text_message(part) for part in split_text(kept)]
