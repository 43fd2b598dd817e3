"""見直し in the console: an editor turns an unanswered question into a paraphrase; the base publishes it
atomically (the bot's ranking then finds that entry), errors publish nothing, and rollback undoes it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from staff_helpers import REPO, Clock, add_account, cheap_hasher, csrf_of
from test_staff_console import sign_in

from bot.knowledge.catalog import load_catalog
from bot.knowledge.faq import import_export
from bot.knowledge.faq import live_base as base
from bot.privacy import mask
from bot.staff.app import create_app, load_ui
from bot.staff.config import StaffConfig

ASKED = "有料の袋はどこのお店に置いてあるの？電話は090-1234-5678"
MASKED_PART = "有料の袋はどこのお店に置いてあるの"
ENTRY = "F0085"  # 指定ごみ袋はどこで買えますか


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    kb = tmp_path_factory.mktemp("faq") / "seed"
    import_export.ensure_live_base(kb, REPO / "data" / "faq" / "sample_faq.csv")
    return kb


@pytest.fixture
def kb_dir(seeded: Path, tmp_path: Path) -> Path:
    kb = tmp_path / "faq"
    shutil.copytree(seeded, kb, symlinks=True)
    return kb


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
