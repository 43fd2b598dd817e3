"""利用状況: figures from the kept records, by day in Japan time; the page for 閲覧 (and nobody else's)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from staff_helpers import MORNING, Clock, add_account, make_console
from test_staff_console import sign_in

from bot.staff.usage import DAYS, bars, summarize
from bot.stores import JST, open_stores


def test_bars_are_scaled_to_the_largest():
    assert [(b.label, b.count, b.percent) for b in bars([("a", 1), ("b", 4), ("c", 2)])] == [
        ("b", 4, 100),
        ("c", 2, 50),
        ("a", 1, 25),
    ]
    assert bars([]) == []


@pytest.fixture
def seeded(store_settings):
    """Records made at known times (JST): two requests today, one yesterday late at night (UTC: today)."""
    settings, prefix = store_settings
    clock = Clock(MORNING)
    stores = open_stores(settings, prefix=prefix, clock=clock)
    stores.callbacks.add("090-1111-2222", "", "平日の午前（9時〜12時）", "介護保険", "kaigo")
    stores.callbacks.add("090-1111-3333", "", "平日の午前（9時〜12時）", "介護保険", "kaigo")
    stores.feedback.record(True, "住民票", "faq:F0001")
    stores.feedback.record(False, None, None)
    clock.now = datetime(2026, 11, 25, 23, 30, tzinfo=JST)  # 14:30 UTC on the 25th; the 25th in Japan
    stores.callbacks.add("03-1234-5678", "", "平日の午後（13時〜17時）", "よく分からない", None)
    stores.feedback.record(True, None, None)
    for _ in range(3):
        stores.review.record("ゴミ袋は090-9999-8888に電話？", "fallback", [])
    stores.review.record("犬の登録", "low_confidence", [])
    clock.now = MORNING
    yield stores, clock
    stores.close()


def test_summarize_counts_by_japan_day_and_department(seeded):
    stores, clock = seeded
    usage = summarize(
        clock.now,
        stores.callbacks.list(),
        stores.feedback.entries(),
        stores.review.distinct(),
        stores.review.count(),
        {"kaigo": "介護保険課"},
        "担当課未設定",
    )
    assert len(usage.days) == DAYS and usage.days[-1].day == MORNING.date()
    today, yesterday = usage.days[-1], usage.days[-2]
    assert (today.callbacks, today.helpful, today.unhelpful) == (2, 1, 1)
    assert (yesterday.callbacks, yesterday.helpful, yesterday.unhelpful) == (1, 1, 0)
    assert [(b.label, b.count) for b in usage.by_department] == [("介護保険課", 2), ("担当課未設定", 1)]
    assert (usage.helpful, usage.unhelpful, usage.helpful_rate) == (2, 1, 67)
    assert [(b.label, b.count) for b in usage.unanswered] == [
        ("ゴミ袋は[電話番号]に電話？", 3),
        ("犬の登録", 1),
    ]
    assert usage.review_records == 4
    assert usage.days[0].day == (MORNING - timedelta(days=DAYS - 1)).date()


@pytest.mark.parametrize(
    ("role", "status"), [("viewer", 200), ("editor", 200), ("admin", 200), ("callback", 403)]
)
async def test_usage_page_roles_and_content(seeded, role, status):
    stores, clock = seeded
    add_account(stores, "someone", role)
    async with TestClient(TestServer(make_console(stores, clock))) as client:
        await sign_in(client, "someone")
        reply = await client.get("/usage")
        assert reply.status == status
        if status == 200:
            html = await reply.text()
            assert "介護保険課" in html and "役に立った割合 67%" in html
            assert "ゴミ袋は[電話番号]に電話？" in html and "9999" not in html and "1111" not in html
