"""What the actions read from and write to, built once per process: the live knowledge and the stores.

The action server instantiates each action without arguments; those use :func:`default` (made on first
use, never at import time). Tests give an action its own :class:`Context`.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

from bot import settings as settings_module
from bot.clock import Clock, now_jst
from bot.dialogue.knowledge import Knowledge
from bot.dialogue.live import LiveKnowledge
from bot.settings import Settings


class Context:
    """The process's knowledge (catalog, FAQ, messages, menu, clock) and stores (opened on first use)."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock = now_jst,
        faq: Callable[[], Any] | None = None,
        encoder: Any = None,
    ) -> None:
        """``faq``: the FAQ snapshot source (default: the live base; tests give a fixed snapshot).
        ``encoder``: the semantic layer's sentence encoder (None: the catalog is matched by words only)."""
        self.settings = settings
        self.knowledge = LiveKnowledge(settings, clock, faq, encoder)
        self._stores = None
        self._salt: bytes | None = None
        self._lock = threading.Lock()

    def turn(self) -> Knowledge:
        """The knowledge of one turn (see :meth:`LiveKnowledge.now`)."""
        return self.knowledge.now()

    def stores(self):
        """The stores (SQLite under var/, or Redis when REDIS_URL is set)."""
        from bot.stores import open_stores

        with self._lock:
            if self._stores is None:
                self._stores = open_stores(self.settings, clock=self.knowledge.clock)
            return self._stores

    def analytics_salt(self) -> bytes:
        """The salt of the conversation hashes in the analytics record (:mod:`bot.analytics.identity`)."""
        from bot.analytics.identity import load_salt

        with self._lock:
            if self._salt is None:
                self._salt = load_salt(self.settings.var_dir)
            return self._salt

    def close(self) -> None:
        """Closes the stores if they were opened."""
        with self._lock:
            if self._stores is not None:
                self._stores.close()
                self._stores = None


_default_lock = threading.Lock()


@functools.cache
def _made_once() -> Context:
    from bot.understanding.encoder import default_encoder

    return Context(settings_module.load(), encoder=default_encoder())


def default() -> Context:
    """The action server's context (settings from the environment), made once, on first use."""
    with _default_lock:
        return _made_once()


class UsesContext:
    """Mixin of the actions: ``self.context`` is the one given, else the process's :func:`default`."""

    def __init__(self, context: Context | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._context = context

    @property
    def context(self) -> Context:
        return self._context or default()
