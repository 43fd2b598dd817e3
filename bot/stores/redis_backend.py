"""Redis back end (when ``REDIS_URL`` is set).

Keys live under one prefix (default ``madoguchi:``). Each write is a single command, a MULTI/EXEC
transaction or a Lua script, so it is atomic; how durable it is depends on the server's persistence
(use ``appendonly yes`` + ``appendfsync everysec`` or ``always`` in production).

Keys: ``cb:seq:YYYYMMDD`` (per-day INCR), ``cb:<ticket>`` (hash), ``cb:index`` and ``cb:done``
(sorted sets by created/done time), ``cb:key:<request key>`` (its ticket, or ``-``: settled as not
stored), ``review`` and ``feedback`` (sorted sets of JSON records by time), ``review:id`` /
``feedback:id`` (counters making records unique), ``dedup:<event id>``.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis

from bot.clock import Clock
from bot.stores.interfaces import CallbackQueue, EventDeduplicator, FeedbackLog, ReviewLog
from bot.stores.records import (
    CALLBACK_STATUSES,
    NOT_STORED_MARK,
    REQUEST_KEY_TTL_SECONDS,
    CallbackRequest,
    FeedbackEntry,
    RequestNotStored,
    ReviewEntry,
    ReviewGroup,
    StoreError,
    check_event_id,
    check_request_key,
    group_reviews,
    parse_time,
    prepare_feedback,
    prepare_review,
    summarize_feedback,
    ticket_day,
    ticket_for,
    validate_callback,
)

DEFAULT_PREFIX = "madoguchi:"
#: Every call here is one command, transaction or script answered in well under 10 ms on loopback
#: (tests/test_redis_faults.py); 1 s only fires on a hung or unreachable server, and bounds how long a
#: worker thread or the action server waits for it.
SOCKET_TIMEOUT = 1.0
CONNECT_TIMEOUT = 1.0
_SEQ_TTL_SECONDS = 3 * 86400

# KEYS: hash, done zset. ARGV: ticket, done_at ISO, done timestamp. Returns 0 if the ticket is unknown.
_MARK_DONE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'status') == 'done' then return 1 end
redis.call('HSET', KEYS[1], 'status', 'done', 'done_at', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS: hash, done zset. ARGV: ticket. Returns 0 if the ticket is unknown.
_REOPEN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', 'open')
redis.call('HDEL', KEYS[1], 'done_at')
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

# One request in one script, so a hung server either runs all of it or none of it.
# KEYS: day sequence, index zset, request key. ARGV: ticket prefix (CB-YYYYMMDD-), sequence ttl, created
# timestamp, hash key prefix, '1' when the request has a key, key ttl, then the hash's field/value pairs.
# Returns {1, ticket} once stored, {0, what the key already holds} (a ticket, or the not-stored mark).
_ADD = """
if ARGV[5] == '1' then
  local seen = redis.call('GET', KEYS[3])
  if seen then return {0, seen} end
end
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
local ticket = string.format('%s%04d', ARGV[1], seq)
local record = {'ticket', ticket}
for i = 7, #ARGV do record[#record + 1] = ARGV[i] end
redis.call('HSET', ARGV[4] .. ticket, unpack(record))
redis.call('ZADD', KEYS[2], ARGV[3], ticket)
if ARGV[5] == '1' then redis.call('SET', KEYS[3], ticket, 'EX', ARGV[6]) end
return {1, ticket}
"""

# KEYS: request key. ARGV: key ttl, the not-stored mark. Returns the ticket stored under the key, or
# nil after marking the key not stored (an add arriving later then stores nothing).
_SETTLE = """
local seen = redis.call('GET', KEYS[1])
if seen then return seen end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[1])
return false
"""

# KEYS: done zset, index zset. ARGV: cutoff timestamp, hash key prefix. Returns how many were deleted.
_PURGE_DONE = """
local tickets = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
for _, ticket in ipairs(tickets) do
  redis.call('DEL', ARGV[2] .. ticket)
  redis.call('ZREM', KEYS[1], ticket)
  redis.call('ZREM', KEYS[2], ticket)
end
return #tickets
"""


def connect(url: str, socket_timeout: float = SOCKET_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT):
    """A Redis client with explicit timeouts (a hung server raises instead of blocking forever)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        decode_responses=True,
    )


def _callback_from_hash(data: dict[str, str]) -> CallbackRequest:
    return CallbackRequest(
        ticket=data["ticket"],
        phone=data["phone"],
        name=data["name"],
        slot=data["slot"],
        topic=data["topic"],
        department=data.get("department") or None,
        status=data["status"],
        created_at=parse_time(data["created_at"]),
        done_at=parse_time(data.get("done_at")),
    )


class RedisCallbackQueue(CallbackQueue):
    """Callback requests in Redis; the per-day sequence is an INCR, so tickets never repeat."""

    def __init__(self, client: redis.Redis, prefix: str, clock: Clock) -> None:
        self._r = client
        self._p = prefix
        self._clock = clock
        self._mark_done = client.register_script(_MARK_DONE)
        self._purge = client.register_script(_PURGE_DONE)
        self._reopen = client.register_script(_REOPEN)
        self._add = client.register_script(_ADD)
        self._settle = client.register_script(_SETTLE)

    def _key(self, ticket: str) -> str:
        return f"{self._p}cb:{ticket}"

    def add(
        self,
        phone: str,
        name: str | None,
        slot: str,
        topic: str,
        department: str | None,
        key: str | None = None,
    ) -> CallbackRequest:
        fields = validate_callback(phone, name, slot, topic, department)
        check_request_key(key)
        created = self._clock()
        day = ticket_day(created)
        draft = CallbackRequest(ticket="", status="open", created_at=created, **vars(fields))
        record = {k: v for k, v in draft.to_dict().items() if v is not None and k != "ticket"}
        keys = [f"{self._p}cb:seq:{day}", f"{self._p}cb:index", self._request_key(key or "-")]
        args = [ticket_for(created, 0)[:-4], _SEQ_TTL_SECONDS, created.timestamp(), f"{self._p}cb:"]
        args += ["1" if key else "", REQUEST_KEY_TTL_SECONDS]
        args += [part for pair in record.items() for part in pair]
        stored, ticket = self._add(keys=keys, args=args)
        if stored:
            return replace(draft, ticket=ticket)
        earlier = self.get(ticket) if ticket != NOT_STORED_MARK else None
        if earlier is None:
            raise RequestNotStored("key: settled as not stored; this request was not stored")
        return earlier

    def settle(self, key: str) -> CallbackRequest | None:
        check_request_key(key)
        ticket = self._settle(keys=[self._request_key(key)], args=[REQUEST_KEY_TTL_SECONDS, NOT_STORED_MARK])
        return self.get(ticket) if ticket else None

    def _request_key(self, key: str) -> str:
        return f"{self._p}cb:key:{key}"

    def get(self, ticket: str) -> CallbackRequest | None:
        data = self._r.hgetall(self._key(ticket))
        return _callback_from_hash(data) if data else None

    def list(self, status: str | None = None) -> list[CallbackRequest]:
        if status is not None and status not in CALLBACK_STATUSES:
            raise StoreError(f"status: {status!r} is not one of {list(CALLBACK_STATUSES)}")
        tickets = self._r.zrange(f"{self._p}cb:index", 0, -1)
        pipe = self._r.pipeline(transaction=False)
        for ticket in tickets:
            pipe.hgetall(self._key(ticket))
        requests = [_callback_from_hash(data) for data in pipe.execute() if data]
        return [r for r in requests if status is None or r.status == status]

    def mark_done(self, ticket: str) -> bool:
        done = self._clock()
        keys = [self._key(ticket), f"{self._p}cb:done"]
        return bool(self._mark_done(keys=keys, args=[ticket, done.isoformat(), done.timestamp()]))

    def reopen(self, ticket: str) -> bool:
        return bool(self._reopen(keys=[self._key(ticket), f"{self._p}cb:done"], args=[ticket]))

    def delete(self, ticket: str) -> bool:
        pipe = self._r.pipeline(transaction=True)
        pipe.delete(self._key(ticket))
        pipe.zrem(f"{self._p}cb:index", ticket)
        pipe.zrem(f"{self._p}cb:done", ticket)
        return pipe.execute()[0] > 0

    def purge(self, older_than: datetime) -> int:
        keys = [f"{self._p}cb:done", f"{self._p}cb:index"]
        return int(self._purge(keys=keys, args=[older_than.timestamp(), f"{self._p}cb:"]))

    def count_expired(self, older_than: datetime) -> int:
        return int(self._r.zcount(f"{self._p}cb:done", "-inf", f"({older_than.timestamp()}"))

    def counts(self) -> dict[str, int]:
        pipe = self._r.pipeline(transaction=True)
        pipe.zcard(f"{self._p}cb:index")
        pipe.zcard(f"{self._p}cb:done")
        total, done = pipe.execute()
        return {"open": total - done, "done": done}


class _TimedLog:
    """A sorted set of JSON records scored by time, with a counter making each member unique."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._r = client
        self.key = key

    def add(self, record: dict[str, Any], when: datetime) -> None:
        record = {"id": self._r.incr(f"{self.key}:id"), **record}
        self._r.zadd(self.key, {json.dumps(record, ensure_ascii=False): when.timestamp()})

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(member) for member in self._r.zrange(self.key, 0, -1)]

    def purge(self, older_than: datetime) -> int:
        return int(self._r.zremrangebyscore(self.key, "-inf", f"({older_than.timestamp()}"))

    def count_older(self, older_than: datetime) -> int:
        return int(self._r.zcount(self.key, "-inf", f"({older_than.timestamp()}"))

    def clear(self) -> int:
        pipe = self._r.pipeline(transaction=True)
        pipe.zcard(self.key)
        pipe.delete(self.key)
        return int(pipe.execute()[0])

    def count(self) -> int:
        return int(self._r.zcard(self.key))


class RedisReviewLog(ReviewLog):
    """Review records in a Redis sorted set."""

    def __init__(self, client: redis.Redis, prefix: str, clock: Clock) -> None:
        self._log = _TimedLog(client, f"{prefix}review")
        self._r = client
        #: 対象外 wordings: sorted set of keys scored by the time staff dismissed them.
        self._dismissed = f"{prefix}review:dismissed"
        self._clock = clock

    def record(self, question: str, kind: str, guesses: list[str]) -> None:
        entry = prepare_review(question, kind, guesses, self._clock())
        if self._r.zscore(self._dismissed, entry.key) is not None:
            return  # 対象外: staff chose never to see this wording again
        record = {
            "question": entry.question,
            "key": entry.key,
            "kind": entry.kind,
            "guesses": list(entry.guesses),
            "asked_at": entry.asked_at.isoformat(),
        }
        self._log.add(record, entry.asked_at)

    def distinct(self) -> list[ReviewGroup]:
        return group_reviews(
            ReviewEntry(r["question"], r["key"], r["kind"], tuple(r["guesses"]), parse_time(r["asked_at"]))
            for r in self._log.all()
        )

    def dismiss(self, key: str) -> int:
        self._r.zadd(self._dismissed, {key: self._clock().timestamp()})
        members = [m for m in self._r.zrange(self._log.key, 0, -1) if json.loads(m).get("key") == key]
        return int(self._r.zrem(self._log.key, *members)) if members else 0

    def purge(self, older_than: datetime) -> int:
        self._r.zremrangebyscore(self._dismissed, "-inf", f"({older_than.timestamp()}")
        return self._log.purge(older_than)

    def clear(self) -> int:
        self._r.delete(self._dismissed)
        return self._log.clear()

    def count(self) -> int:
        return self._log.count()

    def count_expired(self, older_than: datetime) -> int:
        return self._log.count_older(older_than)


class RedisFeedbackLog(FeedbackLog):
    """Feedback answers in a Redis sorted set."""

    def __init__(self, client: redis.Redis, prefix: str, clock: Clock) -> None:
        self._log = _TimedLog(client, f"{prefix}feedback")
        self._clock = clock

    def record(self, helpful: bool, question: str | None, answer_ref: str | None) -> None:
        entry = prepare_feedback(helpful, question, answer_ref, self._clock())
        record = {
            "helpful": entry.helpful,
            "question": entry.question,
            "answer_ref": entry.answer_ref,
            "given_at": entry.given_at.isoformat(),
        }
        self._log.add(record, entry.given_at)

    def entries(self) -> list[FeedbackEntry]:
        return [
            FeedbackEntry(r["helpful"], r["question"], r["answer_ref"], parse_time(r["given_at"]))
            for r in self._log.all()
        ]

    def summary(self) -> dict[str, Any]:
        return summarize_feedback((r["helpful"], r["answer_ref"]) for r in self._log.all())

    def purge(self, older_than: datetime) -> int:
        return self._log.purge(older_than)

    def count_expired(self, older_than: datetime) -> int:
        return self._log.count_older(older_than)


class RedisEventDeduplicator(EventDeduplicator):
    """``SET key 1 NX EX ttl``: one atomic command decides who saw the event first.

    Redis itself expires the key (its own clock), so no :data:`~bot.clock.Clock` is needed here.
    """

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._r = client
        self._p = prefix

    def seen_before(self, event_id: str, ttl_seconds: int = 86400) -> bool:
        check_event_id(event_id, ttl_seconds)
        return not self._r.set(f"{self._p}dedup:{event_id}", str(int(time.time())), nx=True, ex=ttl_seconds)
