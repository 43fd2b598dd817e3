"""AtomicRedisLockStore and TimeoutRedisTrackerStore against a real Redis (and a silent server)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_stores import AtomicRedisLockStore, TimeoutRedisTrackerStore

pytestmark = pytest.mark.integration


@pytest.fixture
def lock_prefix(redis_url: str):
    prefix = f"t{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


def _lock_store(redis_url: str, prefix: str, **options) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(redis_url=redis_url, key_prefix=prefix, **options)


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    server.close()


# --- lock store ------------------------------------------------------------------------------------


def test_tickets_are_sequential_and_stored_in_rasa_format(redis_url: str, lock_prefix: str):
    store = _lock_store(redis_url, lock_prefix)
    assert [store.issue_ticket("conv") for _ in range(3)] == [0, 1, 2]
    lock = store.get_lock("conv")  # Rasa's own reader understands what the script wrote
    assert [t.number for t in lock.tickets] == [0, 1, 2]
    assert lock.conversation_id == "conv" and lock.now_serving == 0
    assert 0 < store.red.pttl(f"{lock_prefix}:lock:conv") <= 61_000


def test_concurrent_threads_get_distinct_tickets(redis_url: str, lock_prefix: str):
    stores = [_lock_store(redis_url, lock_prefix) for _ in range(4)]
    barrier = threading.Barrier(4)

    def issue(index: int) -> list[int]:
        barrier.wait()
        return [stores[index].issue_ticket("busy") for _ in range(25)]

    with ThreadPoolExecutor(4) as pool:
        tickets = [t for batch in pool.map(issue, range(4)) for t in batch]
    assert sorted(tickets) == list(range(100))
    assert len(stores[0].get_lock("busy").tickets) == 100


def test_finish_and_cleanup_keep_other_tickets(redis_url: str, lock_prefix: str):
    store = _lock_store(redis_url, lock_prefix)
    first, second = store.issue_ticket("c"), store.issue_ticket("c")
    store.cleanup("c", first)
    assert [t.number for t in store.get_lock("c").tickets] == [second]
    assert store.is_someone_waiting("c")
    store.cleanup("c", second)
    assert store.get_lock("c") is None


def test_expired_tickets_are_dropped(redis_url: str, lock_prefix: str):
    store = _lock_store(redis_url, lock_prefix)
    store.issue_ticket("e", lock_lifetime=0.2)
    live = store.issue_ticket("e", lock_lifetime=30)
    time.sleep(0.3)
    store.update_lock("e")
    assert [t.number for t in store.get_lock("e").tickets] == [live]


def test_lock_key_disappears_when_every_ticket_expired(redis_url: str, lock_prefix: str):
    store = _lock_store(redis_url, lock_prefix)
    store.issue_ticket("gone", lock_lifetime=0.1)
    time.sleep(1.3)  # lifetime + the one-second margin
    assert store.red.exists(f"{lock_prefix}:lock:gone") == 0


async def test_lock_serializes_two_turns_of_one_conversation(redis_url: str, lock_prefix: str):
    store_a, store_b = _lock_store(redis_url, lock_prefix), _lock_store(redis_url, lock_prefix)
    order: list[str] = []

    async def turn(store: AtomicRedisLockStore, name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock("talk", wait_time_in_seconds=0.05):
            order.append(f"{name}-in")
            await asyncio.sleep(0.2)
            order.append(f"{name}-out")

    await asyncio.gather(turn(store_a, "a", 0), turn(store_b, "b", 0.05))
    assert order == ["a-in", "a-out", "b-in", "b-out"]
    assert store_a.get_lock("talk") is None


def _endpoints(tmp_path: Path, body: str) -> AvailableEndpoints:
    path = tmp_path / "endpoints.yml"
    path.write_text(body, encoding="utf-8")
    return AvailableEndpoints.read_endpoints(str(path))


def test_lock_store_loads_from_endpoints_yml(redis_url: str, lock_prefix: str, tmp_path: Path):
    port = urlparse(redis_url).port
    endpoints = _endpoints(
        tmp_path,
        "lock_store:\n"
        "  type: bot.rasa_stores.AtomicRedisLockStore\n"
        f"  url: 127.0.0.1\n  port: {port}\n  db: 3\n  password: null\n"
        f"  key_prefix: {lock_prefix}\n  socket_timeout: 2\n",
    )
    store = LockStore.create(endpoints.lock_store)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.red.connection_pool.connection_kwargs["db"] == 3
    assert store.red.connection_pool.connection_kwargs["socket_timeout"] == 2.0
    assert store.issue_ticket("yml") == 0
    store.delete_lock("yml")


def test_lock_store_accepts_redis_url(redis_url: str, lock_prefix: str, tmp_path: Path):
    endpoints = _endpoints(
        tmp_path,
        f"lock_store:\n  type: bot.rasa_stores.AtomicRedisLockStore\n  redis_url: {redis_url}\n"
        f"  key_prefix: {lock_prefix}\n",
    )
    store = LockStore.create(endpoints.lock_store)
    assert store.issue_ticket("url") == 0
    assert store.red.exists(f"{lock_prefix}:lock:url") == 1


def test_lock_store_raises_on_silent_server(silent_server: int):
    from rasa.core.lock_store import LockError

    store = AtomicRedisLockStore(url="127.0.0.1", port=silent_server, socket_timeout=0.5)
    assert store.red.connection_pool.connection_kwargs["host"] == "127.0.0.1"
    assert store.red.connection_pool.connection_kwargs["port"] == silent_server
    started = time.monotonic()
    with pytest.raises(LockError):
        store.issue_ticket("hang")
    assert time.monotonic() - started < 3


# --- tracker store ---------------------------------------------------------------------------------


def _domain() -> Domain:
    return Domain.from_dict({"slots": {"procedure": {"type": "text", "mappings": [{"type": "custom"}]}}})


def _tracker(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen"),
            UserUttered("住民票がほしい", {"name": "ask_procedure", "confidence": 0.9}),
            SlotSet("procedure", "juminhyo"),
        ],
        slots=_domain().slots,
    )
    return tracker


async def test_tracker_round_trip(redis_url: str, tmp_path: Path):
    sender = f"user-{uuid.uuid4().hex}"
    endpoints = _endpoints(
        tmp_path,
        "tracker_store:\n  type: bot.rasa_stores.TimeoutRedisTrackerStore\n"
        f"  url: {redis_url}\n  socket_timeout: 2\n  socket_connect_timeout: 1\n  record_exp: 60\n",
    )
    store = TrackerStore.create(endpoints.tracker_store, _domain())
    assert isinstance(store, TimeoutRedisTrackerStore)
    assert store.red.connection_pool.connection_kwargs["socket_timeout"] == 2.0
    await store.save(_tracker(sender))
    restored = await store.retrieve(sender)
    assert restored is not None
    assert [e.as_dict()["event"] for e in restored.events] == ["action", "user", "slot"]
    assert restored.latest_message.text == "住民票がほしい"
    assert restored.get_slot("procedure") == "juminhyo"
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    assert "住民票がほしい" in json.dumps(json.loads(raw.get(store.key_prefix + sender)), ensure_ascii=False)
    assert 0 < raw.ttl(store.key_prefix + sender) <= 60  # record_exp from endpoints.yml
    raw.close()
    store.red.delete(store.key_prefix + sender)


async def test_tracker_store_raises_instead_of_hanging(silent_server: int):
    store = TimeoutRedisTrackerStore(
        Domain.empty(), host="127.0.0.1", port=silent_server, socket_timeout=0.5, socket_connect_timeout=0.5
    )
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        await store.retrieve("someone")
    assert time.monotonic() - started < 3


def test_tracker_store_connect_timeout_is_configurable():
    store = TimeoutRedisTrackerStore(Domain.empty(), redis_url="redis://10.255.255.1:6379/0")
    kwargs = store.red.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 5.0 and kwargs["socket_connect_timeout"] == 3.0
