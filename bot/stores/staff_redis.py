"""Redis back end of the staff records.

Keys (under the stores' prefix): ``staff:accounts`` (hash name → JSON; HSETNX makes creation atomic),
``staff:login:<name>`` (JSON, expires after the lock period), ``staff:audit`` (sorted set of JSON by
time), ``cbw:<ticket>`` (JSON work state) and ``cbw:index`` (sorted set of tickets by last change).
A read-modify-write is a WATCH/MULTI transaction retried when another client changed the key between.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import redis

from bot.clock import Clock
from bot.stores.records import StoreError
from bot.stores.redis_backend import _TimedLog
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
    audit_to_dict,
    check_account,
    check_work,
    login_from_json,
    login_to_json,
    next_login_state,
    prepare_audit,
    work_from_json,
    work_to_json,
)


def _canonical(name: str) -> str | None:
    try:
        return account_name(name)
    except StoreError:
        return None


class RedisStaffAccounts(StaffAccounts):
    """Accounts in one hash; failed sign-ins in a key per name that expires by itself."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._r = client
        self._accounts = f"{prefix}staff:accounts"
        self._login = f"{prefix}staff:login:"

    def create(self, account: StaffAccount) -> StaffAccount:
        account = check_account(account)
        if not self._r.hsetnx(self._accounts, account.name, account_to_json(account)):
            raise StoreError("name: already exists")
        return account

    def get(self, name: str) -> StaffAccount | None:
        key = _canonical(name)
        text = self._r.hget(self._accounts, key) if key else None
        return account_from_json(text) if text else None

    def list(self) -> list[StaffAccount]:
        return [account_from_json(text) for _, text in sorted(self._r.hgetall(self._accounts).items())]

    def set_password(self, name: str, password_hash: str, must_change: bool) -> bool:
        key = _canonical(name)
        if key is None:
            return False

        def change(pipe: redis.client.Pipeline) -> bool:
            text = pipe.hget(self._accounts, key)
            if not text:
                return False
            old = account_from_json(text)
            new = check_account(StaffAccount(**{**old.__dict__, "password_hash": password_hash,
                                                "must_change": must_change}))  # fmt: skip
            pipe.multi()
            pipe.hset(self._accounts, key, account_to_json(new))
            return True

        return self._r.transaction(change, self._accounts, value_from_callable=True)

    def delete(self, name: str) -> bool:
        key = _canonical(name)
        return bool(key and self._r.hdel(self._accounts, key))

    def login_state(self, name: str) -> LoginState:
        return login_from_json(self._r.get(self._login + name))

    def record_failure(self, name: str, now: datetime, lock_after: int, lock_for: timedelta) -> LoginState:
        key = self._login + name

        def count(pipe: redis.client.Pipeline) -> LoginState:
            state = next_login_state(login_from_json(pipe.get(key)), now, lock_after, lock_for)
            pipe.multi()
            # kept twice the lock period: long enough for the lock, and unknown names do not pile up
            pipe.set(key, login_to_json(state), ex=int(lock_for.total_seconds() * 2))
            return state

        return self._r.transaction(count, key, value_from_callable=True)

    def clear_failures(self, name: str) -> None:
        self._r.delete(self._login + name)


class RedisAuditLog(AuditLog):
    """Audit entries in a sorted set scored by time."""

    def __init__(self, client: redis.Redis, prefix: str, clock: Clock) -> None:
        self._r = client
        self._log = _TimedLog(client, f"{prefix}staff:audit")
        self._clock = clock

    def record(self, actor: str, action: str, target: str = "", detail: str = "") -> AuditEntry:
        entry = prepare_audit(actor, action, target, detail, self._clock())
        self._log.add(audit_to_dict(entry), entry.at)
        return entry

    def entries(self, limit: int = 200) -> list[AuditEntry]:
        import json

        members = self._r.zrevrange(self._log.key, 0, max(0, limit - 1))
        return [audit_from_dict(json.loads(member)) for member in members]

    def purge(self, older_than: datetime) -> int:
        return self._log.purge(older_than)

    def count_expired(self, older_than: datetime) -> int:
        return self._log.count_older(older_than)


class RedisCallbackWork(CallbackWork):
    """Work states as JSON strings, indexed by last change."""

    def __init__(self, client: redis.Redis, prefix: str, clock: Clock) -> None:
        self._r = client
        self._p = f"{prefix}cbw:"
        self._index = f"{prefix}cbw:index"
        self._clock = clock

    def get(self, ticket: str) -> WorkState | None:
        return work_from_json(self._r.get(self._p + ticket))

    def states(self) -> dict[str, WorkState]:
        tickets = self._r.zrange(self._index, 0, -1)
        texts = self._r.mget([self._p + t for t in tickets]) if tickets else []
        return {state.ticket: state for state in map(work_from_json, texts) if state is not None}

    def update(self, ticket: str, clerk: str, status: str, note: str = "") -> WorkState:
        note = check_work(status, note)
        key = self._p + ticket

        def change(pipe: redis.client.Pipeline) -> WorkState:
            state = apply_work(work_from_json(pipe.get(key)), ticket, clerk, status, note, self._clock())
            pipe.multi()
            pipe.set(key, work_to_json(state))
            # done states are scored by their time so purge finds them; open ones never expire
            pipe.zadd(self._index, {ticket: state.updated_at.timestamp() if status == "done" else "+inf"})
            return state

        return self._r.transaction(change, key, value_from_callable=True)

    def purge(self, older_than: datetime) -> int:
        tickets = self._r.zrangebyscore(self._index, "-inf", f"({older_than.timestamp()}")
        for ticket in tickets:
            self.delete(ticket)
        return len(tickets)

    def count_expired(self, older_than: datetime) -> int:
        return int(self._r.zcount(self._index, "-inf", f"({older_than.timestamp()}"))

    def delete(self, ticket: str) -> bool:
        pipe = self._r.pipeline(transaction=True)
        pipe.delete(self._p + ticket)
        pipe.zrem(self._index, ticket)
        return pipe.execute()[0] > 0
