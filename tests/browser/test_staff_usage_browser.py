"""利用状況 in Debian's Chromium with two weeks of made-up turns (the console in-process over real SQLite
stores): axe-core finds nothing, the day/week switch and every download link work by keyboard, and the
page reflows at 200 % zoom. Saves the README's picture (tests/artifacts/staff/usage-full.png →
docs/staff-usage.png)."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from staff_helpers import MORNING, REPO, Clock, add_account, make_console
from test_staff_browser import SHOTS, VIEWPORT, no_violations, shot, sign_in_by_keyboard, tab_to
from widget_harness import BackgroundLoop, Served

from bot import settings as settings_module
from bot.analytics.events import feedback_event, turn_event
from bot.knowledge.faq import import_export
from bot.knowledge.faq import live_base as base
from bot.stores import open_stores

pytestmark = pytest.mark.browser

PROCEDURES = ("juminhyo", "inkan_toroku", "inkan_shomei", "jido_teate", "koseki", "kaigo_hokensho")
UNANSWERED = ("ゴミ袋の値段は？", "090-1234-5678 に電話して", "犬のふんの苦情", "ドローン飛ばしていい？")


def _card(kind: str, **fields) -> list[dict]:
    return [{"custom": {"madoguchi": {"kind": kind, **fields}}}]


def seed(stores, clock: Clock, days: int = 14, seed_value: int = 12) -> int:
    """Made-up turns over ``days`` days (more on weekdays, mostly 9–17時); returns how many."""
    rng, made = random.Random(seed_value), 0
    for back in range(days - 1, -1, -1):
        day = MORNING - timedelta(days=back)
        busy = 4 if day.weekday() >= 5 else 12
        for n in range(busy + rng.randrange(6)):
            at = day.replace(
                hour=rng.choice((8, 9, 10, 10, 11, 12, 13, 14, 15, 16, 19, 21)), minute=rng.randrange(60)
            )
            sender, channel = f"r{back}-{n}", rng.choice(("rest", "rest", "line"))
            roll = rng.random()
            if roll < 0.5:
                messages = _card("procedure", procedure=rng.choice(PROCEDURES))
            elif roll < 0.75:
                messages = _card("faq", faq_id=rng.choice(("F0001", "F0012", "F0085")), department="環境課")
            elif roll < 0.9:
                messages = _card("fallback")
            else:
                messages = []
            stores.analytics.record(turn_event(b"s", at, channel, sender, rng.choice(UNANSWERED), messages))
            made += 1
            if rng.random() < 0.3:
                stores.analytics.record(feedback_event(b"s", at, channel, sender, rng.random() < 0.8, None))
    for topic, department in (("介護保険", "kaigo"), ("児童手当", "kodomo"), ("保険料", "hoken_nenkin")):
        stores.callbacks.add("090-1111-2222", "", "平日の午前（9時〜12時）", topic, department)
    clock.now = MORNING
    return made


@pytest.fixture(scope="module")
def usage_console(tmp_path_factory):
    clock = Clock(MORNING)
    var_dir = tmp_path_factory.mktemp("usage") / "var"
    stores = open_stores(settings_module.load({"MADOGUCHI_VAR": str(var_dir)}), clock=clock)
    made = seed(stores, clock)
    add_account(stores, "viewer1", "viewer")
    add_account(stores, "sato", "admin")
    add_account(stores, "tanaka", "callback", "kaigo")
    kb = var_dir.parent / "faq"
    import_export.ensure_live_base(kb, REPO / "data" / "faq" / "sample_faq.csv")
    bg = BackgroundLoop()
    served = Served(bg, make_console(stores, clock, faq=base.LiveFaq(kb))).start()
    yield served, made
    served.cleanup()
    bg.close()
    stores.close()


def test_usage_page_by_keyboard_with_axe(usage_console, browser, axe_source):
    served, made = usage_console
    ctx = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
    ctx.add_init_script(script=axe_source)
    try:
        page = ctx.new_page()
        sign_in_by_keyboard(page, served.url, "viewer1")
        tab_to(page, page.get_by_role("navigation").get_by_role("link", name="利用状況"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="利用状況", exact=True)).to_be_visible()
        expect(page.locator("#fig-messages")).to_have_text(str(made))
        no_violations(page)
        page.screenshot(path=str(SHOTS / "usage-full.png"), full_page=True)
        page.screenshot(path=str(SHOTS / "usage-1366x768.png"))
        tab_to(page, page.get_by_role("link", name="週別（直近8週）"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("link", name="週別（直近8週）")).to_have_attribute("aria-current", "page")
        no_violations(page)
        link = page.locator('a[href="/usage/unanswered.xlsx?period=week"]')
        expect(link).to_have_accessible_name(re.compile("^Excel.*答えられなかった質問"))
        tab_to(page, link, limit=200)
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        assert download.value.suggested_filename == "usage-unanswered-week-20261126.xlsx"
        html = page.content()
        assert "[電話番号] に電話して" in html and "1234-5678" not in html
    finally:
        ctx.close()


def test_usage_page_reflows_at_200_percent_zoom(usage_console, browser):
    served, _ = usage_console
    ctx = browser.new_context(viewport={"width": 683, "height": 384}, device_scale_factor=2, locale="ja-JP")
    try:
        page = ctx.new_page()
        sign_in_by_keyboard(page, served.url, "viewer1")
        for period in ("day", "week"):
            page.goto(f"{served.url}/usage?period={period}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{period}: {overflow}px wider than the window"
    finally:
        ctx.close()


def test_accounts_page_by_keyboard_with_axe(usage_console, browser, axe_source):
    """アカウント管理: axe on the list, an account added with the keyboard, the page at 200 % zoom."""
    served, _ = usage_console
    ctx = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
    ctx.add_init_script(script=axe_source)
    try:
        page = ctx.new_page()
        sign_in_by_keyboard(page, served.url, "sato")
        tab_to(page, page.get_by_role("navigation").get_by_role("link", name="アカウント"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="アカウント管理")).to_be_visible()
        no_violations(page)
        tab_to(page, page.get_by_label("ユーザー名（半角英数字と . _ -）"), limit=80)
        page.keyboard.type("hoken1")
        page.keyboard.press("Enter")  # submits the add form (role 折り返し担当, every 課: the defaults)
        expect(page.get_by_role("status")).to_contain_text("アカウント hoken1 を追加しました")
        expect(page.get_by_role("row").filter(has_text="hoken1")).to_contain_text("初回パスワード変更待ち")
        no_violations(page)
        shot(page, "accounts")
        page.set_viewport_size({"width": 683, "height": 384})
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"/accounts: {overflow}px wider than the window"
    finally:
        ctx.close()
