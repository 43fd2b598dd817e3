"""What the actions read from and write to, built once per process: the live knowledge and the stores.

The action server instantiates each action without arguments; those use :func:`default` (made on first
use, never at import time). Tests give an action its own :class:`Context`.

The stores are synchronous (SQLite, redis-py). The action server runs every action on one event loop, so
a store call made there would stall every other resident's action while SQLite waits for its write lock
(up to 15 s) or Redis for its socket timeout: :meth:`Context.store_call` runs it on a small thread pool
(:class:`bot.stores.offloop.StoreCalls`, shared with the staff console) and gives up after
:data:`STORE_CALL_TIMEOUT_S` — or, for a write whose outcome the resident is told
(the callback request), ``timeout=None`` waits for the call to end, since an abandoned call still
finishes in its thread and may store what the resident was told had failed.
"""

from __future__ import annotations

import functools
import logging
import threading
from concurrent.futures import Future
from typing import Any, Callable, TypeVar

from bot import settings as settings_module
from bot.callback_mail import CODE_SMTP, CallbackMailer, Notice
from bot.clock import Clock, now_jst
from bot.dialogue.knowledge import Knowledge
from bot.dialogue.live import LiveKnowledge
from bot.settings import Settings
from bot.stores.offloop import StoreCalls

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: Longest an action waits for one store call. A hung or stopped Redis fails by itself within its 1 s
#: socket and connect timeouts (bot/stores/redis_backend.py); SQLite waits up to 15 s for another
#: writer: after 5 s the resident gets the apology with the way to a person instead of silence.
STORE_CALL_TIMEOUT_S = 5.0


class Context:
    """The process's knowledge (catalog, FAQ, messages, menu, clock) and stores (opened on first use)."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock = now_jst,
        faq: Callable[[], Any] | None = None,
        encoder: Any = None,
        mailer: CallbackMailer | None = None,
    ) -> None:
        """``faq``: the FAQ snapshot source (default: the live base; tests give a fixed snapshot).
        ``encoder``: the semantic layer's sentence encoder (None: the catalog is matched by words only).
        ``mailer``: the new-callback e-mail (default: from the ``MADOGUCHI_SMTP_*`` environment)."""
        self.settings = settings
        self.knowledge = LiveKnowledge(settings, clock, faq, encoder)
        self._stores = None
        self._salt: bytes | None = None
        self._lock = threading.Lock()
        self._calls = StoreCalls(self.stores)
        self._mailer = mailer

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

    async def store_call(self, call: Callable[[Any], T], timeout: float | None = STORE_CALL_TIMEOUT_S) -> T:
        """Runs ``call(stores)`` off the event loop; :class:`asyncio.TimeoutError` after ``timeout`` s.

        A call that times out still finishes in its thread (bounded by the store's own timeouts), so its
        outcome is unknown to the caller; ``timeout=None`` waits for that outcome (the store's own
        bounds: Redis's socket timeout, SQLite's busy timeout).
        """
        return await self._calls(call, timeout)

    def mailer(self) -> CallbackMailer:
        """The new-callback e-mail (off unless ``MADOGUCHI_SMTP_HOST`` is set), made on first use."""
        with self._lock:
            if self._mailer is None:
                self._mailer = CallbackMailer.from_env(self.settings.data_dir)
            return self._mailer

    def notify_callback(self, notice: Notice) -> Future | None:
        """Queues the staff e-mail of a stored request; returns at once and never raises (a mail is
        a convenience: the request is already stored and shown in the console)."""
        try:
            return self.mailer().notify(notice)
        except Exception as error:  # noqa: BLE001 — never the resident's turn
            logger.error("callback mail not queued: code=%s error=%s", CODE_SMTP, type(error).__name__)
            return None

    def close(self) -> None:
        """Closes the stores if they were opened (after the queued mails went out)."""
        if self._mailer is not None:
            self._mailer.close()
        self._calls.close()
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
