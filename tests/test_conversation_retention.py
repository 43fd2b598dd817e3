"""Retention of conversations in the embedded SQLite tracker store (Rasa's own schema)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.stores.conversations import purge_conversations


def _save(store, sender: str, when: float) -> None:
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(UserUttered("住民票", timestamp=when))
    asyncio.run(store.save(tracker))


def test_old_conversations_are_deleted_recent_ones_kept(tmp_path):
    db = tmp_path / "conversations.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    now = time.time()
    _save(store, "old", now - 100 * 86400)
    _save(store, "recent", now - 86400)

    deleted = purge_conversations(db, datetime.now(timezone.utc) - timedelta(days=90))

    assert deleted == 1
    assert asyncio.run(store.retrieve("old")) is None
    assert asyncio.run(store.retrieve("recent")) is not None


def test_missing_database_is_nothing_to_purge(tmp_path):
    assert purge_conversations(tmp_path / "none.db", datetime.now(timezone.utc)) == 0
