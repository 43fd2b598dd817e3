"""The staff console over HTTP (aiohttp test server) on SQLite and Redis: sign-in, roles, CSRF, idle
timeout, throttling, cookie flags, and the 折り返し queue worked by two clerks."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from staff_helpers import PASSWORD, Clock, add_account, csrf_of, make_console

from bot.staff.security import AUTO_REFRESH_HEADER
from bot.stores import Stores

REPO = Path(__file__).resolve().parents[1]
PHONE = "090-1234-5678"
PHONE_DIGITS = "09012345678"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def console(stores: Stores, clock: Clock):
    async with TestClient(TestServer(make_console(stores, clock))) as client:
        yield client


async def new_client(console: TestClient) -> TestClient:
    """A second browser on the same server (own cookies)."""
    client = TestClient(console.server)
    await client.start_server()
    return client


async def sign_in(client: TestClient, name: str, password: str = PASSWORD):
    page = await (await client.get("/login")).text()
    return await client.post(
        "/login", data={"csrf": csrf_of(page), "name": name, "password": password}, allow_redirects=False
    )


async def page_csrf(client: TestClient, path: str) -> str:
    reply = await client.get(path)
    assert reply.status == 200, path
    return csrf_of(await reply.text())


def _request(stores: Stores, department: str | None = "kaigo", phone: str = PHONE):
    return stores.callbacks.add(phone, "山田", "平日の午前（9時〜12時）", "介護保険の申請", department)


# --- sign-in ----------------------------------------------------------------------------------------


async def test_sign_in_page_has_labelled_fields_and_a_button(console: TestClient):
    html = await (await console.get("/login")).text()
    assert re.search(r'<label for="name">ユーザー名</label>\s*<input id="name"', html)
    assert re.search(
        r'<label for="password">パスワード</label>\s*<input id="password"[^>]*type="password"', html
    )
    assert re.search(r'<button type="submit">ログイン</button>', html)


async def test_after_sign_in_the_折り返し_link_leads_to_the_queue_with_tickets(console, stores):
    add_account(stores, "tanaka", "callback")
    request = _request(stores)
    reply = await sign_in(console, "tanaka")
    assert (reply.status, reply.headers["Location"]) == (303, "/")
    home = await (await console.get("/")).text()
    assert re.search(r'<a href="/callbacks"[^>]*>折り返し</a>', home)
    queue = await (await console.get("/callbacks")).text()
    assert f'href="/callbacks/{request.ticket}"' in queue and f"<small>{request.ticket}</small></a>" in queue
    assert "受付番号" in queue
    assert "未対応" in queue and "今が希望時間帯" in queue
    assert stores.audit.entries()[0].action == "login"


async def test_wrong_password_and_unknown_name_give_the_same_answer(console, stores):
    add_account(stores, "tanaka", "callback")
    wrong = await sign_in(console, "tanaka", "not the password")
    unknown = await sign_in(console, "nobody", "not the password")
    assert wrong.status == unknown.status == 401
    assert "ユーザー名またはパスワードが違います" in await wrong.text()
    assert (await console.get("/callbacks", allow_redirects=False)).status == 303


async def test_five_failures_lock_the_account_for_fifteen_minutes(console, stores, clock):
    add_account(stores, "tanaka", "callback")
    for _ in range(4):
        assert (await sign_in(console, "tanaka", "guess")).status == 401
    assert (await sign_in(console, "tanaka", "guess")).status == 429
    locked = await sign_in(console, "tanaka")  # even the right password is refused now
    assert locked.status == 429 and "ロック" in await locked.text()
    clock.advance(minutes=14, seconds=59)
    assert (await sign_in(console, "tanaka")).status == 429
    clock.advance(seconds=1)
    assert (await sign_in(console, "tanaka")).status == 303
    actions = [e.action for e in stores.audit.entries()]
    assert actions.count("login.failed") == 5 and actions.count("login.locked") == 2


async def test_one_time_password_must_be_changed_first(console, stores):
    add_account(stores, "sato", "admin", must_change=True)
    reply = await sign_in(console, "sato")
    assert reply.headers["Location"] == "/password"
    assert (await console.get("/callbacks", allow_redirects=False)).headers["Location"] == "/password"
    token = await page_csrf(console, "/password")
    short = await console.post(
        "/password", data={"csrf": token, "current": PASSWORD, "new": "short", "again": "short"}
    )
    assert short.status == 400 and "12文字以上" in await short.text()
    new = "a much longer passphrase"
    data = {"csrf": token, "current": PASSWORD, "new": new, "again": new}
    assert (await console.post("/password", data=data, allow_redirects=False)).status == 303
    assert stores.accounts.get("sato").must_change is False
    assert (await console.get("/callbacks")).status == 200
    assert (await sign_in(await new_client(console), "sato", new)).headers["Location"] == "/"


async def test_wrong_current_passwords_count_as_failed_sign_ins(console, stores):
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    token = await page_csrf(console, "/password")
    data = {
        "csrf": token,
        "current": "guess",
        "new": "a new long passphrase",
        "again": "a new long passphrase",
    }
    for _ in range(4):
        assert (await console.post("/password", data=data)).status == 400
    locked = await console.post("/password", data=data, allow_redirects=False)
    assert (locked.status, locked.headers["Location"]) == (303, "/login")
    assert (await console.get("/", allow_redirects=False)).headers["Location"] == "/login"
    assert (await sign_in(console, "tanaka")).status == 429


async def test_a_changed_password_ends_other_sessions(console, stores):
    add_account(stores, "tanaka", "callback")
    other = await new_client(console)
    await sign_in(other, "tanaka")
    await sign_in(console, "tanaka")
    new = "another long passphrase"
    token = await page_csrf(console, "/password")
    await console.post("/password", data={"csrf": token, "current": PASSWORD, "new": new, "again": new})
    assert (await console.get("/callbacks")).status == 200
    assert (await other.get("/callbacks", allow_redirects=False)).status == 303
    await other.close()


async def test_a_deleted_account_is_signed_out_at_its_next_request(console, stores):
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    assert (await console.get("/callbacks")).status == 200
    stores.accounts.delete("tanaka")
    assert (await console.get("/callbacks", allow_redirects=False)).headers["Location"] == "/login"


async def test_logout_ends_the_session(console, stores):
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    token = await page_csrf(console, "/")
    assert (await console.post("/logout", data={"csrf": token}, allow_redirects=False)).status == 303
    assert (await console.get("/", allow_redirects=False)).headers["Location"] == "/login"


# --- refusals ---------------------------------------------------------------------------------------

PAGES = ["/", "/callbacks", "/callbacks/{ticket}", "/audit", "/password"]
FORMS = ["/callbacks/{ticket}", "/password", "/logout"]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_redirects_to_sign_in_without_a_session(console, stores, path):
    path = path.format(ticket=_request(stores).ticket)
    reply = await console.get(path, allow_redirects=False)
    assert (reply.status, reply.headers["Location"]) == (303, "/login")


@pytest.mark.parametrize("path", FORMS)
async def test_every_form_refuses_without_a_session(console, stores, path):
    path = path.format(ticket=_request(stores).ticket)
    token = await page_csrf(console, "/login")  # a valid token of an anonymous session
    reply = await console.post(path, data={"csrf": token, "status": "done"}, allow_redirects=False)
    assert reply.status == 401
    assert stores.callbacks.list()[0].status == "open"


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        ("viewer", "/callbacks", False),
        ("viewer", "/callbacks/{ticket}", False),
        ("editor", "/callbacks", False),
        ("callback", "/audit", False),
        ("viewer", "/", True),
        ("admin", "/audit", True),
        ("admin", "/callbacks/{ticket}", True),
    ],
)
async def test_roles_per_page(console, stores, role, path, allowed):
    path = path.format(ticket=_request(stores).ticket)
    add_account(stores, "someone", role)
    await sign_in(console, "someone")
    reply = await console.get(path)
    assert reply.status == (200 if allowed else 403)
    if not allowed:
        assert "権限がありません" in await reply.text()


async def test_wrong_role_cannot_post_either(console, stores):
    request = _request(stores)
    add_account(stores, "viewer1", "viewer")
    await sign_in(console, "viewer1")
    token = await page_csrf(console, "/")
    reply = await console.post(f"/callbacks/{request.ticket}", data={"csrf": token, "status": "in_progress"})
    assert reply.status == 403
    assert stores.work.get(request.ticket) is None


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_forms_refuse_a_missing_or_wrong_csrf_token(console, stores, token):
    request = _request(stores)
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    data = {"status": "in_progress"} | ({} if token is None else {"csrf": token})
    reply = await console.post(f"/callbacks/{request.ticket}", data=data)
    assert reply.status == 403 and "不正な送信" in await reply.text()
    assert stores.work.get(request.ticket) is None
    login = await console.post("/login", data={"name": "tanaka", "password": PASSWORD})
    assert login.status == 403


async def test_a_cross_origin_post_is_refused_even_with_the_token(console, stores):
    request = _request(stores)
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    token = await page_csrf(console, "/callbacks")
    data = {"csrf": token, "status": "in_progress"}
    reply = await console.post(
        f"/callbacks/{request.ticket}", data=data, headers={"Origin": "https://evil.example"}
    )
    assert reply.status == 403 and stores.work.get(request.ticket) is None


async def test_idle_timeout_and_auto_refresh_does_not_keep_a_session_alive(console, stores, clock):
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    clock.advance(minutes=29)
    assert (await console.get("/callbacks")).status == 200  # activity: the idle time starts again
    clock.advance(minutes=20)
    auto = await console.get("/callbacks", headers={AUTO_REFRESH_HEADER: "1"})
    assert auto.status == 200
    clock.advance(minutes=10, seconds=1)  # 30 min after the last real request
    reply = await console.get("/callbacks", allow_redirects=False)
    assert (reply.status, reply.headers["Location"]) == (303, "/login?timeout=1")
    assert "一定時間操作がなかった" in await (await console.get("/login?timeout=1")).text()
    assert (await console.get("/callbacks", allow_redirects=False)).status == 303


@pytest.mark.parametrize("tls", [False, True])
async def test_session_cookie_flags(stores, clock, tls):
    add_account(stores, "tanaka", "callback")
    async with TestClient(TestServer(make_console(stores, clock, secure_cookie=tls))) as client:
        reply = await sign_in(client, "tanaka")
        cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert ("Secure" in cookie) is tls
    assert "Max-Age" not in cookie and "expires" not in cookie.lower()  # ends with the browser


async def test_security_headers_on_every_answer(console):
    for path in ("/login", "/callbacks", "/nope"):
        reply = await console.get(path, allow_redirects=False)
        assert "script-src 'self'" in reply.headers["Content-Security-Policy"], path
        assert reply.headers["Cache-Control"] == "no-store"
        assert reply.headers["X-Frame-Options"] == "DENY"


async def test_admin_exports_the_audit_log_as_csv(console, stores):
    add_account(stores, "sato", "admin")
    await sign_in(console, "sato")
    reply = await console.get("/audit.csv")
    assert reply.status == 200 and reply.content_type == "text/csv"
    assert reply.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    body = (await reply.read()).decode("utf-8")
    lines = body.lstrip("\ufeff").splitlines()
    assert body.startswith("\ufeff") and lines[0] == "日時,職員,操作,対象,詳細"
    assert lines[1].split(",")[1:4] == ["sato", "ログイン", "sato"]
    assert stores.audit.entries()[0].action == "audit.export"
    add_account(stores, "tanaka", "callback")
    other = await new_client(console)
    await sign_in(other, "tanaka")
    assert (await other.get("/audit.csv")).status == 403
    await other.close()


# --- the queue --------------------------------------------------------------------------------------


async def test_two_clerks_one_request(console, stores, clock):
    request = _request(stores)
    add_account(stores, "tanaka", "callback")
    add_account(stores, "suzuki", "callback")
    second = await new_client(console)
    await sign_in(console, "tanaka")
    await sign_in(second, "suzuki")
    page = await (await console.get(f"/callbacks/{request.ticket}")).text()
    assert "090-1234-5678" in page
    token = csrf_of(page)
    taken = await console.post(f"/callbacks/{request.ticket}", data={"csrf": token, "status": "in_progress"})
    assert taken.status == 200 and "「対応中」にしました" in await taken.text()

    other = await (await second.get(f"/callbacks/{request.ticket}")).text()
    assert "tanaka さんが対応中です" in other and 'value="done"' not in other
    conflict = await second.post(
        f"/callbacks/{request.ticket}", data={"csrf": csrf_of(other), "status": "done"}
    )
    assert conflict.status == 409 and "tanaka さんが対応中です" in await conflict.text()
    assert "対応中" in await (await second.get("/callbacks")).text()

    clock.advance(minutes=5)
    data = {"csrf": token, "status": "done", "note": "申請書を郵送で案内"}
    done = await console.post(f"/callbacks/{request.ticket}", data=data)
    assert done.status == 200 and "申請書を郵送で案内" in await done.text()
    assert stores.callbacks.get(request.ticket).status == "done"
    assert request.ticket not in await (await second.get("/callbacks")).text()
    assert request.ticket in await (await second.get("/callbacks?status=done")).text()
    views = [(e.actor, e.action) for e in stores.audit.entries() if e.target == request.ticket]
    assert ("tanaka", "callback.done") in views and ("suzuki", "callback.view") in views
    await second.close()


async def test_only_an_admin_deletes_a_request_and_only_when_confirmed(console, stores):
    request = _request(stores)
    stores.work.update(request.ticket, "tanaka", "in_progress", "メモ")
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    token = await page_csrf(console, f"/callbacks/{request.ticket}")
    path = f"/callbacks/{request.ticket}/delete"
    assert (await console.post(path, data={"csrf": token, "confirm": "yes"})).status == 403
    add_account(stores, "sato", "admin")
    admin = await new_client(console)
    await sign_in(admin, "sato")
    page = await (await admin.get(f"/callbacks/{request.ticket}")).text()
    assert "この依頼を削除する" in page
    unconfirmed = await admin.post(path, data={"csrf": csrf_of(page)})
    assert unconfirmed.status == 400 and stores.callbacks.get(request.ticket) is not None
    done = await admin.post(path, data={"csrf": csrf_of(page), "confirm": "yes"})
    assert done.status == 200 and f"依頼 {request.ticket} を削除しました" in await done.text()
    assert stores.callbacks.get(request.ticket) is None and stores.work.get(request.ticket) is None
    assert (stores.audit.entries()[0].action, stores.audit.entries()[0].target) == (
        "callback.delete",
        request.ticket,
    )
    await admin.close()


async def test_no_answer_puts_it_back_for_anyone(console, stores):
    request = _request(stores)
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    token = await page_csrf(console, f"/callbacks/{request.ticket}")
    await console.post(f"/callbacks/{request.ticket}", data={"csrf": token, "status": "no_answer"})
    state = stores.work.get(request.ticket)
    assert (state.status, state.holder, state.attempts) == ("no_answer", None, 1)
    queue = await (await console.get("/callbacks?status=no_answer")).text()
    assert request.ticket in queue and "不在 1 回" in queue


async def test_the_phone_number_is_shown_only_on_the_request_page(console, stores):
    request = _request(stores)
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    queue = await (await console.get("/callbacks")).text()
    assert "1234" not in queue.replace(request.ticket, "")
    assert "090-1234-5678" in await (await console.get(f"/callbacks/{request.ticket}")).text()


async def test_filters_and_department_limited_clerk(console, stores):
    kaigo = _request(stores, "kaigo")
    shimin = _request(stores, "shimin", phone="03-1234-5678")
    unrouted = _request(stores, None, phone="06-1234-5678")
    add_account(stores, "admin1", "admin")
    await sign_in(console, "admin1")
    everything = await (await console.get("/callbacks")).text()
    assert all(r.ticket in everything for r in (kaigo, shimin, unrouted))
    only_kaigo = await (await console.get("/callbacks?department=kaigo")).text()
    assert kaigo.ticket in only_kaigo and shimin.ticket not in only_kaigo
    assert unrouted.ticket in await (await console.get("/callbacks?department=-")).text()

    add_account(stores, "kaigo1", "callback", department="kaigo")
    clerk = await new_client(console)
    await sign_in(clerk, "kaigo1")
    mine = await (await clerk.get("/callbacks?department=shimin")).text()  # the limit wins
    assert kaigo.ticket in mine and shimin.ticket not in mine and unrouted.ticket not in mine
    assert (await clerk.get(f"/callbacks/{shimin.ticket}")).status == 404
    await clerk.close()


async def test_count_badge_shows_untaken_requests(console, stores):
    first = _request(stores)
    _request(stores)
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    assert re.search(
        r'<span class="vh">未対応</span>2<span class="vh">件</span>', await (await console.get("/")).text()
    )
    token = await page_csrf(console, f"/callbacks/{first.ticket}")
    await console.post(f"/callbacks/{first.ticket}", data={"csrf": token, "status": "in_progress"})
    assert re.search(r"未対応</span>1<", await (await console.get("/")).text())


async def test_no_phone_number_in_any_log(console, stores, caplog):
    caplog.set_level(logging.DEBUG)
    request = _request(stores)
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka", "wrong password")
    await sign_in(console, "tanaka")
    token = await page_csrf(console, f"/callbacks/{request.ticket}")
    await console.post(f"/callbacks/{request.ticket}", data={"csrf": token, "status": "done", "note": "済"})
    assert caplog.records, "the console logged nothing: the check would be empty"
    assert PHONE_DIGITS not in caplog.text and "1234-5678" not in caplog.text
    assert all("1234" not in f"{e.target} {e.detail}" for e in stores.audit.entries())


async def test_a_done_request_is_reopened_only_with_confirmation(console, stores, clock):
    request = _request(stores)
    add_account(stores, "tanaka", "callback")
    await sign_in(console, "tanaka")
    token = await page_csrf(console, f"/callbacks/{request.ticket}")
    early = await console.post(f"/callbacks/{request.ticket}", data={"csrf": token, "status": "reopen"})
    assert early.status == 409 and "完了になっていないので" in await early.text()
    await console.post(f"/callbacks/{request.ticket}", data={"csrf": token, "status": "done"})
    page = await (await console.get(f"/callbacks/{request.ticket}")).text()
    assert 'value="reopen"' in page and 'value="done"' not in page
    unconfirmed = await console.post(
        f"/callbacks/{request.ticket}", data={"csrf": token, "status": "reopen", "note": "再連絡"}
    )
    assert unconfirmed.status == 400 and stores.callbacks.get(request.ticket).status == "done"
    data = {"csrf": token, "status": "reopen", "note": "書類が届かない", "confirm": "yes"}
    reopened = await console.post(f"/callbacks/{request.ticket}", data=data)
    text = await reopened.text()
    assert reopened.status == 200 and "書類が届かない" in text and 'value="done"' in text
    assert stores.callbacks.get(request.ticket).status == "open"
    assert stores.work.get(request.ticket).holder == "tanaka"
    assert request.ticket in await (await console.get("/callbacks")).text()
    assert ("tanaka", "callback.reopen") in [(e.actor, e.action) for e in stores.audit.entries()]


async def test_a_clerk_finds_a_request_by_the_number_the_resident_reads_out(console, stores, clock):
    """A resident calls and reads out 「11月26日の0001」: the queue shows that form and finds it."""
    from bot.stores.records import ticket_parts

    kaigo = _request(stores, "kaigo")
    clock.now = kaigo.created_at  # the console's day is the day the resident made the request
    shimin = _request(stores, "shimin", phone="03-1234-5678")
    add_account(stores, "kaigo1", "callback", department="kaigo")
    await sign_in(console, "kaigo1")
    day, number = ticket_parts(kaigo.ticket)
    spoken = f"{day.month}月{day.day}日 {number:04d}"
    assert spoken in await (await console.get("/callbacks")).text()
    for asked in (f"{day.month}月{day.day}日の{number:04d}", kaigo.ticket):
        found = await console.get("/callbacks", params={"ticket": asked}, allow_redirects=False)
        assert found.status == 303 and found.headers["Location"] == f"/callbacks/{kaigo.ticket}"
    assert spoken in await (await console.get(f"/callbacks/{kaigo.ticket}")).text()
    # another department's request, or a number that does not exist, is not found (and not revealed)
    ui = yaml.safe_load((REPO / "data" / "staff" / "ui.yml").read_text(encoding="utf-8"))
    for asked in (shimin.ticket, "1月1日の0099"):
        missed = await console.get("/callbacks", params={"ticket": asked}, allow_redirects=False)
        notice = html.escape(ui["messages"]["ticket_not_found"].format(ticket=asked))
        assert missed.status == 200 and notice in await missed.text()
