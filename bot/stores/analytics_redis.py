"""Redis back end of the analytics events: a sorted set ``<prefix>usage`` of JSON records scored by time."""

from __future__ import annotations

import json
from datetime import datetime

import redis

from bot.clock import Clock
from bot.stores.analytics import AnalyticsLog, UsageEvent, event_from_dict, prepare_event
from bot.stores.redis_backend import _TimedLog


class RedisAnalyticsLog(AnalyticsLog):
    """Events in a sorted set (one ZADD each; the id counter makes every member unique)."""

    def __init__(self, client: redis.Redis, prefix: str, clock: Clock) -> None:
        self._r = client
        self._log = _TimedLog(client, f"{prefix}usage")
        self._clock = clock

    def record(self, event: UsageEvent) -> UsageEvent:
        event = prepare_event(event)
        self._log.add(event.to_dict(), event.at)
        return event

    def events(self, since: datetime | None = None) -> list[UsageEvent]:
        start = "-inf" if since is None else since.timestamp()
        members = self._r.zrangebyscore(self._log.key, start, "+inf")
        records = sorted((json.loads(m) for m in members), key=lambda r: r["id"])
        records.sort(key=lambda r: datetime.fromisoformat(r["at"]).timestamp())  # stable: same time by id
        return [event_from_dict({k: v for k, v in r.items() if k != "id"}) for r in records]

    def purge(self, older_than: datetime) -> int:
        return self._log.purge(older_than)

    def count_expired(self, older_than: datetime) -> int:
        return self._log.count_older(older_than)

    def count(self) -> int:
        return self._log.count()
