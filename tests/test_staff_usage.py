"""利用状況: figures from the masked per-turn events and the callback requests, by Japan day and week;
the page and its CSV / xlsx downloads, for 閲覧 / 編集者 / 管理者 only."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from staff_helpers import MORNING, REPO, Clock, add_account, make_console
from test_staff_console import sign_in

from bot.analytics.events import feedback_event, turn_event
from bot.knowledge.catalog import load_catalog
from bot.staff.analytics import PERIODS, period_start, summarize
from bot.staff.analytics_routes import _labels, table_csv
from bot.staff.app import load_ui
from bot.stores import JST, open_stores

SALT = b"test"
LATE_YESTERDAY = datetime(2026, 11, 25, 23, 30, tzinfo=JST)  # 14:30 UTC on the 25th; the 25th in Japan


def card(kind: str, **fields) -> list[dict]:
    return [{"text": "…", "custom": {"madoguchi": {"kind": kind, **fields}}}]


@pytest.fixture
def seeded(store_settings):
    """Three conversations today (web, web, LINE), one late last night; two callbacks; three votes."""
    settings, prefix = store_settings
    clock = Clock(MORNING)
    stores = open_stores(settings, prefix=prefix, clock=clock)

    def turn(sender, text, messages, channel="rest", at=MORNING):
        stores.analytics.record(turn_event(SALT, at, channel, sender, text, messages))

    turn(
        "w1",
        "住民票がほしい",
        card("procedure", procedure="juminhyo", department={"name": "市民課", "phone": "x"}),
    )
    turn("w1", "/feedback", [])
    stores.analytics.record(feedback_event(SALT, MORNING, "rest", "w1", True, "procedure:juminhyo"))
    turn("w2", "ゴミ袋は090-9999-8888に電話？", card("fallback"))
    turn("w2", "ゴミ袋は090-9999-7777に電話？", card("fallback"))
    turn("U" + "1" * 32, "住民票の写し", card("procedure", procedure="juminhyo"), channel="line")
    stores.analytics.record(
        feedback_event(SALT, MORNING, "line", "U" + "1" * 32, False, "procedure:juminhyo")
    )
    turn("w3", "粗大ごみ", card("faq", faq_id="F0001", department="環境課"), at=MORNING + timedelta(hours=3))
    turn("w4", "犬の登録", card("suggestions", count=2), at=LATE_YESTERDAY)
    stores.analytics.record(feedback_event(SALT, LATE_YESTERDAY, "rest", "w4", True, None))
    stores.callbacks.add("090-1111-2222", "", "平日の午前（9時〜12時）", "介護保険", "kaigo")
    clock.now = LATE_YESTERDAY
    stores.callbacks.add("03-1234-5678", "", "平日の午後（13時〜17時）", "よく分からない", None)
    clock.now = MORNING
    yield stores, clock
    stores.close()


class _Deps:
    def __init__(self, stores, clock):
        self.stores, self.clock, self.faq = stores, clock, None
        self.catalog, self.ui = load_catalog(REPO / "data"), load_ui(REPO / "data")


def _summary(stores, clock, period="day"):
    deps = _Deps(stores, clock)
    return summarize(clock.now, period, stores.analytics.events(), stores.callbacks.list(), _labels(deps))


def test_daily_figures_by_japan_day(seeded):
    stores, clock = seeded
    a = _summary(stores, clock)
    assert len(a.periods) == PERIODS["day"] and a.periods[-1].start == MORNING.date()
    today, yesterday = a.periods[-1], a.periods[-2]
    assert (today.conversations, today.messages, today.callbacks) == (4, 6, 1)
    assert today.by_channel == {"rest": 5, "line": 1}
    assert today.by_group == {"procedure": 2, "faq": 1, "fallback": 2, "other": 1}
    assert (today.helpful, today.unhelpful) == (1, 1)
    assert (yesterday.conversations, yesterday.messages, yesterday.callbacks) == (1, 1, 1)
    assert (yesterday.by_group["fallback"], yesterday.helpful) == (1, 1)
    assert (a.conversations, a.messages, a.helpful, a.unhelpful) == (5, 7, 2, 1)
    assert (a.answered, a.questions, a.answer_rate, a.helpful_rate) == (3, 6, 50, 67)
    assert [(c, conv, n) for c, conv, n in a.channels] == [("rest", 4, 6), ("line", 1, 1)]
    assert a.hours[10] == 5 and a.hours[13] == 1 and a.hours[23] == 1 and sum(a.hours) == 7


def test_tables_name_procedures_faq_departments_and_masked_wordings(seeded):
    stores, clock = seeded
    t = _summary(stores, clock).tables
    assert t["procedures"].rows == [("住民票の写し", "juminhyo", 2)]  # the catalog's name
    assert t["faq"].rows == [("F0001", "F0001", 1)]  # no FAQ base given: the id stands for the question
    departments = dict(t["departments"].rows)
    assert sum(departments.values()) == 2 and departments["担当課未設定"] == 1
    assert t["unanswered"].rows == [("ゴミ袋は[電話番号]に電話？", 2), ("犬の登録", 1)]
    assert t["outcomes"].rows[0] == ("手続き案内", 2, 29)
    assert t["periods"].columns[:3] == ("日付", "会話数", "メッセージ数")
    body = table_csv(t["unanswered"]).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body)))[1] == ["ゴミ袋は[電話番号]に電話？", "2"]


def test_weekly_figures_start_on_monday(seeded):
    stores, clock = seeded
    a = _summary(stores, clock, "week")
    monday = period_start(MORNING.date(), "week")
    assert monday.weekday() == 0 and a.periods[-1].start == monday and len(a.periods) == PERIODS["week"]
    assert (a.periods[-1].conversations, a.periods[-1].messages, a.periods[-1].callbacks) == (5, 7, 2)
    assert a.periods[-1].label == f"{monday.month}/{monday.day}の週"


def test_events_outside_the_window_are_not_counted(seeded):
    stores, clock = seeded
    clock.now = MORNING + timedelta(days=PERIODS["day"])
    assert _summary(stores, clock).messages == 0
    assert _summary(stores, clock, "week").messages == 7


@pytest.mark.parametrize(
    ("role", "status"), [("viewer", 200), ("editor", 200), ("admin", 200), ("callback", 403)]
)
async def test_usage_page_roles_and_content(seeded, role, status):
    stores, clock = seeded
    add_account(stores, "someone", role)
    async with TestClient(TestServer(make_console(stores, clock))) as client:
        await sign_in(client, "someone")
        for path in ("/usage", "/usage?period=week", "/usage/periods.csv", "/usage/hours.xlsx"):
            reply = await client.get(path)
            assert reply.status == status, path
        if status != 200:
            return
        html = await (await client.get("/usage")).text()
        assert 'id="fig-conversations">5<' in html and 'id="fig-helpful-rate">67%' in html
        assert "ゴミ袋は[電話番号]に電話？" in html and "9999" not in html and "1111" not in html
        assert html.count('role="img"') == 2 and "<script" not in html
        assert "/usage/unanswered.xlsx?period=day" in html


async def test_downloads_of_every_table(seeded):
    stores, clock = seeded
    add_account(stores, "viewer1", "viewer")
    async with TestClient(TestServer(make_console(stores, clock))) as client:
        await sign_in(client, "viewer1")
        names = ("periods", "outcomes", "channels", "departments", "procedures", "faq", "unanswered", "hours")
        for name in names:
            reply = await client.get(f"/usage/{name}.csv?period=week")
            assert reply.status == 200 and reply.content_type == "text/csv"
            assert f"usage-{name}-week-20261126.csv" in reply.headers["Content-Disposition"]
            rows = list(csv.reader(io.StringIO((await reply.read()).decode("utf-8-sig"))))
            xlsx = await client.get(f"/usage/{name}.xlsx?period=week")
            sheet = load_workbook(io.BytesIO(await xlsx.read())).active
            values = [
                [("" if v is None else str(v)) for v in row]
                for row in sheet.iter_rows(min_row=3, values_only=True)
            ]
            assert values == rows, name
        assert (await client.get("/usage/nothing.csv")).status == 404
        assert (await client.get("/usage/periods.pdf")).status == 404
        exports = [e for e in stores.audit.entries(100) if e.action == "usage.export"]
        assert len(exports) == 2 * len(names) and exports[0].actor == "viewer1"


async def test_spreadsheet_cells_never_run_as_formulas(seeded):
    stores, clock = seeded
    stores.analytics.record(turn_event(SALT, MORNING, "rest", "w9", '=HYPERLINK("x")', card("fallback")))
    add_account(stores, "viewer1", "viewer")
    async with TestClient(TestServer(make_console(stores, clock))) as client:
        await sign_in(client, "viewer1")
        body = (await (await client.get("/usage/unanswered.csv")).read()).decode("utf-8-sig")
        assert "'=HYPERLINK" in body
        sheet = load_workbook(io.BytesIO(await (await client.get("/usage/unanswered.xlsx")).read())).active
        assert all(not str(c.value).startswith("=") for row in sheet.iter_rows() for c in row if c.value)
