"""End to end: ``make run``'s servers (runner, trained model, action server, staff console on STAFF_PORT).

A resident asks for a call back through the REST channel the widget uses; accounts come from
``madoguchi staff add`` (one from standard input, one with a printed one-time password); a clerk signs
in in Chromium, finds the request routed to 介護保険課 by its topic, and marks it done — which the CLI
then reports too. Nothing any server logged contains the resident's number.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid

import pytest
from playwright.sync_api import Page, expect
from test_widget import run_axe
from widget_harness import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PHONE_TYPED = "０９０ー１３５７ー２４６８"
PHONE_DIGITS = "09013572468"
CLERK_PASSWORD = "kaigo clerk passphrase"
#: The issue's promise: a change made in 見直し is live within 10 s (the action server checks every 2 s).
LIVE_WITHIN_S = 10


def staff_add(bot, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "staff", "add", *args],
        cwd=REPO,
        env=bot.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def resident_asks_for_a_callback(bot) -> str:
    sender = f"e2e-staff-{uuid.uuid4().hex}"
    bot.rest(sender, "折り返し電話をお願いしたいです")
    bot.rest(sender, PHONE_TYPED)
    bot.rest(sender, "山田花子です")
    bot.rest(sender, '/inform{"time_slot":"weekday_am"}')
    bot.rest(sender, "介護保険のことで相談したい")
    done = bot.rest(sender, "/affirm")
    cards = [m["custom"]["madoguchi"] for m in done if (m.get("custom") or {}).get("madoguchi")]
    return next(c["ticket"] for c in cards if c["kind"] == "callback")


def sign_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("ユーザー名").fill(name)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


@pytest.fixture()
def staff_page(browser, axe_source):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    ctx.add_init_script(script=axe_source)
    yield ctx.new_page()
    ctx.close()


def test_a_clerk_works_a_request_a_resident_just_made(running_bot, staff_page):
    assert running_bot.staff_url and running_bot.staff_url != running_bot.widget_url
    staff_add(running_bot, "kaigo1", "--role", "callback", "--department", "kaigo", "--password-stdin",
              stdin=CLERK_PASSWORD + "\n")  # fmt: skip
    ticket = resident_asks_for_a_callback(running_bot)

    page = staff_page
    sign_in(page, running_bot.staff_url, "kaigo1", CLERK_PASSWORD)
    page.get_by_role("link", name="折り返し", exact=True).click()
    row = page.get_by_role("row").filter(has_text=ticket)
    expect(row).to_contain_text("介護保険課")
    expect(row).to_contain_text("介護保険のことで相談したい")
    assert run_axe(page) == []
    page.get_by_role("link", name=ticket).click()
    expect(page.get_by_role("link", name="090-1357-2468")).to_be_visible()
    page.get_by_label("メモ（任意・1000文字以内）").fill("認定の申請方法を案内")
    page.get_by_role("button", name="完了にする").click()
    expect(page.get_by_role("status")).to_have_text("「完了」にしました。")

    listed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "callbacks", "list", "--status", "done", "--json"],
        cwd=REPO, env=running_bot.env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert ticket in [r["ticket"] for r in json.loads(listed.stdout)]
    log = running_bot.log()
    assert PHONE_DIGITS not in log and "1357-2468" not in log and "１３５７" not in log


def test_the_first_admin_signs_in_with_the_printed_one_time_password(running_bot, staff_page):
    printed = staff_add(running_bot, "first-admin", "--role", "admin").stdout
    password = re.search(r"パスワード.*: (\S+)$", printed, re.MULTILINE).group(1)
    page = staff_page
    sign_in(page, running_bot.staff_url, "first-admin", password)
    expect(page.get_by_role("heading", name="パスワード変更")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("新しいパスワードを設定してください")
    page.get_by_label("現在のパスワード").fill(password)
    page.get_by_label("新しいパスワード（12文字以上）").fill("the admin's own passphrase")
    page.get_by_label("新しいパスワード（確認）").fill("the admin's own passphrase")
    page.get_by_role("button", name="変更する").click()
    expect(page.get_by_role("status")).to_have_text("パスワードを変更しました。")
    page.get_by_role("navigation").get_by_role("link", name="監査ログ").click()
    expect(page.get_by_role("row").filter(has_text="パスワード変更").first).to_contain_text("first-admin")
    assert run_axe(page) == []


def _faq_ids(messages: list[dict]) -> list[str]:
    cards = [m["custom"]["madoguchi"] for m in messages if (m.get("custom") or {}).get("madoguchi")]
    return [c["faq_id"] for c in cards if c["kind"] == "faq"]


def test_an_editor_answers_a_review_item_and_the_bot_answers_within_10_s(running_bot, staff_page):
    question = "黄色い袋どこで手に入る"  # the bot only suggests (low confidence): recorded for review
    first = running_bot.rest(f"e2e-review-{uuid.uuid4().hex}", question)
    assert "F0085" not in _faq_ids(first), "the bot already answers it: pick a question it cannot"
    staff_add(running_bot, "editor1", "--role", "editor", "--password-stdin", stdin=CLERK_PASSWORD + "\n")
    page = staff_page
    sign_in(page, running_bot.staff_url, "editor1", CLERK_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="見直し").click()
    row = page.get_by_role("row").filter(has_text=question)
    row.get_by_label("FAQ番号").fill("F0085")
    row.get_by_role("button", name="言い換えにする").click()
    expect(page.get_by_role("status")).to_contain_text("FAQ F0085 の言い換えにしました")
    deadline = time.monotonic() + LIVE_WITHIN_S
    while "F0085" not in _faq_ids(running_bot.rest(f"e2e-review-{uuid.uuid4().hex}", question)):
        assert time.monotonic() < deadline, f"the bot did not answer with F0085 within {LIVE_WITHIN_S} s"
        time.sleep(0.5)
