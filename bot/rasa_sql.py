"""Rasa's SQL tracker store (SQLite under ``var/``) with its database work off the event loop.

Rasa 3.6's ``SQLTrackerStore`` has ``async`` methods whose bodies are synchronous SQLAlchemy calls:
every read and every durable write (an fsync) of a conversation runs on the server's event loop and
stalls every other request meanwhile (health checks and LINE acks included). Here the same methods
run, unchanged, on one dedicated worker thread with its own event loop; the server's loop only awaits
the result. One thread, because SQLite serializes writers anyway and a connection stays in the thread
that opened it.

What it writes is masked first (:mod:`bot.stores.anonymize`). Rasa's SQL store only appends events, so
when the callback form ends, the rows that still hold its phone number and name are rewritten masked.

endpoints.yml (bot/runner.py writes it)::

    tracker_store:
      type: bot.rasa_sql.OffLoopSQLTrackerStore
      dialect: sqlite
      db: /path/to/var/conversations.sqlite3
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Coroutine, Iterable, TypeVar

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from bot.stores.anonymize import FORM_SLOTS, anonymize_events, form_is_active, mask_value

T = TypeVar("T")


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


class OffLoopSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose ``save``/``retrieve``/``retrieve_full_tracker``/``keys`` run on a worker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._worker = _Worker("tracker-sql")
        super().__init__(*args, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._worker.run(self._save_masked(tracker))

    async def _save_masked(self, tracker: DialogueStateTracker) -> None:
        """On the worker: masks a copy of the conversation, appends its new events, re-masks old rows."""
        events = anonymize_events([event.as_dict() for event in tracker.events])
        masked = DialogueStateTracker.from_dict(tracker.sender_id, events, self.domain.slots)
        await super().save(masked)
        self._mask_stored_form_slots(tracker.sender_id, keep_latest=form_is_active(events))

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
            session.commit()

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        return await self._worker.run(super()._retrieve(sender_id, fetch_events_from_all_sessions))

    async def keys(self) -> Iterable[str]:
        return await self._worker.run(super().keys())
