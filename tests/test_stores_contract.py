"""One contract, both back ends: every test runs over SQLite and a real Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.privacy import PHONE
from bot.stores import REVIEW_KINDS, StoreError, Stores, UsageEvent, open_stores
from bot.stores.records import JST, resolve_ticket, spoken_number, ticket_parts

ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    """A settable clock (aware JST datetimes)."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self.now = self.now + timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 26, 9, 30, tzinfo=JST))


def _add(stores: Stores, phone: str = "090-1234-5678", topic: str = "juminhyo"):
    return stores.callbacks.add(phone, "山田", "平日午前", topic, "shimin")


# --- callbacks -------------------------------------------------------------------------------------


def test_tickets_count_per_day_in_japan_time(clocked: Stores, clock: FakeClock):
    assert _add(clocked).ticket == "CB-20261126-0001"
    assert _add(clocked).ticket == "CB-20261126-0002"
    clock.now = datetime(2026, 11, 26, 23, 59, tzinfo=JST)
    assert _add(clocked).ticket == "CB-20261126-0003"
    clock.now = datetime(2026, 11, 26, 15, 30, tzinfo=timezone.utc)  # 00:30 on the 27th in Japan
    assert _add(clocked).ticket == "CB-20261127-0001"


def test_the_ticket_a_resident_reads_out_finds_the_request(clocked: Stores, clock: FakeClock):
    """受付番号 as said over the phone (the day and its number) finds the stored request on both back
    ends; full tickets, including those made before the short form existed, are read as they were."""
    made = _add(clocked)
    second = _add(clocked)
    today = (clock.now + timedelta(days=3)).date()
    for spoken in ("11月26日の0001", "11/26 1", "1126-0001", "１１月２６日の０００１番", made.ticket):
        found = clocked.callbacks.get(resolve_ticket(spoken, today))
        assert found is not None and found.ticket == made.ticket, spoken
    assert clocked.callbacks.get(resolve_ticket("11月26日の0002", today)).ticket == second.ticket
    assert clocked.callbacks.get(resolve_ticket("11月26日の0003", today)) is None
    assert (spoken_number(made.ticket), ticket_parts(made.ticket)) == ("0001", (date(2026, 11, 26), 1))
    # a request from the end of last year, read out in January: last year's day
    clock.now = datetime(2025, 12, 30, 10, 0, tzinfo=JST)
    old = _add(clocked)
    assert old.ticket == "CB-20251230-0001"
    assert clocked.callbacks.get(resolve_ticket("12月30日の0001", date(2026, 1, 5))).ticket == old.ticket
    assert resolve_ticket("2月30日の0001", today) is None and resolve_ticket("CB-2026", today) is None


def test_add_keeps_digits_only_and_fields(clocked: Stores, clock: FakeClock):
    request = clocked.callbacks.add(
        "０９０ー１２３４ー５６７８", " 山田 太郎 ", "平日午後", "jidoteate", None
    )
    assert request.phone == "09012345678"
    assert request.name == "山田 太郎"
    assert (request.slot, request.topic, request.department) == ("平日午後", "jidoteate", None)
    assert request.status == "open" and request.done_at is None
    assert request.created_at == clock.now
    assert clocked.callbacks.get(request.ticket) == request


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "03-0000-0000"}, "phone"),
        ({"slot": "  "}, "slot"),
        ({"topic": ""}, "topic"),
        ({"department": ""}, "department"),
        ({"name": 42}, "name"),
        ({"topic": "x" * 501}, "topic"),
    ],
)
def test_add_rejects_bad_fields_naming_them(clocked: Stores, kwargs: dict, field: str):
    args = {"phone": "090-1234-5678", "name": "", "slot": "平日午前", "topic": "juminhyo", "department": None}
    args.update(kwargs)
    with pytest.raises(StoreError) as error:
        clocked.callbacks.add(**args)
    assert str(error.value).startswith(f"{field}:")
    assert "0000" not in str(error.value) and "12345" not in str(error.value)
    assert clocked.callbacks.list() == []


def test_list_is_oldest_first_and_filters_status(clocked: Stores, clock: FakeClock):
    first = _add(clocked)
    clock.advance(minutes=5)
    second = _add(clocked)
    clock.advance(minutes=5)
    third = _add(clocked)
    assert [r.ticket for r in clocked.callbacks.list()] == [first.ticket, second.ticket, third.ticket]
    assert clocked.callbacks.mark_done(second.ticket) is True
    assert [r.ticket for r in clocked.callbacks.list("open")] == [first.ticket, third.ticket]
    assert [r.ticket for r in clocked.callbacks.list("done")] == [second.ticket]
    assert clocked.callbacks.counts() == {"open": 2, "done": 1}
    with pytest.raises(StoreError, match="^status:"):
        clocked.callbacks.list("closed")


def test_mark_done_is_idempotent_and_reports_unknown(clocked: Stores, clock: FakeClock):
    request = _add(clocked)
    clock.advance(hours=1)
    done_time = clock.now
    assert clocked.callbacks.mark_done(request.ticket) is True
    clock.advance(hours=1)
    assert clocked.callbacks.mark_done(request.ticket) is True
    stored = clocked.callbacks.get(request.ticket)
    assert stored.status == "done" and stored.done_at == done_time
    assert clocked.callbacks.mark_done("CB-20261126-9999") is False
    assert clocked.callbacks.get("CB-20261126-9999") is None


def test_delete(clocked: Stores):
    request = _add(clocked)
    clocked.callbacks.mark_done(request.ticket)
    assert clocked.callbacks.delete(request.ticket) is True
    assert clocked.callbacks.get(request.ticket) is None
    assert clocked.callbacks.delete(request.ticket) is False
    assert clocked.callbacks.counts() == {"open": 0, "done": 0}


def test_purge_removes_only_old_done_requests(clocked: Stores, clock: FakeClock):
    old_done, old_open = _add(clocked), _add(clocked)
    clocked.callbacks.mark_done(old_done.ticket)
    clock.advance(days=10)
    recent_done = _add(clocked)
    clocked.callbacks.mark_done(recent_done.ticket)
    assert clocked.callbacks.purge(clock.now - timedelta(days=5)) == 1
    assert {r.ticket for r in clocked.callbacks.list()} == {old_open.ticket, recent_done.ticket}
    assert clocked.callbacks.purge(clock.now - timedelta(days=5)) == 0


KEY = "0123456789abcdef0123456789abcdef"


def test_an_add_with_a_key_stores_once_and_returns_the_same_request(clocked: Stores, clock: FakeClock):
    first = clocked.callbacks.add("090-1234-5678", "山田", "平日午前", "juminhyo", "shimin", key=KEY)
    clock.advance(minutes=1)
    again = clocked.callbacks.add("090-1234-5678", "山田", "平日午前", "juminhyo", "shimin", key=KEY)
    assert again == first
    assert [r.ticket for r in clocked.callbacks.list()] == [first.ticket]
    assert clocked.callbacks.settle(KEY) == first
    other = clocked.callbacks.add("090-1234-5678", "山田", "平日午前", "juminhyo", "shimin", key=KEY[::-1])
    assert other.ticket != first.ticket


def test_a_settled_unused_key_never_stores_its_request(clocked: Stores):
    assert clocked.callbacks.settle(KEY) is None
    with pytest.raises(StoreError, match="not stored"):
        clocked.callbacks.add("090-1234-5678", "山田", "平日午前", "juminhyo", "shimin", key=KEY)
    assert clocked.callbacks.counts() == {"open": 0, "done": 0}
    assert clocked.callbacks.settle(KEY) is None  # and it stays so
    assert _add(clocked).ticket == "CB-20261126-0001"  # requests without that key are not affected


@pytest.mark.parametrize("key", ["", "ABCDEF0123456789", "0123", "0123456789abcdeg", "x" * 80])
def test_a_bad_request_key_is_refused(clocked: Stores, key: str):
    with pytest.raises(StoreError, match="key"):
        clocked.callbacks.add("090-1234-5678", "山田", "平日午前", "juminhyo", "shimin", key=key)
    with pytest.raises(StoreError, match="key"):
        clocked.callbacks.settle(key)


def test_to_dict_is_json(clocked: Stores):
    request = _add(clocked)
    clocked.callbacks.mark_done(request.ticket)
    data = json.loads(json.dumps(clocked.callbacks.get(request.ticket).to_dict(), ensure_ascii=False))
    assert data["ticket"] == request.ticket and data["status"] == "done"
    assert datetime.fromisoformat(data["created_at"]) == request.created_at
    assert datetime.fromisoformat(data["done_at"]) >= request.created_at


# --- review log ------------------------------------------------------------------------------------


def test_review_masks_before_storing(clocked: Stores):
    clocked.review.record("電話番号は090-1234-5678です、住民票は？", "fallback", [])
    [group] = clocked.review.distinct()
    assert "090" not in group.question and PHONE in group.question


def test_review_groups_normalized_questions(clocked: Stores, clock: FakeClock):
    first = clock.now
    clocked.review.record("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞの更新", "low_confidence", ["F0012", "mynumber"])
    clock.advance(hours=1)
    clocked.review.record("マイナンバーカードの更新", "fallback", ["F0012"])
    clock.advance(hours=1)
    clocked.review.record("マイナンバーカードの更新", "fallback", ["F0003"])
    clock.advance(hours=1)
    clocked.review.record("粗大ごみ", "unhelpful", ["sodaigomi"])
    groups = clocked.review.distinct()
    assert [g.count for g in groups] == [3, 1]
    top = groups[0]
    assert top.question == "マイナンバーカードの更新"
    assert top.kinds == ["fallback", "low_confidence"]
    assert top.guesses == ["F0012", "F0003", "mynumber"]
    assert top.first_asked == first and top.last_asked == first + timedelta(hours=2)
    assert clocked.review.count() == 4


@pytest.mark.parametrize(
    ("question", "kind", "guesses", "field"),
    [
        ("住民票", "other", [], "kind"),
        ("   ", "fallback", [], "question"),
        ("住民票", "fallback", "F0001", "guesses"),
        ("住民票", "fallback", [""], "guesses"),
    ],
)
def test_review_rejects_bad_records(clocked: Stores, question, kind, guesses, field):
    with pytest.raises(StoreError, match=f"^{field}:"):
        clocked.review.record(question, kind, guesses)
    assert clocked.review.count() == 0


def test_review_purge_and_clear(clocked: Stores, clock: FakeClock):
    clocked.review.record("古い質問", "fallback", [])
    clock.advance(days=100)
    clocked.review.record("新しい質問", "fallback", [])
    clocked.review.record("もう一つ", "unhelpful", [])
    assert clocked.review.purge(clock.now - timedelta(days=90)) == 1
    assert [g.question for g in clocked.review.distinct()] != ["古い質問"]
    assert clocked.review.clear() == 2
    assert clocked.review.distinct() == [] and clocked.review.count() == 0
    assert set(REVIEW_KINDS) == {"low_confidence", "fallback", "unhelpful"}


def test_a_dismissed_question_is_gone_and_stays_gone_until_retention(clocked: Stores, clock: FakeClock):
    clocked.review.record("激安セール 今すぐクリック", "fallback", [])
    clocked.review.record("激安セール　今すぐクリック", "unhelpful", [])  # same wording, other width
    clocked.review.record("住民票の取り方", "fallback", [])
    key = next(g for g in clocked.review.distinct() if g.question.startswith("激安")).question
    from bot.text import normalize

    assert clocked.review.dismiss(normalize(key)) == 2
    assert [g.question for g in clocked.review.distinct()] == ["住民票の取り方"]
    clocked.review.record("激安セール 今すぐクリック", "fallback", [])  # asked again: not shown, not kept
    assert clocked.review.count() == 1
    clock.advance(days=91)
    clocked.review.purge(clock.now - timedelta(days=90))  # the dismissal expires with the retention
    clocked.review.record("激安セール 今すぐクリック", "fallback", [])
    assert [g.question for g in clocked.review.distinct()] == ["激安セール 今すぐクリック"]
    assert clocked.review.dismiss("no such wording") == 0


# --- feedback --------------------------------------------------------------------------------------


def test_feedback_masks_and_summarizes(clocked: Stores):
    clocked.feedback.record(True, "住民票の取り方", "juminhyo")
    clocked.feedback.record(False, "私の番号 090-1111-2222 に電話して", "juminhyo")
    clocked.feedback.record(True, None, None)
    entries = clocked.feedback.entries()
    assert [e.helpful for e in entries] == [True, False, True]
    assert "1111" not in entries[1].question and PHONE in entries[1].question
    assert clocked.feedback.summary() == {
        "total": 3,
        "helpful": 2,
        "unhelpful": 1,
        "helpful_rate": round(2 / 3, 4),
        "by_answer": {"juminhyo": {"helpful": 1, "unhelpful": 1}},
    }
    with pytest.raises(StoreError, match="^helpful:"):
        clocked.feedback.record("yes", None, None)


def test_feedback_purge(clocked: Stores, clock: FakeClock):
    clocked.feedback.record(True, None, "a")
    clock.advance(days=2)
    clocked.feedback.record(False, None, "b")
    assert clocked.feedback.purge(clock.now - timedelta(days=1)) == 1
    assert clocked.feedback.summary()["total"] == 1
    assert clocked.feedback.summary()["helpful_rate"] == 0.0


# --- dedup -----------------------------------------------------------------------------------------


def test_dedup_check_and_set(stores: Stores):
    assert stores.dedup.seen_before("evt-1") is False
    assert stores.dedup.seen_before("evt-1") is True
    assert stores.dedup.seen_before("evt-2") is False
    with pytest.raises(StoreError, match="^event_id:"):
        stores.dedup.seen_before("")
    with pytest.raises(StoreError, match="^ttl_seconds:"):
        stores.dedup.seen_before("evt-3", 0)


def test_dedup_expires_on_sqlite_by_the_stores_clock(tmp_path):
    from bot.stores import open_stores
    from tests.conftest import make_settings

    now = [datetime(2026, 11, 24, 10, 0, tzinfo=JST)]
    with open_stores(make_settings(tmp_path / "var"), clock=lambda: now[0]) as stores:
        assert stores.dedup.seen_before("evt-short", ttl_seconds=60) is False
        now[0] += timedelta(seconds=59)
        assert stores.dedup.seen_before("evt-short", ttl_seconds=60) is True
        now[0] += timedelta(seconds=1)
        assert stores.dedup.seen_before("evt-short", ttl_seconds=60) is False


def test_dedup_expires_on_redis_by_its_ttl(redis_url, tmp_path):
    """Redis expires the key itself: the key carries the TTL asked for (no waiting for it)."""
    import uuid

    import redis

    from tests.conftest import drop_redis_prefix, make_settings

    settings, prefix = make_settings(tmp_path / "var", redis_url), f"test:{uuid.uuid4().hex}:"
    with open_stores(settings, prefix=prefix) as stores:
        assert stores.dedup.seen_before("evt-short", ttl_seconds=60) is False
        assert stores.dedup.seen_before("evt-short", ttl_seconds=60) is True
    client = redis.Redis.from_url(settings.redis_url)
    try:
        assert 59_000 <= client.pttl(f"{prefix}dedup:evt-short") <= 60_000
    finally:
        client.close()
        drop_redis_prefix(redis_url, prefix)


def test_dedup_only_one_thread_wins(stores: Stores):
    barrier = threading.Barrier(8)

    def race(_: int) -> bool:
        barrier.wait()
        return stores.dedup.seen_before("evt-race")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(race, range(8)))
    assert results.count(False) == 1


# --- retention and stats ---------------------------------------------------------------------------


def test_purge_expired_uses_retention(clocked: Stores, clock: FakeClock):
    done = _add(clocked)
    clocked.callbacks.mark_done(done.ticket)
    kept_open = _add(clocked)
    clocked.review.record("質問", "fallback", [])
    clocked.feedback.record(True, None, None)
    clocked.analytics.record(UsageEvent(clock(), "rest", "0" * 32, "other"))
    clock.advance(days=clocked.retention_days + 1)
    assert clocked.purge_expired(days=clocked.retention_days + 5) == {
        "callbacks": 0,
        "review": 0,
        "feedback": 0,
        "callback_work": 0,
        "analytics": 0,
        "audit": 0,
    }
    assert clocked.purge_expired() == {
        "callbacks": 1,
        "review": 1,
        "feedback": 1,
        "callback_work": 0,
        "analytics": 1,
        "audit": 0,
    }
    assert clocked.analytics.count() == 0
    assert [r.ticket for r in clocked.callbacks.list()] == [kept_open.ticket]
    with pytest.raises(ValueError, match="^days:"):
        clocked.purge_expired(days=-1)


def test_stats(clocked: Stores):
    _add(clocked)
    clocked.review.record("質問", "fallback", [])
    clocked.review.record("質問", "fallback", [])
    clocked.feedback.record(False, None, None)
    stats = clocked.stats()
    assert stats["backend"] in {"sqlite", "redis"}
    assert stats["callbacks"] == {"open": 1, "done": 0}
    assert stats["review"] == {"records": 2, "distinct": 1}
    assert stats["feedback"]["unhelpful"] == 1


# --- concurrency and durability --------------------------------------------------------------------


def _sequence_numbers(tickets: list[str]) -> list[int]:
    return sorted(int(t.rsplit("-", 1)[1]) for t in tickets)


def test_threads_never_share_a_ticket(store_settings):
    settings, prefix = store_settings
    per_thread, threads = 15, 4
    opened = [open_stores(settings, prefix=prefix) for _ in range(2)]  # shared and separate connections
    barrier = threading.Barrier(threads)

    def worker(index: int) -> list[str]:
        stores = opened[index % 2]
        barrier.wait()
        return [_add(stores).ticket for _ in range(per_thread)]

    try:
        with ThreadPoolExecutor(threads) as pool:
            tickets = [t for batch in pool.map(worker, range(threads)) for t in batch]
    finally:
        for stores in opened:
            stores.close()
    assert len(set(tickets)) == per_thread * threads
    days = {t.split("-")[1] for t in tickets}
    if len(days) == 1:  # not run across midnight JST
        assert _sequence_numbers(tickets) == list(range(1, per_thread * threads + 1))


_WORKER = """
import os, sys, time
from bot import settings
from bot.stores import open_stores
stores = open_stores(settings.load(), prefix=os.environ.get("TEST_PREFIX") or None)
start_at = float(sys.argv[2])
while time.time() < start_at:
    time.sleep(0.005)
for _ in range(int(sys.argv[1])):
    print(stores.callbacks.add("03-1234-5678", "", "平日午前", "juminhyo", None).ticket, flush=True)
if len(sys.argv) > 3:
    os.kill(os.getpid(), 9)  # die without closing anything
stores.close()
"""


def _worker_env(settings, prefix: str | None) -> dict[str, str]:
    env = dict(os.environ, MADOGUCHI_VAR=str(settings.var_dir), TEST_PREFIX=prefix or "")
    env.pop("REDIS_URL", None)
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


def test_processes_never_share_a_ticket(store_settings):
    settings, prefix = store_settings
    env = _worker_env(settings, prefix)
    start_at = str(time.time() + 3.0)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, "20", start_at],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120)[0].split() for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    tickets = outputs[0] + outputs[1]
    assert len(tickets) == 40 and len(set(tickets)) == 40
    with open_stores(settings, prefix=prefix) as stores:
        assert sorted(r.ticket for r in stores.callbacks.list()) == sorted(tickets)


def test_written_record_survives_a_killed_process(store_settings):
    settings, prefix = store_settings
    env = _worker_env(settings, prefix)
    worker = subprocess.run(
        [sys.executable, "-c", _WORKER, "1", "0", "kill"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == -signal.SIGKILL
    [ticket] = worker.stdout.split()
    with open_stores(settings, prefix=prefix) as stores:
        request = stores.callbacks.get(ticket)
    assert request is not None and request.phone == "0312345678" and request.status == "open"


# --- SQLite specifics ------------------------------------------------------------------------------


def test_sqlite_file_is_private_wal_and_full_sync(tmp_path: Path):
    from tests.conftest import make_settings

    with open_stores(make_settings(tmp_path / "var")) as stores:
        _add(stores)
        db = stores.callbacks._db
        assert db.query("PRAGMA journal_mode")[0][0] == "wal"
        assert db.query("PRAGMA synchronous")[0][0] == 2  # FULL
        assert (db.path.stat().st_mode & 0o777) == 0o600


_VERSION_1_CALLBACKS = """
CREATE TABLE callbacks (
    ticket TEXT PRIMARY KEY, day TEXT NOT NULL, seq INTEGER NOT NULL,
    phone TEXT NOT NULL, name TEXT NOT NULL, slot TEXT NOT NULL, topic TEXT NOT NULL, department TEXT,
    status TEXT NOT NULL, created_at TEXT NOT NULL, created_ts REAL NOT NULL,
    done_at TEXT, done_ts REAL
);
INSERT INTO callbacks VALUES ('CB-20261125-0001', '20261125', 1, '09012345678', '山田', '平日午前',
    'juminhyo', 'shimin', 'open', '2026-11-25T09:00:00+09:00', 1795564800.0, NULL, NULL);
PRAGMA user_version = 1;
"""


def test_a_version_1_file_is_upgraded_in_place_and_keeps_its_requests(tmp_path: Path):
    import sqlite3

    from bot.stores.sqlite_backend import DB_NAME
    from tests.conftest import make_settings

    (tmp_path / "var").mkdir()
    with sqlite3.connect(tmp_path / "var" / DB_NAME) as old:
        old.executescript(_VERSION_1_CALLBACKS)
    with open_stores(make_settings(tmp_path / "var")) as stores:
        assert stores.callbacks.get("CB-20261125-0001").phone == "09012345678"
        keyed = stores.callbacks.add("090-1234-5678", "山田", "平日午前", "juminhyo", "shimin", key=KEY)
        assert stores.callbacks.settle(KEY) == keyed
        assert stores.callbacks._db.query("PRAGMA user_version")[0][0] == 2


_OPENER = """
import sys, time
from pathlib import Path
from bot.stores.sqlite_backend import SqliteDatabase
start_at = float(sys.argv[2])
while time.time() < start_at:
    time.sleep(0.001)
SqliteDatabase(Path(sys.argv[1])).close()
"""


def test_processes_opening_a_new_sqlite_file_together_all_succeed(tmp_path):
    """SQLite refuses the switch to WAL at once ("database is locked") when processes race on a new file;
    before the retry, about one open in twenty failed here (Rasa, the action server and the CLI start
    together on a fresh machine)."""
    for round_ in range(6):
        path = tmp_path / f"race{round_}" / "stores.sqlite3"
        start_at = str(time.time() + 1.5)
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", _OPENER, str(path), start_at],
                cwd=ROOT,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        errors = [o.communicate(timeout=60)[1] for o in openers]
        assert [o.returncode for o in openers] == [0] * 6, "\n".join(e for e in errors if e)


def test_count_expired_says_what_purge_will_delete_and_deletes_nothing(clocked: Stores, clock: FakeClock):
    done, _open = _add(clocked), _add(clocked)
    clocked.callbacks.mark_done(done.ticket)
    clocked.review.record("住民票の写し", "fallback", [])
    clocked.feedback.record(False, "住民票", None)
    clock.advance(days=10)
    clocked.review.record("印鑑登録", "fallback", [])
    clocked.analytics.record(UsageEvent(clock() - timedelta(days=10), "line", "a" * 32, "faq", faq_id="F1"))
    expected = {"callbacks": 1, "review": 1, "feedback": 1, "callback_work": 0, "analytics": 1, "audit": 0}
    assert clocked.count_expired(days=5) == expected
    assert clocked.count_expired(days=5) == expected  # counting twice: nothing was deleted
    assert clocked.purge_expired(days=5) == expected
    assert clocked.count_expired(days=5) == dict.fromkeys(expected, 0)


def test_reopen_makes_a_done_request_open_again(clocked: Stores, clock: FakeClock):
    request = _add(clocked)
    clocked.callbacks.mark_done(request.ticket)
    assert clocked.callbacks.counts() == {"open": 0, "done": 1}
    assert clocked.callbacks.reopen(request.ticket) is True
    stored = clocked.callbacks.get(request.ticket)
    assert stored.status == "open" and stored.done_at is None
    assert clocked.callbacks.counts() == {"open": 1, "done": 0}
    assert [r.ticket for r in clocked.callbacks.list("open")] == [request.ticket]
    clock.advance(days=clocked.retention_days + 1)
    assert clocked.callbacks.purge(clock.now) == 0  # open again: never purged
    assert clocked.callbacks.reopen(request.ticket) is True  # idempotent
    assert clocked.callbacks.reopen("CB-20261126-9999") is False
