"""One tap to a person: every phone number a bot message shows is a ``tel:`` link, crisis numbers are
large call buttons right under the crisis text, and the connection-error box always offers 119 / 110.

Replies come from ``standin_replies.json``; the crisis replies there are copied from ``domain.yml`` in
the shape Rasa's REST channel sends them (the text, then ``custom`` as a message of its own).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
import yaml
from playwright.sync_api import Page, expect
from test_widget import STRINGS, ask, bot_messages, open_widget, run_axe
from widget_harness import ARTIFACTS, CITY_PHONE, REPLIES, REPO

pytestmark = pytest.mark.browser

RULES = json.loads(REPLIES.read_text(encoding="utf-8"))["rules"]
DOMAIN = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))["responses"]
#: WCAG 2.5.5 asks 44 px; crisis buttons are meant for shaking hands, so they must be 48 px or more.
MIN_CALL_BUTTON_PX = 48
CRISES = [
    ("生きていたくない", "utter_self_harm"),
    ("火事", "utter_emergency"),
    ("殴られ", "utter_dv"),
]


def _tel(number: str) -> str:
    return "tel:" + quote(re.sub(r"[^0-9#+]", "", number), safe="+")


def _tel_links(page: Page) -> list[tuple[str, str]]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.mdg-log a[href^=\"tel:\"]')]"
        ".map(a => [a.textContent, a.getAttribute('href')])"
    )


@pytest.mark.parametrize(("question", "response"), CRISES)
def test_crisis_answer_has_large_call_buttons_under_its_text(page, servers, question, response):
    phones = DOMAIN[response][0]["custom"]["madoguchi"]["phones"]
    open_widget(page)
    ask(page, question)
    answer = bot_messages(page).last
    expect(answer.locator(".mdg-calls")).to_be_visible()
    for phone in phones:
        name = STRINGS["callButton"].replace("{phone}", phone)
        button = answer.get_by_role("link", name=name, exact=True)
        expect(button).to_have_attribute("href", _tel(phone))
        box = button.bounding_box()
        assert box["height"] >= MIN_CALL_BUTTON_PX, (phone, box)
    # the buttons follow the crisis text directly, before anything else in the message
    assert answer.evaluate(
        "m => m.querySelector('.mdg-text').nextElementSibling === m.querySelector('.mdg-calls')"
    )
    # the numbers in the text itself are links too, named by the number
    in_text = answer.locator(".mdg-text a.mdg-tel")
    assert in_text.count() >= 1
    for i in range(in_text.count()):
        link = in_text.nth(i)
        number = link.inner_text()
        expect(link).to_have_accessible_name(re.compile(re.escape(number)))
        expect(link).to_have_attribute("href", _tel(number))
    assert page.locator('.mdg-log a[href^="tel:"]').count() >= len(phones) + in_text.count()


def test_crisis_call_buttons_survive_a_reload(page, servers):
    open_widget(page)
    ask(page, CRISES[0][0])
    expect(page.locator(".mdg-call").first).to_be_visible()
    count = page.locator(".mdg-call").count()
    page.reload()
    open_widget(page)
    expect(page.locator(".mdg-call")).to_have_count(count)


def test_phone_numbers_are_told_apart_from_dates_prices_postal_codes_tickets_and_urls(page, servers):
    rule = next(r for r in RULES if "expect_tel" in r)
    open_widget(page)
    ask(page, rule["contains"])
    expect(bot_messages(page)).to_have_count(1)
    assert _tel_links(page) == [[text, href] for text, href in rule["expect_tel"].items()]
    for number in rule["expect_tel"]:
        expect(page.get_by_role("link", name=number, exact=True)).to_be_visible()


def test_connection_error_offers_the_city_and_119_110_as_links(page, servers):
    open_widget(page)
    servers.rasa.stop_listening()
    try:
        ask(page, CRISES[0][0])
        error = page.locator(".mdg-error")
        expect(error).to_be_visible()
        for number in (CITY_PHONE, "119", "110"):
            expect(error.get_by_role("link", name=number, exact=True)).to_have_attribute("href", _tel(number))
    finally:
        servers.rasa.listen_again()


def test_axe_and_screenshot_of_a_crisis_answer_on_a_phone(browser, servers, axe_source):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="ja-JP")
    ctx.add_init_script(script=axe_source)
    try:
        pg = ctx.new_page()
        pg.goto(servers.page_url)
        open_widget(pg)
        ask(pg, CRISES[0][0])
        expect(pg.locator(".mdg-call").first).to_be_visible()
        pg.locator(".mdg-call").first.focus()
        assert run_axe(pg) == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "widget-crisis-360x740.png"))
    finally:
        ctx.close()
