"""End to end: 利用状況 counts what residents did, through ``make run``'s servers, in Debian's Chromium.

A private instance (its own ``var/``, the analytics salt from ``MADOGUCHI_ANALYTICS_SALT``) gets one
conversation through the real widget (typed with the keyboard), two through the REST channel and a
callback request with a phone number. A 閲覧 account then reads 利用状況: the conversations, the
messages, the channel and the answer kinds are exactly those the test saw the channel answer (each reply
classified by its ``custom.madoguchi`` cards), and axe finds nothing at 1366×768 and at 200 % zoom.
No analytics record, page or download holds the resident's number or a conversation id, and the
閲覧 account cannot open the queue or a request (where the number is).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
import uuid
from collections import Counter

import pytest
from playwright.sync_api import Page, expect
from test_staff_e2e import staff_add
from test_widget import run_axe
from test_widget_e2e import _bot, _say
from widget_harness import ARTIFACTS

from bot.analytics.outcome import outcome_of
from bot.staff.analytics import GROUPS
from tests.servers import private_bot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SALT = "e2e-analytics-salt"
VIEWER_PASSWORD = "viewer passphrase 2026"
PHONE_TYPED = "０８０ー８６４２ー１３５７"
PHONE_FORMS = ("08086421357", "080-8642-1357", "8642-1357", "８６４２", "86421357")
#: The turn's record is written in the background after the answer; this bounds the wait for it.
RECORDED_WITHIN_S = 10
SHOTS = ARTIFACTS / "staff"


@pytest.fixture(scope="module")
def analytics_bot():
    with private_bot({"MADOGUCHI_ANALYTICS_SALT": SALT}) as bot:
        yield bot


def _group(messages: list[dict]) -> str:
    return GROUPS.get(outcome_of(messages).kind, "other")


def _widget_conversation(browser, bot) -> list[list[dict]]:
    """A resident types a question in the real widget; returns every answer the widget received."""
    answers: list[list[dict]] = []
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    try:
        page = ctx.new_page()

        def keep(response) -> None:
            if response.url.endswith("/webhooks/rest/webhook") and response.request.method == "POST":
                answers.append(json.loads(response.body()))

        page.on("response", keep)
        page.goto(bot.widget_url + "/")
        launcher = page.get_by_role("button", name="AIチャットで質問する")
        launcher.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("dialog")).to_be_visible()
        first = _say(page, "印鑑登録をしたい")
        expect(_bot(page).nth(first)).to_contain_text("印鑑")
        page.wait_for_timeout(200)  # let the response handler run for the last answer
    finally:
        ctx.close()
    return answers


def _rest_conversations(bot) -> list[list[dict]]:
    """Two residents through the REST channel: a procedure, and a callback request with a phone number."""
    one, two = f"e2e-usage-{uuid.uuid4().hex}", f"e2e-usage-{uuid.uuid4().hex}"
    answers = [bot.rest(one, "住民票の写しを取りたい"), bot.rest(one, "ぴよぴよもにゃもにゃ")]
    for text in (
        "折り返し電話をお願いしたいです",
        PHONE_TYPED,
        "山田花子です",
        '/inform{"time_slot":"weekday_am"}',
        "介護保険のことで相談したい",
        "/affirm",
    ):
        answers.append(bot.rest(two, text))
    return answers


def _sign_in(page: Page, url: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("ユーザー名").fill("viewer1")
    page.get_by_label("パスワード").fill(VIEWER_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="利用状況")).to_be_visible()


def _figure(page: Page, name: str) -> str:
    return page.locator(f"#fig-{name}").inner_text().strip()


def _wait_for_messages(page: Page, url: str, expected: int) -> None:
    deadline = time.monotonic() + RECORDED_WITHIN_S
    while True:
        page.goto(url + "/usage")
        if _figure(page, "messages") == str(expected) or time.monotonic() > deadline:
            return
        time.sleep(0.5)


def _table(page: Page, name: str) -> dict[str, list[str]]:
    rows = page.locator(f"#table-{name} tbody tr")
    out = {}
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator("th, td").all_inner_texts()]
        out[cells[0]] = cells[1:]
    return out


def _records(bot) -> list[tuple]:
    with sqlite3.connect(bot.var_dir / "stores.sqlite3") as db:
        return db.execute("SELECT * FROM usage_events").fetchall()


def test_usage_counts_what_residents_did_and_never_holds_their_number(analytics_bot, browser, axe_source):
    bot = analytics_bot
    widget = _widget_conversation(browser, bot)
    rest = _rest_conversations(bot)
    answers = widget + rest
    staff_add(bot, "viewer1", "--role", "viewer", "--password-stdin", stdin=VIEWER_PASSWORD + "\n")

    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    ctx.add_init_script(script=axe_source)
    try:
        page = ctx.new_page()
        _sign_in(page, bot.staff_url)
        _wait_for_messages(page, bot.staff_url, len(answers))
        assert _figure(page, "messages") == str(len(answers))
        assert _figure(page, "conversations") == "3"  # the widget's and the two REST senders'
        channels = _table(page, "channels")
        assert channels == {"Web": ["3", str(len(answers)), ""]}
        outcomes = _table(page, "outcomes")
        expected = Counter(_group(a) for a in answers)
        words = {"procedure": "手続き案内", "faq": "FAQ", "fallback": "案内なし", "other": "その他"}
        assert {words[g]: int(outcomes[words[g]][0]) for g in words} == {words[g]: expected[g] for g in words}
        assert expected["procedure"] >= 2  # 印鑑登録 and 住民票 were answered with their cards
        assert "介護保険課" in _table(page, "departments")
        assert run_axe(page) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "usage-readme.png"), full_page=False)

        # keyboard only: the week view by Tab + Enter
        week = page.get_by_role("link", name="週別（直近8週）")
        for _ in range(40):
            if week.evaluate("n => n === document.activeElement"):
                break
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.get_by_role("link", name="週別（直近8週）")).to_have_attribute("aria-current", "page")
        assert _figure(page, "messages") == str(len(answers))
        assert run_axe(page) == []

        html = page.content()
        downloads = [
            ctx.request.get(f"{bot.staff_url}/usage/{name}.csv").text()
            for name in ("periods", "outcomes", "channels", "departments", "procedures", "faq", "unanswered")
        ]
        assert list(csv.reader(io.StringIO(downloads[2].lstrip("\ufeff"))))[1][0] == "Web"
        for blob in [html, *downloads]:
            assert not any(form in blob for form in PHONE_FORMS)
        # 閲覧 sees analytics, never the queue or a request (where the number is)
        assert page.goto(bot.staff_url + "/callbacks").status == 403
        ticket = next(
            c["ticket"]
            for m in rest[-1]
            if (c := (m.get("custom") or {}).get("madoguchi")) and c.get("kind") == "callback"
        )
        assert page.goto(f"{bot.staff_url}/callbacks/{ticket}").status == 403
    finally:
        ctx.close()

    records = _records(bot)
    assert len(records) == len(answers)  # no votes were given: one record per turn
    flat = " ".join(str(value) for row in records for value in row)
    assert not any(form in flat for form in PHONE_FORMS)
    assert "e2e-usage-" not in flat and "山田" not in flat and SALT not in flat


def test_usage_reflows_at_200_percent_zoom(analytics_bot, browser):
    """1366×768 at 200 % zoom is a 683×384 CSS-pixel window: no sideways scrolling (WCAG 1.4.10)."""
    bot = analytics_bot
    if bot.madoguchi_cli("staff", "list").stdout.count("viewer1") == 0:
        staff_add(bot, "viewer1", "--role", "viewer", "--password-stdin", stdin=VIEWER_PASSWORD + "\n")
    ctx = browser.new_context(viewport={"width": 683, "height": 384}, device_scale_factor=2, locale="ja-JP")
    try:
        page = ctx.new_page()
        _sign_in(page, bot.staff_url)
        for period in ("day", "week"):
            page.goto(f"{bot.staff_url}/usage?period={period}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{period}: {overflow}px wider than the window"
        page.screenshot(path=str(SHOTS / "zoom200-usage.png"))
    finally:
        ctx.close()
