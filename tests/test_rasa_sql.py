"""OffLoopSQLTrackerStore: Rasa's SQLite tracker store with its database work off the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from test_redis_faults import MAX_LOOP_GAP_S, Heartbeat

from bot.rasa_sql import OffLoopSQLTrackerStore

#: How long another process holds the database's write lock in the test (a slow fsync, a staff purge).
HOLD_S = 0.6


def _store(tmp_path: Path) -> OffLoopSQLTrackerStore:
    path = tmp_path / "endpoints.yml"
    path.write_text(
        "tracker_store:\n  type: bot.rasa_sql.OffLoopSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {tmp_path / 'conversations.db'}\n",
        encoding="utf-8",
    )
    store = TrackerStore.create(AvailableEndpoints.read_endpoints(str(path)).tracker_store, Domain.empty())
    assert isinstance(store, OffLoopSQLTrackerStore)
    return store


def _tracker(sender: str, text: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_listen"), UserUttered(text, {"name": "ask_procedure"})]
    )


async def test_round_trip_from_endpoints_yml(tmp_path: Path):
    store = _store(tmp_path)
    await store.save(_tracker("a", "住民票"))
    restored = await store.retrieve("a")
    assert restored is not None and restored.latest_message.text == "住民票"
    assert list(await store.keys()) == ["a"]
    assert (await store.retrieve_full_tracker("a")).latest_message.text == "住民票"


async def test_a_locked_database_does_not_block_the_event_loop(tmp_path: Path):
    store = _store(tmp_path)
    tracker = _tracker("b", "一回目")
    await store.save(tracker)
    tracker.update(UserUttered("二回目", {"name": "ask_procedure"}))
    held, release = threading.Event(), threading.Event()

    def hold_write_lock() -> None:
        other = sqlite3.connect(str(tmp_path / "conversations.db"), isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        held.set()
        release.wait(HOLD_S)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    assert held.wait(5)
    started = time.monotonic()
    async with Heartbeat() as beat:
        await store.save(tracker)  # waits for the lock, on the worker thread
    holder.join()
    assert time.monotonic() - started >= HOLD_S * 0.8  # it really waited for the other writer
    assert beat.longest < MAX_LOOP_GAP_S
    assert (await store.retrieve("b")).latest_message.text == "二回目"


async def test_concurrent_conversations_are_all_kept(tmp_path: Path):
    store = _store(tmp_path)
    await asyncio.gather(*(store.save(_tracker(f"c{i}", f"質問{i}")) for i in range(20)))
    assert sorted(await store.keys()) == sorted(f"c{i}" for i in range(20))


def _count(store: OffLoopSQLTrackerStore, name: str) -> list[int]:
    """Counts SQLAlchemy pool events ``connect`` / ``close`` of the store's engine."""
    from sqlalchemy import event

    seen = [0]
    event.listen(store.engine, name, lambda *_: seen.__setitem__(0, seen[0] + 1))
    return seen


async def test_one_connection_serves_every_call_until_shutdown_closes_it(tmp_path: Path):
    store = _store(tmp_path)
    opened, closed = _count(store, "connect"), _count(store, "close")
    for i in range(10):
        tracker = _tracker(f"d{i}", "住民票")
        await store.save(tracker)
        tracker.update(UserUttered("二回目", {"name": "ask_procedure"}))
        await store.save(tracker)
        assert (await store.retrieve(f"d{i}")).latest_message.text == "二回目"
    assert len(list(await store.keys())) == 10
    assert (opened[0], closed[0]) == (1, 0)  # Rasa's engine opened one per session: 50 here
    with sqlite3.connect(str(tmp_path / "conversations.db")) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # one fsync per commit
    await store.close_connections()
    assert closed[0] == 1


async def test_rasas_shutdown_listener_closes_the_wrapped_store(tmp_path: Path, monkeypatch):
    from types import SimpleNamespace

    from rasa.core import run
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot.rasa_sql import install_closing_at_shutdown

    monkeypatch.setattr(run, "close_resources", run.close_resources)  # undone after the test
    install_closing_at_shutdown()
    store = _store(tmp_path)
    await store.save(_tracker("e", "住民票"))
    closed = _count(store, "close")
    app = SimpleNamespace(
        ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=FailSafeTrackerStore(store)))
    )
    await run.close_resources(app, None)
    assert closed[0] == 1


async def test_a_save_appends_only_the_new_events_masked_and_never_replays_the_conversation(
    tmp_path: Path, monkeypatch
):
    from rasa.shared.core.events import BotUttered

    store = _store(tmp_path)
    tracker = DialogueStateTracker.from_events("s", [ActionExecuted("action_listen")])

    def no_replay(*args, **kwargs):
        raise AssertionError("a save rebuilt the whole conversation")

    try:
        for turn in range(3):
            tracker.update(UserUttered(f"山田花子です、090-1234-567{turn}", {"name": "inform"}))
            tracker.update(BotUttered(f"答え{turn}"))
            tracker.update(ActionExecuted("action_listen"))
            with monkeypatch.context() as patched:
                patched.setattr(DialogueStateTracker, "from_dict", no_replay)
                await store.save(tracker)
        rows = (
            sqlite3.connect(tmp_path / "conversations.db")
            .execute("SELECT type_name, intent_name, data FROM events ORDER BY id")
            .fetchall()
        )
        assert [r[0] for r in rows] == [e.type_name for e in tracker.events]  # each event once, in order
        assert [r[1] for r in rows if r[0] == "user"] == ["inform"] * 3
        assert not any("090-1234" in r[2] or "山田花子" in r[2] for r in rows)  # masked
        restored = await store.retrieve("s")
        assert [e.type_name for e in restored.events] == [e.type_name for e in tracker.events]
    finally:
        await store.close_connections()
