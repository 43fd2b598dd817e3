"""Rasa's SQL tracker store (SQLite under ``var/``) with its database work off the event loop.

Rasa 3.6's ``SQLTrackerStore`` has ``async`` methods whose bodies are synchronous SQLAlchemy calls:
every read and every durable write (an fsync) of a conversation runs on the server's event loop and
stalls every other request meanwhile (health checks and LINE acks included). Here the same methods
run, unchanged, on one dedicated worker thread with its own event loop; the server's loop only awaits
the result. One thread, because SQLite serializes writers anyway and a connection stays in the thread
that opened it.

What it writes is masked first (:mod:`bot.stores.anonymize`). Rasa's SQL store only appends events, so
when the callback form ends, the rows that still hold its phone number and name are rewritten masked.

SQLAlchemy 1.4 gives a file-based SQLite engine a ``NullPool``: every session opened a new connection
(two per save: Rasa's append and the form-slot re-masking), so each save paid the connection's set-up
and a cold page cache. Here the engine keeps one connection per thread (``SingletonThreadPool``; all the
work runs on the one worker thread) for the server's lifetime, closed by :meth:`close_connections` at
shutdown (:func:`install_closing_at_shutdown`). Each connection also puts the file in WAL mode with
``synchronous = FULL`` (as the stores file, bot/stores/sqlite_backend.py): one fsync per commit instead
of the rollback journal's several, every commit still durable. ``python -m bench.tracker_save`` (30
conversations × 10 turns, 3 alternating rounds, shared 2-core machine at load 7–10): median 36.1 / 37.9
ms per save with Rasa's engine (2 connections per save, rollback journal), 16.0 / 15.9 ms as shipped
(1 connection for the whole run). The connection alone, before WAL: 20.1 / 31.8 → 13.2 / 26.2 ms.

Rasa's ``_retrieve`` reads every row of the session through the ORM and decodes its JSON on every
turn, so a turn's cost grew with the conversation (the store's worker was a third of the Rasa
process's busy samples at turns 61-120 of one conversation, bench/README.md, Load, sixth run). On
SQLite the store keeps each conversation's rows read so far (:class:`_RowCache`: bounded by
conversations and bytes, least recently used first out) and reads only the rows newer than the last
one it has. The tracker is still built by Rasa's ``DialogueStateTracker.from_dict`` from fresh dicts
(each row kept as ``marshal`` bytes of its decoded JSON: the same values, new objects every time), and
the session is cut as Rasa's query cuts it. What anything else does to the file is caught by SQLite's
``PRAGMA data_version`` on the worker's connection, read before and after each read: a commit by any
other connection — ``madoguchi data purge``, another process, the LINE forget on another thread —
empties the cache and the conversation is read whole again. This store's own rewrites (form slots
masked) and deletions (:meth:`OffLoopSQLTrackerStore.delete_conversation`) drop that conversation.

endpoints.yml (bot/runner.py writes it)::

    tracker_store:
      type: bot.rasa_sql.OffLoopSQLTrackerStore
      dialect: sqlite
      db: /path/to/var/conversations.sqlite3
"""

from __future__ import annotations

import asyncio
import collections
import json
import marshal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Coroutine, Iterable, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.pool import SingletonThreadPool

from bot.stores.anonymize import FORM_SLOTS, anonymize_events, anonymize_new, form_is_active, mask_value
from bot.stores.sqlite_backend import journal_mode_wal

T = TypeVar("T")

#: Connections kept (one per thread that uses the store). Only the worker thread does, but
#: ``SingletonThreadPool`` closes *some* connection when more threads than this connect, so it is
#: larger than the one needed.
POOL_THREADS = 4

#: Bounds of the decoded rows kept (:class:`_RowCache`): conversations, and bytes of their rows (the
#: ``marshal`` bytes plus :data:`ROW_OVERHEAD` each). A 120-turn conversation is ~1,000 rows, ~0.5 MB.
CACHE_CONVERSATIONS = 2000
CACHE_BYTES = 64 * 2**20
#: What one kept row costs besides its bytes (tuple, id, float, names), for the byte bound.
ROW_OVERHEAD = 120

_ROWS_AFTER = "SELECT id, type_name, timestamp, data FROM events WHERE sender_id = ? AND id > ? ORDER BY id"


@dataclass
class _Conversation:
    """One conversation's rows read so far, in id order: ``(id, type_name, timestamp, marshal bytes)``."""

    rows: list[tuple[int, str, float | None, bytes]] = field(default_factory=list)
    size: int = 0

    @property
    def last_id(self) -> int:
        return self.rows[-1][0] if self.rows else 0


class _RowCache:
    """The rows of recently read conversations, least recently used dropped first beyond the bounds.

    Used on the store's worker thread only. Valid while no other connection has committed to the file
    since :attr:`version` (``PRAGMA data_version`` of :attr:`connection`) was read; rows this store
    appends are read as "newer than the last row kept"."""

    def __init__(self, conversations: int = CACHE_CONVERSATIONS, max_bytes: int = CACHE_BYTES) -> None:
        self.max_conversations = conversations
        self.max_bytes = max_bytes
        self.entries: collections.OrderedDict[str, _Conversation] = collections.OrderedDict()
        self.size = 0
        self.connection: Any = None
        self.version: int | None = None
        #: Rows read from the file and decoded so far (what the cache saves is visible in tests).
        self.rows_read = 0

    def clear(self) -> None:
        self.entries.clear()
        self.size = 0

    def drop(self, sender_id: str) -> None:
        entry = self.entries.pop(sender_id, None)
        if entry is not None:
            self.size -= entry.size

    def get(self, sender_id: str) -> _Conversation:
        entry = self.entries.pop(sender_id, None)
        if entry is None:
            return _Conversation()
        self.size -= entry.size
        return entry

    def put(self, sender_id: str, entry: _Conversation) -> None:
        if not entry.rows or entry.size > self.max_bytes:
            return
        self.entries[sender_id] = entry
        self.size += entry.size
        while self.size > self.max_bytes or len(self.entries) > self.max_conversations:
            _, oldest = self.entries.popitem(last=False)
            self.size -= oldest.size


def _session_rows(
    rows: list[tuple[int, str, float | None, bytes]], all_sessions: bool
) -> list[tuple[int, str, float | None, bytes]]:
    """The rows Rasa's ``_event_query`` returns: all of them, or those whose timestamp is at or after
    the latest ``session_started`` timestamp (SQL's ``MAX``: NULLs ignored; none: every row)."""
    if all_sessions:
        return rows
    starts = [ts for _, kind, ts, _ in rows if kind == SessionStarted.type_name and ts is not None]
    if not starts:
        return rows
    start = max(starts)
    return [row for row in rows if row[2] is not None and row[2] >= start]


def delete_events(store: SQLTrackerStore, sender_id: str) -> None:
    """Deletes every stored event of ``sender_id`` from an SQL tracker store (Rasa 3.6's has no delete):
    the LINE forget's one home for it (bot/channels/line/forget.py), for Rasa's store and this one."""
    with store.session_scope() as session:
        session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender_id).delete(
            synchronize_session=False
        )
        session.commit()


class _Worker:
    """One thread with its own event loop, running coroutines handed to it one at a time."""

    def __init__(self, name: str) -> None:
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
        return loop.run_until_complete(coro)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, coro)

    def close(self) -> None:
        """Closes the thread's event loop and stops the thread (after the work handed to it)."""

        def close_loop() -> None:
            loop = getattr(self._local, "loop", None)
            if loop is not None:
                loop.close()
                self._local.loop = None

        self._pool.submit(close_loop).result()
        self._pool.shutdown(wait=True)


def _durable_wal(connection: Any, _record: Any) -> None:
    """Each new connection: WAL journal (refused: the store does not start), every commit fsynced, and
    deleted or rewritten content overwritten in the file (Debian's SQLite does it by default; this
    does not rely on how SQLite was built)."""
    mode = journal_mode_wal(connection)
    if mode.lower() != "wal":
        raise RuntimeError(f"the conversation database refused WAL journal mode (got {mode})")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA secure_delete = ON")


class OffLoopSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose ``save``/``retrieve``/``retrieve_full_tracker``/``keys`` run on a worker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._worker = _Worker("tracker-sql")
        super().__init__(*args, **kwargs)
        self._rows: _RowCache | None = None
        if self.engine.dialect.name == "sqlite":
            self._keep_connections()
            self._rows = _RowCache()

    def _keep_connections(self) -> None:
        """Rebuilds Rasa's engine (a new connection per session) as one that keeps its connections."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=SingletonThreadPool, pool_size=POOL_THREADS)
        sa.event.listen(self.engine, "connect", _durable_wal)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def close_connections(self) -> None:
        """Closes the kept connection (on the thread that opened it) and stops the worker."""
        await self._worker.run(self._dispose())
        self._worker.close()

    async def _dispose(self) -> None:
        self.engine.dispose()

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._worker.run(self._save_masked(tracker))

    async def _save_masked(self, tracker: DialogueStateTracker) -> None:
        """On the worker: appends the conversation's new events masked, then re-masks old form rows.

        Rasa's save appends the events after those already stored (counted in the latest session); here
        only those are turned into dicts and masked, and written as Rasa writes them. (Before, every save
        masked the whole conversation and rebuilt a tracker from it, replaying every event: O(turns) per
        save: a user turn's save cost 4.5 ms of CPU at turn 1 and 9.0 ms at turn 30; now 3.4-3.8 ms at
        every turn, 2026-12-02, 10 conversations of 30 turns.) With an event broker configured, Rasa's own
        path streams the masked events to it."""
        if self.event_broker is not None:
            events = anonymize_events([event.as_dict() for event in tracker.events])
            await super().save(DialogueStateTracker.from_dict(tracker.sender_id, events, self.domain.slots))
            self._mask_stored_form_slots(tracker.sender_id, keep_latest=form_is_active(events))
            return
        everything = list(tracker.events)
        with self.session_scope() as session:
            stored = self._event_query(
                session, tracker.sender_id, fetch_events_from_all_sessions=False
            ).count()
            judged = [_kind_and_name(e) for e in everything[:stored]] + [
                e.as_dict() for e in everything[stored:]
            ]
            for data in anonymize_new(judged, stored):
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=data.get("event"),
                        timestamp=data.get("timestamp"),
                        intent_name=(data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
        self._mask_stored_form_slots(tracker.sender_id, keep_latest=form_is_active(judged))

    def _mask_stored_form_slots(self, sender_id: str, keep_latest: bool) -> None:
        """Rewrites stored form-slot rows masked, but for each slot's latest while the form runs."""
        with self.session_scope() as session:
            rows = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .filter(self.SQLEvent.type_name == "slot")
                .filter(self.SQLEvent.action_name.in_(sorted(FORM_SLOTS)))
                .order_by(self.SQLEvent.id.desc())
                .all()
            )
            seen: set[str] = set()
            rewritten = False
            for row in rows:
                latest = row.action_name not in seen
                seen.add(row.action_name)
                if keep_latest and latest:
                    continue
                data = json.loads(row.data)
                masked = mask_value(data.get("value"))
                if masked != data.get("value"):
                    data["value"] = masked
                    row.data = json.dumps(data)
                    rewritten = True
            session.commit()
        if rewritten and self._rows is not None:
            self._rows.drop(sender_id)  # its kept rows hold the values before masking
        if rewritten and self.engine.dialect.name == "sqlite":
            self._drop_old_versions()

    def _drop_old_versions(self) -> None:
        """After rows were rewritten masked: their raw versions still sit in WAL frames, so the WAL is
        checkpointed into the file (where ``secure_delete`` overwrote them) and truncated to nothing.
        A reader that holds an old snapshot (a purge running) can delay it to the next rewrite."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        if self._rows is None:
            return await self._worker.run(super()._retrieve(sender_id, fetch_events_from_all_sessions))
        return await self._worker.run(self._retrieve_cached(sender_id, fetch_events_from_all_sessions))

    async def _retrieve_cached(self, sender_id: str, all_sessions: bool) -> DialogueStateTracker | None:
        """On the worker: Rasa's ``_retrieve`` from the kept rows and the rows newer than them."""
        rows = self._read_rows(sender_id)
        if rows is None:  # other connections kept committing during the reads: Rasa's own read
            return await super()._retrieve(sender_id, all_sessions)
        events = [marshal.loads(row[3]) for row in _session_rows(rows, all_sessions)]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _read_rows(self, sender_id: str, attempts: int = 3) -> list | None:
        """Every stored row of ``sender_id`` in id order, reading from the file only the rows newer than
        those kept. ``None`` when another connection committed during each of ``attempts`` reads."""
        cache = self._rows
        assert cache is not None
        with self.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            for _ in range(attempts):
                version = raw.execute("PRAGMA data_version").fetchone()[0]
                if raw is not cache.connection or version != cache.version:
                    cache.clear()  # another connection committed (or a new connection): nothing kept holds
                    cache.connection, cache.version = raw, version
                entry = cache.get(sender_id)
                new = raw.execute(_ROWS_AFTER, (sender_id, entry.last_id)).fetchall()
                if raw.execute("PRAGMA data_version").fetchone()[0] != version:
                    cache.clear()
                    continue
                cache.rows_read += len(new)
                for row_id, kind, timestamp, data in new:
                    blob = marshal.dumps(json.loads(data))
                    entry.rows.append((row_id, kind, timestamp, blob))
                    entry.size += len(blob) + ROW_OVERHEAD
                rows = entry.rows
                cache.put(sender_id, entry)
                return rows
        return None

    async def delete_conversation(self, conversation_id: str) -> None:
        """Deletes every stored event of ``conversation_id`` (the LINE forget, bot/channels/line/forget.py),
        on the worker, and what is kept of it."""
        await self._worker.run(self._delete(conversation_id))

    async def _delete(self, conversation_id: str) -> None:
        delete_events(self, conversation_id)
        if self._rows is not None:
            self._rows.drop(conversation_id)

    async def keys(self) -> Iterable[str]:
        return await self._worker.run(super().keys())


def _kind_and_name(event: Event) -> dict[str, Any]:
    """What masking needs of a stored event: its kind, and a slot's or form's name."""
    if isinstance(event, SlotSet):
        return {"event": event.type_name, "name": event.key}
    if isinstance(event, ActiveLoop):
        return {"event": event.type_name, "name": event.name}
    return {"event": event.type_name}


def _unwrapped(store: Any) -> Any:
    """The store inside Rasa's wrappers (``FailSafeTrackerStore``, ``AwaitableTrackerStore``)."""
    while store is not None and not isinstance(store, OffLoopSQLTrackerStore):
        store = getattr(store, "_tracker_store", None)
    return store


def install_closing_at_shutdown() -> None:
    """Makes Rasa's ``after_server_stop`` listener (``rasa.core.run.close_resources``, which closes only
    the event broker) also close this store's connection. Call before Rasa starts its server."""
    from rasa.core import run

    original = run.close_resources
    if getattr(original, "closes_tracker_store", False):
        return

    async def close_resources(app: Any, loop: Any) -> None:
        await original(app, loop)
        agent = getattr(app.ctx, "agent", None)
        store = _unwrapped(getattr(agent, "tracker_store", None))
        if store is not None:
            await store.close_connections()

    close_resources.closes_tracker_store = True  # type: ignore[attr-defined]
    run.close_resources = close_resources
