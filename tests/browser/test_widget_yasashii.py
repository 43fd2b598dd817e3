"""やさしい日本語 on every field of a procedure card, in Debian's Chromium (ask 3 of issue #11).

The answer is the real core's (:func:`bot.dialogue.compose.procedure_reply` over data/), sent by the
stand-in server the way Rasa's REST channel sends it (the text, then ``custom`` on its own). The test
reads what the widget drew — which version each field shows (``data-variant``), each field's text —
and compares it with the card's own fields, never with sentences written here.
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

QUESTION = "転入届について教えて"
PROCEDURE = "tennyu"
FIELDS = ("deadline", "bring", "fee", "where", "department")

#: JavaScript: each field row of the newest procedure card, its label and its text without readings.
READ_CARD = """node => {
  const plain = n => { const c = n.cloneNode(true); c.querySelectorAll('rt, rp').forEach(x => x.remove());
                       return c.textContent; };
  const card = node.querySelector('.mdg-card');
  const rows = {};
  card.querySelectorAll('.mdg-field').forEach(row => {
    const dd = row.querySelector('dd');
    const items = [...dd.querySelectorAll('li')].map(plain);
    rows[row.dataset.field] = {label: row.querySelector('dt').textContent, text: plain(dd), items};
  });
  return {variant: card.dataset.variant, summary: plain(card.querySelector('.mdg-card-summary')), rows,
          tel: [...card.querySelectorAll('a[href^="tel:"]')].map(a => a.textContent),
          ruby: card.querySelectorAll('rt').length};
}"""


def _messages(card: dict, text: str, buttons: list[dict]) -> list[dict]:
    return [{"text": text, "buttons": buttons}, {"custom": {"madoguchi": card}}]


@pytest.fixture(scope="module")
def answer():
    """The real answer for 転入届, standard and easy, as the REST channel sends them."""
    knowledge = LiveKnowledge(settings.load({}), faq=lambda: None).now()
    procedure = knowledge.catalog.get(PROCEDURE)
    out = {}
    for easy in (False, True):
        (reply,) = compose.procedure_reply(knowledge, procedure, easy).replies
        buttons = [b.to_json() for b in reply.buttons]
        out[easy] = _messages(reply.card.to_json(), reply.text(knowledge.messages), buttons)
    return out


@pytest.fixture()
def with_answer(servers, answer):
    rule = {"contains": QUESTION, "reply": answer[False], "yasashii": answer[True]}
    servers.standin.rules.insert(0, rule)
    yield answer[False][1]["custom"]["madoguchi"]
    servers.standin.rules.remove(rule)


def _expected(card: dict, easy: bool) -> dict:
    fields = card["easy_fields"] if easy else card
    labels = {name: STRINGS["card" + name.capitalize() + ("Easy" if easy else "")] for name in FIELDS}
    department = fields["department"]
    return {
        "summary": fields["summary"],
        "rows": {
            "deadline": (labels["deadline"], fields["deadline"]),
            "bring": (labels["bring"], fields["bring"]),
            "fee": (labels["fee"], fields["fee"]),
            "where": (labels["where"], STRINGS["listSeparator"].join(fields["where"])),
            "department": (labels["department"], f"{department['name']} {department['phone']}"),
        },
    }


def _check(shown: dict, card: dict, easy: bool) -> None:
    want = _expected(card, easy)
    assert shown["variant"] == ("easy" if easy else "standard")
    assert shown["summary"] == want["summary"]
    assert list(shown["rows"]) == list(FIELDS)
    for name, (label, value) in want["rows"].items():
        row = shown["rows"][name]
        assert row["label"] == label, name
        if name == "bring":
            assert row["items"] == value
        else:
            assert row["text"] == value, name
    assert shown["tel"] == [card["department"]["phone"]]  # the number stays one tap away


@pytest.mark.parametrize("furigana", [False, True])
def test_yasashii_switch_redraws_every_field_of_cards_already_shown(
    page, servers, with_answer, axe_source, furigana
):
    card = with_answer
    assert all(card["easy_fields"][f] != card[f] for f in ("deadline", "bring", "fee", "where", "department"))
    open_widget(page)
    if furigana:
        open_settings(page)
        page.get_by_role("switch", name=STRINGS["furigana"]).click()
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(1)
    answer = bot_messages(page).last
    _check(answer.evaluate(READ_CARD), card, easy=False)
    assert run_axe(page) == []

    open_settings(page)
    switch = page.get_by_role("switch", name=STRINGS["yasashii"])
    switch.click()
    expect(page.get_by_role("log")).to_contain_text(STRINGS["yasashiiOn"])
    shown = bot_messages(page).last.evaluate(READ_CARD)
    _check(shown, card, easy=True)
    if furigana:  # the easy texts come with their own readings
        assert shown["ruby"] > 0
        expect(bot_messages(page).last.locator(".mdg-card rt").first).to_be_visible()
    assert run_axe(page) == []
    if furigana:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-yasashii-card-1280x800.png"))

    switch.click()
    expect(page.get_by_role("log")).to_contain_text(STRINGS["yasashiiOff"])
    _check(bot_messages(page).last.evaluate(READ_CARD), card, easy=False)
    assert servers.standin.messages() == [QUESTION]  # redrawn in place: nothing asked again


def test_an_answer_asked_with_the_switch_on_is_easy_and_survives_a_reload(page, servers, with_answer):
    open_widget(page)
    open_settings(page)
    page.get_by_role("switch", name=STRINGS["yasashii"]).click()
    ask(page, QUESTION)
    expect(bot_messages(page)).to_have_count(1)
    assert servers.standin.asked()[0]["metadata"]["yasashii"] is True
    _check(bot_messages(page).last.evaluate(READ_CARD), with_answer, easy=True)
    page.reload()
    open_widget(page)
    _check(bot_messages(page).last.evaluate(READ_CARD), with_answer, easy=True)


def test_easy_card_on_a_small_phone_with_large_text(browser, servers, with_answer, axe_source):
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="ja-JP")
    context.add_init_script(script=axe_source)
    page = context.new_page()
    try:
        page.goto(servers.page_url)
        open_widget(page)
        open_settings(page)
        page.get_by_role("button", name=STRINGS["sizeLarge"], exact=True).click()
        page.get_by_role("switch", name=STRINGS["yasashii"]).click()
        page.get_by_role("button", name=STRINGS["settingsLabel"]).click()
        ask(page, QUESTION)
        expect(bot_messages(page)).to_have_count(1)
        _check(bot_messages(page).last.evaluate(READ_CARD), with_answer, easy=True)
        overflow = page.evaluate(
            "() => { const log = document.querySelector('.mdg-log');"
            " return log.scrollWidth - log.clientWidth; }"
        )
        assert overflow <= 0  # no sideways scrolling at 360 px with 文字 大
        assert run_axe(page) == []
        bot_messages(page).last.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-yasashii-card-360x640-large.png"))
    finally:
        context.close()
