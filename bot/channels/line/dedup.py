"""Remembering webhook event ids so that a redelivered or duplicated event is never answered twice."""

from __future__ import annotations

import asyncio
from typing import Protocol

#: Longest wait for the store's answer. The Redis client itself gives up after its 1 s socket timeout
#: (bot/stores/redis_backend.py); this also bounds a slow SQLite fsync. On overrun the caller answers
#: anyway (a rare duplicate is better than a resident left without an answer).
SEEN_BEFORE_BUDGET_S = 1.2


class SeenBefore(Protocol):
    """Anything with the ``seen_before`` of :class:`bot.stores.EventDeduplicator`."""

    def seen_before(self, event_id: str, ttl_seconds: int = 86400) -> bool:
        """Atomically records ``event_id``; True when it was already recorded."""
        ...


class EventMemory:
    """Async view of the project's event de-duplicator (SQLite or Redis, from ``bot.stores``).

    The store is opened on first use (not at import or channel construction), so a Rasa server that never
    receives a LINE event never touches it. Store calls run in a worker thread: they are short but
    durable (an fsync for SQLite, a round trip for Redis).
    """

    def __init__(self, dedup: SeenBefore | None = None) -> None:
        """Creates the memory.

        Args:
            dedup: a de-duplicator to use instead of ``open_stores(settings.load()).dedup`` (tests).
        """
        self._dedup = dedup

    def _store(self) -> SeenBefore:
        if self._dedup is None:
            from bot import settings
            from bot.stores import open_stores

            self._dedup = open_stores(settings.load()).dedup
        return self._dedup

    async def seen_before(self, event_id: str, ttl_seconds: int) -> bool:
        """True when ``event_id`` was already seen within ``ttl_seconds``; records it otherwise."""
        store = await asyncio.to_thread(self._store)
        call = asyncio.to_thread(store.seen_before, event_id, ttl_seconds)
        return await asyncio.wait_for(call, timeout=SEEN_BEFORE_BUDGET_S)
