"""見直し in the console: an editor turns an unanswered question into a paraphrase; the base publishes it
atomically (the bot's ranking then finds that entry), errors publish nothing, and rollback undoes it."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient, TestServer
from staff_helpers import REPO, Clock, add_account, cheap_hasher, csrf_of
from test_staff_console import sign_in

from bot.knowledge.catalog import load_catalog
from bot.knowledge.faq import live_base as base
from bot.privacy import mask
from bot.staff.app import create_app, load_ui
from bot.staff.config import StaffConfig

ASKED = "有料の袋はどこのお店に置いてあるの？電話は090-1234-5678"
MASKED_PART = "有料の袋はどこのお店に置いてあるの"
ENTRY = "F0085"  # 指定ごみ袋はどこで買えますか


@pytest.fixture
async def console(stores, kb_dir):
    from cryptography.fernet import Fernet

    app = create_app(
        stores,
        load_catalog(REPO / "data"),
        replace(StaffConfig(), session_key=Fernet.generate_key()),
        load_ui(REPO / "data"),
        clock=Clock(),
        hasher=cheap_hasher(),
        faq=base.LiveFaq(kb_dir),
    )
    stores.review.record(ASKED, "fallback", ["procedure:gomi_bunbetsu", "faq:F0087"])
    add_account(stores, "editor1", "editor")
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_an_editor_makes_a_question_a_paraphrase_and_the_bot_finds_it(console, stores, kb_dir):
    before = base.current_version(kb_dir)
    await sign_in(console, "editor1")
    page = await (await console.get("/review")).text()
    assert MASKED_PART in page and "[電話番号]" in page and "1234" not in page
    assert f"<li>{ENTRY} 指定ごみ袋はどこで買えますか</li>" in page  # among the bot's guesses, not first
    assert 'value="F0087"' in page  # the guess the bot logged comes first
    key = page.split('name="key" value="', 1)[1].split('"', 1)[0]
    reply = await console.post("/review", data={"csrf": csrf_of(page), "key": key, "faq_id": ENTRY})
    assert reply.status == 200 and f"FAQ {ENTRY} の言い換えにしました" in await reply.text()
    assert MASKED_PART not in (await reply.text()).split("答えられなかった質問")[1]  # resolved: off the list

    after = base.current_version(kb_dir)
    assert after != before
    snapshot = base.load_current(kb_dir)
    assert any(MASKED_PART in p for p in snapshot.get(ENTRY).paraphrases)
    assert snapshot.search(mask(ASKED), top_k=1)[0][0].id == ENTRY  # before: F0143 (どこに電話すれば…)
    entry = stores.audit.entries()[0]
    assert (entry.actor, entry.action, entry.target, entry.detail) == (
        "editor1",
        "review.paraphrase",
        after,
        ENTRY,
    )

    base.rollback(kb_dir, before)  # what `madoguchi faq rollback` does
    assert not any(MASKED_PART in p for p in base.load_current(kb_dir).get(ENTRY).paraphrases)


async def test_an_unknown_faq_number_publishes_nothing(console, kb_dir):
    before = base.current_version(kb_dir)
    await sign_in(console, "editor1")
    page = await (await console.get("/review")).text()
    key = page.split('name="key" value="', 1)[1].split('"', 1)[0]
    reply = await console.post("/review", data={"csrf": csrf_of(page), "key": key, "faq_id": "F9999"})
    assert reply.status == 400 and "FAQ番号 F9999 はありません" in await reply.text()
    forged = await console.post(
        "/review", data={"csrf": csrf_of(page), "key": "住民が聞いていない文", "faq_id": ENTRY}
    )
    assert forged.status == 400 and "見直しの一覧にありません" in await forged.text()
    assert base.current_version(kb_dir) == before


async def test_the_search_box_shows_what_the_bot_would_answer(console):
    await sign_in(console, "editor1")
    page = await (await console.get("/review", params={"q": "指定ごみ袋を買いたい"})).text()
    assert f"<li>{ENTRY} 指定ごみ袋はどこで買えますか</li>" in page


@pytest.mark.parametrize(("role", "status"), [("callback", 403), ("viewer", 403), ("admin", 200)])
async def test_review_roles(console, stores, role, status):
    add_account(stores, "someone", role)
    await sign_in(console, "someone")
    assert (await console.get("/review")).status == status


def _field(page: str, name: str) -> str:
    """The value of the form's input ``name``."""
    match = re.search(rf'<input [^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no field {name}"
    return match.group(1)


async def _new_entry_form(console) -> tuple[str, str]:
    """The review page's 「新しい FAQ として書く」 link, opened: (its URL, the form page)."""
    review = await (await console.get("/review")).text()
    link = review.split('<a href="/faq/new?review=', 1)[1].split('"', 1)[0]
    assert MASKED_PART not in link and "%" not in link  # a hash, never the resident's words in a URL
    url = f"/faq/new?review={link}"
    return url, await (await console.get(url)).text()


async def test_an_editor_writes_a_new_entry_from_a_review_item(console, stores, kb_dir):
    before = base.load_current(kb_dir)
    await sign_in(console, "editor1")
    url, page = await _new_entry_form(console)
    assert MASKED_PART in _field(page, "question") and "1234" not in page
    new_id = _field(page, "id")
    assert new_id not in before.entries and new_id.startswith("F")
    review_ref = page.split('name="review" value="', 1)[1].split('"', 1)[0]
    form = {
        "csrf": csrf_of(page),
        "original_id": "",
        "base_version": before.version,
        "review": review_ref,
        "id": new_id,
        "question": "有料のごみ袋を売っている店を知りたい",  # staff rewrite the question
        "answer": "市内のスーパーとコンビニで売っています。",
        "paraphrases": "",
        "department": "",
        "verified_on": "令和8年4月1日",
    }
    reply = await console.post("/faq/entry", data=form)
    text = await reply.text()
    assert reply.status == 200 and "FAQ を公開しました" in text and "この変更を取り消す" in text
    now = base.load_current(kb_dir)
    assert len(now) == len(before) + 1
    created = now.get(new_id)
    assert created.question == form["question"]
    assert any(MASKED_PART in p for p in created.paraphrases)  # the resident's wording is kept
    assert all("1234" not in p for p in created.paraphrases)
    review = await (await console.get("/review")).text()
    assert MASKED_PART not in review.split("答えられなかった質問")[1]  # answered: off the list
    audit = stores.audit.entries()[0]
    assert (audit.actor, audit.action, audit.target, audit.detail) == (
        "editor1",
        "review.new_entry",
        now.version,
        new_id,
    )
    base.rollback(kb_dir, before.version)  # 「この変更を取り消す」 / `madoguchi faq rollback`
    assert base.load_current(kb_dir).get(new_id) is None


async def test_a_new_entry_from_review_goes_through_the_imports_checks(console, kb_dir):
    before = base.current_version(kb_dir)
    await sign_in(console, "editor1")
    _, page = await _new_entry_form(console)
    review_ref = page.split('name="review" value="', 1)[1].split('"', 1)[0]
    form = {
        "csrf": csrf_of(page),
        "original_id": "",
        "base_version": before,
        "review": review_ref,
        "id": "F0002",  # taken
        "question": _field(page, "question"),
        "answer": "",
        "department": "宇宙課",
    }
    reply = await console.post("/faq/entry", data=form)
    text = await reply.text()
    assert reply.status == 400 and "保存できませんでした" in text
    for label, words in (("番号", "重複"), ("回答", "空欄"), ("担当課", "宇宙課")):
        assert f'<td class="nowrap">{label}</td><td>' in text and words in text, label
    assert f'name="review" value="{review_ref}"' in text  # the form stays tied to the review item
    forged = await console.post("/faq/entry", data={**form, "review": "0" * 20, "id": "F9001", "answer": "a"})
    assert forged.status == 400 and "見直しの一覧にありません" in await forged.text()
    assert (await console.get("/faq/new?review=" + "0" * 20)).status == 404
    assert base.current_version(kb_dir) == before


async def test_a_new_entry_from_review_needs_the_csrf_token_and_the_editor_role(console, stores, kb_dir):
    before = base.current_version(kb_dir)
    await sign_in(console, "editor1")
    url, page = await _new_entry_form(console)
    review_ref = page.split('name="review" value="', 1)[1].split('"', 1)[0]
    form = {
        "original_id": "",
        "base_version": before,
        "review": review_ref,
        "id": "F9001",
        "question": "有料のごみ袋を売っている店を知りたい",
        "answer": "市内のスーパーで売っています。",
    }
    assert (await console.post("/faq/entry", data=form, allow_redirects=False)).status == 403
    assert (await console.post("/faq/entry", data={**form, "csrf": "forged"})).status == 403
    for role in ("callback", "viewer"):
        add_account(stores, f"{role}1", role)
        await console.post("/logout", data={"csrf": csrf_of(page)})
        await sign_in(console, f"{role}1")
        own = await (await console.get("/password")).text()
        assert (await console.get(url, allow_redirects=False)).status == 403
        reply = await console.post("/faq/entry", data={**form, "csrf": csrf_of(own)}, allow_redirects=False)
        assert reply.status == 403
        page = own
    assert base.current_version(kb_dir) == before
    assert not any(e.action == "review.new_entry" for e in stores.audit.entries())
