"""Records and store interfaces of the staff console: accounts, sign-in throttling, the audit log and the
work done on callback requests (who took one, its 対応 status and the clerks' notes).

Every back end implements :class:`StaffAccounts`, :class:`AuditLog` and :class:`CallbackWork`; the
rules they share (validation, throttling arithmetic) live here so the back ends only store.
"""

from __future__ import annotations

import abc
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.privacy import mask
from bot.stores.records import StoreError

#: Staff roles: 管理者, 編集者, 折り返し担当, 閲覧.
ROLES = ("admin", "editor", "callback", "viewer")

#: 対応 states of a callback request in the console: 未対応 (no record yet), 対応中, 不在（再架電）, 完了.
WORK_STATUSES = ("in_progress", "no_answer", "done")
#: What a clerk may do to a request: set one of the statuses, or reopen a 完了 request (it becomes
#: 対応中 by that clerk; the note says it was reopened).
WORK_ACTIONS = WORK_STATUSES + ("reopen",)

#: Account names: what a 庁内 ID looks like (職員番号 or a romanized name), lower case after NFKC.
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: What an audit entry may name as its target: a 受付番号 or an account name, never free text.
_TARGET = re.compile(r"^[A-Za-z0-9._-]{0,64}$")
_MAX_NOTE = 1000
_MAX_AUDIT_TEXT = 300


class ClaimConflict(StoreError):
    """Another clerk holds the request; ``state`` says who and since when."""

    def __init__(self, state: WorkState) -> None:
        super().__init__(f"ticket: taken by {state.holder}")
        self.state = state


def account_name(raw: str) -> str:
    """The canonical account name (NFKC, lower case, trimmed).

    Raises:
        StoreError: when it is not 1–64 of ``a-z 0-9 . _ -`` starting with a letter or digit.
    """
    name = unicodedata.normalize("NFKC", raw if isinstance(raw, str) else "").strip().lower()
    if not _NAME.match(name):
        raise StoreError("name: 1-64 characters of a-z, 0-9, '.', '_', '-' (starting with a letter or digit)")
    return name


@dataclass(frozen=True)
class StaffAccount:
    """A staff member who may sign in to the console.

    Attributes:
        name: canonical account name (:func:`account_name`).
        role: one of :data:`ROLES`.
        department: 担当課 id a 折り返し担当 is limited to, or None for every department.
        password_hash: argon2id PHC string (never the password).
        must_change: the password was generated (one-time) and must be replaced at first sign-in.
        created_at: when the account was made (aware).
    """

    name: str
    role: str
    department: str | None
    password_hash: str
    must_change: bool
    created_at: datetime


def check_account(account: StaffAccount) -> StaffAccount:
    """Validates an account before a back end stores it (the name is made canonical).

    Raises:
        StoreError: naming the bad field.
    """
    if account.role not in ROLES:
        raise StoreError(f"role: {account.role!r} is not one of {list(ROLES)}")
    if account.department is not None and not _NAME.match(account.department):
        raise StoreError("department: expected a department id")
    if not isinstance(account.password_hash, str) or not account.password_hash.startswith("$argon2id$"):
        raise StoreError("password_hash: expected an argon2id hash")
    return StaffAccount(
        account_name(account.name),
        account.role,
        account.department,
        account.password_hash,
        bool(account.must_change),
        account.created_at,
    )


@dataclass(frozen=True)
class LoginState:
    """Failed sign-ins of one account name.

    Attributes:
        failures: failures counted since ``first_failure`` (reset by a lock or a success).
        first_failure: when the current run of failures began, or None.
        locked_until: sign-in refused until then, or None.
    """

    failures: int = 0
    first_failure: datetime | None = None
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        """Whether sign-in is refused at ``now``."""
        return self.locked_until is not None and now < self.locked_until


def next_login_state(state: LoginState, now: datetime, lock_after: int, lock_for: timedelta) -> LoginState:
    """The state after one more failure: ``lock_after`` failures within ``lock_for`` lock the account
    for ``lock_for``; older failures are forgotten."""
    if state.first_failure is None or now - state.first_failure >= lock_for:
        state = LoginState(0, now, state.locked_until)
    failures = state.failures + 1
    if failures >= lock_after:
        return LoginState(0, None, now + lock_for)
    return LoginState(failures, state.first_failure, state.locked_until)


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when: ``action`` is a short code (``login``, ``callback.view`` …), ``target`` what
    it was done to (an account name or a 受付番号), ``detail`` masked free text."""

    at: datetime
    actor: str
    action: str
    target: str
    detail: str = ""


def prepare_audit(actor: str, action: str, target: str, detail: str, at: datetime) -> AuditEntry:
    """Validates an audit entry; ``detail`` goes through :func:`bot.privacy.mask`, ``target`` must be an
    identifier (受付番号, account name), never free text."""
    for name, value in (("actor", actor), ("action", action)):
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_AUDIT_TEXT:
            raise StoreError(f"{name}: expected short non-empty text")
    if not isinstance(target, str) or not _TARGET.match(target):
        raise StoreError("target: expected a 受付番号 or an account name")
    if not isinstance(detail, str):
        raise StoreError("detail: expected text")
    return AuditEntry(at, actor.strip(), action.strip(), target, mask(detail[:_MAX_AUDIT_TEXT]))


@dataclass(frozen=True)
class WorkNote:
    """One status change or note on a callback request."""

    at: datetime
    clerk: str
    status: str
    text: str


@dataclass(frozen=True)
class WorkState:
    """What staff did with one callback request.

    Attributes:
        ticket: 受付番号.
        status: one of :data:`WORK_STATUSES`.
        holder: the clerk working it (対応中) or who did last, or None after 不在 released it.
        attempts: calls that reached nobody (不在).
        updated_at: last change (aware).
        notes: every change, oldest first.
    """

    ticket: str
    status: str
    holder: str | None
    attempts: int
    updated_at: datetime
    notes: tuple[WorkNote, ...] = field(default_factory=tuple)


def check_work(status: str, note: str) -> str:
    """Validates a status change; returns the trimmed note.

    Raises:
        StoreError: for an unknown status or an over-long note.
    """
    if status not in WORK_ACTIONS:
        raise StoreError(f"status: {status!r} is not one of {list(WORK_ACTIONS)}")
    if not isinstance(note, str):
        raise StoreError("note: expected text")
    note = note.strip()
    if len(note) > _MAX_NOTE:
        raise StoreError(f"note: longer than {_MAX_NOTE} characters")
    return note


def apply_work(
    state: WorkState | None, ticket: str, clerk: str, status: str, note: str, now: datetime
) -> WorkState:
    """The state after ``clerk`` sets ``status`` (the rule every back end applies atomically).

    Raises:
        ClaimConflict: when another clerk holds the request (対応中) or it is already 完了.
        StoreError: ``status: reopen`` of a request staff are working (a request marked done only with
            ``madoguchi callbacks done`` has no state yet: the caller checks it is done).
    """
    if status == "reopen":
        if state is not None and state.status != "done":
            raise StoreError("status: only a done request can be reopened")
        notes = (state.notes if state else ()) + (WorkNote(now, clerk, "reopen", note),)
        return WorkState(ticket, "in_progress", clerk, state.attempts if state else 0, now, notes)
    if state is not None and state.holder not in (None, clerk) and state.status == "in_progress":
        raise ClaimConflict(state)
    if state is not None and state.status == "done":
        raise ClaimConflict(state)
    attempts = (state.attempts if state else 0) + (status == "no_answer")
    holder = None if status == "no_answer" else clerk
    notes = (state.notes if state else ()) + (WorkNote(now, clerk, status, note),)
    return WorkState(ticket, status, holder, attempts, now, notes)


class StaffAccounts(abc.ABC):
    """Console accounts and their failed sign-ins."""

    @abc.abstractmethod
    def create(self, account: StaffAccount) -> StaffAccount:
        """Stores a new account (validated by :func:`check_account`); returns it as stored.

        Raises:
            StoreError: ``name: already exists`` or a bad field.
        """

    @abc.abstractmethod
    def get(self, name: str) -> StaffAccount | None:
        """The account, or None (also for a name that is not a valid account name)."""

    @abc.abstractmethod
    def list(self) -> list[StaffAccount]:
        """Every account, by name."""

    @abc.abstractmethod
    def set_password(self, name: str, password_hash: str, must_change: bool) -> bool:
        """Replaces the password hash; False if there is no such account."""

    @abc.abstractmethod
    def delete(self, name: str) -> bool:
        """Deletes an account (its sessions end at their next request); False if there is none."""

    @abc.abstractmethod
    def login_state(self, name: str) -> LoginState:
        """Failed sign-ins of ``name`` (accounts that do not exist are throttled alike)."""

    @abc.abstractmethod
    def record_failure(self, name: str, now: datetime, lock_after: int, lock_for: timedelta) -> LoginState:
        """Atomically counts one failed sign-in (:func:`next_login_state`); returns the new state."""

    @abc.abstractmethod
    def clear_failures(self, name: str) -> None:
        """Forgets the failures of ``name`` (after a successful sign-in)."""


class AuditLog(abc.ABC):
    """Append-only record of what staff did; no resident's phone number or name is ever written."""

    @abc.abstractmethod
    def record(self, actor: str, action: str, target: str = "", detail: str = "") -> AuditEntry:
        """Appends an entry at the stores' clock time (see :func:`prepare_audit`)."""

    @abc.abstractmethod
    def entries(self, limit: int = 200) -> list[AuditEntry]:
        """The latest ``limit`` entries, newest first."""

    @abc.abstractmethod
    def purge(self, older_than: datetime) -> int:
        """Deletes entries made before ``older_than`` (the audit retention); returns how many."""

    @abc.abstractmethod
    def count_expired(self, older_than: datetime) -> int:
        """How many entries :meth:`purge` would delete."""


class CallbackWork(abc.ABC):
    """Who works which callback request, its 対応 status and notes. One clerk at a time per request."""

    @abc.abstractmethod
    def get(self, ticket: str) -> WorkState | None:
        """The state of a request nobody has touched is None (未対応)."""

    @abc.abstractmethod
    def states(self) -> dict[str, WorkState]:
        """Every kept state by ticket."""

    @abc.abstractmethod
    def update(self, ticket: str, clerk: str, status: str, note: str = "") -> WorkState:
        """Atomically applies :func:`apply_work`: taking a request is ``status="in_progress"``.

        Raises:
            ClaimConflict: another clerk holds it, or it is already 完了.
            StoreError: bad status or note.
        """

    @abc.abstractmethod
    def purge(self, older_than: datetime) -> int:
        """Deletes 完了 states (and their notes) last changed before ``older_than``; returns how many."""

    @abc.abstractmethod
    def count_expired(self, older_than: datetime) -> int:
        """How many states :meth:`purge` would delete (``data purge --dry-run``)."""

    @abc.abstractmethod
    def delete(self, ticket: str) -> bool:
        """Deletes the state and notes of one request; False if there were none."""


# --- JSON form shared by the back ends ------------------------------------------------------------


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def account_to_json(account: StaffAccount) -> str:
    """The stored form of an account."""
    data = {**account.__dict__, "created_at": account.created_at.isoformat()}
    return json.dumps(data, ensure_ascii=False)


def account_from_json(text: str) -> StaffAccount:
    data = json.loads(text)
    return StaffAccount(**{**data, "created_at": _time(data["created_at"])})


def login_to_json(state: LoginState) -> str:
    """The stored form of a login state."""
    return json.dumps([state.failures, _iso(state.first_failure), _iso(state.locked_until)])


def login_from_json(text: str | None) -> LoginState:
    if not text:
        return LoginState()
    failures, first, locked = json.loads(text)
    return LoginState(failures, _time(first), _time(locked))


def audit_to_dict(entry: AuditEntry) -> dict:
    """The stored form of an audit entry."""
    return {**entry.__dict__, "at": entry.at.isoformat()}


def audit_from_dict(data: dict) -> AuditEntry:
    return AuditEntry(_time(data["at"]), data["actor"], data["action"], data["target"], data["detail"])


def work_to_json(state: WorkState) -> str:
    """The stored form of a work state with its notes."""
    data = {
        **state.__dict__,
        "updated_at": state.updated_at.isoformat(),
        "notes": [{**n.__dict__, "at": n.at.isoformat()} for n in state.notes],
    }
    return json.dumps(data, ensure_ascii=False)


def work_from_json(text: str | None) -> WorkState | None:
    if not text:
        return None
    data = json.loads(text)
    notes = tuple(WorkNote(**{**n, "at": _time(n["at"])}) for n in data["notes"])
    return WorkState(
        data["ticket"], data["status"], data["holder"], data["attempts"], _time(data["updated_at"]), notes
    )
