"""Redis lock and tracker stores for Rasa 3.6 without its two traps.

* Rasa's ``RedisLockStore`` issues tickets with GET, modify, SET. Two Rasa processes handling one
  conversation can both read the same lock, both take the same ticket number (overlapping turns) or
  overwrite each other's ticket (the lost holder then waits out the 60 s lifetime). Finishing and
  expiring tickets have the same race. :class:`AtomicRedisLockStore` does every read-modify-write
  of a lock in one Lua script, so Redis runs it atomically. The stored JSON is Rasa's own
  (``TicketLock.dumps``), and the key expires when its last ticket does.
* Rasa's ``RedisTrackerStore`` opens its client with no socket timeouts: a Redis that accepts the
  connection but never answers blocks the server forever. :class:`TimeoutRedisTrackerStore` sets
  ``socket_timeout`` and ``socket_connect_timeout`` (configurable).
* What the tracker store writes is masked first (:mod:`bot.stores.anonymize`): no raw resident text,
  and the callback form's phone number and name only while the form runs.
* Both of Rasa's Redis stores call a *synchronous* client from the event loop, so one slow Redis
  answer stalls every request of the process (health checks and LINE acks included). Here every call
  made during a turn goes through ``redis.asyncio`` with the same timeouts: a hung or stopped Redis
  fails only the turns that need it, with :class:`StorageUnavailable`, within about one socket
  timeout. The synchronous ``red`` client stays for Rasa's own synchronous methods and the tests.

endpoints.yml::

    tracker_store:
      type: bot.rasa_stores.TimeoutRedisTrackerStore
      url: ${REDIS_HOST}          # a host name, or a whole redis:// URL
      port: 6379
      db: 0
      password: ${REDIS_PASSWORD}
      socket_timeout: 0.8
    lock_store:
      type: bot.rasa_stores.AtomicRedisLockStore
      redis_url: ${REDIS_URL}     # alternatively url/port/db/password as above
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, TypeVar

import redis
import redis.asyncio as aioredis
import redis.asyncio.retry
import redis.retry
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore, RedisLockStore, TicketLock
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions
from rasa.utils.endpoints import EndpointConfig
from redis.backoff import NoBackoff

from bot.stores.anonymize import anonymize_events

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Socket read timeout. A loopback round trip takes ~0.1 ms and a busy AOF-``always`` Redis rarely
#: more than a few ms (tests/test_redis_faults.py measures it), so 0.8 s only ever fires on a hung
#: or unreachable server, and a turn that needs Redis then fails in under one second.
DEFAULT_SOCKET_TIMEOUT = 0.8
#: Connect timeout: a stopped local Redis refuses at once; this bounds an unreachable host.
DEFAULT_CONNECT_TIMEOUT = 0.5
#: First and longest pause between two looks at a lock held by another turn of the same
#: conversation (Rasa polls once a second; a burst of messages from one sender waited ~1 s each).
LOCK_POLL_FIRST = 0.01
LOCK_POLL_MAX = 0.2
#: How often, and how far apart, releasing a failed turn's lock ticket is retried (20 × 0.5 s covers
#: a 10 s hang; after that the ticket expires with Rasa's 60 s lock lifetime).
CLEANUP_ATTEMPTS = 20
CLEANUP_RETRY_SECONDS = 0.5


class StorageUnavailable(LockError):
    """Redis did not answer (hung, stopped, unreachable) during a turn; the turn was not stored.

    A :class:`LockError` so that callers that only know Rasa's errors still fail the turn; channels
    that know it answer with the honest code ``storage_unavailable`` instead of ``busy``.
    """


class _TurnStorage:
    """Whether a storage call failed during the current turn (set by the tracker store)."""

    failed = False


_turn_storage: contextvars.ContextVar[_TurnStorage | None] = contextvars.ContextVar(
    "madoguchi_turn_storage", default=None
)


def _mark_turn_failed() -> None:
    turn = _turn_storage.get()
    if turn is not None:
        turn.failed = True


async def _bounded(call: Awaitable[T], seconds: float, what: str) -> T:
    """Awaits one Redis call; any Redis error or overrun becomes :class:`StorageUnavailable`."""
    try:
        return await asyncio.wait_for(call, timeout=seconds)
    except (redis.RedisError, OSError, asyncio.TimeoutError) as error:
        _mark_turn_failed()
        raise StorageUnavailable(f"redis: {what} failed ({type(error).__name__})") from error


# Shared Lua helpers: read the unexpired tickets of a lock; write them back (or delete the key when
# none are left) with a key TTL that ends one second after the last ticket expires.
_LUA_HELPERS = """
local function load_tickets(key, now)
  local raw = redis.call('GET', key)
  local tickets = {}
  if raw then
    local lock = cjson.decode(raw)
    if type(lock['tickets']) == 'table' then
      for _, text in ipairs(lock['tickets']) do
        local ticket = cjson.decode(text)
        if tonumber(ticket['expires']) >= now then
          table.insert(tickets, {number = tonumber(ticket['number']), expires = tonumber(ticket['expires'])})
        end
      end
    end
  end
  return tickets
end

local function save_tickets(key, conversation_id, tickets, now)
  if #tickets == 0 then
    redis.call('DEL', key)
    return 0
  end
  local encoded = {}
  local last_expiry = now
  for i, ticket in ipairs(tickets) do
    encoded[i] = cjson.encode(ticket)
    if ticket['expires'] > last_expiry then last_expiry = ticket['expires'] end
  end
  local lock = cjson.encode({conversation_id = conversation_id, tickets = encoded})
  redis.call('SET', key, lock, 'PX', math.ceil((last_expiry - now) * 1000) + 1000)
  return #tickets
end
"""

# KEYS[1] lock key; ARGV: now, lifetime, conversation id. Returns the new ticket number.
_ISSUE = (
    _LUA_HELPERS
    + """
local now = tonumber(ARGV[1])
local tickets = load_tickets(KEYS[1], now)
local number = 0
if #tickets > 0 then number = tickets[#tickets]['number'] + 1 end
table.insert(tickets, {number = number, expires = now + tonumber(ARGV[2])})
save_tickets(KEYS[1], ARGV[3], tickets, now)
return number
"""
)

# KEYS[1] lock key; ARGV: now, conversation id, ticket number to remove (or '' to only expire).
# Returns how many tickets are left (the key is deleted when none are).
_REMOVE = (
    _LUA_HELPERS
    + """
local now = tonumber(ARGV[1])
local tickets = load_tickets(KEYS[1], now)
local kept = {}
for _, ticket in ipairs(tickets) do
  if ARGV[3] == '' or ticket['number'] ~= tonumber(ARGV[3]) then table.insert(kept, ticket) end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return save_tickets(KEYS[1], ARGV[2], kept, now)
"""
)


def redis_client(
    host: str | None = None,
    port: int | str = 6379,
    db: int | str = 0,
    username: str | None = None,
    password: str | None = None,
    use_ssl: bool = False,
    redis_url: str | None = None,
    socket_timeout: float | str = DEFAULT_SOCKET_TIMEOUT,
    socket_connect_timeout: float | str = DEFAULT_CONNECT_TIMEOUT,
    decode_responses: bool = False,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    ssl_ca_certs: str | None = None,
) -> redis.Redis:
    """A Redis client with explicit timeouts from endpoints.yml-style settings.

    ``redis_url`` (or a ``host`` that is itself a ``redis://`` / ``rediss://`` URL) wins over
    host/port/db/password.
    """
    options = dict(locals())
    return _make_client(redis, options)


def _make_client(module: Any, options: dict[str, Any]) -> Any:
    """``module.Redis`` (``redis`` or ``redis.asyncio``) from :func:`redis_client`'s arguments."""
    timeouts = {
        "socket_timeout": float(options["socket_timeout"]),
        "socket_connect_timeout": float(options["socket_connect_timeout"]),
        "decode_responses": options["decode_responses"],
        # A pooled connection to a Redis that restarted fails once with EOF: retry that at once, on a
        # new connection (a refused or hung server still fails within the timeouts).
        "retry": module.retry.Retry(NoBackoff(), 1),
        "retry_on_error": [redis.ConnectionError],
    }
    host, url = options["host"], options["redis_url"]
    url = url or (host if host and host.startswith(("redis://", "rediss://", "unix://")) else None)
    if url:
        return module.Redis.from_url(url, **timeouts)
    return module.Redis(
        host=host or "localhost",
        port=int(options["port"]),
        db=int(options["db"]),
        username=options["username"],
        password=options["password"],
        ssl=bool(options["use_ssl"]),
        ssl_certfile=options["ssl_certfile"],
        ssl_keyfile=options["ssl_keyfile"],
        ssl_ca_certs=options["ssl_ca_certs"],
        **timeouts,
    )


class _LoopClient:
    """A ``redis.asyncio`` client for the running event loop (a client belongs to one loop)."""

    def __init__(self, options: dict[str, Any]) -> None:
        defaults = {k: p.default for k, p in inspect.signature(redis_client).parameters.items()}
        self._options = {**defaults, **options}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self.timeout = float(self._options["socket_timeout"]) + float(self._options["socket_connect_timeout"])

    def get(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = _make_client(aioredis, self._options)
            self._loop = loop
        return self._client


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis ticket lock with every lock update done atomically by a Lua script.

    Rasa builds custom lock stores as ``cls(endpoint_config=...)``; ``url`` (host or URL), ``port``,
    ``db``, ``username``, ``password``, ``use_ssl``, ``key_prefix``, ``socket_timeout``,
    ``socket_connect_timeout`` and ``redis_url`` are read from it. The same names work as keyword
    arguments when building it directly.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, **options: Any) -> None:
        if endpoint_config is not None:
            options = {"host": endpoint_config.url, **endpoint_config.kwargs, **options}
        if "url" in options:  # endpoints.yml spelling of the host, also accepted as a keyword
            options["host"] = options.pop("url")
        key_prefix = options.pop("key_prefix", None)
        options.setdefault("db", 1)  # Rasa's lock store default
        accepted = set(inspect.signature(redis_client).parameters) - {"decode_responses"}
        for name in sorted(set(options) - accepted):
            logger.warning("lock_store: ignoring unknown option %r", name)
            options.pop(name)
        self.red = redis_client(**options)
        self._aio = _LoopClient(options)
        self._background: set[asyncio.Task] = set()
        self.cleanup_retry_seconds = CLEANUP_RETRY_SECONDS
        self.key_prefix = "lock:"
        if key_prefix:
            self._set_key_prefix(key_prefix)
        self._issue = self.red.register_script(_ISSUE)
        self._remove = self.red.register_script(_REMOVE)
        LockStore.__init__(self)

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Atomically appends a ticket (dropping expired ones) and returns its number."""
        try:
            return int(
                self._issue(
                    keys=[self._key(conversation_id)], args=[time.time(), lock_lifetime, conversation_id]
                )
            )
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def _remove_ticket(self, conversation_id: str, ticket_number: int | None) -> int:
        number = "" if ticket_number is None else str(int(ticket_number))
        return int(
            self._remove(keys=[self._key(conversation_id)], args=[time.time(), conversation_id, number])
        )

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Atomically removes the ticket; deletes the lock when it was the last one."""
        self._remove_ticket(conversation_id, ticket_number)

    def update_lock(self, conversation_id: str) -> None:
        """Atomically drops expired tickets."""
        self._remove_ticket(conversation_id, None)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Removes the ticket and, when nobody else waits, the lock — in one atomic step."""
        remaining = self._remove_ticket(conversation_id, ticket_number)
        self._log_deletion(conversation_id, deletion_successful=remaining == 0)

    # --- the async path Rasa takes for every turn (``async with lock_store.lock(sender)``) ---------

    async def _script(self, source: str, keys: list[str], args: list[Any], what: str) -> int:
        client = self._aio.get()
        return int(await _bounded(client.eval(source, len(keys), *keys, *args), self._aio.timeout, what))

    async def _issue_async(self, conversation_id: str, lock_lifetime: float) -> int:
        args = [time.time(), lock_lifetime, conversation_id]
        return await self._script(_ISSUE, [self._key(conversation_id)], args, "issue ticket")

    async def _remove_async(self, conversation_id: str, ticket_number: int | None) -> int:
        number = "" if ticket_number is None else str(int(ticket_number))
        args = [time.time(), conversation_id, number]
        return await self._script(_REMOVE, [self._key(conversation_id)], args, "release ticket")

    async def _get_lock_async(self, conversation_id: str) -> TicketLock | None:
        raw = await _bounded(self._aio.get().get(self._key(conversation_id)), self._aio.timeout, "read lock")
        return TicketLock.from_dict(json.loads(raw)) if raw else None

    async def _acquire_async(self, conversation_id: str, ticket: int) -> TicketLock:
        pause = LOCK_POLL_FIRST
        while True:
            lock = await self._get_lock_async(conversation_id)
            if not lock:
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(pause)
            pause = min(pause * 2, LOCK_POLL_MAX)
            await self._remove_async(conversation_id, None)  # drop expired tickets
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    async def _cleanup_later(self, conversation_id: str, ticket: int) -> None:
        """Retries releasing a ticket a failed turn left behind, so the conversation is not stuck."""
        for _ in range(CLEANUP_ATTEMPTS):
            try:
                await self._remove_async(conversation_id, ticket)
                return
            except StorageUnavailable:
                await asyncio.sleep(self.cleanup_retry_seconds)
        logger.warning("lock_store: a ticket could not be released; it expires with its lifetime")

    def _schedule_cleanup(self, conversation_id: str, ticket: int) -> None:
        task = asyncio.get_running_loop().create_task(self._cleanup_later(conversation_id, ticket))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ticket lock without blocking the event loop.

        Raises:
            StorageUnavailable: Redis failed before, during (tracker store) or after the turn.
            LockError: the lock was not acquired before the tickets ahead expired.
        """
        ticket = await self._issue_async(conversation_id, lock_lifetime)
        turn = _TurnStorage()
        token = _turn_storage.set(turn)
        try:
            yield await self._acquire_async(conversation_id, ticket)
        except BaseException:
            self._schedule_cleanup(conversation_id, ticket)
            raise
        else:
            if turn.failed:
                self._schedule_cleanup(conversation_id, ticket)
                raise StorageUnavailable("redis: the conversation could not be stored")
            try:
                await self._remove_async(conversation_id, ticket)
            except StorageUnavailable:
                self._schedule_cleanup(conversation_id, ticket)
                raise
        finally:
            _turn_storage.reset(token)


class TimeoutRedisTrackerStore(RedisTrackerStore):
    """Rasa's Redis tracker store with socket timeouts, so a hung Redis raises instead of blocking.

    Rasa builds custom tracker stores as ``cls(host=url, domain=..., event_broker=..., **kwargs)``;
    besides Rasa's own options it accepts ``socket_timeout`` (default 0.8 s),
    ``socket_connect_timeout`` (default 0.5 s) and ``redis_url``. ``save``, ``retrieve``,
    ``retrieve_full_tracker`` and ``keys`` use ``redis.asyncio``; a Redis failure raises
    :class:`StorageUnavailable` and marks the turn failed (Rasa's ``FailSafeTrackerStore`` would
    otherwise answer from an empty conversation and keep it in memory only).
    """

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        port: int | str = 6379,
        db: int | str = 0,
        username: str | None = None,
        password: str | None = None,
        socket_timeout: float | str = DEFAULT_SOCKET_TIMEOUT,
        socket_connect_timeout: float | str = DEFAULT_CONNECT_TIMEOUT,
        redis_url: str | None = None,
        use_ssl: bool = False,
        **kwargs: Any,
    ) -> None:
        ssl = {k: kwargs.pop(k) for k in ("ssl_keyfile", "ssl_certfile", "ssl_ca_certs") if k in kwargs}
        super().__init__(domain=domain or Domain.empty(), host=host or "localhost", **kwargs)
        options = dict(
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            use_ssl=use_ssl,
            redis_url=redis_url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            decode_responses=True,
            **ssl,
        )
        self.red = redis_client(**options)
        self._aio = _LoopClient(options)

    def serialise_tracker(self, tracker: DialogueStateTracker) -> str:
        """Rasa's serialization, with personal data masked (:mod:`bot.stores.anonymize`)."""
        dialogue = tracker.as_dialogue().as_dict()
        dialogue["events"] = anonymize_events(dialogue.get("events") or [])
        return json.dumps(dialogue)

    async def _call(self, call: Callable[[Any], Awaitable[T]], what: str) -> T:
        return await _bounded(call(self._aio.get()), self._aio.timeout, what)

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Saves the conversation (merged with the stored one, as Rasa does) without blocking."""
        await self.stream_events(tracker)
        timeout = timeout or self.record_exp
        key = self.key_prefix + tracker.sender_id
        stored = await self._call(lambda r: r.get(key), "read tracker")
        if stored is not None:
            tracker = self._merge_trackers(self.deserialise_tracker(tracker.sender_id, stored), tracker)
        serialised = await asyncio.to_thread(self.serialise_tracker, tracker)  # masking: ms, off the loop
        await self._call(lambda r: r.set(key, serialised, ex=timeout), "write tracker")

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> DialogueStateTracker | None:
        stored = await self._call(lambda r: r.get(self.key_prefix + sender_id), "read tracker")
        if stored is None:
            return None
        tracker = self.deserialise_tracker(sender_id, stored)
        if fetch_all_sessions:
            return tracker
        sessions = get_trackers_for_conversation_sessions(tracker)
        return tracker if len(sessions) <= 1 else sessions[-1]

    async def keys(self) -> Iterable[str]:
        """The stored conversation keys."""
        return await self._call(lambda r: r.keys(self.key_prefix + "*"), "list trackers")
