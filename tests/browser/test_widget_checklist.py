"""A life-event checklist can be printed (ask 7 of issue #11), in Debian's Chromium.

The checklist is the real core's (:func:`bot.dialogue.compose.answer_life_event` over data/), sent by
the stand-in server as Rasa's REST channel sends it. Under ``emulate_media(media="print")`` the list is
shown and the composer, the settings and the buttons are not; 「このリストを印刷」 prints that list alone.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_widget import STRINGS, ask, bot_messages, open_settings, open_widget, run_axe
from widget_harness import ARTIFACTS

from bot import settings
from bot.dialogue import compose
from bot.dialogue.live import LiveKnowledge

pytestmark = pytest.mark.browser

QUESTION = "家族が亡くなりました"
OTHER = "住民票の写しを取りたい"  # an ordinary answer before the checklist (standin_replies.json)


@pytest.fixture()
def checklist(servers):
    k = LiveKnowledge(settings.load({}), faq=lambda: None).now()
    turn = compose.answer_life_event(k, k.catalog.life_event("death"), None)
    reply = turn.replies[0]  # the checklist (then the feedback question, a domain.yml response)
    card = reply.card.to_json()
    messages = [
        {"text": reply.text(k.messages), "buttons": [b.to_json() for b in reply.buttons]},
        {"custom": {"madoguchi": card}},
    ]
    rule = {"contains": QUESTION, "reply": messages}
    servers.standin.rules.insert(0, rule)
    yield [k.catalog.get(pid).name for pid in card["procedures"]]
    servers.standin.rules.remove(rule)


def _shown(page, selector: str) -> bool:
    return page.locator(selector).first.is_visible()


def test_print_shows_the_checklist_and_hides_the_composer_and_settings(page, checklist, axe_source):
    open_widget(page)
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(1)
    answer = bot_messages(page).last
    printer = answer.get_by_role("button", name=STRINGS["printChecklist"])
    expect(printer).to_be_visible()
    assert run_axe(page) == []
    open_settings(page)
    page.emulate_media(media="print")
    try:
        expect(answer).to_be_visible()
        text = answer.locator(".mdg-text").inner_text()
        assert all(name in text for name in checklist)  # every procedure of the list is on paper
        for hidden in (
            ".mdg-composer",
            ".mdg-settings",
            ".mdg-settings-toggle",
            ".mdg-print",
            ".mdg-choices",
        ):
            assert not _shown(page, hidden), hidden
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-checklist-print.png"), full_page=True)
    finally:
        page.emulate_media(media="screen")


def test_the_print_button_prints_that_checklist_alone(page, servers, checklist):
    open_widget(page)
    ask(page, OTHER)
    expect(bot_messages(page)).to_have_count(2)  # the answer and its feedback question
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(3)
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    answer = bot_messages(page).last
    answer.get_by_role("button", name=STRINGS["printChecklist"]).click()
    assert page.evaluate("() => window.__printed") == 1
    page.emulate_media(media="print")
    try:
        expect(answer).to_be_visible()
        assert page.locator(".mdg-log > :visible").count() == 1  # the other answers are not printed
    finally:
        page.emulate_media(media="screen")
    page.evaluate("() => window.dispatchEvent(new Event('afterprint'))")
    page.emulate_media(media="print")
    try:  # after printing, the whole conversation prints again
        assert page.locator(".mdg-log > :visible").count() > 1
    finally:
        page.emulate_media(media="screen")
