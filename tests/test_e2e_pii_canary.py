"""The personal-data canary through the real servers at LOG_LEVEL=DEBUG (issue 13, item 6).

A resident asks for a callback giving a name, a phone number and an address, and asks an unanswerable
question naming them again. Afterwards the canaries are in the callback queue (where they must be) and
nowhere else: not in the servers' log (Rasa's DEBUG structlog lines included), not in the stored
conversation, not in the review log or feedback.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from tests.servers import private_bot

pytestmark = pytest.mark.e2e

NAME = "山田花子"
KANA_NAME = "やまだはなこ"
PHONE = "09087650001"
ADDRESS = "東京都千代田区1-2-3"
CANARIES = (NAME, KANA_NAME, PHONE, "8765-0001", "1-2-3")


def _rows_text(db_path, query: str) -> str:
    with sqlite3.connect(str(db_path)) as db:
        rows = db.execute(query).fetchall()
    return json.dumps([list(r) for r in rows], ensure_ascii=False)


def _decoded_events(db_path) -> str:
    with sqlite3.connect(str(db_path)) as db:
        rows = db.execute("SELECT data FROM events").fetchall()
    return "\n".join(json.dumps(json.loads(r[0]), ensure_ascii=False) for r in rows)


#: The callback queue's tables: the one place the canaries must be.
QUEUE_TABLES = frozenset({"callbacks", "callback_seq", "callback_void"})


def _every_other_table(db_path) -> str:
    """Every row of every table of the stores file but the callback queue's (review, feedback,
    analytics, audit, dedup … and whatever is added later)."""
    with sqlite3.connect(str(db_path)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return "\n".join(
        f"{table}: {_rows_text(db_path, f'SELECT * FROM {table}')}"  # noqa: S608 - names from the file
        for table in tables
        if table not in QUEUE_TABLES
    )


def _raw_bytes(path) -> bytes:
    """The database file and its WAL as bytes: old versions of rewritten rows live on in free pages."""
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def _encodings(canary: str) -> list[bytes]:
    return [canary.encode(), json.dumps(canary).strip('"').encode()]  # UTF-8 and JSON's \u escapes


@pytest.fixture(scope="module")
def debug_bot():
    with private_bot({"LOG_LEVEL": "DEBUG"}) as bot:
        yield bot


def test_canaries_live_only_in_the_callback_queue(debug_bot):
    bot = debug_bot
    sender = f"canary-{uuid.uuid4().hex}"
    bot.rest(sender, f"{NAME}ですが、{ADDRESS}に住んでいます。りんごの木の剪定のことで")
    bot.rest(f"{sender}-2", f"{KANA_NAME}です。{ADDRESS}の家の前のりんごの木")
    bot.rest(sender, "折り返し電話をお願いしたいです")
    bot.rest(sender, PHONE)
    bot.rest(sender, f"{NAME}です")
    bot.rest(sender, '/inform{"time_slot":"weekday_pm"}')
    bot.rest(sender, "児童手当の申請について")
    done = bot.rest(sender, "/affirm")
    assert any((m.get("custom") or {}).get("madoguchi", {}).get("kind") == "callback" for m in done)

    listed = bot.madoguchi_cli("callbacks", "list", "--json")
    assert any(r["phone"] == PHONE and r["name"] == NAME for r in json.loads(listed.stdout))

    log = bot.log()
    assert "DEBUG" in log or "debug" in log  # the level really was DEBUG
    stored_conversation = _decoded_events(bot.var_dir / "conversations.db")
    assert "[氏名]" in stored_conversation  # the conversation is there, masked
    stores = bot.var_dir / "stores.sqlite3"
    review = _rows_text(stores, "SELECT question FROM review")
    feedback = _rows_text(stores, "SELECT question FROM feedback")
    others = _every_other_table(stores)
    assert "usage_events:" in others and "review:" in others
    conversation_bytes = _raw_bytes(bot.var_dir / "conversations.db")
    for canary in CANARIES:
        assert canary not in log, canary
        assert canary not in stored_conversation, canary
        assert canary not in review, canary
        assert canary not in feedback, canary
        assert canary not in others, canary
        for encoded in _encodings(canary):
            assert encoded not in conversation_bytes, canary
