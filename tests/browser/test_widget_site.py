"""The widget site over HTTP (no browser): demo page, CSP, content types, no listing, no escapes."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from aiohttp.test_utils import TestClient, TestServer
from widget_harness import REPO  # noqa: I001 — a sibling helper module, not a package

from bot.channels.widget_site import (
    city_phone_from_data,
    content_security_policy,
    create_app,
    origin_of,
    safe_file,
)

WIDGET = REPO / "widget"
RASA = "http://rasa.example:5005/"


@pytest.fixture()
async def client():
    async with TestClient(TestServer(create_app(WIDGET, RASA, "012-345-6700"))) as c:
        yield c


async def test_demo_page_carries_server_phone_and_csp(client):
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self' http://rasa.example:5005" in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    page = await resp.text()
    assert 'data-server="http://rasa.example:5005"' in page
    assert 'data-phone="012-345-6700"' in page
    assert '<html lang="ja">' in page
    assert "__MADOGUCHI_" not in page


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/widget/madoguchi-widget.js", "text/javascript; charset=utf-8"),
        ("/widget/madoguchi-widget.css", "text/css; charset=utf-8"),
        ("/widget/i18n/ja.json", "application/json; charset=utf-8"),
        ("/demo/site.css", "text/css; charset=utf-8"),
    ],
)
async def test_assets_have_their_content_type(client, path, content_type):
    resp = await client.get(path)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == content_type


@pytest.mark.parametrize(
    "path",
    [
        "/widget/",
        "/widget/i18n/",
        "/widget/i18n",
        "/widget/README.md",
        "/widget/../bot/settings.py",
        "/widget/%2e%2e/pyproject.toml",
        "/widget/..%2fpyproject.toml",
        "/demo/../../pyproject.toml",
        "/nothing-here",
    ],
)
async def test_no_listing_no_other_files_no_escape(client, path):
    resp = await client.get(path)
    assert resp.status == 404


def test_ui_strings_are_one_json_object_of_strings():
    strings = json.loads((WIDGET / "i18n" / "ja.json").read_text(encoding="utf-8"))
    assert strings and all(isinstance(v, str) and v for v in strings.values())
    script = (WIDGET / "madoguchi-widget.js").read_text(encoding="utf-8")
    used = {a or b for a, b in re.findall(r"(?<![\w.])s\.(\w+)|\bstrings\.(\w+)", script)}
    assert len(used) > 20
    used |= {"yasashii", "furigana"}  # looked up by name: s[name]
    assert used - set(strings) == set(), "strings used by the widget but missing from ja.json"
    assert set(strings) - used == set(), "strings in ja.json that the widget never shows"


def test_widget_script_never_uses_innerhtml_or_persistent_storage():
    script = (WIDGET / "madoguchi-widget.js").read_text(encoding="utf-8")
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "localStorage",
        "cookie",
    ):
        assert forbidden not in script.split("*/", 1)[1], forbidden


def test_safe_file_and_origin_helpers(tmp_path):
    (tmp_path / "a.js").write_text("x")
    (tmp_path / "secret.py").write_text("x")
    assert safe_file(tmp_path, "a.js") == (tmp_path / "a.js").resolve()
    assert safe_file(tmp_path, "secret.py") is None
    assert safe_file(tmp_path, "../a.js") is None
    assert safe_file(tmp_path, "/etc/passwd") is None
    assert origin_of("https://chat.city.example/base/") == "https://chat.city.example"
    with pytest.raises(ValueError):
        content_security_policy("javascript:alert(1)")


def test_city_phone_comes_from_departments_yml(tmp_path):
    (tmp_path / "departments.yml").write_text("city:\n  phone: 099-000-1111\n", encoding="utf-8")
    assert city_phone_from_data(tmp_path) == "099-000-1111"
    assert city_phone_from_data(tmp_path / "missing") is None


def test_command_line_refuses_a_bad_rasa_url():
    proc = subprocess.run(
        [sys.executable, "-m", "bot.channels.widget_site", "--rasa-url", "ftp://x", "--city-phone", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "rasa URL must be an absolute http(s) URL" in proc.stderr


async def test_every_html_page_carries_the_csp(client):
    resp = await client.get("/widget/demo/index.html")
    assert resp.status == 200
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
