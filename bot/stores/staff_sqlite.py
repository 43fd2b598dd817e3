"""SQLite back end of the staff records (same file and connection as :mod:`bot.stores.sqlite_backend`).

Each read-modify-write (a failed sign-in, a status change) runs inside one ``BEGIN IMMEDIATE``
transaction, so two clerks — or two processes — cannot both take the same request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock
from bot.stores.records import StoreError
from bot.stores.sqlite_backend import SqliteDatabase
from bot.stores.staff_base import (
    AuditEntry,
    AuditLog,
    CallbackWork,
    LoginState,
    StaffAccount,
    StaffAccounts,
    WorkState,
    account_from_json,
    account_name,
    account_to_json,
    apply_work,
    audit_from_dict,
    check_account,
    check_work,
    login_from_json,
    login_to_json,
    next_login_state,
    prepare_audit,
    work_from_json,
    work_to_json,
)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS staff_accounts (name TEXT PRIMARY KEY, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS staff_logins (name TEXT PRIMARY KEY, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS staff_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ts REAL NOT NULL,"
    " at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,"
    " detail TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS callback_work (ticket TEXT PRIMARY KEY, status TEXT NOT NULL,"
    " updated_ts REAL NOT NULL, data TEXT NOT NULL)",
)


def create_staff_schema(db: SqliteDatabase) -> None:
    """Creates the staff tables if they are missing (idempotent)."""
    with db.transaction() as conn:
        for statement in _SCHEMA:
            conn.execute(statement)


def _canonical(name: str) -> str | None:
    try:
        return account_name(name)
    except StoreError:
        return None


class SqliteStaffAccounts(StaffAccounts):
    """Accounts and failed sign-ins, one JSON row each."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def create(self, account: StaffAccount) -> StaffAccount:
        account = check_account(account)
        with self._db.transaction() as conn:
            inserted = conn.execute(
                "INSERT OR IGNORE INTO staff_accounts (name, data) VALUES (?, ?)",
                (account.name, account_to_json(account)),
            ).rowcount
        if not inserted:
            raise StoreError("name: already exists")
        return account

    def get(self, name: str) -> StaffAccount | None:
        key = _canonical(name)
        rows = self._db.query("SELECT data FROM staff_accounts WHERE name = ?", (key,)) if key else []
        return account_from_json(rows[0]["data"]) if rows else None

    def list(self) -> list[StaffAccount]:
        rows = self._db.query("SELECT data FROM staff_accounts ORDER BY name")
        return [account_from_json(row["data"]) for row in rows]

    def set_password(self, name: str, password_hash: str, must_change: bool) -> bool:
        key = _canonical(name)
        with self._db.transaction() as conn:
            row = conn.execute("SELECT data FROM staff_accounts WHERE name = ?", (key,)).fetchone()
            if row is None:
                return False
            old = account_from_json(row["data"])
            new = check_account(StaffAccount(**{**old.__dict__, "password_hash": password_hash,
                                                "must_change": must_change}))  # fmt: skip
            conn.execute("UPDATE staff_accounts SET data = ? WHERE name = ?", (account_to_json(new), key))
        return True

    def delete(self, name: str) -> bool:
        with self._db.transaction() as conn:
            return conn.execute("DELETE FROM staff_accounts WHERE name = ?", (_canonical(name),)).rowcount > 0

    def login_state(self, name: str) -> LoginState:
        rows = self._db.query("SELECT data FROM staff_logins WHERE name = ?", (name,))
        return login_from_json(rows[0]["data"] if rows else None)

    def record_failure(self, name: str, now: datetime, lock_after: int, lock_for: timedelta) -> LoginState:
        with self._db.transaction() as conn:
            row = conn.execute("SELECT data FROM staff_logins WHERE name = ?", (name,)).fetchone()
            state = next_login_state(login_from_json(row["data"] if row else None), now, lock_after, lock_for)
            conn.execute(
                "INSERT INTO staff_logins (name, data) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET data = excluded.data",
                (name, login_to_json(state)),
            )
        return state

    def clear_failures(self, name: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM staff_logins WHERE name = ?", (name,))


class SqliteAuditLog(AuditLog):
    """Audit entries, one row each."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(self, actor: str, action: str, target: str = "", detail: str = "") -> AuditEntry:
        entry = prepare_audit(actor, action, target, detail, self._clock())
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO staff_audit (at_ts, at, actor, action, target, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (entry.at.timestamp(), entry.at.isoformat(), entry.actor, entry.action, entry.target,
                 entry.detail),
            )  # fmt: skip
        return entry

    def entries(self, limit: int = 200) -> list[AuditEntry]:
        rows = self._db.query("SELECT * FROM staff_audit ORDER BY at_ts DESC, id DESC LIMIT ?", (limit,))
        return [audit_from_dict(dict(row)) for row in rows]

    def purge(self, older_than: datetime) -> int:
        with self._db.transaction() as conn:
            return conn.execute("DELETE FROM staff_audit WHERE at_ts < ?", (older_than.timestamp(),)).rowcount

    def count_expired(self, older_than: datetime) -> int:
        query = "SELECT COUNT(*) FROM staff_audit WHERE at_ts < ?"
        return self._db.query(query, (older_than.timestamp(),))[0][0]


class SqliteCallbackWork(CallbackWork):
    """Work states, one JSON row per request."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def get(self, ticket: str) -> WorkState | None:
        rows = self._db.query("SELECT data FROM callback_work WHERE ticket = ?", (ticket,))
        return work_from_json(rows[0]["data"]) if rows else None

    def states(self) -> dict[str, WorkState]:
        rows = self._db.query("SELECT data FROM callback_work")
        return {state.ticket: state for state in (work_from_json(row["data"]) for row in rows)}

    def update(self, ticket: str, clerk: str, status: str, note: str = "") -> WorkState:
        note = check_work(status, note)
        with self._db.transaction() as conn:
            row = conn.execute("SELECT data FROM callback_work WHERE ticket = ?", (ticket,)).fetchone()
            state = apply_work(work_from_json(row["data"] if row else None), ticket, clerk, status, note,
                               self._clock())  # fmt: skip
            conn.execute(
                "INSERT INTO callback_work (ticket, status, updated_ts, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ticket) DO UPDATE SET status = excluded.status, "
                "updated_ts = excluded.updated_ts, data = excluded.data",
                (ticket, state.status, state.updated_at.timestamp(), work_to_json(state)),
            )
        return state

    def purge(self, older_than: datetime) -> int:
        with self._db.transaction() as conn:
            return conn.execute(
                "DELETE FROM callback_work WHERE status = 'done' AND updated_ts < ?",
                (older_than.timestamp(),),
            ).rowcount

    def count_expired(self, older_than: datetime) -> int:
        with self._db.transaction() as conn:
            return conn.execute(
                "SELECT COUNT(*) FROM callback_work WHERE status = 'done' AND updated_ts < ?",
                (older_than.timestamp(),),
            ).fetchone()[0]

    def delete(self, ticket: str) -> bool:
        with self._db.transaction() as conn:
            return conn.execute("DELETE FROM callback_work WHERE ticket = ?", (ticket,)).rowcount > 0
