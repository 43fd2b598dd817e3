"""The lock store of the one-process mode (no ``REDIS_URL``): turns of one conversation in order, at once.

Rasa's ``InMemoryLockStore`` makes the second message of a conversation wait by polling its ticket once a
second (``wait_time_in_seconds=1``): a resident who sends 10 messages quickly (or taps two buttons) waited
about 1 s per message, ~9 s for the tenth, although each turn takes well under 100 ms. Here each
conversation has a FIFO :class:`asyncio.Lock`: the next turn starts the moment the one before ends, and
turns run in the order the messages arrived (asyncio wakes lock waiters first come, first served).

A turn that waits longer than the lock lifetime (60 s, Rasa's) gives up with :class:`LockError`, as Rasa's
would. Several processes need the Redis lock store (:class:`bot.rasa_stores.AtomicRedisLockStore`).

endpoints.yml (the runner writes it)::

    lock_store:
      type: bot.rasa_lock.LocalLockStore
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, TicketLock


@dataclass
class _Waiting:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class LocalLockStore(InMemoryLockStore):
    """Rasa's in-memory lock store, with turns woken as soon as the one before ends (no polling)."""

    def __init__(self, endpoint_config: Any = None, **_: Any) -> None:
        super().__init__()
        self._waiting: dict[str, _Waiting] = {}

    def waiting(self, conversation_id: str) -> int:
        """How many turns of the conversation hold or wait for its lock (tests)."""
        entry = self._waiting.get(conversation_id)
        return entry.users if entry else 0

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Holds the conversation's lock for one turn (FIFO among the turns waiting for it).

        Raises:
            LockError: the lock was not free within ``lock_lifetime`` seconds.
        """
        entry = self._waiting.setdefault(conversation_id, _Waiting())
        entry.users += 1
        try:
            await _acquire(entry.lock, lock_lifetime, conversation_id)
            try:
                yield TicketLock(conversation_id)
            finally:
                entry.lock.release()
        finally:
            entry.users -= 1
            if entry.users == 0:
                self._waiting.pop(conversation_id, None)


async def _acquire(lock: asyncio.Lock, timeout: float, conversation_id: str) -> None:
    """``lock.acquire()`` within ``timeout``; never leaves the lock taken when it gives up or is cancelled
    (``asyncio.wait_for`` of Python 3.10 can lose an acquisition that completes as the timeout fires)."""
    acquiring = asyncio.ensure_future(lock.acquire())
    try:
        done, _ = await asyncio.wait({acquiring}, timeout=timeout)
    except BaseException:  # the turn itself was cancelled while waiting
        if acquiring.done() and not acquiring.cancelled():
            lock.release()
        acquiring.cancel()
        raise
    if not done:
        acquiring.cancel()
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
