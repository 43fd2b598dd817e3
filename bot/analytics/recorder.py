"""The channels' one call per turn: ``recorder.turn(channel, sender, text, messages)``.

The event is built at once (so its time is the turn's) and stored in a worker thread: the resident's
answer is never delayed by the store, and a store that is down costs one logged line, never the answer.
The stores and the salt are opened on first use, not when the channel is built.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Iterable, Mapping

from bot.analytics.events import turn_event
from bot.analytics.identity import load_salt
from bot.clock import Clock, now_jst
from bot.stores.analytics import AnalyticsLog, UsageEvent

logger = logging.getLogger(__name__)

#: Longest wait for one write. Redis gives up after its 1 s socket timeout (bot/stores/redis_backend.py);
#: this also bounds a slow SQLite fsync, so a hung store cannot pile up writes without limit.
WRITE_BUDGET_S = 2.0


def _default_log() -> tuple[AnalyticsLog, bytes]:
    from bot import settings
    from bot.stores import open_stores

    conf = settings.load()
    return open_stores(conf).analytics, load_salt(conf.var_dir)


class TurnRecorder:
    """Writes one :class:`~bot.stores.UsageEvent` per turn, in the background."""

    def __init__(
        self,
        open_log: Callable[[], tuple[AnalyticsLog, bytes]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Creates the recorder.

        Args:
            open_log: returns the analytics log and the salt (default: the project's stores and salt).
            clock: the time of each turn (default: now in Japan time).
        """
        self._open_log = open_log
        self._clock = clock or now_jst
        self._opened: tuple[AnalyticsLog, bytes] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def _log(self) -> tuple[AnalyticsLog, bytes]:
        if self._opened is None:
            self._opened = (self._open_log or _default_log)()
        return self._opened

    def turn(
        self, channel: str, sender: str, text: str | None, messages: Iterable[Mapping[str, Any]]
    ) -> None:
        """Records the turn in the background (call it once the turn's messages are known)."""
        kept = [dict(m) for m in messages if isinstance(m, Mapping)]
        self._start(self._clock(), channel, sender, text, kept, failed=False)

    def failed_turn(self, channel: str, sender: str) -> None:
        """Records a turn that failed (the resident got the error text), in the background."""
        self._start(self._clock(), channel, sender, None, [], failed=True)

    def _start(self, at, channel: str, sender: str, text: str | None, messages: list, failed: bool) -> None:
        task = asyncio.get_running_loop().create_task(
            self._write(at, channel, sender, text, messages, failed)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, at, channel, sender, text, messages, failed) -> None:
        try:
            await asyncio.wait_for(
                asyncio.to_thread(self._store, at, channel, sender, text, messages, failed), WRITE_BUDGET_S
            )
        except Exception as error:  # noqa: BLE001 — analytics never fail or delay a resident's turn
            logger.error("analytics: a turn was not recorded (%s)", type(error).__name__)

    def _store(self, at, channel, sender, text, messages, failed) -> UsageEvent:
        log, salt = self._log()
        return log.record(turn_event(salt, at, channel, sender, text, messages, failed=failed))

    async def drain(self) -> None:
        """Waits for the writes still running (tests; a clean shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
