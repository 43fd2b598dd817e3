"""アカウント管理 in the console (管理者 only): add with a one-time password shown once, reset and delete
with a confirmation, never one's own account; every change in the 監査ログ; CSRF as on every form."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from staff_helpers import Clock, add_account, make_console
from test_staff_console import csrf_of, new_client, page_csrf, sign_in

ONE_TIME = re.compile(r"一回限りのパスワード: (\S+) ")


@pytest.fixture
async def admin(stores):
    add_account(stores, "sato", "admin")
    async with TestClient(TestServer(make_console(stores, Clock()))) as client:
        await sign_in(client, "sato")
        yield client


@pytest.mark.parametrize("role", ["editor", "callback", "viewer"])
async def test_only_admins_manage_accounts(stores, role):
    add_account(stores, "someone", role)
    async with TestClient(TestServer(make_console(stores, Clock()))) as client:
        await sign_in(client, "someone")
        assert (await client.get("/accounts")).status == 403
        token = csrf_of(await (await client.get("/password")).text())
        data = {"csrf": token, "name": "mallory", "role": "admin"}
        assert (await client.post("/accounts", data=data)).status == 403
        assert stores.accounts.get("mallory") is None


async def test_add_shows_a_one_time_password_that_signs_in_once(admin, stores):
    token = await page_csrf(admin, "/accounts")
    data = {"csrf": token, "name": "Kaigo2", "role": "callback", "department": "kaigo"}
    added = await admin.post("/accounts", data=data)
    page = await added.text()
    assert added.status == 200 and "アカウント kaigo2 を追加しました" in page
    password = ONE_TIME.search(page).group(1)
    account = stores.accounts.get("kaigo2")
    assert (account.role, account.department, account.must_change) == ("callback", "kaigo", True)
    assert password not in account.password_hash
    clerk = await new_client(admin)
    reply = await sign_in(clerk, "kaigo2", password)
    assert reply.status == 303 and reply.headers["Location"] == "/password"
    assert password not in await (await admin.get("/accounts")).text()  # shown once only
    assert ("sato", "account.add", "kaigo2") in [
        (e.actor, e.action, e.target) for e in stores.audit.entries()
    ]
    again = await admin.post("/accounts", data=data)
    assert again.status == 409 and "すでにあります" in await again.text()
    await clerk.close()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "a b", "role": "viewer"},
        {"name": "x", "role": "root"},
        {"name": "x", "role": "callback", "department": "nope"},
    ],
)
async def test_bad_fields_add_nothing(admin, stores, data):
    token = await page_csrf(admin, "/accounts")
    reply = await admin.post("/accounts", data={"csrf": token, **data})
    assert reply.status == 400 and len(stores.accounts.list()) == 1


async def test_reset_and_delete_need_a_confirmation_and_never_oneself(admin, stores):
    add_account(stores, "tanaka", "callback")
    old_hash = stores.accounts.get("tanaka").password_hash
    token = await page_csrf(admin, "/accounts")
    assert (await admin.post("/accounts/tanaka/reset", data={"csrf": token})).status == 400
    assert stores.accounts.get("tanaka").password_hash == old_hash
    reset = await admin.post("/accounts/tanaka/reset", data={"csrf": token, "confirm": "yes"})
    assert reset.status == 200 and ONE_TIME.search(await reset.text())
    assert (
        stores.accounts.get("tanaka").must_change and stores.accounts.get("tanaka").password_hash != old_hash
    )
    assert (await admin.post("/accounts/tanaka/delete", data={"csrf": token})).status == 400
    assert stores.accounts.get("tanaka") is not None
    mine = await admin.post("/accounts/sato/delete", data={"csrf": token, "confirm": "yes"})
    assert mine.status == 400 and stores.accounts.get("sato") is not None
    gone = await admin.post("/accounts/tanaka/delete", data={"csrf": token, "confirm": "yes"})
    assert gone.status == 200 and stores.accounts.get("tanaka") is None
    assert (await admin.post("/accounts/tanaka/delete", data={"csrf": token, "confirm": "yes"})).status == 404
    actions = [(e.action, e.target) for e in stores.audit.entries()]
    assert ("account.reset", "tanaka") in actions and ("account.delete", "tanaka") in actions


async def test_forms_without_the_csrf_token_are_refused(admin, stores):
    add_account(stores, "tanaka", "callback")
    reply = await admin.post("/accounts/tanaka/delete", data={"confirm": "yes"})
    assert reply.status == 403 and stores.accounts.get("tanaka") is not None
