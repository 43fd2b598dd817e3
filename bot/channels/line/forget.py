"""Deleting one conversation from Rasa's tracker store (used when a resident blocks the account).

Rasa 3.6's ``TrackerStore`` has no delete operation, so this module knows the stores the project can run
on: in-memory, Redis, SQL (SQLite/PostgreSQL) and MongoDB, unwrapping Rasa's ``AwaitableTrackerStore`` and
``FailSafeTrackerStore`` (whose in-memory fallback is cleaned as well). A custom store can take part by
offering ``async def delete_conversation(conversation_id) -> None``.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    MongoTrackerStore,
    RedisTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)

from bot.rasa_sql import delete_events

logger = logging.getLogger(__name__)


async def delete_conversation(tracker_store: TrackerStore | None, conversation_id: str) -> bool:
    """Deletes every stored event of ``conversation_id``.

    Returns:
        True when every concrete store behind ``tracker_store`` could delete (an absent conversation
        counts as deleted); False when a store type is not supported (logged by class name).
    """
    stores = list(_concrete_stores(tracker_store))
    if not stores:
        logger.warning("line: no tracker store to delete a conversation from")
        return False
    done = True
    for store in stores:
        deleted = await _delete_from(store, conversation_id)
        if not deleted:
            logger.warning("line: %s cannot delete conversations", type(store).__name__)
        done = done and deleted
    return done


def _concrete_stores(store: Any) -> list[Any]:
    if store is None:
        return []
    if isinstance(store, AwaitableTrackerStore):
        return _concrete_stores(store._tracker_store)
    if isinstance(store, FailSafeTrackerStore):
        inner = _concrete_stores(store._tracker_store)
        fallback = store._fallback_tracker_store  # only when it was ever created
        return inner + (_concrete_stores(fallback) if fallback is not None else [])
    return [store]


async def _delete_from(store: Any, conversation_id: str) -> bool:
    custom = getattr(store, "delete_conversation", None)
    if callable(custom):
        result = custom(conversation_id)
        if inspect.isawaitable(result):
            await result
        return True
    if isinstance(store, InMemoryTrackerStore):
        store.store.pop(conversation_id, None)
        return True
    if isinstance(store, RedisTrackerStore):
        store.red.delete(store.key_prefix + conversation_id)
        return True
    if isinstance(store, SQLTrackerStore):
        delete_events(store, conversation_id)
        return True
    if isinstance(store, MongoTrackerStore):
        store.conversations.delete_many({"sender_id": conversation_id})
        return True
    return False
