"""OffLoopSQLTrackerStore keeps the rows it read: a turn reads only the rows newer than those kept.

On real SQLite files under tmp dirs: what it retrieves is what Rasa's own ``SQLTrackerStore`` reads from
the same file (events of the latest session and of all sessions), after its own saves, after a purge
(``madoguchi data purge``'s function), the LINE forget, rows written, rewritten or deleted by another
process, and the form slots it masks in place; the cache stays within its bounds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.line.forget import delete_conversation
from bot.rasa_sql import OffLoopSQLTrackerStore, _RowCache
from bot.stores.anonymize import FORM_SLOTS
from bot.stores.conversations import purge_conversations

REPO = Path(__file__).resolve().parent.parent
#: A fixed clock for the events (no sleeping: each event gets the next second).
T0 = 1_764_000_000.0


def _domain() -> Domain:
    slots = {s: {"type": "any", "mappings": [{"type": "custom"}]} for s in FORM_SLOTS}
    return Domain.from_dict(
        {"slots": slots, "forms": {"callback_form": {"required_slots": sorted(FORM_SLOTS)}}}
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "conversations.db"


@pytest.fixture
async def store(db: Path):
    store = OffLoopSQLTrackerStore(domain=_domain(), dialect="sqlite", db=str(db))
    yield store
    await store.close_connections()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _turn(tracker: DialogueStateTracker, clock: Clock, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "ask_procedure", "confidence": 0.9}, timestamp=clock()))
    tracker.update(ActionExecuted("action_answer_faq", timestamp=clock()))
    tracker.update(BotUttered(f"答え: {text}", {"buttons": [{"title": "はい"}]}, timestamp=clock()))
    tracker.update(ActionExecuted("action_listen", timestamp=clock()))


def _start(sender: str, clock: Clock) -> DialogueStateTracker:
    """A session's start (both events at one time: Rasa's query keeps events at or after it)."""
    now = clock()
    return DialogueStateTracker.from_events(
        sender,
        [ActionExecuted("action_session_start", timestamp=now), SessionStarted(timestamp=now)],
        _domain().slots,
    )


def _dicts(tracker: DialogueStateTracker | None) -> list[dict] | None:
    return None if tracker is None else [e.as_dict() for e in tracker.events]


async def _rasas(db: Path, sender: str, all_sessions: bool = False) -> list[dict] | None:
    """What Rasa's own SQL store reads from the file (its own engine and connections)."""
    rasa = SQLTrackerStore(_domain(), dialect="sqlite", db=str(db))
    try:
        read = rasa.retrieve_full_tracker if all_sessions else rasa.retrieve
        return _dicts(await read(sender))
    finally:
        rasa.engine.dispose()


async def _same_as_rasa(store: OffLoopSQLTrackerStore, db: Path, sender: str) -> None:
    assert _dicts(await store.retrieve(sender)) == await _rasas(db, sender)
    assert _dicts(await store.retrieve_full_tracker(sender)) == await _rasas(db, sender, True)


async def test_a_turn_reads_only_the_new_rows_and_retrieves_what_rasa_reads(store, db):
    clock = Clock()
    tracker = _start("a", clock)
    for n in range(5):
        _turn(tracker, clock, f"質問{n}")
        await store.save(tracker)
        await _same_as_rasa(store, db, "a")
    read = store._rows.rows_read
    _turn(tracker, clock, "もう一つ")
    await store.save(tracker)
    restored = await store.retrieve("a")
    assert store._rows.rows_read - read == 4  # the turn's four rows, not all 26 of the conversation
    assert _dicts(restored) == _dicts(tracker)
    await _same_as_rasa(store, db, "a")


async def test_each_retrieve_gives_new_objects(store, db):
    clock = Clock()
    tracker = _start("b", clock)
    _turn(tracker, clock, "住民票")
    await store.save(tracker)
    first = await store.retrieve("b")
    first.latest_message.parse_data["intent"]["name"] = "changed by a caller"
    first.events[-2].data["buttons"].append({"title": "いいえ"})
    second = await store.retrieve("b")
    assert second.latest_message.parse_data["intent"]["name"] == "ask_procedure"
    assert second.events[-2].data["buttons"] == [{"title": "はい"}]


async def test_only_the_latest_session_as_rasa_cuts_it(store, db):
    clock = Clock()
    tracker = _start("c", clock)
    _turn(tracker, clock, "一つ目の会話")
    await store.save(tracker)
    assert _dicts(await store.retrieve("c")) == _dicts(tracker)
    now = clock()
    tracker.update(ActionExecuted("action_session_start", timestamp=now))
    tracker.update(SessionStarted(timestamp=now))
    _turn(tracker, clock, "二つ目の会話")
    await store.save(tracker)
    latest = await store.retrieve("c")
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["二つ目の会話"]
    assert len((await store.retrieve_full_tracker("c")).events) == len(tracker.events)
    await _same_as_rasa(store, db, "c")


async def test_a_purge_is_never_undone_and_a_new_conversation_starts_empty(store, db):
    clock = Clock()
    tracker = _start("d", clock)
    _turn(tracker, clock, "古い会話")
    await store.save(tracker)
    await store.retrieve("d")  # kept
    assert purge_conversations(db, datetime.fromtimestamp(clock.now + 10, timezone.utc)) == 1
    assert await store.retrieve("d") is None  # not resurrected from what was kept
    fresh = _start("d", clock)
    _turn(fresh, clock, "新しい会話")
    await store.save(fresh)
    assert _dicts(await store.retrieve("d")) == _dicts(fresh)
    await _same_as_rasa(store, db, "d")


async def test_the_line_forget_deletes_on_the_worker_and_drops_what_was_kept(store, db):
    clock = Clock()
    for sender in ("line-a", "line-b"):
        tracker = _start(sender, clock)
        _turn(tracker, clock, "こんにちは")
        await store.save(tracker)
        await store.retrieve(sender)
    assert await delete_conversation(store, "line-a") is True
    assert await store.retrieve("line-a") is None
    assert await _rasas(db, "line-a") is None
    assert await store.retrieve("line-b") is not None


async def test_a_deletion_by_rasas_sql_path_on_another_thread_is_seen(store, db):
    clock = Clock()
    tracker = _start("e", clock)
    _turn(tracker, clock, "こんにちは")
    await store.save(tracker)
    await store.retrieve("e")
    with store.session_scope() as session:  # the event loop's thread: another connection of the pool
        session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == "e").delete()
        session.commit()
    assert await store.retrieve("e") is None


def _other_process(db: Path, script: str) -> None:
    code = f"import sqlite3, json\ndb = sqlite3.connect({str(db)!r})\n" + textwrap.dedent(script)
    code += "\ndb.commit()\ndb.close()\n"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)


async def test_rows_another_process_appends_rewrites_or_deletes_are_seen(store, db):
    clock = Clock()
    tracker = _start("f", clock)
    _turn(tracker, clock, "こんにちは")
    await store.save(tracker)
    await store.retrieve("f")
    extra = {"event": "bot", "timestamp": clock(), "text": "別のプロセスから"}
    _other_process(
        db,
        f"""
        db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('f', 'bot', ?, ?)",
                   ({extra["timestamp"]}, json.dumps({extra!r})))
        """,
    )
    assert (await store.retrieve("f")).events[-1].text == "別のプロセスから"
    _other_process(
        db,
        """
        query = "SELECT id, data FROM events WHERE sender_id = 'f' AND type_name = 'user'"
        row_id, data = db.execute(query).fetchone()
        data = json.loads(data)
        data["text"] = "書き換えた"
        db.execute("UPDATE events SET data = ? WHERE id = ?", (json.dumps(data), row_id))
        """,
    )
    assert (await store.retrieve("f")).latest_message.text == "書き換えた"
    await _same_as_rasa(store, db, "f")
    _other_process(db, "db.execute(\"DELETE FROM events WHERE sender_id = 'f'\")")
    assert await store.retrieve("f") is None


async def test_another_store_process_saving_the_same_conversation_is_seen(store, db):
    clock = Clock()
    tracker = _start("g", clock)
    _turn(tracker, clock, "一回目")
    await store.save(tracker)
    await store.retrieve("g")
    script = f"""
        import asyncio
        from rasa.shared.core.events import UserUttered
        from bot.rasa_sql import OffLoopSQLTrackerStore
        from rasa.shared.core.domain import Domain

        async def main():
            other = OffLoopSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db={str(db)!r})
            tracker = await other.retrieve("g")
            text, intent = "別のプロセスの二回目", {{"name": "ask_procedure"}}
            tracker.update(UserUttered(text, intent, timestamp={clock()}))
            await other.save(tracker)
            await other.close_connections()

        asyncio.run(main())
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True, cwd=REPO, timeout=120)
    assert (await store.retrieve("g")).latest_message.text == "別のプロセスの二回目"
    await _same_as_rasa(store, db, "g")


async def test_form_slots_masked_in_place_are_read_masked(store, db):
    clock = Clock()
    tracker = _start("h", clock)
    tracker.update(ActiveLoop("callback_form", timestamp=clock()))
    tracker.update(SlotSet("callback_phone", "090-1234-5678", timestamp=clock()))
    await store.save(tracker)
    kept = await store.retrieve("h")
    assert kept.get_slot("callback_phone") == "090-1234-5678"  # the running form's latest value, raw
    tracker.update(ActiveLoop(None, timestamp=clock()))
    await store.save(tracker)  # the form ended: the stored row is rewritten masked
    restored = await store.retrieve_full_tracker("h")
    assert "090-1234-5678" not in str(_dicts(restored))
    assert _dicts(restored) == await _rasas(db, "h", True)


async def test_the_cache_keeps_within_its_bounds_and_still_answers(db):
    store = OffLoopSQLTrackerStore(domain=_domain(), dialect="sqlite", db=str(db))
    store._rows = _RowCache(conversations=3, max_bytes=20_000)
    clock = Clock()
    try:
        trackers = {}
        for n in range(6):
            trackers[n] = _start(f"s{n}", clock)
            _turn(trackers[n], clock, f"会話{n}")
            await store.save(trackers[n])
            await store.retrieve(f"s{n}")
        assert list(store._rows.entries) == ["s3", "s4", "s5"]  # least recently used out first
        assert store._rows.size <= 20_000
        big = trackers[0]
        for n in range(40):
            _turn(big, clock, f"長い会話{n}" * 10)
        await store.save(big)
        assert _dicts(await store.retrieve("s0")) == _dicts(big)  # too big to keep, still read whole
        assert "s0" not in store._rows.entries
        assert store._rows.size == sum(e.size for e in store._rows.entries.values()) <= 20_000
        for n in range(6):
            assert _dicts(await store.retrieve(f"s{n}")) == _dicts(trackers[n])
    finally:
        await store.close_connections()


async def test_concurrent_turns_of_many_conversations(store, db):
    clock = Clock()
    trackers = {n: _start(f"k{n}", clock) for n in range(10)}

    async def converse(n: int) -> None:
        for turn in range(3):
            _turn(trackers[n], clock, f"{n}-{turn}")
            await store.save(trackers[n])
            assert _dicts(await store.retrieve(f"k{n}")) == _dicts(trackers[n])

    await asyncio.gather(*(converse(n) for n in range(10)))
    for n in range(10):
        await _same_as_rasa(store, db, f"k{n}")


def test_data_version_moves_only_for_other_connections(tmp_path: Path):
    """What the cache relies on: SQLite's ``PRAGMA data_version`` in WAL mode."""
    path = tmp_path / "v.db"
    mine = sqlite3.connect(path, isolation_level=None)
    mine.execute("PRAGMA journal_mode = WAL")
    mine.execute("CREATE TABLE t (x)")
    version = mine.execute("PRAGMA data_version").fetchone()[0]
    mine.execute("INSERT INTO t VALUES (1)")
    assert mine.execute("PRAGMA data_version").fetchone()[0] == version
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("INSERT INTO t VALUES (2)")
    assert mine.execute("PRAGMA data_version").fetchone()[0] != version
