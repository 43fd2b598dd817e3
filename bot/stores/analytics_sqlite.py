"""SQLite back end of the analytics events (same file and connection as :mod:`bot.stores.sqlite_backend`)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.clock import Clock
from bot.stores.analytics import AnalyticsLog, UsageEvent, prepare_event
from bot.stores.records import parse_time
from bot.stores.sqlite_backend import SqliteDatabase

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS usage_events (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ts REAL NOT NULL,"
    " at TEXT NOT NULL, channel TEXT NOT NULL, conversation TEXT NOT NULL, kind TEXT NOT NULL,"
    " procedure TEXT, faq_id TEXT, department TEXT, helpful INTEGER, text TEXT)",
    "CREATE INDEX IF NOT EXISTS usage_events_at ON usage_events (at_ts)",
)
_COLUMNS = ("channel", "conversation", "kind", "procedure", "faq_id", "department", "helpful", "text")


def create_analytics_schema(db: SqliteDatabase) -> None:
    """Creates the analytics table if it is missing (idempotent)."""
    with db.transaction() as conn:
        for statement in _SCHEMA:
            conn.execute(statement)


def _event(row: sqlite3.Row) -> UsageEvent:
    helpful = None if row["helpful"] is None else bool(row["helpful"])
    values = {name: row[name] for name in _COLUMNS if name != "helpful"}
    return UsageEvent(at=parse_time(row["at"]), helpful=helpful, **values)


class SqliteAnalyticsLog(AnalyticsLog):
    """One row per event."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(self, event: UsageEvent) -> UsageEvent:
        event = prepare_event(event)
        helpful = None if event.helpful is None else int(event.helpful)
        values = [getattr(event, name) for name in _COLUMNS]
        values[_COLUMNS.index("helpful")] = helpful
        with self._db.transaction() as conn:
            conn.execute(
                f"INSERT INTO usage_events (at_ts, at, {', '.join(_COLUMNS)}) VALUES ({', '.join('?' * 10)})",
                (event.at.timestamp(), event.at.isoformat(), *values),
            )
        return event

    def events(self, since: datetime | None = None) -> list[UsageEvent]:
        start = float("-inf") if since is None else since.timestamp()
        rows = self._db.query("SELECT * FROM usage_events WHERE at_ts >= ? ORDER BY at_ts, id", (start,))
        return [_event(row) for row in rows]

    def purge(self, older_than: datetime) -> int:
        with self._db.transaction() as conn:
            query = "DELETE FROM usage_events WHERE at_ts < ?"
            return conn.execute(query, (older_than.timestamp(),)).rowcount

    def count_expired(self, older_than: datetime) -> int:
        query = "SELECT COUNT(*) FROM usage_events WHERE at_ts < ?"
        return self._db.query(query, (older_than.timestamp(),))[0][0]

    def count(self) -> int:
        return self._db.query("SELECT COUNT(*) FROM usage_events")[0][0]
