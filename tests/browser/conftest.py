"""Fixtures for the widget's browser tests: Debian's Chromium via Playwright, axe-core, and servers.

The stand-in Rasa REST endpoint and the real widget site (:func:`bot.channels.widget_site.create_app`,
pointed at the stand-in so the widget runs under the demo page's CSP and talks cross-origin) run on
loopback in a background thread; see ``widget_harness.py``.

Missing Chromium or axe-core make the tests FAIL with the command that installs them; they never skip.
"""

from __future__ import annotations

import pytest
from widget_harness import (
    AXE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    CITY_PHONE,
    REPLIES,
    REPO,
    BackgroundLoop,
    Served,
    StandInRasa,
    WidgetServers,
)

from bot.channels.widget_site import create_app


@pytest.fixture(scope="session")
def widget_servers():
    bg = BackgroundLoop()
    standin = StandInRasa.from_file(REPLIES)
    rasa = Served(bg, standin.app()).start()
    site = Served(bg, create_app(REPO / "widget", rasa.url, CITY_PHONE)).start()
    yield WidgetServers(standin, rasa, site)
    site.cleanup()
    rasa.cleanup()
    bg.close()


@pytest.fixture()
def servers(widget_servers):
    widget_servers.standin.reset()
    yield widget_servers
    if not widget_servers.rasa.listening:
        widget_servers.rasa.listen_again()  # a test took the stand-in down and failed before restoring it


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module.

    Module scope, not session: sync Playwright keeps an event loop running in the main thread while it
    is started, which would break the pytest-asyncio tests of other modules run in the same session.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with"
            " `apt-get update && apt-get install -y chromium`",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"axe-core not found at {AXE_JS}: run `npm ci` in the repository root", pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture()
def page_errors() -> list[str]:
    return []


@pytest.fixture()
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    yield ctx
    ctx.close()


@pytest.fixture()
def page(request, context, servers, page_errors):
    """The demo page, loaded; uncaught script errors and CSP violations are collected in page_errors.

    When the test also uses ``axe_source``, axe-core is added as an init script (the demo page's CSP
    forbids inline scripts, and init scripts are injected by the browser itself, outside the CSP).
    """
    if "axe_source" in request.fixturenames:
        context.add_init_script(script=request.getfixturevalue("axe_source"))
    pg = context.new_page()
    pg.on("pageerror", lambda exc: page_errors.append(f"pageerror: {exc}"))
    pg.on(
        "console",
        lambda msg: (
            page_errors.append(f"console: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    pg.goto(servers.page_url)
    pg.get_by_role("button", name="AIチャットで質問する").wait_for()
    yield pg
    assert page_errors == [], page_errors
