"""FAQ と手続き pages in Debian's Chromium: an upload with three bad rows shows those rows and publishes
nothing; an editor edits an entry by keyboard only and undoes it; a sheet that removes entries needs the
explicit confirmation; axe-core finds no WCAG 2.1 A/AA violation on any of these pages; a clerk gets 403.
End to end (``make run``'s servers): an edit made in the page is what the bot answers within 10 s.

In-process console (real app, SQLite stores, a copy of the FAQ base and of data/) on loopback; screenshots
at 1366×768 go to tests/artifacts/staff/.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
import uuid

import pytest
from playwright.sync_api import Page, expect
from staff_helpers import REPO, add_account, make_console
from test_staff_browser import VIEWPORT, no_violations, shot, sign_in_by_keyboard, tab_to
from test_staff_e2e import CLERK_PASSWORD, LIVE_WITHIN_S, _faq_ids, sign_in, staff_add
from widget_harness import BackgroundLoop, Served

from bot import settings as settings_module
from bot.knowledge.faq import import_export
from bot.knowledge.faq import live_base as base
from bot.stores import now_jst, open_stores

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    root = tmp_path_factory.mktemp("knowledge")
    kb, data = root / "faq", root / "data"
    import_export.ensure_live_base(kb, REPO / "data" / "faq" / "sample_faq.csv")
    shutil.copytree(REPO / "data", data)
    stores = open_stores(settings_module.load({"MADOGUCHI_VAR": str(root / "var")}))
    add_account(stores, "editor1", "editor")
    add_account(stores, "clerk1", "callback")
    bg = BackgroundLoop()
    app = make_console(stores, now_jst, faq=base.LiveFaq(kb), data_dir=data, work_dir=root / "work")
    served = Served(bg, app).start()
    yield served, kb, root
    served.cleanup()
    bg.close()
    stores.close()


@pytest.fixture()
def page(browser, axe_source):
    ctx = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
    ctx.add_init_script(script=axe_source)
    yield ctx.new_page()
    ctx.close()


def _sample(rows_changed) -> bytes:
    text = (REPO / "data" / "faq" / "sample_faq.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = rows_changed(rows)
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def _three_bad(rows):
    rows[3][1] = ""  # 4行目: 質問 empty
    rows[10][7] = "令和8年2月30日"  # 11行目: no such day
    rows[20][5] = "宇宙課"  # 21行目: no such department
    return rows


def _go(page: Page, name: str) -> None:
    tab_to(page, page.get_by_role("navigation").get_by_role("link", name=name, exact=True))
    page.keyboard.press("Enter")


def test_an_upload_with_three_bad_rows_shows_them_and_publishes_nothing(console, page, tmp_path):
    served, kb, _ = console
    before = base.current_version(kb)
    sheet = tmp_path / "faq.csv"
    sheet.write_bytes(_sample(_three_bad))
    sign_in_by_keyboard(page, served.url, "editor1")
    _go(page, "FAQ")
    expect(page.get_by_role("heading", name="FAQ", exact=True)).to_be_visible()
    no_violations(page)
    shot(page, "faq")
    tab_to(page, page.get_by_role("link", name="Excel・CSV をアップロードして取り込む"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="FAQ の取り込み")).to_be_visible()
    no_violations(page)
    page.get_by_label("ファイル（.xlsx / .csv）").set_input_files(str(sheet))
    tab_to(page, page.get_by_role("button", name="確かめる"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("問題が 3 件あるため、取り込みませんでした")
    table = page.get_by_role("table", name="取り込めない理由（3 件）")
    for row, column, words in (
        ("4行目", "質問", "空欄"),
        ("11行目", "確認日", "日付を読めません"),
        ("21行目", "担当課", "宇宙課"),
    ):
        expect(table.get_by_role("row").filter(has_text=row)).to_contain_text(column)
        expect(table.get_by_role("row").filter(has_text=row)).to_contain_text(words)
    no_violations(page)
    shot(page, "faq-upload-errors")
    assert base.current_version(kb) == before


def test_an_editor_edits_an_entry_by_keyboard_and_undoes_it(console, page):
    served, kb, _ = console
    before = base.current_version(kb)
    sign_in_by_keyboard(page, served.url, "editor1")
    _go(page, "FAQ")
    tab_to(page, page.get_by_label("言葉（番号・質問・言い換え・回答）"))
    page.keyboard.type("F0085")
    page.keyboard.press("Enter")
    expect(page.get_by_text("1 件", exact=True)).to_be_visible()
    link = page.get_by_role("link", name="F0085 を編集")
    tab_to(page, link)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="FAQ F0085 の編集")).to_be_visible()
    no_violations(page)
    shot(page, "faq-entry")
    tab_to(page, page.get_by_label("確認日（例 2026-04-01、令和8年4月1日）"))
    page.keyboard.press("Control+A")
    page.keyboard.type("令和元年5月1日")
    tab_to(page, page.get_by_label("URL（https://）"))
    page.keyboard.press("Control+A")
    page.keyboard.type("ftp://example")  # refused: same message as the import
    tab_to(page, page.get_by_role("button", name="保存して公開"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("保存できませんでした")
    expect(page.get_by_label("URL（https://）")).to_have_attribute("aria-invalid", "true")
    no_violations(page)
    assert base.current_version(kb) == before
    tab_to(page, page.get_by_label("URL（https://）"))
    page.keyboard.press("Control+A")
    page.keyboard.type("https://www.city-sample.example/gomi/bag")
    tab_to(page, page.get_by_role("button", name="保存して公開"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("FAQ を公開しました")
    assert base.load_current(kb).get("F0085").verified_on == "2019-05-01"
    no_violations(page)
    tab_to(page, page.get_by_role("button", name="この変更を取り消す"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"FAQ を版 {before} に戻しました")
    assert base.current_version(kb) == before
    _go(page, "FAQ")
    expect(page.get_by_role("heading", name="FAQ", exact=True)).to_be_visible()
    page.get_by_role("link", name="版の一覧（前の版に戻す）").click()
    expect(page.get_by_role("cell", name="公開中")).to_be_visible()
    no_violations(page)


def test_removing_many_entries_needs_the_confirmation(console, page, tmp_path):
    served, kb, _ = console
    before = base.current_version(kb)
    sheet = tmp_path / "cut.csv"
    sheet.write_bytes(_sample(lambda rows: rows[:150]))  # 15 entries gone
    sign_in_by_keyboard(page, served.url, "editor1")
    page.goto(served.url + "/faq/upload")
    page.get_by_label("ファイル（.xlsx / .csv）").set_input_files(str(sheet))
    page.get_by_role("button", name="確かめる").click()
    expect(page.get_by_text("追加 0 件・変更 0 件・削除 15 件（変更なし 149 件）")).to_be_visible()
    no_violations(page)
    shot(page, "faq-upload-diff")
    box = page.get_by_label("15 件を消してよいことを確認しました")
    page.get_by_role("button", name="この内容で公開する").click()  # the browser refuses: box required
    assert base.current_version(kb) == before
    tab_to(page, box)
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="この内容で公開する"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("FAQ を公開しました")
    assert len(base.load_current(kb)) == 149
    base.rollback(kb, before)


def test_catalog_pages_pass_axe(console, page, tmp_path):
    served, _, root = console
    sign_in_by_keyboard(page, served.url, "editor1")
    _go(page, "手続き")
    expect(page.get_by_role("table", name="手続きの一覧（59 件）")).to_be_visible()
    no_violations(page)
    shot(page, "catalog")
    page.get_by_role("link", name="juminhyo").click()
    expect(page.get_by_role("heading", name="住民票の写し（juminhyo）")).to_be_visible()
    no_violations(page)
    with page.expect_download() as download:
        page.goto(served.url + "/catalog")
        page.get_by_role("link", name="手続き情報を Excel でダウンロード").click()
    path = tmp_path / "catalog.xlsx"
    download.value.save_as(path)
    page.goto(served.url + "/catalog/upload")
    expect(page.get_by_role("heading", name="手続き情報の取り込み")).to_be_visible()
    no_violations(page)
    page.get_by_label("ファイル（.xlsx / .csv）").set_input_files(str(path))
    page.get_by_role("button", name="確かめる").click()
    expect(page.get_by_text("追加 0 件・変更 0 件・削除 0 件（変更なし 59 件）")).to_be_visible()
    no_violations(page)
    page.get_by_role("button", name="やめる（公開しない）").click()
    _go(page, "確認日切れ")
    expect(page.get_by_role("heading", name="確認日切れ")).to_be_visible()
    no_violations(page)
    shot(page, "stale")


def test_a_clerk_gets_403_on_the_faq_and_catalog_pages(console, page):
    served, _, _ = console
    sign_in_by_keyboard(page, served.url, "clerk1")
    expect(page.get_by_role("navigation").get_by_role("link", name="FAQ")).to_have_count(0)
    for path in ("/faq", "/catalog", "/faq/upload", "/stale"):
        reply = page.goto(served.url + path)
        assert reply.status == 403, path
    no_violations(page)


@pytest.mark.e2e
def test_an_edit_in_the_page_is_what_the_bot_answers_within_10_s(running_bot, page):
    wording = "まどぐち特製の袋はどの店で売っているか教えて"
    assert "F0085" not in _faq_ids(running_bot.rest(f"e2e-edit-{uuid.uuid4().hex}", wording))
    staff_add(running_bot, "faqeditor", "--role", "editor", "--password-stdin", stdin=CLERK_PASSWORD + "\n")
    sign_in(page, running_bot.staff_url, "faqeditor", CLERK_PASSWORD)
    page.goto(running_bot.staff_url + "/faq/entry/F0085")
    paraphrases = page.get_by_label("言い換え（1行に1つ）")
    paraphrases.fill(paraphrases.input_value() + "\n" + wording)
    page.get_by_role("button", name="保存して公開").click()
    expect(page.get_by_role("status")).to_contain_text("FAQ を公開しました")
    deadline = time.monotonic() + LIVE_WITHIN_S
    while True:
        cards = [
            m["custom"]["madoguchi"]
            for m in running_bot.rest(f"e2e-edit-{uuid.uuid4().hex}", wording)
            if (m.get("custom") or {}).get("madoguchi", {}).get("kind") == "faq"
        ]
        if any(c["faq_id"] == "F0085" for c in cards):
            break
        assert time.monotonic() < deadline, f"the bot did not answer with F0085 within {LIVE_WITHIN_S} s"
        time.sleep(0.5)
    card = next(c for c in cards if c["faq_id"] == "F0085")
    assert card["contact"]["phone"]  # the entry's 担当課 (環境課) with its phone, as procedure cards show it


@pytest.mark.parametrize(
    "path", ["/faq", "/faq/entry/F0085", "/faq/versions", "/catalog", "/catalog/p/juminhyo", "/stale"]
)
def test_reflows_at_200_percent_zoom(console, browser, path):
    """1366×768 at 200 % zoom is a 683×384 CSS-pixel window: no sideways scrolling (WCAG 1.4.10)."""
    served, _, _ = console
    ctx = browser.new_context(viewport={"width": 683, "height": 384}, device_scale_factor=2, locale="ja-JP")
    try:
        page = ctx.new_page()
        sign_in_by_keyboard(page, served.url, "editor1")
        page.goto(served.url + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        shot(page, "zoom200-" + path.strip("/").replace("/", "-"))
        assert overflow <= 0, f"{path}: {overflow}px wider than the window"
    finally:
        ctx.close()
