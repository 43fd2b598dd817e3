"""Readable answers (ask 5 of issue #11): starter buttons on opening, the 受付番号 large and on one line,
👍/👎 with words, no stray ASCII spaces between Japanese sentences.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_widget import (
    QUESTION,
    RULES,
    STRINGS,
    TICKET_RULE,
    ask,
    bot_messages,
    open_settings,
    open_widget,
    run_axe,
)
from widget_harness import ARTIFACTS, STARTER_PAYLOAD

pytestmark = pytest.mark.browser

MENU = next(r for r in RULES["rules"] if r.get("payload") == STARTER_PAYLOAD)["reply"][0]
#: The 受付番号 is read out over the phone: at least this much larger than the text around it.
MIN_TICKET_SCALE = 1.2


def test_starter_buttons_are_shown_on_opening_and_asked_once(page, servers):
    open_widget(page)
    starter = page.locator(".mdg-starter")
    expect(starter).to_have_count(1)
    titles = starter.locator(".mdg-choice").all_inner_texts()
    assert titles == [b["title"] for b in MENU["buttons"]]
    page.get_by_role("button", name=STRINGS["close"]).click()
    page.get_by_role("button", name=STRINGS["launcher"]).click()
    page.reload()
    open_widget(page)
    expect(starter).to_have_count(1)
    assert [r["message"] for r in servers.standin.requests] == [STARTER_PAYLOAD]
    assert servers.standin.asked() == []  # no question bubble, nothing the resident asked

    first = MENU["buttons"][0]
    starter.get_by_role("button", name=first["title"]).click()
    expect(page.locator(".mdg-user")).to_have_text(STRINGS["speakerUser"] + first["title"])
    assert servers.standin.messages() == [first["payload"]]


def test_a_slow_starter_never_blocks_a_question_and_comes_too_late_to_show(page, servers):
    servers.standin.delay_s = 1.0
    page.get_by_role("button", name=STRINGS["launcher"]).click()
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(2, timeout=10_000)
    assert servers.standin.messages() == [QUESTION]
    expect(page.locator(".mdg-starter")).to_have_count(0)


def test_stray_spaces_after_a_sentence_are_not_shown_and_word_spaces_are(page):
    open_widget(page)
    shown = page.locator(".mdg-starter .mdg-text").inner_text()
    assert "？ " in MENU["text"]
    assert shown == MENU["text"].replace("？ ", "？")


def test_ticket_number_is_large_and_on_one_line_at_320px_with_large_text(browser, servers, axe_source):
    ctx = browser.new_context(viewport={"width": 320, "height": 640}, locale="ja-JP")
    ctx.add_init_script(script=axe_source)
    try:
        pg = ctx.new_page()
        pg.goto(servers.page_url)
        open_widget(pg)
        open_settings(pg)
        pg.get_by_role("button", name=STRINGS["sizeLarge"], exact=True).click()
        pg.get_by_role("button", name=STRINGS["settingsLabel"]).click()
        ask(pg, "090-1234-5678")
        ticket = bot_messages(pg).last.locator(".mdg-ticket")
        expect(ticket).to_have_count(1)
        card = TICKET_RULE["reply"][1]["custom"]["madoguchi"]
        box = bot_messages(pg).last.locator(".mdg-ticket-box")
        # short enough to read out: the day of the request and its number of that day, and when the
        # city will call, all from the card (the full ticket stays the key staff look it up by)
        assert ticket.inner_text() == card["number"] and len(card["number"]) == 4
        assert box.get_attribute("data-ticket") == card["ticket"]
        assert box.locator(".mdg-ticket-day").inner_text() == card["received_label"]
        assert box.locator(".mdg-ticket-call").inner_text().endswith(card["call_when"])
        assert box.get_attribute("aria-label") == STRINGS["ticketLabel"]
        sizes = ticket.evaluate(
            "t => [parseFloat(getComputedStyle(t).fontSize),"
            " parseFloat(getComputedStyle(t.parentNode).fontSize),"
            " t.getClientRects().length, getComputedStyle(t).fontWeight]"
        )
        assert sizes[0] >= sizes[1] * MIN_TICKET_SCALE
        assert sizes[2] == 1  # one box: never broken across lines
        assert int(sizes[3]) >= 700
        bubble = bot_messages(pg).last.bounding_box()
        box = ticket.bounding_box()
        assert box["x"] >= bubble["x"] and box["x"] + box["width"] <= bubble["x"] + bubble["width"]
        assert ticket.evaluate("t => t.scrollWidth <= t.clientWidth")  # the number fits its box
        assert run_axe(pg) == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "widget-ticket-320x640-large.png"))
    finally:
        ctx.close()


def test_feedback_buttons_say_what_they_mean_in_words(page, servers):
    open_widget(page)
    ask(page, QUESTION)
    group = page.get_by_role("group", name=STRINGS["feedbackQuestion"])
    for name in ("feedbackYes", "feedbackNo"):
        button = group.get_by_role("button", name=STRINGS[name], exact=True)
        expect(button).to_have_text(STRINGS[name])
        expect(button).to_be_visible()


#: Furigana must be readable: rt at least 12 px at 標準 (ask 3 of issue #11; 0.6em of 16 px was 9.6 px).
MIN_RT_PX = 12
#: Gap between two characters of a word under a reading; more than this means the word was pulled apart.
MAX_BASE_GAP_PX = 1.0


def test_furigana_switch_acts_on_answers_already_shown_and_is_readable(page, servers, axe_source):
    open_widget(page)
    ask(page, QUESTION)
    answer = bot_messages(page).first
    expect(answer).to_be_visible()
    rt = answer.locator("rt").first
    expect(rt).to_be_hidden()
    open_settings(page)
    page.get_by_role("switch", name=STRINGS["furigana"]).click()
    expect(rt).to_be_visible()  # the answer given before the switch now shows its readings
    assert float(rt.evaluate("r => getComputedStyle(r).fontSize").removesuffix("px")) >= MIN_RT_PX
    gaps = answer.locator("ruby").evaluate_all(
        """rubies => rubies.filter(r => r.firstChild.textContent.length > 1).map(r => {
            const text = r.firstChild, gaps = [];
            for (let i = 0; i + 1 < text.length; i++) {
                const a = document.createRange(), b = document.createRange();
                a.setStart(text, i); a.setEnd(text, i + 1); b.setStart(text, i + 1); b.setEnd(text, i + 2);
                const ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
                if (Math.abs(ra.top - rb.top) < 2) gaps.push(rb.left - ra.right);
            }
            return gaps;
        }).flat()"""
    )
    assert gaps, "no multi-character word with a reading to measure"
    assert max(gaps) <= MAX_BASE_GAP_PX, gaps
    assert run_axe(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-furigana-on-shown-answer-1280x800.png"))


def test_yasashii_switch_says_what_it_did(page, servers):
    open_widget(page)
    open_settings(page)
    page.get_by_role("switch", name=STRINGS["yasashii"]).click()
    expect(page.get_by_role("log")).to_contain_text(STRINGS["yasashiiOn"])
    page.get_by_role("switch", name=STRINGS["yasashii"]).click()
    expect(page.get_by_role("log")).to_contain_text(STRINGS["yasashiiOff"])


PROCEDURE = next(r for r in RULES["rules"] if r.get("contains") == "印鑑証明")
CARD = PROCEDURE["reply"][1]["custom"]["madoguchi"]


def _plain(page) -> str:
    """The newest answer's text without its readings."""
    return (
        bot_messages(page)
        .last.locator(".mdg-text")
        .evaluate(
            "p => { const c = p.cloneNode(true); c.querySelectorAll('rt, rp').forEach(n => n.remove());"
            " return c.textContent; }"
        )
    )


@pytest.mark.parametrize("furigana", [False, True])
def test_yasashii_switch_rewrites_the_summary_of_answers_already_shown(page, servers, furigana):
    open_widget(page)
    if furigana:
        open_settings(page)
        page.get_by_role("switch", name=STRINGS["furigana"]).click()
    ask(page, PROCEDURE["contains"])
    expect(bot_messages(page)).to_have_count(1)
    assert CARD["summary"] in _plain(page)
    open_settings(page)
    switch = page.get_by_role("switch", name=STRINGS["yasashii"])
    switch.click()
    expect(page.get_by_role("log")).to_contain_text(STRINGS["yasashiiOn"])
    shown = _plain(page)
    assert CARD["summary_easy"] in shown and CARD["summary"] not in shown
    answer = bot_messages(page).last.locator(".mdg-text")
    expect(answer.get_by_role("link", name="012-345-6701")).to_be_visible()  # still a tel: link
    switch.click()
    expect(page.get_by_role("log")).to_contain_text(STRINGS["yasashiiOff"])
    assert CARD["summary"] in _plain(page)
    if furigana:  # back to the text the readings were made for: they are shown again
        expect(bot_messages(page).last.locator("rt").first).to_be_visible()
    # an answer asked with the switch on comes in やさしい日本語 from the server and stays so
    switch.click()
    ask(page, PROCEDURE["contains"])
    expect(bot_messages(page)).to_have_count(2)
    assert CARD["summary_easy"] in _plain(page)
