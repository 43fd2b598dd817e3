"""The chat widget's UI contract, in Debian's Chromium, against a stand-in Rasa REST endpoint.

Texts are never written here: expected Japanese comes from ``widget/i18n/ja.json`` (the widget's UI
strings) and ``standin_replies.json`` (what the stand-in server answers).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect
from widget_harness import ARTIFACTS, CITY_PHONE, REPLIES, REPO

pytestmark = pytest.mark.browser

STRINGS = json.loads((REPO / "widget" / "i18n" / "ja.json").read_text(encoding="utf-8"))
RULES = json.loads(REPLIES.read_text(encoding="utf-8"))
QUESTION = "住民票の写しを取りたい"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _rule(**key) -> dict:
    ((name, value),) = key.items()
    return next(r for r in RULES["rules"] if r.get(name) == value)


JUMINHYO = _rule(contains="住民票")
PHONE_RULE = _rule(payload="/ask_phone")
TICKET_RULE = next(r for r in RULES["rules"] if "pattern" in r)


def open_widget(page: Page):
    page.get_by_role("button", name=STRINGS["launcher"]).click()
    dialog = page.get_by_role("dialog", name=STRINGS["title"])
    expect(dialog).to_be_visible()
    # the starter buttons (asked from the server on first opening) are there before a test goes on
    expect(page.locator(".mdg-starter").first).to_be_visible()
    return dialog


def open_settings(page: Page) -> None:
    """Unfolds 「表示の設定」 (text size, やさしい日本語, ふりがな, 会話を消去)."""
    toggle = page.get_by_role("button", name=STRINGS["settingsLabel"])
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def clear_conversation(page: Page) -> None:
    open_settings(page)
    page.get_by_role("button", name=STRINGS["clear"]).click()
    page.get_by_role("button", name=STRINGS["clearYes"]).click()


def bot_messages(page: Page):  # readings (rt) are in the DOM: compare texts with use_inner_text
    """The bot's answers (not the greeting, not the starter buttons shown on opening)."""
    return page.locator(".mdg-log .mdg-bot:not(.mdg-welcome):not(.mdg-starter)")


def ask(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name=re.compile(re.escape(STRINGS["inputLabel"][:5])))
    box.fill(text)
    box.press("Enter")


def focused(page: Page) -> str:
    return page.evaluate(
        "() => { const a = document.activeElement;"
        " return (a.getAttribute('aria-label') || a.textContent || '') + '|' + a.tagName; }"
    )


def run_axe(page: Page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the current page (axe is added by the page fixture)."""
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))",
        AXE_TAGS,
    )
    return result


# --- dialog ----------------------------------------------------------------------------------------


def test_launcher_opens_a_labelled_modal_dialog_that_takes_and_returns_focus(page):
    launcher = page.get_by_role("button", name=STRINGS["launcher"])
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=STRINGS["title"])
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(page.locator(".mdg-input")).to_be_focused()
    log = page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()

    launcher.click()
    page.get_by_role("button", name=STRINGS["close"]).click()
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()


def test_focus_is_trapped_inside_the_open_dialog(page):
    open_widget(page)
    for key in ["Tab"] * 25 + ["Shift+Tab"] * 25:
        page.keyboard.press(key)
        inside = page.evaluate("() => document.querySelector('.mdg-panel').contains(document.activeElement)")
        assert inside, f"focus left the dialog after {key}: {focused(page)}"


# --- asking, answers, suggestions, links -------------------------------------------------------------


def test_ask_with_keyboard_answer_then_click_a_suggestion(page, servers):
    open_widget(page)
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    expect(page.locator(".mdg-typing")).to_contain_text(STRINGS["typing"])
    expect(bot_messages(page)).to_have_count(2)
    expect(page.locator(".mdg-typing")).to_have_text("")
    first = bot_messages(page).first
    expect(first).to_contain_text(JUMINHYO["reply"][0]["text"].split("\n")[0], use_inner_text=True)
    expect(page.locator(".mdg-user").last).to_have_text(STRINGS["speakerUser"] + QUESTION)

    sent = servers.standin.asked()[0]
    assert sent["message"] == QUESTION
    # readings are always asked for: the ふりがな switch shows them on answers already shown
    assert sent["metadata"] == {"yasashii": False, "furigana": True}
    assert re.fullmatch(r"[0-9a-f-]{32,36}", sent["sender"])

    # the URL in the text and the url-button are links that say they open a new window
    links = first.get_by_role("link")
    expect(links).to_have_count(2)
    for i in range(2):
        link = links.nth(i)
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        expect(link).to_have_accessible_name(re.compile(re.escape(STRINGS["newWindow"])))
        assert link.get_attribute("href").startswith("https://")

    details = JUMINHYO["reply"][0]["buttons"][0]
    first.get_by_role("button", name=details["title"]).click()
    expect(bot_messages(page)).to_have_count(3)
    assert servers.standin.messages()[-1] == details["payload"]
    expect(bot_messages(page).last).to_contain_text(
        _rule(payload=details["payload"])["reply"][0]["text"], use_inner_text=True
    )


def test_enter_during_ime_composition_never_sends_and_shift_enter_is_a_newline(page, servers):
    open_widget(page)
    box = page.locator(".mdg-input")
    box.fill("じゅうみんひょう")
    # Enter that confirms a conversion: isComposing, and the legacy keyCode 229 some IMEs send
    page.evaluate(
        """() => {
            const box = document.querySelector('.mdg-input');
            box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', isComposing: true,
                                                            bubbles: true, cancelable: true}));
            const legacy = new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true});
            Object.defineProperty(legacy, 'keyCode', {get: () => 229});
            box.dispatchEvent(legacy);
        }"""
    )
    expect(box).to_have_value("じゅうみんひょう")

    box.press("Shift+Enter")
    box.press_sequentially("住民票")
    expect(box).to_have_value("じゅうみんひょう\n住民票")
    # The sentinel: the plain Enter below sends. Had any Enter above sent, its message would come first.
    box.press("Enter")
    expect(bot_messages(page)).to_have_count(2)
    assert servers.standin.messages() == ["じゅうみんひょう\n住民票"]
    expect(box).to_have_value("")


def test_send_button_works_by_touch(browser, servers):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    try:
        pg = ctx.new_page()
        pg.goto(servers.page_url)
        pg.get_by_role("button", name=STRINGS["launcher"]).tap()
        pg.locator(".mdg-input").fill(QUESTION)
        pg.get_by_role("button", name=STRINGS["send"], exact=True).tap()
        expect(bot_messages(pg)).to_have_count(2)
        assert servers.standin.messages() == [QUESTION]
    finally:
        ctx.close()


def test_keyboard_only_phone_and_callback_path(page, servers):
    page.get_by_role("button", name=STRINGS["launcher"]).focus()
    page.keyboard.press("Enter")
    # from the text box, the always-visible 電話で相談 button is one Shift+Tab away
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name=STRINGS["phone"])).to_be_focused()
    page.keyboard.press("Enter")
    expect(bot_messages(page)).to_have_count(1)
    assert servers.standin.messages() == ["/ask_phone"]
    expect(bot_messages(page).first).to_contain_text(PHONE_RULE["reply"][0]["text"], use_inner_text=True)

    callback = PHONE_RULE["reply"][0]["buttons"][0]
    target = page.get_by_role("button", name=callback["title"])
    for _ in range(30):
        if target.evaluate("b => b === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(target).to_be_focused()
    page.keyboard.press("Enter")
    expect(bot_messages(page)).to_have_count(2)
    assert servers.standin.messages()[-1] == callback["payload"]

    box = page.locator(".mdg-input")
    for _ in range(30):
        if box.evaluate("b => b === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(box).to_be_focused()
    page.keyboard.type("090-1234-5678")
    page.keyboard.press("Enter")
    expect(bot_messages(page)).to_have_count(3)
    expect(bot_messages(page).last).to_contain_text(TICKET_RULE["reply"][0]["text"], use_inner_text=True)


def test_feedback_buttons_have_names_and_send_the_payload(page, servers):
    open_widget(page)
    ask(page, QUESTION)
    group = page.get_by_role("group", name=STRINGS["feedbackQuestion"])
    expect(group).to_be_visible()
    yes = group.get_by_role("button", name=STRINGS["feedbackYes"], exact=True)
    no = group.get_by_role("button", name=STRINGS["feedbackNo"], exact=True)
    expect(yes).to_be_enabled()
    yes.click()
    expect(bot_messages(page)).to_have_count(3)
    assert servers.standin.messages()[-1] == '/feedback{"helpful":true}'
    expect(yes).to_have_attribute("aria-pressed", "true")
    expect(yes).to_be_disabled()
    expect(no).to_be_disabled()


# --- injection -------------------------------------------------------------------------------------


def test_markup_and_javascript_urls_are_shown_as_text_never_run(page, servers):
    open_widget(page)
    typed = (
        '<img src=x onerror="window.__pwned=1">'
        + "<script>window.__pwned=1</script> javascript:alert(1) injection"
    )
    ask(page, typed)
    expect(bot_messages(page)).to_have_count(1)
    # The sentinel: a broken image of our own; once its onerror has run, one of the widget's would have too.
    page.evaluate(
        """() => { const img = document.createElement('img');
                   img.onerror = () => { window.__sentinel = 1; };
                   img.src = 'x'; document.body.appendChild(img); }"""
    )
    page.wait_for_function("() => window.__sentinel === 1")
    assert page.evaluate("() => window.__pwned") is None

    expect(page.locator(".mdg-user").last).to_contain_text(typed)
    bot = bot_messages(page).first
    expect(bot).to_contain_text("<script>window.__pwned=1</script>")
    expect(bot).to_contain_text("javascript:window.__pwned=1")
    assert page.locator(".mdg-root img, .mdg-root script, .mdg-root iframe").count() == 0
    hrefs = page.locator(".mdg-log a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://city.example/ok"]
    # the javascript: url-button and payload are plain text, not links or buttons
    expect(bot.get_by_role("button", name="危ないリンク")).to_have_count(0)
    expect(bot.get_by_text("危ないリンク")).to_be_visible()
    expect(bot.get_by_role("button", name="危ないペイロード")).to_have_count(0)
    # a button whose title is markup shows the markup as its name
    bot.get_by_role("button", name='<img src=x onerror="window.__pwned=1">').click()
    expect(bot_messages(page)).to_have_count(2)
    assert page.evaluate("() => window.__pwned") is None


# --- failures --------------------------------------------------------------------------------------


def test_unreachable_server_shows_the_phone_number_and_retry_works(page, servers):
    open_widget(page)
    servers.rasa.stop_listening()
    ask(page, QUESTION)
    error = page.locator(".mdg-error")
    expect(error).to_contain_text(STRINGS["errorUnreachable"])
    expect(error).to_contain_text(CITY_PHONE)
    expect(error.get_by_role("link", name=CITY_PHONE)).to_have_attribute(
        "href", "tel:" + CITY_PHONE.replace("-", "")
    )

    servers.rasa.listen_again()
    error.get_by_role("button", name=STRINGS["retry"]).click()
    expect(bot_messages(page)).to_have_count(2)
    expect(page.locator(".mdg-error")).to_have_count(0)
    assert servers.standin.messages() == [QUESTION]
    expect(page.locator(".mdg-user")).to_have_count(1)  # the retry did not repeat the question


def test_server_error_status_is_shown_not_an_empty_answer(page, servers):
    open_widget(page)
    servers.standin.error_status = 503
    ask(page, QUESTION)
    expect(page.locator(".mdg-error")).to_contain_text(STRINGS["errorUnreachable"])
    servers.standin.error_status = None
    page.locator(".mdg-error").get_by_role("button", name=STRINGS["retry"]).click()
    expect(bot_messages(page)).to_have_count(2)


# --- session ---------------------------------------------------------------------------------------


def test_conversation_survives_reload_and_clear_starts_afresh(page, servers):
    open_widget(page)
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(2)
    sender = servers.standin.asked()[0]["sender"]

    page.reload()
    open_widget(page)
    expect(bot_messages(page)).to_have_count(2)
    expect(page.locator(".mdg-user")).to_have_count(1)
    ask(page, "/ask_phone")
    expect(bot_messages(page)).to_have_count(3)
    assert servers.standin.asked()[-1]["sender"] == sender

    clear_conversation(page)
    expect(bot_messages(page)).to_have_count(0)
    expect(page.locator(".mdg-user")).to_have_count(0)
    expect(page.get_by_role("log")).to_contain_text(STRINGS["cleared"])
    expect(page.locator(".mdg-starter")).to_be_visible()  # a fresh conversation gets its starters again
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(2)
    assert servers.standin.asked()[-1]["sender"] != sender

    page.reload()
    open_widget(page)
    expect(bot_messages(page)).to_have_count(2)  # only the new conversation
    assert page.evaluate("() => window.localStorage.length") == 0
    assert page.context.cookies() == []


def test_conversation_is_not_kept_after_the_tab_closes(context, servers):
    first = context.new_page()
    first.goto(servers.page_url)
    open_widget(first)
    ask(first, QUESTION)
    expect(bot_messages(first)).to_have_count(2)
    first.close()
    second = context.new_page()
    second.goto(servers.page_url)
    open_widget(second)
    expect(bot_messages(second)).to_have_count(0)


# --- settings --------------------------------------------------------------------------------------


def test_yasashii_and_furigana_switches_reach_the_server_and_ruby_is_rendered(page, servers):
    open_widget(page)
    open_settings(page)
    for name in ("yasashii", "furigana"):
        switch = page.get_by_role("switch", name=STRINGS[name])
        expect(switch).to_have_attribute("aria-checked", "false")
        switch.click()
        expect(switch).to_have_attribute("aria-checked", "true")
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(1)
    assert servers.standin.asked()[0]["metadata"] == {"yasashii": True, "furigana": True}
    bot = bot_messages(page).first
    without_readings = bot.locator(".mdg-text").evaluate(
        "p => { const c = p.cloneNode(true); c.querySelectorAll('rt, rp').forEach(n => n.remove());"
        " return c.textContent; }"
    )
    assert without_readings == JUMINHYO["yasashii"][0]["text"]
    ruby = bot.locator("ruby")
    assert ruby.count() >= 3
    pairs = ruby.evaluate_all(
        "rs => rs.map(r => [r.firstChild.textContent, r.querySelector('rt').textContent])"
    )
    assert ["住民票", "じゅうみんひょう"] in pairs
    expect(bot.locator("rt").first).to_be_visible()

    # turning ふりがな off hides the readings without rewriting the conversation
    page.get_by_role("switch", name=STRINGS["furigana"]).click()
    expect(bot.locator("rt").first).to_be_hidden()
    # settings survive a reload of the tab
    page.reload()
    open_widget(page)
    open_settings(page)
    expect(page.get_by_role("switch", name=STRINGS["yasashii"])).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("switch", name=STRINGS["furigana"])).to_have_attribute("aria-checked", "false")


def test_text_size_control(page):
    open_widget(page)
    open_settings(page)
    group = page.get_by_role("group", name=STRINGS["textSize"])
    normal = group.get_by_role("button", name=STRINGS["sizeNormal"])
    large = group.get_by_role("button", name=STRINGS["sizeLarge"], exact=True)
    expect(normal).to_have_attribute("aria-pressed", "true")
    size = "() => getComputedStyle(document.querySelector('.mdg-input')).fontSize"
    before = float(page.evaluate(size).removesuffix("px"))
    large.click()
    expect(large).to_have_attribute("aria-pressed", "true")
    expect(normal).to_have_attribute("aria-pressed", "false")
    after = float(page.evaluate(size).removesuffix("px"))
    assert after >= before * 1.2


# --- accessibility (axe-core) ------------------------------------------------------------------------


def _conversation(page: Page) -> None:
    open_widget(page)
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(2)


@pytest.mark.parametrize("variant", ["standard", "large", "furigana"])
def test_axe_finds_no_wcag_a_or_aa_violations(page, axe_source, variant):
    assert run_axe(page) == []  # the page with the launcher only
    if variant == "furigana":
        open_widget(page)
        open_settings(page)
        page.get_by_role("switch", name=STRINGS["furigana"]).click()
        ask(page, QUESTION)
        expect(bot_messages(page)).to_have_count(2)
        expect(page.locator(".mdg-log ruby").first).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-furigana-1280x800.png"))
    else:
        _conversation(page)
        if variant == "large":
            open_settings(page)
            page.get_by_role("button", name=STRINGS["sizeLarge"], exact=True).click()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "widget-large-1280x800.png"))
    page.get_by_role("button", name=STRINGS["phone"]).focus()  # a focused state is checked too
    assert run_axe(page) == []


def test_axe_with_an_error_message_shown(page, servers, axe_source):
    open_widget(page)
    servers.standin.error_status = 503
    ask(page, QUESTION)
    expect(page.locator(".mdg-error")).to_be_visible()
    assert run_axe(page) == []


# --- layouts, motion, print, screenshots --------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(360, 740), (1280, 800)])
def test_layouts_and_screenshots(browser, servers, width, height):
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
    try:
        pg = ctx.new_page()
        pg.goto(servers.page_url)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.get_by_role("button", name=STRINGS["launcher"]).wait_for()
        pg.screenshot(path=str(ARTIFACTS / f"widget-closed-{width}x{height}.png"))
        _conversation(pg)
        box = pg.locator(".mdg-panel").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5
        assert box["y"] >= 0 and box["y"] + box["height"] <= height + 0.5
        if width <= 400:
            assert box["width"] >= width - 1  # full screen on a phone
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= width
        # nothing inside the panel is wider than the panel (no sideways scrolling in the chat)
        assert pg.evaluate(
            "() => { const log = document.querySelector('.mdg-log');"
            " return log.scrollWidth <= log.clientWidth; }"
        )
        pg.screenshot(path=str(ARTIFACTS / f"widget-open-{width}x{height}.png"))
    finally:
        ctx.close()


@pytest.mark.parametrize(("motion", "animation"), [("reduce", "none"), ("no-preference", "mdg-blink")])
def test_reduced_motion_stops_animations(browser, servers, motion, animation):
    ctx = browser.new_context(reduced_motion=motion)
    try:
        pg = ctx.new_page()
        pg.goto(servers.page_url)
        open_widget(pg)
        servers.standin.delay_s = 3.0  # the typing indicator stays while the answer is slow
        pg.locator(".mdg-input").fill(QUESTION)
        pg.locator(".mdg-input").press("Enter")
        dot = pg.locator(".mdg-dots span").first
        dot.wait_for(state="visible")
        assert dot.evaluate("d => getComputedStyle(d).animationName") == animation
    finally:
        ctx.close()


def test_print_shows_the_transcript_only(page):
    _conversation(page)
    page.emulate_media(media="print")
    expect(page.locator(".mdg-log")).to_be_visible()
    for hidden in (".site-header", ".site-main", ".mdg-composer", ".mdg-settings-toggle", ".mdg-launcher"):
        expect(page.locator(hidden)).to_be_hidden()
    page.emulate_media(media="screen")
    expect(page.locator(".site-header")).to_be_visible()


def test_the_axe_check_does_report_violations(page, axe_source):
    # guards the check above: an unlabelled button and low-contrast text must be reported
    page.evaluate(
        """() => {
            const b = document.createElement('button');
            document.body.appendChild(b);
            const p = document.createElement('p');
            p.textContent = 'うすい文字';
            p.style.color = '#bbbbbb';
            document.querySelector('main').appendChild(p);
        }"""
    )
    ids = {v["id"] for v in run_axe(page)}
    assert {"button-name", "color-contrast"} <= ids
