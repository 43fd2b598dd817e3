"""Retention for Rasa's conversation store in the embedded mode (SQLite under var/).

Rasa keeps every event of every conversation forever. ``purge_conversations`` deletes the events of
conversations whose last event is older than the cut-off, so residents' messages are kept only as long
as configured. (With ``REDIS_URL`` the tracker store expires conversations itself: ``record_exp``.)
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path


def purge_conversations(db_path: Path, older_than: datetime, dry_run: bool = False) -> int:
    """Deletes conversations idle since before ``older_than``; returns how many (``dry_run``: counts only)."""
    if not db_path.exists():
        return 0
    cutoff = older_than.timestamp()
    with sqlite3.connect(db_path) as connection:
        if not connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
        ).fetchone():
            return 0
        stale = [
            row[0]
            for row in connection.execute(
                "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < ?", (cutoff,)
            )
        ]
        if not dry_run:
            connection.executemany("DELETE FROM events WHERE sender_id = ?", [(s,) for s in stale])
    return len(stale)
