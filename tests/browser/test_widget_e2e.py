"""End to end: the demo page, the widget, the real Rasa + action servers with the trained model.

Uses the ``running_bot`` fixture (tests/servers.py). The flow is driven by the keyboard: open the
widget by its accessible name, ask 住民票の写しを取りたい, follow a suggestion, then the phone /
callback path up to the ticket number. Prompts are recognised from the texts in ``domain.yml``.
"""

from __future__ import annotations

import re

import pytest
import yaml
from playwright.sync_api import Page, expect
from widget_harness import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTION = "住民票の写しを取りたい"
ARTIFACTS = REPO / "tests" / "artifacts"
TICKET = re.compile(r"CB-\d{8}-\d{4}")  # the key, kept on the 受付番号 box (data-ticket)
ANSWER_TIMEOUT_MS = 60_000


def _responses() -> dict[str, str]:
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
    return {
        name: variants[0]["text"] for name, variants in domain["responses"].items() if "text" in variants[0]
    }


def _bot(page: Page):
    return page.locator(".mdg-log .mdg-bot:not(.mdg-welcome):not(.mdg-starter)")


def _wait_for_more(page: Page, before: int) -> None:
    expect(page.locator(".mdg-typing")).to_have_text("", timeout=ANSWER_TIMEOUT_MS)
    assert page.locator(".mdg-error").count() == 0, page.locator(".mdg-error").inner_text()
    assert _bot(page).count() > before, "the bot sent no answer"


def _tab_to(page: Page, locator, limit: int = 60) -> None:
    for _ in range(limit):
        if locator.evaluate("n => n === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError("could not reach the control with Tab")


def _say(page: Page, text: str) -> int:
    """Types a message with the keyboard and waits for the answer; returns the answer's first index."""
    before = _bot(page).count()
    _tab_to(page, page.locator(".mdg-input"))
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    _wait_for_more(page, before)
    return before


def _press(page: Page, button) -> None:
    before = _bot(page).count()
    _tab_to(page, button)
    page.keyboard.press("Enter")
    _wait_for_more(page, before)


@pytest.fixture()
def e2e_page(browser, running_bot):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    pg = ctx.new_page()
    pg.goto(running_bot.widget_url + "/")
    yield pg
    ctx.close()


def test_resident_asks_follows_a_suggestion_and_requests_a_callback_by_keyboard(e2e_page, running_bot):
    page = e2e_page
    texts = _responses()
    launcher = page.get_by_role("button", name="AIチャットで質問する")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()

    first = _say(page, QUESTION)
    expect(_bot(page).nth(first)).to_contain_text("住民票")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / "e2e-answer-1280x800.png")
    )  # the README's picture, from the real bot
    suggestion = _bot(page).nth(first).locator(".mdg-choice").first
    _press(page, suggestion)

    _press(page, page.get_by_role("button", name="電話で相談"))
    _press(page, page.locator('.mdg-choice[data-payload="/request_callback"]').last)

    replies = {
        texts["utter_ask_callback_phone"][:12]: "090-1234-5678",
        texts["utter_ask_callback_name"][:8]: "やまだ はなこ",
        texts["utter_ask_callback_topic"][:8]: "住民票のこと",
    }
    for _ in range(8):
        last = _bot(page).last
        text = last.inner_text()
        if last.locator(".mdg-ticket-box").count():
            break
        prompt = next((reply for start, reply in replies.items() if start in text), None)
        choices = last.locator(".mdg-choice")
        if prompt:
            _say(page, prompt)
        elif choices.count():
            _press(page, choices.first)  # time slot, then the confirmation
        else:
            raise AssertionError(f"unexpected step in the callback path: {text}")
    box = _bot(page).last.locator(".mdg-ticket-box")
    key = box.get_attribute("data-ticket")
    assert TICKET.fullmatch(key)
    ticket = box.locator(".mdg-ticket")  # emphasised, on one line: the number of that day
    expect(ticket).to_have_count(1)
    assert ticket.inner_text() == key.rsplit("-", 1)[1]
    assert "090-1234-5678" not in running_bot.log()  # the resident's number is not logged


def test_crisis_answer_from_the_real_bot_has_call_buttons(e2e_page, running_bot):
    page = e2e_page
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))["responses"]
    phones = domain["utter_self_harm"][0]["custom"]["madoguchi"]["phones"]
    page.get_by_role("button", name="AIチャットで質問する").click()
    # starter buttons from the real bot: the procedures of data/menu.yml (a resident who waits sees them)
    menu = yaml.safe_load((REPO / "data" / "menu.yml").read_text(encoding="utf-8"))["popular"]
    starters = page.locator(".mdg-starter .mdg-choice")
    expect(starters).to_have_count(len(menu), timeout=ANSWER_TIMEOUT_MS)
    first = _say(page, "もう生きていたくない")
    answer = _bot(page).nth(first)
    # Rasa's REST channel sends the custom part as a message of its own: the widget joins it to the text
    calls = answer.locator("a.mdg-call")
    expect(calls).to_have_count(len(phones))
    hrefs = calls.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["tel:" + p.replace("-", "").replace("#", "%23") for p in phones]
    assert answer.locator(".mdg-text a.mdg-tel").count() >= 1
