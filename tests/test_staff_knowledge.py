"""FAQ と手続き in the console: one entry edited and published (same checks as the import, undo by
rollback), a sheet uploaded with per-row errors and nothing published, the diff and its confirmation,
downloads with Japanese headers and drop-down lists, the catalog's Excel round trip, stale content, roles
and CSRF. In-process server, real SQLite stores, a copy of the real data and FAQ base."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import openpyxl
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from staff_helpers import REPO, Clock, add_account, csrf_of, make_console
from test_staff_console import sign_in

from bot import settings as settings_module
from bot.knowledge.catalog import load_catalog
from bot.knowledge.catalog import sheet as catalog_sheet
from bot.knowledge.faq import live_base as base
from bot.stores import open_stores
from bot.text import normalize

HEADER = "番号,質問,回答,分類,言い換え,担当課,URL,確認日\n"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    return data


@pytest.fixture
def stores(tmp_path: Path):
    opened = open_stores(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "var")}))
    for name, role in (("editor1", "editor"), ("clerk1", "callback"), ("viewer1", "viewer")):
        add_account(opened, name, role)
    yield opened
    opened.close()


@pytest.fixture
async def console(stores, kb_dir, data_dir, tmp_path):
    app = make_console(
        stores, Clock(), faq=base.LiveFaq(kb_dir), data_dir=data_dir, work_dir=tmp_path / "work"
    )
    async with TestClient(TestServer(app)) as client:
        yield client


async def _page(client: TestClient, path: str) -> str:
    reply = await client.get(path)
    assert reply.status == 200, path
    return await reply.text()


async def _upload(client: TestClient, path: str, name: str, data: bytes):
    csrf = csrf_of(await _page(client, path))
    form = FormData()
    form.add_field("csrf", csrf)
    form.add_field("file", data, filename=name)
    return await client.post(path, data=form)


def _sample_rows() -> list[list[str]]:
    """The sample FAQ as rows of cells (the header is row 1, as Excel numbers it)."""
    text = (REPO / "data" / "faq" / "sample_faq.csv").read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


# --- FAQ: one entry --------------------------------------------------------------------------------


async def test_an_edit_is_published_audited_and_undone_by_rollback(console, stores, kb_dir):
    before = base.current_version(kb_dir)
    await sign_in(console, "editor1")
    page = await _page(console, "/faq/entry/F0001")
    old = base.load_current(kb_dir).get("F0001")
    assert old.question in page and "readonly" in page
    form = {
        "csrf": csrf_of(page),
        "original_id": "F0001",
        "base_version": before,
        "id": "F0001",
        "question": old.question,
        "answer": "新しい回答です。",
        "category": old.category,
        "paraphrases": "\n".join(old.paraphrases),
        "department": "市民課",
        "url": old.url,
        "verified_on": "令和8年4月1日",
    }
    reply = await console.post("/faq/entry", data=form)
    text = await reply.text()
    assert reply.status == 200 and "FAQ を公開しました" in text and "この変更を取り消す" in text
    now = base.load_current(kb_dir)
    assert now.version != before and now.get("F0001").answer == "新しい回答です。"
    assert now.get("F0001").verified_on == "2026-04-01" and len(now) == 164
    audit = stores.audit.entries()[0]
    assert (audit.actor, audit.action, audit.target, audit.detail) == (
        "editor1",
        "faq.edit",
        now.version,
        "F0001",
    )
    undo = await console.post("/faq/rollback", data={"csrf": csrf_of(text), "version": before})
    assert "版 " + before + " に戻しました" in await undo.text()
    assert base.current_version(kb_dir) == before and stores.audit.entries()[0].action == "faq.rollback"


async def test_a_bad_edit_shows_the_imports_errors_by_column_and_publishes_nothing(console, kb_dir):
    before = base.current_version(kb_dir)
    await sign_in(console, "editor1")
    page = await _page(console, "/faq/new")
    form = {
        "csrf": csrf_of(page),
        "original_id": "",
        "base_version": before,
        "id": "F0002",  # taken
        "question": "新しい質問",
        "answer": "",
        "department": "宇宙課",
        "url": "ftp://x",
        "verified_on": "昨日",
    }
    reply = await console.post("/faq/entry", data=form)
    text = await reply.text()
    assert reply.status == 400 and "保存できませんでした" in text
    for label, words in (
        ("番号", "重複"),
        ("回答", "空欄"),
        ("担当課", "宇宙課"),
        ("URL", "https"),
        ("確認日", "日付を読めません"),
    ):
        assert f'<td class="nowrap">{label}</td><td>' in text and words in text, label
    assert text.count('aria-invalid="true"') >= 4
    assert base.current_version(kb_dir) == before


async def test_an_edit_over_a_newer_version_is_refused(console, kb_dir):
    await sign_in(console, "editor1")
    page = await _page(console, "/faq/entry/F0001")
    old = base.load_current(kb_dir).get("F0001")
    form = {
        "csrf": csrf_of(page),
        "original_id": "F0001",
        "base_version": "20000101T000000000000Z",
        "id": "F0001",
        "question": old.question,
        "answer": "x",
    }
    reply = await console.post("/faq/entry", data=form)
    assert reply.status == 409 and base.load_current(kb_dir).get("F0001").answer == old.answer


async def test_search_finds_by_paraphrase_and_filters(console):
    await sign_in(console, "editor1")
    page = await _page(console, "/faq?q=ごみ袋")
    assert "F0085" in page and "F0001" not in page


# --- FAQ: upload ----------------------------------------------------------------------------------


async def test_an_upload_with_three_bad_rows_lists_them_and_publishes_nothing(console, kb_dir):
    before = base.current_version(kb_dir)
    rows = _sample_rows()
    rows[3][1] = ""  # row 4: no question
    rows[10][7] = "2026-02-30"  # row 11: no such date
    rows[20][5] = "宇宙課"  # row 21: unknown department
    await sign_in(console, "editor1")
    reply = await _upload(console, "/faq/upload", "faq.csv", _csv(rows))
    text = await reply.text()
    assert reply.status == 400 and "問題が 3 件あるため、取り込みませんでした" in text
    assert '<td class="nowrap">4行目</td>' in text and '<td class="nowrap">11行目</td>' in text
    assert '<td class="nowrap">21行目</td>' in text and "宇宙課" in text
    assert base.current_version(kb_dir) == before


async def test_the_diff_is_shown_and_many_removals_need_the_checkbox(console, kb_dir, stores):
    before = base.current_version(kb_dir)
    rows = _sample_rows()
    kept = rows[:161]  # the last 4 entries (F0161-F0164) disappear
    kept[1][1] = "【改】" + kept[1][1]  # F0001's question changes
    await sign_in(console, "editor1")
    reply = await _upload(console, "/faq/upload", "faq.csv", _csv(kept))
    text = await reply.text()
    assert reply.status == 200 and "追加 0 件・変更 1 件・削除 4 件（変更なし 159 件）" in text
    assert "F0001 【改】" in text and "（質問）" in text and "4 件が消えます" in text
    assert base.current_version(kb_dir) == before  # nothing yet
    token = text.split('name="token" value="', 1)[1].split('"', 1)[0]
    refused = await console.post("/faq/publish", data={"csrf": csrf_of(text), "token": token})
    assert refused.status == 400 and base.current_version(kb_dir) == before
    done = await console.post(
        "/faq/publish", data={"csrf": csrf_of(text), "token": token, "confirm_removals": "yes"}
    )
    assert "FAQ を公開しました" in await done.text()
    assert len(base.load_current(kb_dir)) == 160 and stores.audit.entries()[0].action == "faq.import"
    again = await console.post(
        "/faq/publish", data={"csrf": csrf_of(text), "token": token, "confirm_removals": "yes"}
    )
    assert again.status == 400  # a token publishes once


async def test_another_accounts_token_does_not_publish(console, kb_dir, stores):
    add_account(stores, "editor2", "editor")
    rows = _sample_rows()
    rows[1][1] = "【改】" + rows[1][1]
    await sign_in(console, "editor1")
    text = await (await _upload(console, "/faq/upload", "faq.csv", _csv(rows))).text()
    token = text.split('name="token" value="', 1)[1].split('"', 1)[0]
    console.session.cookie_jar.clear()
    await sign_in(console, "editor2")
    page = await _page(console, "/faq/upload")
    reply = await console.post("/faq/publish", data={"csrf": csrf_of(page), "token": token})
    assert reply.status == 400 and "【改】" not in base.load_current(kb_dir).get("F0001").question


async def test_download_has_japanese_headers_and_drop_down_lists_and_uploads_back_unchanged(console, kb_dir):
    await sign_in(console, "editor1")
    reply = await console.get("/faq.xlsx")
    assert reply.status == 200 and "attachment" in reply.headers["Content-Disposition"]
    data = await reply.read()
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["FAQ"]
    assert [c.value for c in sheet[1]] == [
        "番号",
        "質問",
        "回答",
        "分類",
        "言い換え",
        "担当課",
        "URL",
        "確認日",
    ]
    ranges = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert set(ranges) == {"D2", "F2"}
    choices = workbook["選択肢"]
    assert workbook["選択肢"].sheet_state == "hidden"
    departments = [c.value for c in choices["B"][1:] if c.value]
    assert "介護保険課" in departments and "こども家庭課" in departments
    text = await (await _upload(console, "/faq/upload", "faq.xlsx", data)).text()
    assert "追加 0 件・変更 0 件・削除 0 件（変更なし 164 件）" in text


# --- 手続き ----------------------------------------------------------------------------------------


async def test_catalog_round_trip_publishes_a_changed_fee_and_wareki_date(console, data_dir, stores):
    await sign_in(console, "editor1")
    page = await _page(console, "/catalog")
    assert "問題ありません" in page and "juminhyo" in page
    data = await (await console.get("/catalog.xlsx")).read()
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook[catalog_sheet.SHEET_TITLE]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "juminhyo")
    row[header.index("手数料")].value = "1通350円"
    row[header.index("確認日")].value = "令和8年4月1日"
    out = io.BytesIO()
    workbook.save(out)
    text = await (await _upload(console, "/catalog/upload", "catalog.xlsx", out.getvalue())).text()
    assert "追加 0 件・変更 1 件・削除 0 件" in text and "juminhyo 住民票の写し（手数料・確認日）" in text
    before = (data_dir / "catalog" / "certificates.yml").read_text(encoding="utf-8")
    token = text.split('name="token" value="', 1)[1].split('"', 1)[0]
    done = await console.post("/catalog/publish", data={"csrf": csrf_of(text), "token": token})
    assert "手続き情報を公開しました（1 ファイルを更新）" in await done.text()
    after = (data_dir / "catalog" / "certificates.yml").read_text(encoding="utf-8")
    assert after != before and after.startswith("# 住民票")  # the file's leading comment is kept
    procedure = load_catalog(data_dir).get("juminhyo")
    assert procedure.fee == "1通350円" and procedure.verified_on == "2026-04-01"
    assert stores.audit.entries()[0].action == "catalog.import"


async def test_catalog_upload_with_three_bad_rows_lists_them_and_writes_nothing(console, data_dir):
    await sign_in(console, "editor1")
    data = await (await console.get("/catalog.xlsx")).read()
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook[catalog_sheet.SHEET_TITLE]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=3, column=header.index("窓口") + 1, value="たぶん")
    sheet.cell(row=5, column=header.index("担当課") + 1, value="宇宙課")
    sheet.cell(row=8, column=header.index("確認日") + 1, value="令和8年13月1日")
    out = io.BytesIO()
    workbook.save(out)
    before = catalog_sheet.stamp(data_dir)
    reply = await _upload(console, "/catalog/upload", "catalog.xlsx", out.getvalue())
    text = await reply.text()
    assert reply.status == 400 and "問題が 3 件" in text
    for row, column in ((3, "窓口"), (5, "担当課"), (8, "確認日")):
        assert f'<td class="nowrap">{row}行目</td>\n      <td class="nowrap">{column}</td>' in text
    assert catalog_sheet.stamp(data_dir) == before


async def test_catalog_cross_checks_name_the_row(console, data_dir):
    await sign_in(console, "editor1")
    data = await (await console.get("/catalog.xlsx")).read()
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook[catalog_sheet.SHEET_TITLE]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=4, column=header.index("関連する手続き") + 1, value="no_such_procedure")
    out = io.BytesIO()
    workbook.save(out)
    text = await (await _upload(console, "/catalog/upload", "catalog.xlsx", out.getvalue())).text()
    assert (
        '<td class="nowrap">4行目</td>\n      <td class="nowrap">関連する手続き</td>'
        "<td>手続きID「no_such_procedure」はありません" in text
    )


async def test_stale_lists_entries_past_their_verified_date(console):
    await sign_in(console, "editor1")
    page = await _page(console, "/stale")
    assert "juminhyo" in page  # the catalog has no 確認日 yet: every procedure is listed as 未記入
    assert "確認日切れ" in page


# --- who may ---------------------------------------------------------------------------------------

PAGES = (
    "/faq",
    "/faq/new",
    "/faq/entry/F0001",
    "/faq/upload",
    "/faq/versions",
    "/faq.xlsx",
    "/catalog",
    "/catalog/p/juminhyo",
    "/catalog.xlsx",
    "/catalog/upload",
    "/stale",
)
FORMS = (
    "/faq/entry",
    "/faq/upload",
    "/faq/publish",
    "/faq/cancel",
    "/faq/rollback",
    "/catalog/upload",
    "/catalog/publish",
    "/catalog/cancel",
)


@pytest.mark.parametrize("name", ["clerk1", "viewer1"])
async def test_other_roles_get_403_on_every_page_and_form(console, name):
    await sign_in(console, name)
    csrf = csrf_of(await _page(console, "/password"))
    for path in PAGES:
        assert (await console.get(path, allow_redirects=False)).status == 403, path
    for path in FORMS:
        assert (await console.post(path, data={"csrf": csrf}, allow_redirects=False)).status == 403, path


async def test_without_a_session_pages_redirect_and_forms_refuse(console):
    for path in PAGES:
        reply = await console.get(path, allow_redirects=False)
        assert reply.status == 303 and reply.headers["Location"].startswith("/login"), path
    page = await _page(console, "/login")
    for path in FORMS:
        assert (await console.post(path, data={"csrf": csrf_of(page)}, allow_redirects=False)).status == 401


async def test_forms_without_the_csrf_token_are_refused(console, kb_dir):
    before = base.current_version(kb_dir)
    await sign_in(console, "editor1")
    for path in FORMS:
        assert (await console.post(path, data={"version": before}, allow_redirects=False)).status == 403, path
    form = FormData()
    form.add_field("file", b"id,question,answer\nX1,q,a\n", filename="x.csv")
    assert (await console.post("/faq/upload", data=form)).status == 403
    assert base.current_version(kb_dir) == before


async def test_review_dismiss_removes_a_question_for_good(console, stores):
    stores.review.record("激安セール 今すぐクリック", "fallback", [])
    stores.review.record("住民票の取り方を教えて", "fallback", [])
    await sign_in(console, "editor1")
    page = await _page(console, "/review")
    assert "激安セール" in page and "対象外（今後出さない）" in page
    key = normalize("激安セール 今すぐクリック")
    assert f'name="key" value="{key}"' in page
    reply = await console.post("/review/dismiss", data={"csrf": csrf_of(page), "key": key})
    text = await reply.text()
    assert "対象外にしました（記録 1 件を削除" in text
    assert text.count("激安セール") == 0 and "住民票の取り方を教えて" in text
    stores.review.record("激安セール 今すぐクリック", "fallback", [])
    assert "激安セール" not in await _page(console, "/review")
    audit = stores.audit.entries()[0]
    assert (audit.action, audit.target, audit.detail) == ("review.dismiss", "", "1")
