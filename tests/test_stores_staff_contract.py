"""Staff records (accounts, sign-in throttling, audit log, callback work): one contract, SQLite and Redis."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from staff_helpers import Clock

from bot.stores import JST, ClaimConflict, StaffAccount, StoreError, Stores, open_stores

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 26, 9, 30, tzinfo=JST))


def _account(name="Tanaka", role="callback", department="kaigo", must_change=True) -> StaffAccount:
    return StaffAccount(name, role, department, HASH, must_change, datetime(2026, 11, 1, tzinfo=JST))


# --- accounts --------------------------------------------------------------------------------------


def test_accounts_create_get_list_with_canonical_names(clocked: Stores):
    stored = clocked.accounts.create(_account("Ｔａｎａｋａ"))
    assert stored.name == "tanaka"
    clocked.accounts.create(_account("admin1", role="admin", department=None))
    assert clocked.accounts.get("TANAKA") == stored
    assert [a.name for a in clocked.accounts.list()] == ["admin1", "tanaka"]
    assert clocked.accounts.get("nobody") is None
    assert clocked.accounts.get("不正な名前") is None


def test_account_names_are_unique(clocked: Stores):
    clocked.accounts.create(_account("tanaka"))
    with pytest.raises(StoreError, match="^name: already exists"):
        clocked.accounts.create(_account("TANAKA", role="admin"))
    assert clocked.accounts.get("tanaka").role == "callback"


@pytest.mark.parametrize(
    ("account", "field"),
    [
        (_account(name=""), "name"),
        (_account(name="a b"), "name"),
        (_account(role="root"), "role"),
        (_account(department="介護"), "department"),
        (
            StaffAccount("x", "admin", None, "plaintext", False, datetime(2026, 1, 1, tzinfo=JST)),
            "password_hash",
        ),
    ],
)
def test_accounts_refuse_bad_fields(clocked: Stores, account: StaffAccount, field: str):
    with pytest.raises(StoreError, match=f"^{field}:"):
        clocked.accounts.create(account)
    assert clocked.accounts.list() == []


def test_set_password(clocked: Stores):
    clocked.accounts.create(_account())
    new_hash = HASH.replace("aGFzaGhhc2hoYXNo", "bmV3bmV3bmV3bmV3")
    assert clocked.accounts.set_password("tanaka", new_hash, must_change=False) is True
    account = clocked.accounts.get("tanaka")
    assert (account.password_hash, account.must_change) == (new_hash, False)
    assert clocked.accounts.set_password("nobody", new_hash, must_change=False) is False


def test_delete_account(clocked: Stores):
    clocked.accounts.create(_account())
    assert clocked.accounts.delete("TANAKA") is True
    assert clocked.accounts.get("tanaka") is None and clocked.accounts.list() == []
    assert clocked.accounts.delete("tanaka") is False
    assert clocked.accounts.delete("不正") is False


def test_five_failures_lock_for_fifteen_minutes(clocked: Stores, clock: Clock):
    accounts = clocked.accounts
    for expected in range(1, LOCK_AFTER):
        state = accounts.record_failure("tanaka", clock(), LOCK_AFTER, LOCK_FOR)
        assert (state.failures, state.locked(clock())) == (expected, False)
    state = accounts.record_failure("tanaka", clock(), LOCK_AFTER, LOCK_FOR)
    assert state.locked(clock()) and state.locked_until == clock() + LOCK_FOR
    assert accounts.login_state("tanaka") == state
    assert accounts.login_state("someone-else").locked(clock()) is False
    clock.now += LOCK_FOR - timedelta(seconds=1)
    assert accounts.login_state("tanaka").locked(clock()) is True
    clock.now += timedelta(seconds=1)
    assert accounts.login_state("tanaka").locked(clock()) is False


def test_old_failures_are_forgotten_and_success_clears(clocked: Stores, clock: Clock):
    accounts = clocked.accounts
    for _ in range(LOCK_AFTER - 1):
        accounts.record_failure("tanaka", clock(), LOCK_AFTER, LOCK_FOR)
    clock.now += LOCK_FOR
    assert accounts.record_failure("tanaka", clock(), LOCK_AFTER, LOCK_FOR).failures == 1
    accounts.clear_failures("tanaka")
    assert accounts.login_state("tanaka").failures == 0


def test_concurrent_failures_are_all_counted(clocked: Stores, clock: Clock):
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: clocked.accounts.record_failure("tanaka", clock(), 100, LOCK_FOR), range(20)))
    assert clocked.accounts.login_state("tanaka").failures == 20


# --- audit log -------------------------------------------------------------------------------------


def test_audit_log_newest_first_and_masked(clocked: Stores, clock: Clock):
    clocked.audit.record("tanaka", "login")
    clock.now += timedelta(minutes=1)
    entry = clocked.audit.record("tanaka", "callback.view", "CB-20261126-0001", "090-1234-5678 に電話")
    assert "1234" not in entry.detail and entry.target == "CB-20261126-0001"
    entries = clocked.audit.entries()
    assert [(e.action, e.at) for e in entries] == [
        ("callback.view", clock.now),
        ("login", clock.now - timedelta(minutes=1)),
    ]
    assert entries[0] == entry
    assert len(clocked.audit.entries(limit=1)) == 1
    with pytest.raises(StoreError, match="^actor:"):
        clocked.audit.record("", "login")
    with pytest.raises(StoreError, match="^target:"):
        clocked.audit.record("tanaka", "callback.view", "山田 090 1234 5678")


# --- callback work ---------------------------------------------------------------------------------


def test_first_clerk_takes_a_request_and_the_second_sees_who(clocked: Stores, clock: Clock):
    assert clocked.work.get("CB-1") is None
    state = clocked.work.update("CB-1", "tanaka", "in_progress")
    assert (state.status, state.holder, state.attempts) == ("in_progress", "tanaka", 0)
    with pytest.raises(ClaimConflict) as conflict:
        clocked.work.update("CB-1", "suzuki", "in_progress")
    assert conflict.value.state.holder == "tanaka"
    assert clocked.work.update("CB-1", "tanaka", "in_progress", "メモ").notes[-1].text == "メモ"


def test_no_answer_counts_attempts_and_releases(clocked: Stores, clock: Clock):
    clocked.work.update("CB-1", "tanaka", "in_progress")
    clock.now += timedelta(minutes=3)
    state = clocked.work.update("CB-1", "tanaka", "no_answer", "留守電なし")
    assert (state.status, state.holder, state.attempts, state.updated_at) == ("no_answer", None, 1, clock.now)
    state = clocked.work.update("CB-1", "suzuki", "in_progress")
    assert state.holder == "suzuki"
    state = clocked.work.update("CB-1", "suzuki", "done", "手続き案内済")
    assert [(n.clerk, n.status, n.text) for n in state.notes] == [
        ("tanaka", "in_progress", ""),
        ("tanaka", "no_answer", "留守電なし"),
        ("suzuki", "in_progress", ""),
        ("suzuki", "done", "手続き案内済"),
    ]
    assert clocked.work.get("CB-1") == state
    assert clocked.work.states() == {"CB-1": state}
    with pytest.raises(ClaimConflict):
        clocked.work.update("CB-1", "tanaka", "in_progress")


def test_work_refuses_bad_status_and_long_notes(clocked: Stores):
    with pytest.raises(StoreError, match="^status:"):
        clocked.work.update("CB-1", "tanaka", "open")
    with pytest.raises(StoreError, match="^note:"):
        clocked.work.update("CB-1", "tanaka", "in_progress", "x" * 1001)
    assert clocked.work.states() == {}


def test_only_one_of_many_concurrent_clerks_takes_a_request(clocked: Stores):
    start = threading.Barrier(6)

    def take(clerk: str) -> str | None:
        start.wait()
        try:
            return clocked.work.update("CB-1", clerk, "in_progress").holder
        except ClaimConflict:
            return None

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(take, [f"clerk{i}" for i in range(6)]))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert clocked.work.get("CB-1").holder == winners[0]


def test_purge_keeps_open_work_and_deletes_old_done(clocked: Stores, clock: Clock):
    clocked.work.update("CB-1", "tanaka", "done")
    clocked.work.update("CB-2", "tanaka", "in_progress")
    clock.now += timedelta(days=100)
    clocked.work.update("CB-3", "tanaka", "done")
    assert clocked.work.purge(clock.now - timedelta(days=90)) == 1
    assert sorted(clocked.work.states()) == ["CB-2", "CB-3"]
    assert clocked.work.delete("CB-2") is True and clocked.work.delete("CB-2") is False


# --- audit retention -------------------------------------------------------------------------------


def test_the_audit_log_keeps_its_own_retention(store_settings, clock):
    """``data purge --days 0`` deletes residents' records, never the 監査ログ before its own period."""
    from dataclasses import replace

    settings, prefix = store_settings
    with open_stores(replace(settings, audit_retention_days=30), prefix=prefix, clock=clock) as stores:
        stores.audit.record("sato", "login", "sato")
        clock.now += timedelta(days=20)
        stores.audit.record("sato", "callback.view", "CB-20261126-0001")
        assert stores.count_expired(days=0)["audit"] == 0
        assert stores.purge_expired(days=0)["audit"] == 0
        clock.now += timedelta(days=15)  # the first entry is 35 days old, the second 15
        assert stores.count_expired()["audit"] == 1
        assert stores.audit.count_expired(clock.now) == 2  # counting deletes nothing
        assert stores.purge_expired(days=0)["audit"] == 1
        assert [e.action for e in stores.audit.entries()] == ["callback.view"]


def test_reopen_a_done_request_makes_it_the_clerks_again(clocked: Stores, clock):
    clocked.work.update("CB-20261126-0001", "tanaka", "in_progress")
    with pytest.raises(StoreError, match="^status: only a done request"):
        clocked.work.update("CB-20261126-0001", "tanaka", "reopen")
    clocked.work.update("CB-20261126-0001", "tanaka", "done", "案内済み")
    clock.now += timedelta(hours=2)
    state = clocked.work.update("CB-20261126-0001", "suzuki", "reopen", "書類が届かないと再度連絡")
    assert (state.status, state.holder, state.updated_at) == ("in_progress", "suzuki", clock.now)
    assert [n.status for n in state.notes] == ["in_progress", "done", "reopen"]
    with pytest.raises(ClaimConflict):
        clocked.work.update("CB-20261126-0001", "tanaka", "done")
    # done only through `madoguchi callbacks done` (no state yet): reopening starts the state
    fresh = clocked.work.update("CB-20261126-0002", "suzuki", "reopen")
    assert (fresh.status, fresh.holder, fresh.attempts) == ("in_progress", "suzuki", 0)
