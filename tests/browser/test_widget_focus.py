"""Keyboard and focus (ask 4 of issue #11): new choices take the focus or are one shortcut away, the
newest answer's buttons stay two Tab stops from the text box however long the conversation, and
会話を消去 asks first and is not next to 閉じる.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from test_widget import (
    JUMINHYO,
    PHONE_RULE,
    QUESTION,
    RULES,
    STRINGS,
    ask,
    bot_messages,
    open_settings,
    open_widget,
    run_axe,
)

pytestmark = pytest.mark.browser

#: The newest answer's first button is at most this many key presses from the text box (ask 4).
MAX_STOPS_TO_NEWEST_CHOICE = 2
NO_CHOICES = next(r["contains"] for r in RULES["rules"] if "expect_tel" in r)


def _active_in_newest_answer(page: Page) -> bool:
    return page.evaluate(
        "() => { const answers = [...document.querySelectorAll('.mdg-log .mdg-bot')]"
        ".filter(m => m.querySelector('.mdg-choices, .mdg-calls'));"
        " return answers.length > 0 && answers[answers.length - 1].contains(document.activeElement); }"
    )


def _presses_to_newest_choice(page: Page) -> int:
    """Shift+Tab from the text box, then Enter on the shortcut; counts the key presses."""
    page.locator(".mdg-input").focus()
    for presses in range(1, 6):
        page.keyboard.press("Shift+Tab")
        if _active_in_newest_answer(page):
            return presses
        if page.evaluate("() => document.activeElement.classList.contains('mdg-skip')"):
            page.keyboard.press("Enter")
            assert _active_in_newest_answer(page)
            return presses + 1
    raise AssertionError("the newest answer's buttons are not near the text box")


def test_newest_choices_stay_two_key_presses_from_the_text_box(page, servers):
    open_widget(page)
    for turn in range(3):
        ask(page, QUESTION)
        expect(bot_messages(page)).to_have_count(2 * (turn + 1))
        expect(page.locator(".mdg-input")).to_be_focused()  # typing goes on where it was
        assert _presses_to_newest_choice(page) <= MAX_STOPS_TO_NEWEST_CHOICE
        first_choice = JUMINHYO["reply"][0]["buttons"][0]["title"]
        expect(page.locator(":focus")).to_have_text(first_choice)


def test_shortcut_is_seen_when_focused_and_hidden_without_new_choices(page, servers):
    open_widget(page)
    skip = page.get_by_role("button", name=STRINGS["skipToChoices"])
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(2)
    page.locator(".mdg-input").focus()
    page.keyboard.press("Shift+Tab")
    expect(skip).to_be_focused()
    assert skip.evaluate("b => getComputedStyle(b).opacity") == "1"
    box = skip.bounding_box()
    assert box["height"] >= 44
    ask(page, NO_CHOICES)  # an answer without choices: nothing new to jump to
    expect(bot_messages(page)).to_have_count(3)
    expect(skip).to_be_hidden()


def test_choices_in_an_answer_to_a_button_take_the_focus(page, servers):
    open_widget(page)
    page.get_by_role("button", name=STRINGS["phone"]).click()
    expect(bot_messages(page)).to_have_count(1)
    callback = PHONE_RULE["reply"][0]["buttons"][0]["title"]
    expect(page.get_by_role("button", name=callback)).to_be_focused()


def test_clear_is_away_from_close_and_asks_first(page, servers, axe_source):
    open_widget(page)
    header = page.locator(".mdg-header")
    expect(header.get_by_role("button", name=STRINGS["clear"])).to_have_count(0)
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(2)

    open_settings(page)
    clear = page.get_by_role("button", name=STRINGS["clear"])
    clear.click()
    no = page.get_by_role("button", name=STRINGS["clearNo"])
    expect(page.get_by_role("group", name=STRINGS["clearQuestion"])).to_be_visible()
    expect(no).to_be_focused()  # the safe answer takes the focus
    assert run_axe(page) == []
    no.click()
    expect(bot_messages(page)).to_have_count(2)  # nothing lost
    expect(clear).to_be_focused()

    clear.click()
    page.get_by_role("button", name=STRINGS["clearYes"]).click()
    expect(bot_messages(page)).to_have_count(0)
    expect(page.get_by_role("log")).to_contain_text(STRINGS["cleared"])
    expect(page.locator(".mdg-input")).to_be_focused()
