"""Answers not in Japanese are marked with their language, and the widget has a language switch
(ask 6 of issue #11), in Debian's Chromium.

The answers are the real ones of :class:`bot.language.LanguageDesk` over data/languages/ (what the REST
channel sends for a message not in Japanese), served by the stand-in server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_widget import STRINGS, ask, bot_messages, open_settings, open_widget, run_axe
from widget_harness import ARTIFACTS

from bot import settings
from bot.language import load_desk

pytestmark = pytest.mark.browser

ENGLISH = "How can I get a residence certificate?"
VIETNAMESE = "Tôi muốn hỏi về giấy tờ"

#: JavaScript: the languages the newest answer is marked with.
READ_LANGS = """node => ({
  text: node.querySelector('.mdg-text').getAttribute('lang'),
  lines: [...node.querySelectorAll('.mdg-text > span[lang]')].map(s => s.getAttribute('lang')),
  speaker: node.querySelector('.mdg-sr').getAttribute('lang'),
  choices: [...node.querySelectorAll('.mdg-choice, .mdg-choice-link')].map(c => c.getAttribute('lang')),
  root: node.closest('[lang]').getAttribute('lang'),
})"""


@pytest.fixture()
def foreign(servers):
    desk = load_desk(settings.load({}).data_dir)
    answers = {text: desk.answer(text) for text in (ENGLISH, VIETNAMESE)}
    rules = [{"contains": text, "reply": reply} for text, reply in answers.items()]
    servers.standin.rules[:0] = rules
    yield answers
    for rule in rules:
        servers.standin.rules.remove(rule)


def test_an_english_answer_is_marked_english_and_the_widget_words_stay_japanese(page, foreign, axe_source):
    open_widget(page)
    ask(page, ENGLISH)
    expect(bot_messages(page)).to_have_count(1)
    card = foreign[ENGLISH][0]["custom"]["madoguchi"]
    shown = bot_messages(page).last.evaluate(READ_LANGS)
    assert shown["text"] == card["lang"] == "en"
    assert shown["choices"] and set(shown["choices"]) == {"en"}  # "Open the online form"
    assert shown["speaker"] == "ja" and shown["root"] == "ja"  # 「AI窓口：」 and the bubble stay Japanese
    assert run_axe(page) == []


def test_a_notice_marks_each_line_with_its_language(page, foreign, axe_source):
    open_widget(page)
    ask(page, VIETNAMESE)
    expect(bot_messages(page)).to_have_count(1)
    card = foreign[VIETNAMESE][0]["custom"]["madoguchi"]
    shown = bot_messages(page).last.evaluate(READ_LANGS)
    assert shown["text"] == card["lang"] == "vi"
    assert shown["lines"] == card["line_langs"] == ["vi", "en"]
    assert run_axe(page) == []


def test_the_language_switch_is_sent_kept_and_named_in_each_language(page, servers, foreign, axe_source):
    open_widget(page)
    open_settings(page)
    select = page.get_by_label(STRINGS["languageLabel"])
    options = select.locator("option")
    codes = options.evaluate_all("os => os.map(o => [o.value, o.getAttribute('lang'), o.textContent])")
    assert [c[0] for c in codes] == ["ja", "en", "zh", "ko", "vi", "pt", "tl", "ne"]
    assert all(code == lang and text == STRINGS[f"lang_{code}"] for code, lang, text in codes)
    assert run_axe(page) == []
    select.select_option("vi")
    ask(page, VIETNAMESE)
    expect(bot_messages(page)).to_have_count(1)
    assert servers.standin.asked()[-1]["metadata"]["lang"] == "vi"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-language-switch-1280x800.png"))
    page.reload()
    open_widget(page)
    open_settings(page)
    expect(page.get_by_label(STRINGS["languageLabel"])).to_have_value("vi")
    page.get_by_label(STRINGS["languageLabel"]).select_option("ja")
    ask(page, ENGLISH)
    expect(bot_messages(page)).to_have_count(2)
    assert "lang" not in servers.standin.asked()[-1]["metadata"]  # Japanese: nothing to hint
