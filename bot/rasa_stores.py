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

endpoints.yml::

    tracker_store:
      type: bot.rasa_stores.TimeoutRedisTrackerStore
      url: ${REDIS_HOST}          # a host name, or a whole redis:// URL
      port: 6379
      db: 0
      password: ${REDIS_PASSWORD}
      socket_timeout: 5
    lock_store:
      type: bot.rasa_stores.AtomicRedisLockStore
      redis_url: ${REDIS_URL}     # alternatively url/port/db/password as above
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any

import redis
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore, RedisLockStore
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_SOCKET_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 3.0

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
    timeouts = {
        "socket_timeout": float(socket_timeout),
        "socket_connect_timeout": float(socket_connect_timeout),
        "decode_responses": decode_responses,
    }
    url = redis_url or (host if host and host.startswith(("redis://", "rediss://", "unix://")) else None)
    if url:
        return redis.Redis.from_url(url, **timeouts)
    return redis.Redis(
        host=host or "localhost",
        port=int(port),
        db=int(db),
        username=username,
        password=password,
        ssl=bool(use_ssl),
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        ssl_ca_certs=ssl_ca_certs,
        **timeouts,
    )


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


class TimeoutRedisTrackerStore(RedisTrackerStore):
    """Rasa's Redis tracker store with socket timeouts, so a hung Redis raises instead of blocking.

    Rasa builds custom tracker stores as ``cls(host=url, domain=..., event_broker=..., **kwargs)``;
    besides Rasa's own options it accepts ``socket_timeout`` (default 5 s),
    ``socket_connect_timeout`` (default 3 s) and ``redis_url``.
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
        self.red = redis_client(
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
