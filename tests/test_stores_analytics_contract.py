"""Analytics events (the masked per-turn record behind 利用状況): one contract, SQLite and real Redis."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from staff_helpers import Clock

from bot.stores import StoreError, Stores, UsageEvent, open_stores
from bot.stores.analytics import EVENT_KINDS, UNANSWERED_KINDS
from bot.stores.records import JST

T0 = datetime(2026, 11, 26, 9, 30, tzinfo=JST)
CONV = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


def _event(at=T0, kind="procedure", **fields) -> UsageEvent:
    values = {"channel": "rest", "conversation": CONV, **fields}
    return UsageEvent(at, kind=kind, **values)


def test_events_round_trip_oldest_first_and_since(clocked: Stores):
    later = _event(T0 + timedelta(hours=1), "faq", faq_id="F0012", department="市民課", channel="line")
    first = _event(T0, "procedure", procedure="juminhyo", department="市民課")
    vote = _event(T0 + timedelta(hours=2), "feedback", helpful=False, faq_id="F0012", channel="socketio")
    for event in (later, first, vote):
        assert clocked.analytics.record(event) == event
    assert clocked.analytics.events() == [first, later, vote]
    assert clocked.analytics.events(since=T0 + timedelta(minutes=1)) == [later, vote]
    assert clocked.analytics.events(since=T0 + timedelta(hours=1)) == [later, vote]  # "at or after"
    assert clocked.analytics.count() == 3


def test_many_events_at_the_same_moment_keep_their_order(clocked: Stores):
    kinds = [EVENT_KINDS[i % 10] for i in range(12)]  # 12 > 9: ids of two digits sort after one digit
    for kind in kinds:
        clocked.analytics.record(_event(T0, kind))
    assert [e.kind for e in clocked.analytics.events()] == kinds


def test_wording_is_masked_and_kept_only_for_unanswered_turns(clocked: Stores):
    text = "山田太郎です。090-1234-5678 に電話ください、ゴミの出し方"
    for kind in ("fallback", "suggestions", "procedure", "faq", "other"):
        clocked.analytics.record(_event(kind=kind, text=text))
    stored = {e.kind: e.text for e in clocked.analytics.events()}
    assert {k for k, v in stored.items() if v} == UNANSWERED_KINDS
    for kind in UNANSWERED_KINDS:
        assert "[電話番号]" in stored[kind] and "ゴミの出し方" in stored[kind]
        assert "5678" not in stored[kind] and "山田" not in stored[kind]


def test_raw_ids_and_bad_fields_are_refused(clocked: Stores):
    cases = [
        (_event(conversation="U" + "0" * 32), "conversation"),  # a LINE user id
        (_event(conversation="sender-123"), "conversation"),
        (_event(channel="facebook"), "channel"),
        (_event(kind="chitchat"), "kind"),
        (_event(kind="feedback"), "helpful"),
        (_event(kind="faq", helpful=True), "helpful"),
        (_event(procedure="住民票 090-1234-5678"), "procedure"),
        (_event(faq_id="x" * 81), "faq_id"),
        (_event(department="課" * 81), "department"),
        (UsageEvent(datetime(2026, 11, 26, 9, 30), "rest", CONV, "other"), "at"),
    ]
    for event, field in cases:
        with pytest.raises(StoreError, match=f"^{field}:"):
            clocked.analytics.record(event)
    assert clocked.analytics.count() == 0


def test_purge_and_count_expired_by_time(clocked: Stores, clock: Clock):
    clocked.analytics.record(_event(T0 - timedelta(days=10)))
    clocked.analytics.record(_event(T0 - timedelta(days=3)))
    clocked.analytics.record(_event(T0))
    cutoff = T0 - timedelta(days=5)
    assert clocked.analytics.count_expired(cutoff) == 1
    assert clocked.analytics.count() == 3  # counting deleted nothing
    assert clocked.analytics.purge(cutoff) == 1
    assert [e.at for e in clocked.analytics.events()] == [T0 - timedelta(days=3), T0]
    assert clocked.count_expired(days=1)["analytics"] == 1
    assert clocked.purge_expired(days=1)["analytics"] == 1
    assert clocked.analytics.count() == 1


def test_events_survive_reopening_and_times_keep_their_zone(store_settings, clock: Clock):
    settings, prefix = store_settings
    utc = datetime(2026, 11, 26, 0, 30, tzinfo=timezone.utc)
    with open_stores(settings, prefix=prefix, clock=clock) as stores:
        stores.analytics.record(_event(utc, "fallback", text="犬の登録"))
    with open_stores(settings, prefix=prefix, clock=clock) as stores:
        [event] = stores.analytics.events()
    assert event.at == utc and event.text == "犬の登録"
