"""Deleting a conversation from the tracker stores Rasa wraps around the configured one."""

from __future__ import annotations

from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered

from bot.channels.line.forget import delete_conversation


async def _remember(store: TrackerStore, sender: str) -> None:
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(UserUttered("こんにちは"))
    await store.save(tracker)


async def test_wrapped_sql_store_as_rasa_builds_it(tmp_path):
    inner = SQLTrackerStore(Domain.empty(), db=str(tmp_path / "rasa.db"))
    store = FailSafeTrackerStore(AwaitableTrackerStore(inner))  # what rasa.core.agent builds
    await _remember(store, "line-a")
    await _remember(store, "line-b")
    assert await delete_conversation(store, "line-a") is True
    assert await store.retrieve("line-a") is None
    assert await store.retrieve("line-b") is not None
    assert await delete_conversation(store, "line-never-seen") is True


async def test_failsafe_fallback_is_cleaned_too():
    primary, fallback = InMemoryTrackerStore(Domain.empty()), InMemoryTrackerStore(Domain.empty())
    store = FailSafeTrackerStore(primary, fallback_tracker_store=fallback)
    await _remember(fallback, "line-a")
    await _remember(primary, "line-a")
    assert await delete_conversation(store, "line-a") is True
    assert "line-a" not in primary.store and "line-a" not in fallback.store


class _CustomStore(TrackerStore):
    def __init__(self) -> None:
        super().__init__(Domain.empty())
        self.deleted: list[str] = []

    async def delete_conversation(self, conversation_id: str) -> None:
        self.deleted.append(conversation_id)


class _OpaqueStore(TrackerStore):
    pass


async def test_custom_store_hook_and_unsupported_stores(caplog):
    custom = _CustomStore()
    assert await delete_conversation(custom, "line-a") is True
    assert custom.deleted == ["line-a"]
    assert await delete_conversation(_OpaqueStore(Domain.empty()), "line-a") is False
    assert any("_OpaqueStore cannot delete" in r.getMessage() for r in caplog.records)
    assert await delete_conversation(None, "line-a") is False
