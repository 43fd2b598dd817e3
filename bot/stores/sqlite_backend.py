"""SQLite back end: one file under ``settings.var_dir``, WAL journal, ``synchronous=FULL``.

Every write is one transaction committed before the call returns. The connection is shared by the
threads of one process behind a lock; other processes are serialized by SQLite itself
(``BEGIN IMMEDIATE`` + ``busy_timeout``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from bot.clock import Clock
from bot.stores.interfaces import CallbackQueue, EventDeduplicator, FeedbackLog, ReviewLog
from bot.stores.records import (
    CALLBACK_STATUSES,
    REQUEST_KEY_TTL_SECONDS,
    CallbackRequest,
    FeedbackEntry,
    RequestNotStored,
    ReviewEntry,
    ReviewGroup,
    StoreError,
    check_event_id,
    check_request_key,
    group_reviews,
    parse_time,
    prepare_feedback,
    prepare_review,
    summarize_feedback,
    ticket_day,
    ticket_for,
    validate_callback,
)

DB_NAME = "stores.sqlite3"
#: 2: callbacks.request_key (idempotent adds) and callback_void (keys settled as not stored).
SCHEMA_VERSION = 2
_BUSY_TIMEOUT_MS = 15000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS callback_seq (day TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS callbacks (
    ticket TEXT PRIMARY KEY, day TEXT NOT NULL, seq INTEGER NOT NULL,
    phone TEXT NOT NULL, name TEXT NOT NULL, slot TEXT NOT NULL, topic TEXT NOT NULL, department TEXT,
    status TEXT NOT NULL, created_at TEXT NOT NULL, created_ts REAL NOT NULL,
    done_at TEXT, done_ts REAL, request_key TEXT
);
CREATE INDEX IF NOT EXISTS callbacks_created ON callbacks (created_ts, day, seq);
CREATE TABLE IF NOT EXISTS callback_void (request_key TEXT PRIMARY KEY, void_ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS review (
    id INTEGER PRIMARY KEY AUTOINCREMENT, asked_ts REAL NOT NULL, asked_at TEXT NOT NULL,
    question TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, guesses TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS review_asked ON review (asked_ts);
CREATE TABLE IF NOT EXISTS review_dismissed (key TEXT PRIMARY KEY, dismissed_ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, given_ts REAL NOT NULL, given_at TEXT NOT NULL,
    helpful INTEGER NOT NULL, question TEXT, answer_ref TEXT
);
CREATE INDEX IF NOT EXISTS feedback_given ON feedback (given_ts);
CREATE TABLE IF NOT EXISTS dedup (event_id TEXT PRIMARY KEY, expires_ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS dedup_expires ON dedup (expires_ts);
"""


def journal_mode_wal(conn: sqlite3.Connection) -> str:
    """Switches the file of ``conn`` to WAL, retrying while another process does the same; returns the
    mode SQLite reports (``wal`` unless it refused).

    Changing the journal mode of a new file needs an exclusive lock, and SQLite answers "database is
    locked" at once, without its busy handler, when two processes open a new file together.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


class SqliteDatabase:
    """One connection to the stores file, shared by the stores of one :class:`Stores`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # residents' phone numbers: readable by the service account only
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        mode = journal_mode_wal(self._conn)
        if mode.lower() != "wal":
            raise RuntimeError(f"{path}: SQLite refused WAL journal mode (got {mode})")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._create_schema()

    def _create_schema(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: schema version {version} is newer than this code")
        with self._lock:
            self._conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}")
            try:
                columns = {row[1] for row in self._conn.execute("PRAGMA table_info(callbacks)")}
                if "request_key" not in columns:  # a version 1 file
                    self._conn.execute("ALTER TABLE callbacks ADD COLUMN request_key TEXT")
                self._conn.execute(
                    "CREATE UNIQUE INDEX IF NOT EXISTS callbacks_request_key ON callbacks (request_key)"
                )
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error), holding the process-local lock."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Runs a read-only statement."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Closes the connection."""
        with self._lock:
            self._conn.close()


def _callback_from_row(row: sqlite3.Row) -> CallbackRequest:
    return CallbackRequest(
        ticket=row["ticket"],
        phone=row["phone"],
        name=row["name"],
        slot=row["slot"],
        topic=row["topic"],
        department=row["department"],
        status=row["status"],
        created_at=parse_time(row["created_at"]),
        done_at=parse_time(row["done_at"]),
    )


class SqliteCallbackQueue(CallbackQueue):
    """Callback requests in SQLite; the per-day sequence is an upsert in the same transaction."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def add(
        self,
        phone: str,
        name: str | None,
        slot: str,
        topic: str,
        department: str | None,
        key: str | None = None,
    ) -> CallbackRequest:
        fields = validate_callback(phone, name, slot, topic, department)
        check_request_key(key)
        with self._db.transaction() as conn:
            if key is not None:
                found = conn.execute("SELECT * FROM callbacks WHERE request_key = ?", (key,)).fetchone()
                if found is not None:
                    return _callback_from_row(found)
                if conn.execute("SELECT 1 FROM callback_void WHERE request_key = ?", (key,)).fetchone():
                    raise RequestNotStored("key: settled as not stored; this request was not stored")
            created = self._clock()
            day = ticket_day(created)
            seq = conn.execute(
                "INSERT INTO callback_seq (day, last) VALUES (?, 1) "
                "ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last",
                (day,),
            ).fetchone()[0]
            request = CallbackRequest(
                ticket=ticket_for(created, seq),
                status="open",
                created_at=created,
                **vars(fields),
            )
            conn.execute(
                "INSERT INTO callbacks (ticket, day, seq, phone, name, slot, topic, department, status, "
                "created_at, created_ts, request_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request.ticket,
                    day,
                    seq,
                    request.phone,
                    request.name,
                    request.slot,
                    request.topic,
                    request.department,
                    request.status,
                    created.isoformat(),
                    created.timestamp(),
                    key,
                ),
            )
        return request

    def settle(self, key: str) -> CallbackRequest | None:
        check_request_key(key)
        with self._db.transaction() as conn:
            found = conn.execute("SELECT * FROM callbacks WHERE request_key = ?", (key,)).fetchone()
            if found is not None:
                return _callback_from_row(found)
            conn.execute(
                "INSERT OR IGNORE INTO callback_void (request_key, void_ts) VALUES (?, ?)",
                (key, self._clock().timestamp()),
            )
        return None

    def get(self, ticket: str) -> CallbackRequest | None:
        rows = self._db.query("SELECT * FROM callbacks WHERE ticket = ?", (ticket,))
        return _callback_from_row(rows[0]) if rows else None

    def list(self, status: str | None = None) -> list[CallbackRequest]:
        if status is None:
            rows = self._db.query("SELECT * FROM callbacks ORDER BY created_ts, day, seq")
        elif status in CALLBACK_STATUSES:
            rows = self._db.query(
                "SELECT * FROM callbacks WHERE status = ? ORDER BY created_ts, day, seq", (status,)
            )
        else:
            raise StoreError(f"status: {status!r} is not one of {list(CALLBACK_STATUSES)}")
        return [_callback_from_row(row) for row in rows]

    def mark_done(self, ticket: str) -> bool:
        done = self._clock()
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE callbacks SET status = 'done', done_at = ?, done_ts = ? "
                "WHERE ticket = ? AND status = 'open'",
                (done.isoformat(), done.timestamp(), ticket),
            )
            found = conn.execute("SELECT 1 FROM callbacks WHERE ticket = ?", (ticket,)).fetchone()
        return found is not None

    def reopen(self, ticket: str) -> bool:
        with self._db.transaction() as conn:
            query = "UPDATE callbacks SET status = 'open', done_at = NULL, done_ts = NULL WHERE ticket = ?"
            return conn.execute(query, (ticket,)).rowcount > 0

    def delete(self, ticket: str) -> bool:
        with self._db.transaction() as conn:
            return conn.execute("DELETE FROM callbacks WHERE ticket = ?", (ticket,)).rowcount > 0

    def purge(self, older_than: datetime) -> int:
        with self._db.transaction() as conn:
            forgotten = self._clock().timestamp() - REQUEST_KEY_TTL_SECONDS
            conn.execute("DELETE FROM callback_void WHERE void_ts < ?", (forgotten,))
            return conn.execute(
                "DELETE FROM callbacks WHERE status = 'done' AND done_ts < ?", (older_than.timestamp(),)
            ).rowcount

    def count_expired(self, older_than: datetime) -> int:
        query = "SELECT COUNT(*) FROM callbacks WHERE status = 'done' AND done_ts < ?"
        return self._db.query(query, (older_than.timestamp(),))[0][0]

    def counts(self) -> dict[str, int]:
        rows = self._db.query("SELECT status, COUNT(*) AS n FROM callbacks GROUP BY status")
        counts = {status: 0 for status in CALLBACK_STATUSES}
        counts.update({row["status"]: row["n"] for row in rows})
        return counts


class SqliteReviewLog(ReviewLog):
    """Review records in SQLite, one row per recorded question."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(self, question: str, kind: str, guesses: list[str]) -> None:
        entry = prepare_review(question, kind, guesses, self._clock())
        with self._db.transaction() as conn:
            if conn.execute("SELECT 1 FROM review_dismissed WHERE key = ?", (entry.key,)).fetchone():
                return  # 対象外: staff chose never to see this wording again
            conn.execute(
                "INSERT INTO review (asked_ts, asked_at, question, key, kind, guesses) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    entry.asked_at.timestamp(),
                    entry.asked_at.isoformat(),
                    entry.question,
                    entry.key,
                    entry.kind,
                    json.dumps(list(entry.guesses), ensure_ascii=False),
                ),
            )

    def distinct(self) -> list[ReviewGroup]:
        rows = self._db.query("SELECT * FROM review ORDER BY asked_ts, id")
        return group_reviews(
            ReviewEntry(
                question=row["question"],
                key=row["key"],
                kind=row["kind"],
                guesses=tuple(json.loads(row["guesses"])),
                asked_at=parse_time(row["asked_at"]),
            )
            for row in rows
        )

    def dismiss(self, key: str) -> int:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO review_dismissed (key, dismissed_ts) VALUES (?, ?)",
                (key, self._clock().timestamp()),
            )
            return conn.execute("DELETE FROM review WHERE key = ?", (key,)).rowcount

    def purge(self, older_than: datetime) -> int:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM review_dismissed WHERE dismissed_ts < ?", (older_than.timestamp(),))
            return conn.execute("DELETE FROM review WHERE asked_ts < ?", (older_than.timestamp(),)).rowcount

    def clear(self) -> int:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM review_dismissed")
            return conn.execute("DELETE FROM review").rowcount

    def count(self) -> int:
        return self._db.query("SELECT COUNT(*) FROM review")[0][0]

    def count_expired(self, older_than: datetime) -> int:
        return self._db.query("SELECT COUNT(*) FROM review WHERE asked_ts < ?", (older_than.timestamp(),))[0][
            0
        ]


def _feedback_from_row(row: sqlite3.Row) -> FeedbackEntry:
    given_at = parse_time(row["given_at"])
    return FeedbackEntry(bool(row["helpful"]), row["question"], row["answer_ref"], given_at)


class SqliteFeedbackLog(FeedbackLog):
    """Feedback answers in SQLite."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(self, helpful: bool, question: str | None, answer_ref: str | None) -> None:
        entry = prepare_feedback(helpful, question, answer_ref, self._clock())
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO feedback (given_ts, given_at, helpful, question, answer_ref) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    entry.given_at.timestamp(),
                    entry.given_at.isoformat(),
                    int(entry.helpful),
                    entry.question,
                    entry.answer_ref,
                ),
            )

    def entries(self) -> list[FeedbackEntry]:
        rows = self._db.query("SELECT * FROM feedback ORDER BY given_ts, id")
        return [_feedback_from_row(row) for row in rows]

    def summary(self) -> dict[str, Any]:
        rows = self._db.query("SELECT helpful, answer_ref FROM feedback")
        return summarize_feedback((bool(row["helpful"]), row["answer_ref"]) for row in rows)

    def purge(self, older_than: datetime) -> int:
        with self._db.transaction() as conn:
            return conn.execute("DELETE FROM feedback WHERE given_ts < ?", (older_than.timestamp(),)).rowcount

    def count_expired(self, older_than: datetime) -> int:
        query = "SELECT COUNT(*) FROM feedback WHERE given_ts < ?"
        return self._db.query(query, (older_than.timestamp(),))[0][0]


class SqliteEventDeduplicator(EventDeduplicator):
    """``INSERT OR IGNORE`` of the event id, after dropping its expired entry, in one transaction."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def seen_before(self, event_id: str, ttl_seconds: int = 86400) -> bool:
        check_event_id(event_id, ttl_seconds)
        now = self._clock().timestamp()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM dedup WHERE expires_ts <= ?", (now,))
            inserted = conn.execute(
                "INSERT OR IGNORE INTO dedup (event_id, expires_ts) VALUES (?, ?)",
                (event_id, now + ttl_seconds),
            ).rowcount
        return inserted == 0
