"""What one turn is decided from: the catalog, the FAQ version, the message texts, the menu and "now".

:class:`Knowledge` is a plain value, built for each turn from the process's
:class:`bot.dialogue.live.LiveKnowledge` (which reloads the data files) or, in tests, directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from bot.knowledge.asked import AskedActions
from bot.knowledge.catalog import Catalog
from bot.knowledge.yasashii import EasyJapanese
from bot.understanding.meaning import Neighbours


class Messages:
    """Texts residents read that the core composes (``data/messages.yml``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def raw(self, path: str) -> Any:
        """Returns the raw value at a dotted path such as ``procedure.where_labels``."""
        node: Any = self._data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"data/messages.yml has no entry {path!r}")
            node = node[part]
        return node

    def text(self, path: str, **values: Any) -> str:
        """Returns the text at a dotted path with its {placeholders} filled in."""
        return str(self.raw(path)).format(**values)


@dataclass(frozen=True)
class Knowledge:
    """Everything a decision reads, fixed for the turn.

    Attributes:
        catalog: the procedure catalog (departments, hours, life events, callback slots).
        faq: the current FAQ snapshot (``bot.knowledge.faq.live_base.Snapshot``), or None.
        messages: the texts of data/messages.yml.
        menu: procedure ids offered when nothing is named (data/menu.yml).
        now: the moment of the turn (aware, Japan time), for "open now?".
        easy: やさしい日本語 of the card fields (data/yasashii.yml), or None (cards carry the summary only).
        meaning: text -> its nearest procedures and life events by meaning (None: words only).
        asked: the action vocabulary that chooses among sibling procedures (None: none).
        similarity: (message, other text) -> cosine of their meanings (None: words only).
    """

    catalog: Catalog
    faq: Any
    messages: Messages
    menu: tuple[str, ...]
    now: datetime
    easy: EasyJapanese | None = None
    meaning: Callable[[str], Neighbours] | None = None
    asked: AskedActions | None = None
    similarity: Callable[[str, str], float] | None = None

    def neighbours(self, text: str) -> Neighbours | None:
        """The message's neighbours by meaning, or None without the semantic layer."""
        return self.meaning(text) if self.meaning is not None and text else None
