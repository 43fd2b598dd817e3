"""Stored conversations keep no personal data they do not need (issue 13, item 6).

On both tracker stores madoguchi configures (SQLite: OffLoopSQLTrackerStore; Redis:
TimeoutRedisTrackerStore) a conversation in which a resident gives a name and a phone number for a
callback: while the form runs, only each form slot's latest value is stored raw; once it ends, the
canaries are nowhere in what the store holds (read back raw, not through Rasa).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_sql import OffLoopSQLTrackerStore
from bot.rasa_stores import TimeoutRedisTrackerStore
from bot.stores.anonymize import FORM_SLOTS, anonymize_events

PHONE = "090-1234-5678"
NAME = "山田花子"
ADDRESS_BLOCK = "1-2-3"
CANARIES = (PHONE, NAME, "やまだはなこ", ADDRESS_BLOCK)
DOMAIN_FILE = Path(__file__).resolve().parent.parent / "domain.yml"


def _domain() -> Domain:
    slots = {s: {"type": "any", "mappings": [{"type": "custom"}]} for s in FORM_SLOTS}
    return Domain.from_dict(
        {"slots": slots, "forms": {"callback_form": {"required_slots": sorted(FORM_SLOTS)}}}
    )


def _raw_sqlite(store: OffLoopSQLTrackerStore, path: Path) -> str:
    with sqlite3.connect(str(path)) as db:
        rows = db.execute("SELECT data FROM events").fetchall()
    return "\n".join(json.dumps(json.loads(r[0]), ensure_ascii=False) for r in rows)


def _raw_redis(store: TimeoutRedisTrackerStore, sender: str) -> str:
    raw = store.red.get(store.key_prefix + sender)
    return json.dumps(json.loads(raw), ensure_ascii=False)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "conversations.db"
        store = OffLoopSQLTrackerStore(domain=_domain(), dialect="sqlite", db=str(path))
        yield store, lambda sender: _raw_sqlite(store, path)
        return
    url = request.getfixturevalue("redis_url")
    store = TimeoutRedisTrackerStore(_domain(), redis_url=url, key_prefix=f"t{uuid.uuid4().hex}")
    yield store, lambda sender: _raw_redis(store, sender)
    for key in store.red.scan_iter(match=store.key_prefix + "*"):
        store.red.delete(key)


def _user(text: str) -> UserUttered:
    return UserUttered(text, {"name": "request_callback", "confidence": 1.0}, parse_data={"text": text})


async def test_only_the_running_forms_latest_values_are_stored_raw(backend):
    store, raw = backend
    sender = f"anon-{uuid.uuid4().hex}"
    tracker = DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_listen")], slots=_domain().slots
    )
    for event in (
        _user(f"{NAME}です、電話は{PHONE}、東京都千代田区{ADDRESS_BLOCK}に住んでいます"),
        ActiveLoop("callback_form"),
        SlotSet("callback_name", NAME),
        SlotSet("callback_phone", "090-0000-0000"),  # a first, wrong number
        BotUttered(f"{NAME}様、{PHONE}でよろしいですか", metadata={"phone_display": PHONE}),
    ):
        tracker.update(event)
    await store.save(tracker)
    tracker.update(SlotSet("callback_phone", PHONE))  # corrected in the next turn
    await store.save(tracker)
    stored = raw(sender)
    assert "090-0000-0000" not in stored  # superseded: masked
    assert stored.count(PHONE) == 1 and stored.count(NAME) == 1  # the form's current values only
    restored = await store.retrieve(sender)
    assert restored.get_slot("callback_phone") == PHONE and restored.get_slot("callback_name") == NAME
    assert NAME not in restored.events[1].text and PHONE not in restored.events[1].text

    tracker = restored
    for event in (ActiveLoop(None), SlotSet("callback_phone", None), SlotSet("callback_name", None)):
        tracker.update(event)
    await store.save(tracker)
    stored = raw(sender)
    for canary in CANARIES:
        assert canary not in stored, canary
    assert "[電話番号]" in stored and "[氏名]" in stored


async def test_an_abandoned_form_leaves_nothing_raw(backend):
    store, raw = backend
    sender = f"anon-{uuid.uuid4().hex}"
    tracker = DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_listen")], slots=_domain().slots
    )
    for event in (ActiveLoop("callback_form"), _user(PHONE), SlotSet("callback_phone", PHONE)):
        tracker.update(event)
    await store.save(tracker)
    tracker.update(ActiveLoop(None))  # the resident asked something else; the slot keeps its value
    await store.save(tracker)
    assert PHONE not in raw(sender)


def test_anonymize_never_changes_the_given_events():
    events = [{"event": "user", "text": PHONE, "parse_data": {"text": PHONE, "entities": []}}]
    assert anonymize_events(events)[0]["text"] == "[電話番号]"
    assert events[0]["text"] == PHONE


def test_the_form_slots_exist_in_the_domain():
    domain = Domain.load(str(DOMAIN_FILE))
    assert FORM_SLOTS <= {slot.name for slot in domain.slots}


async def test_no_raw_version_of_a_rewritten_row_stays_in_the_sqlite_files(tmp_path):
    """SQLite keeps old versions of rewritten rows in the WAL and in free space: once the form ends,
    neither the database file nor its WAL holds the resident's number or name, in any encoding."""
    path = tmp_path / "conversations.db"
    store = OffLoopSQLTrackerStore(domain=_domain(), dialect="sqlite", db=str(path))
    tracker = DialogueStateTracker.from_events(
        "files", [ActionExecuted("action_listen")], slots=_domain().slots
    )
    for event in (
        ActiveLoop("callback_form"),
        SlotSet("callback_name", NAME),
        SlotSet("callback_phone", PHONE),
    ):
        tracker.update(event)
    await store.save(tracker)  # while the form runs its latest values are stored raw
    raw_files = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    assert PHONE.encode() in raw_files  # (so the check below can see it)
    tracker.update(ActiveLoop(None))
    await store.save(tracker)
    raw_files = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    for canary in (PHONE, NAME):
        for encoded in (canary.encode(), json.dumps(canary).strip('"').encode()):
            assert encoded not in raw_files, canary
    await store.close_connections()
