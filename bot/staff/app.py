"""The console's aiohttp application: sign-in, the 折り返し queue, one request's page, the audit log.

Build it with :func:`create_app` from injected dependencies; the caller owns the stores' lifetime
unless it passes ``close_stores=True`` (then the app closes them on cleanup).

Every store call goes through :meth:`Deps.store`: off the event loop, bounded by
``config.store_timeout_s`` (bot/stores/offloop.py), so a hung Redis or a locked SQLite file never
freezes the console; the page then answers 503 with the code ``storage_unavailable`` (JSON to a client
that asks for JSON), and ``GET /healthz`` never touches a store.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
import yaml
from aiohttp import web
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from argon2 import PasswordHasher
from cryptography.fernet import Fernet

from bot.knowledge.catalog import Catalog
from bot.knowledge.faq.live_base import LiveFaq, VersionConflict
from bot.phone import parse_phone
from bot.staff import accounts_routes, analytics_routes, passwords
from bot.staff import queue as q
from bot.staff import review as rv
from bot.staff.config import StaffConfig
from bot.staff.ip_throttle import IpThrottle, client_address
from bot.staff.security import (
    AUTO_REFRESH_HEADER,
    csrf_token,
    headers_middleware,
    make_auth_middleware,
    requires,
    start_session,
)
from bot.stores import JST, ClaimConflict, StaffAccount, StoreError, Stores, account_name
from bot.stores.offloop import StoreCalls, StoreUnavailable
from bot.stores.records import resolve_ticket, ticket_parts

T = TypeVar("T")
logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
COOKIE_NAME = "madoguchi_staff"
AUDIT_PAGE_SIZE = 200
#: Rows of the CSV export (about a year of a small city's console use).
AUDIT_EXPORT_SIZE = 100_000
#: Largest request body: an uploaded FAQ or catalog workbook (a 2,000-entry FAQ as .xlsx is about 1 MB).
_MAX_FORM_BYTES = 4 * 1024 * 1024
#: Roles whose pages show the count badge of requests nobody has taken.
BADGE_ROLES = ("admin", "callback")
#: Seconds a client is asked to wait after ``storage_unavailable`` (a paused or restarting Redis).
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Deps:
    """Everything the handlers use; injected so tests control time, stores and hashing cost."""

    stores: Stores
    catalog: Catalog
    config: StaffConfig
    ui: dict[str, Any]
    clock: Callable[[], datetime]
    hasher: PasswordHasher
    dummy_hash: str
    calls: StoreCalls[Stores]
    faq: LiveFaq | None = None

    async def store(self, call: Callable[[Stores], T]) -> T:
        """``call(stores)`` off the event loop within ``config.store_timeout_s``.

        Raises:
            StoreUnavailable: the store is down, hung or locked (the console answers 503).
        """
        return await self.calls.guarded(call, self.config.store_timeout_s)


DEPS = web.AppKey("deps", Deps)
IP_THROTTLE = web.AppKey("ip_throttle", IpThrottle)


def load_ui(data_dir: Path) -> dict[str, Any]:
    """The console's labels and messages (``data/staff/ui.yml``)."""
    return yaml.safe_load((data_dir / "staff" / "ui.yml").read_text(encoding="utf-8"))


def _deps(request: web.Request) -> Deps:
    return request.app[DEPS]


def _message(request: web.Request, key: str, **values: Any) -> str:
    return _deps(request).ui["messages"][key].format(**values)


def _render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template(template, request, {**_context(request), **context}, status=status)


def _refuse(request: web.Request, status: int, key: str) -> web.Response:
    return _render(request, "error.html", {"status": status, "message": _message(request, key)}, status)


def _context(request: web.Request) -> dict[str, Any]:
    """What every template may use: the account, its badge count (read by :func:`badge_middleware`),
    the CSRF token, labels."""
    deps = _deps(request)
    account: StaffAccount | None = request.get("account")
    session = request.get("session")
    return {
        "account": account,
        "badge": request.get("badge"),
        "csrf": csrf_token(session) if session is not None else "",
        "ui": deps.ui,
        "path": request.path,
        "departments": deps.catalog.departments,
    }


def _jst(value: datetime | None) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M") if value else ""


# --- sign-in ---------------------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    notice = None
    if request.query.get("timeout"):
        notice = _message(request, "timed_out")
    elif request.query.get("bye"):
        notice = _message(request, "signed_out")
    return _render(request, "login.html", {"notice": notice, "error": None, "name": ""})


def _throttle_key(raw: str) -> str:
    try:
        return account_name(raw)
    except StoreError:
        return "-invalid-"  # names that cannot exist share one bucket


def _check_password(deps: Deps, account: StaffAccount | None, password: str) -> bool:
    """Verifies against the account, or against a dummy hash so unknown names take as long."""
    ok = passwords.verify(deps.hasher, account.password_hash if account else deps.dummy_hash, password)
    return ok and account is not None


async def login_post(request: web.Request) -> web.Response:
    deps = _deps(request)
    form = await request.post()
    raw, password = str(form.get("name", ""))[:100], str(form.get("password", ""))[: passwords.MAX_LENGTH]
    key, now = _throttle_key(raw), deps.clock()
    address = client_address(
        request.remote, request.headers.get("X-Forwarded-For"), deps.config.trust_forwarded
    )
    wait = request.app[IP_THROTTLE].wait(address, now)
    if wait:
        seconds = max(1, int(wait.total_seconds() + 0.999))
        await deps.store(lambda s: s.audit.record(key, "login.delayed", key))
        reply = _login_error(request, raw, _message(request, "ip_delay", seconds=seconds), 429)
        reply.headers["Retry-After"] = str(seconds)
        return reply
    state, account = await deps.store(lambda s: (s.accounts.login_state(key), s.accounts.get(key)))
    if state.locked(now):
        await deps.store(lambda s: s.audit.record(key, "login.locked", key))
        minutes = max(1, int((state.locked_until - now).total_seconds() // 60) + 1)
        return _login_error(request, raw, _message(request, "locked", minutes=minutes), 429)
    ok = await asyncio.get_running_loop().run_in_executor(None, _check_password, deps, account, password)
    if not ok:
        request.app[IP_THROTTLE].failed(address, now)
        state = await deps.store(lambda s: _failed_sign_in(s, deps.config, key, now))
        if state.locked(now):
            minutes = int(deps.config.lock_for.total_seconds() // 60)
            return _login_error(request, raw, _message(request, "locked", minutes=minutes), 429)
        return _login_error(request, raw, _message(request, "bad_login"), 401)
    await deps.store(lambda s: _signed_in(s, account.name))
    await start_session(request, account, now.timestamp())
    raise web.HTTPSeeOther("/password" if account.must_change else "/")


def _failed_sign_in(stores: Stores, config: StaffConfig, name: str, now: datetime):
    """Counts a failed sign-in (or wrong current password) and audits it; returns the login state."""
    state = stores.accounts.record_failure(name, now, config.lock_after, config.lock_for)
    stores.audit.record(name, "login.failed", name)
    return state


def _signed_in(stores: Stores, name: str) -> None:
    stores.accounts.clear_failures(name)
    stores.audit.record(name, "login", name)


def _login_error(request: web.Request, name: str, error: str, status: int) -> web.Response:
    return _render(request, "login.html", {"notice": None, "error": error, "name": name}, status)


@requires("editor", "callback", "viewer")
async def logout(request: web.Request) -> web.Response:
    account = request["account"]
    await _deps(request).store(lambda s: s.audit.record(account.name, "logout", account.name))
    request["session"].invalidate()
    raise web.HTTPSeeOther("/login?bye=1")


@requires("editor", "callback", "viewer")
async def password_page(request: web.Request) -> web.Response:
    notice = _message(request, "must_change") if request["account"].must_change else None
    return _render(request, "password.html", {"notice": notice, "error": None})


@requires("editor", "callback", "viewer")
async def password_post(request: web.Request) -> web.Response:
    deps, account = _deps(request), request["account"]
    form = await request.post()
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    error = passwords.problem(new) or ("password_mismatch" if new != again else None)
    loop = asyncio.get_running_loop()
    if error is None and not await loop.run_in_executor(None, _check_password, deps, account, current):
        error = "password_wrong"  # counted like a failed sign-in: a left-open screen is no guessing oracle
        now = deps.clock()
        state = await deps.store(lambda s: _failed_sign_in(s, deps.config, account.name, now))
        if state.locked(now):
            request["session"].invalidate()
            raise web.HTTPSeeOther("/login")
    if error:
        return _render(request, "password.html", {"notice": None, "error": _message(request, error)}, 400)
    new_hash = await loop.run_in_executor(None, deps.hasher.hash, new)

    def change(stores: Stores) -> StaffAccount | None:
        stores.accounts.set_password(account.name, new_hash, must_change=False)
        stores.audit.record(account.name, "password.change", account.name)
        return stores.accounts.get(account.name)

    await start_session(request, await deps.store(change), deps.clock().timestamp())
    raise web.HTTPSeeOther("/?changed=1")


@requires("editor", "callback", "viewer")
async def home(request: web.Request) -> web.Response:
    notice = _message(request, "password_changed") if request.query.get("changed") else None
    return _render(request, "home.html", {"notice": notice})


# --- 折り返し -------------------------------------------------------------------------------------


def _spoken(ticket: str) -> str:
    """The 受付番号 as the resident reads it out: 「11月26日 0001」 (the day and its number of that day)."""
    parts = ticket_parts(ticket)
    return f"{parts[0].month}月{parts[0].day}日 {parts[1]:04d}" if parts else ticket


@requires("callback")
async def callback_list(request: web.Request) -> web.Response:
    deps, account = _deps(request), request["account"]
    asked = request.query.get("ticket", "").strip()
    if asked:  # 受付番号で探す: the full ticket or what the resident reads out (11月26日の0001)
        ticket = resolve_ticket(asked, deps.clock().astimezone(JST).date())
        found = await deps.store(lambda s: s.callbacks.get(ticket)) if ticket else None
        if found is not None and q.may_see(account, found):
            raise web.HTTPSeeOther(f"/callbacks/{found.ticket}")
    status = request.query.get("status", "active")
    status = status if status in q.STATUS_FILTERS else "active"
    only = q.visible_departments(account)
    department = only or request.query.get("department") or None
    requests, work = await deps.store(lambda s: (s.callbacks.list(), s.work.states()))
    rows = q.rows(
        deps.catalog,
        requests,
        work,
        account,
        deps.clock(),
        status=status,
        department=department,
    )
    context = {
        "rows": rows,
        "status": status,
        "department": department or "",
        "only_department": only,
        "filters": q.STATUS_FILTERS,
        "no_department": q.NO_DEPARTMENT,
        "refresh_seconds": deps.config.refresh_seconds,
        "jst": _jst,
        "spoken": _spoken,
        "asked": asked,
        "auto": bool(request.headers.get(AUTO_REFRESH_HEADER)),
    }
    if asked:
        context["notice"] = _message(request, "ticket_not_found", ticket=asked)
    deleted = request.query.get("deleted", "")
    if deleted and await deps.store(lambda s: s.callbacks.get(deleted)) is None:
        context["notice"] = _message(request, "deleted", ticket=deleted)
    return _render(request, "callbacks.html", context)


async def _visible_request(request: web.Request):
    """The request of the URL, or None when it does not exist or this account may not see it."""
    deps, account, ticket = _deps(request), request["account"], request.match_info["ticket"]
    found = await deps.store(lambda s: s.callbacks.get(ticket))
    return found if found is not None and q.may_see(account, found) else None


async def _detail(
    request: web.Request, found, notice: str | None = None, error: str | None = None, status=200
):
    deps = _deps(request)
    work = await deps.store(lambda s: s.work.get(found.ticket))
    phone = parse_phone(found.phone)
    context = {
        "r": found,
        "work": work,
        "state": q.status_of(found, work),
        "phone": phone.formatted if phone else found.phone,
        "phone_e164": phone.e164 if phone else "",
        "in_slot": q.inside_slot(deps.catalog, found.slot, deps.clock()),
        "jst": _jst,
        "spoken": _spoken,
        "notice": notice,
        "error": error,
    }
    return _render(request, "callback.html", context, status)


@requires("callback")
async def callback_page(request: web.Request) -> web.Response:
    found = await _visible_request(request)
    if found is None:
        return _refuse(request, 404, "not_found")
    account = request["account"]
    deps = _deps(request)
    await deps.store(lambda s: s.audit.record(account.name, "callback.view", found.ticket))
    updated = deps.ui["statuses"].get(request.query.get("updated", ""))
    return await _detail(
        request, found, notice=_message(request, "updated", status=updated) if updated else None
    )


@requires("callback")
async def callback_post(request: web.Request) -> web.Response:
    deps, account = _deps(request), request["account"]
    found = await _visible_request(request)
    if found is None:
        return _refuse(request, 404, "not_found")
    form = await request.post()
    status, note = str(form.get("status", "")), str(form.get("note", ""))
    if (
        status == "reopen"
        and q.status_of(found, await deps.store(lambda s: s.work.get(found.ticket))) != "done"
    ):
        return await _detail(request, found, error=_message(request, "not_done"), status=409)
    if status == "reopen" and form.get("confirm") != "yes":
        return await _detail(request, found, error=_message(request, "reopen_confirm"), status=400)
    try:
        state = await deps.store(lambda s: s.work.update(found.ticket, account.name, status, note))
    except ClaimConflict as conflict:
        key = "already_done" if conflict.state.status == "done" else "taken_by"
        text = _message(request, key, clerk=conflict.state.holder, since=_jst(conflict.state.updated_at))
        return await _detail(request, found, error=text, status=409)
    except StoreError as problem:
        key = "note_too_long" if str(problem).startswith("note:") else "forbidden"
        return await _detail(request, found, error=_message(request, key), status=400)

    def record(stores: Stores) -> None:
        if state.status == "done":
            stores.callbacks.mark_done(found.ticket)
        elif status == "reopen":
            stores.callbacks.reopen(found.ticket)
        stores.audit.record(account.name, f"callback.{status}", found.ticket)

    await deps.store(record)
    raise web.HTTPSeeOther(f"/callbacks/{found.ticket}?{urlencode({'updated': status})}")


@requires()
async def callback_delete(request: web.Request) -> web.Response:
    """管理者 only: deletes a request and the staff's notes on it, after an explicit confirmation."""
    deps, account = _deps(request), request["account"]
    found = await _visible_request(request)
    if found is None:
        return _refuse(request, 404, "not_found")
    form = await request.post()
    if form.get("confirm") != "yes":
        return await _detail(request, found, error=_message(request, "delete_confirm"), status=400)

    def delete(stores: Stores) -> None:
        stores.callbacks.delete(found.ticket)
        stores.work.delete(found.ticket)
        stores.audit.record(account.name, "callback.delete", found.ticket)

    await deps.store(delete)
    raise web.HTTPSeeOther(f"/callbacks?{urlencode({'deleted': found.ticket})}")


# --- 見直し --------------------------------------------------------------------------------------


async def _review(
    request: web.Request, notice: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    deps = _deps(request)
    if deps.faq is None:
        return _refuse(request, 404, "not_found")
    snapshot = deps.faq.snapshot()
    query = request.query.get("q", "").strip()[:200]
    groups = await deps.store(lambda s: s.review.distinct())
    context = {
        "items": rv.items(groups, snapshot),
        "q": query,
        "results": snapshot.search(query, top_k=rv.SEARCH_RESULTS) if query else [],
        "entries": len(snapshot),
        "jst": _jst,
        "notice": notice,
        "error": error,
    }
    return _render(request, "review.html", context, status)


@requires("editor")
async def review_page(request: web.Request) -> web.Response:
    added, dismissed = request.query.get("added", ""), request.query.get("dismissed", "")
    notice = _message(request, "review_added", faq_id=added) if added else None
    if dismissed.isdigit():
        notice = _message(request, "review_dismissed", count=int(dismissed))
    return await _review(request, notice=notice)


@requires("editor")
async def review_post(request: web.Request) -> web.Response:
    deps, account = _deps(request), request["account"]
    if deps.faq is None:
        return _refuse(request, 404, "not_found")
    form = await request.post()
    group = rv.find(await deps.store(lambda s: s.review.distinct()), str(form.get("key", "")))
    faq_id = str(form.get("faq_id", "")).strip()[:64]
    if group is None:
        return await _review(request, error=_message(request, "review_gone"), status=400)
    loop = asyncio.get_running_loop()
    snapshot = deps.faq.snapshot()
    today = deps.clock().astimezone(JST).date()
    try:
        outcome, version = await loop.run_in_executor(
            None, rv.add_paraphrase, deps.faq.kb_dir, snapshot, group.question, faq_id, today
        )
    except VersionConflict:
        return await _review(request, error=_message(request, "review_conflict"), status=409)
    if not outcome.report.ok:
        report = " ".join(i.message for i in outcome.report.errors)
        return await _review(request, error=report, status=400)
    if version is not None:
        await loop.run_in_executor(None, deps.faq.refresh)
        # target: the rollback point
        await deps.store(lambda s: s.audit.record(account.name, "review.paraphrase", version, faq_id))
    raise web.HTTPSeeOther(f"/review?{urlencode({'added': faq_id})}")


# --- 監査ログ ------------------------------------------------------------------------------------


@requires()
async def audit_page(request: web.Request) -> web.Response:
    entries = await _deps(request).store(lambda s: s.audit.entries(AUDIT_PAGE_SIZE))
    return _render(request, "audit.html", {"entries": entries, "jst": _jst})


def _cell(value: str) -> str:
    """A CSV cell Excel will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


@requires()
async def audit_csv(request: web.Request) -> web.Response:
    """The latest entries as CSV (UTF-8 with BOM, so Excel opens the Japanese correctly)."""
    deps, account = _deps(request), request["account"]

    def export(stores: Stores):
        entries = stores.audit.entries(AUDIT_EXPORT_SIZE)
        stores.audit.record(account.name, "audit.export", "", str(len(entries)))
        return entries

    entries = await deps.store(export)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(deps.ui["audit_columns"])
    actions = deps.ui["audit_actions"]
    for e in entries:
        writer.writerow(
            [_cell(v) for v in (_jst(e.at), e.actor, actions.get(e.action, e.action), e.target, e.detail)]
        )
    stamp = deps.clock().astimezone(JST).strftime("%Y%m%d-%H%M")
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


# --- health and an unavailable store ---------------------------------------------------------------


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the process and its event loop run (no session, no store: a hung Redis never fails it)."""
    return web.json_response({"status": "ok"})


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


@web.middleware
async def unavailable_middleware(request: web.Request, handler) -> web.StreamResponse:
    """A store that is down, hung or locked: 503 with the code ``storage_unavailable`` and the
    console's message (``data/staff/ui.yml``), as JSON to a client that asks for JSON, else the page."""
    try:
        return await handler(request)
    except StoreUnavailable as problem:
        route = request.match_info.route.name or "-"
        logger.warning(
            "staff console: code=%s reason=%s error=%s route=%s",
            problem.code,
            problem.reason,
            problem.error,
            route,
        )
        message = _message(request, "store_unavailable", code=problem.code)
        if _wants_json(request):
            body = {"code": problem.code, "reason": problem.reason, "message": message}
            reply = web.json_response(body, status=503)
        else:
            reply = _render(request, "error.html", {"status": 503, "message": message}, 503)
        reply.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return reply


@web.middleware
async def badge_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Reads the count badge of the pages of 折り返し担当 and 管理者 (one bounded store call)."""
    account: StaffAccount | None = request.get("account")
    if account is not None and account.role in BADGE_ROLES:
        request["badge"] = await _deps(request).store(
            lambda s: q.new_count(s.callbacks.list("open"), s.work.states(), account)
        )
    return await handler(request)


# --- the application ------------------------------------------------------------------------------


def create_app(
    stores: Stores,
    catalog: Catalog,
    config: StaffConfig,
    ui: dict[str, Any],
    *,
    clock: Callable[[], datetime],
    hasher: PasswordHasher | None = None,
    faq: LiveFaq | None = None,
    close_stores: bool = False,
    data_dir: Path | None = None,
    work_dir: Path | None = None,
) -> web.Application:
    """The console. ``config.session_key`` must be a Fernet key (see :mod:`bot.staff.config`).

    ``data_dir``: the data directory whose catalog the 手続き pages show and rewrite (None: no such pages);
    ``work_dir``: where uploads wait for their confirmation (default: a folder beside the FAQ base).
    """
    hasher = hasher or passwords.default_hasher()
    calls = StoreCalls(lambda: stores, name="madoguchi-staff-store")
    deps = Deps(stores, catalog, config, ui, clock, hasher, hasher.hash(passwords.generate()), calls, faq)
    app = web.Application(client_max_size=_MAX_FORM_BYTES, middlewares=[headers_middleware])
    app[DEPS] = deps
    app[IP_THROTTLE] = IpThrottle()
    storage = EncryptedCookieStorage(
        Fernet(config.session_key),
        cookie_name=COOKIE_NAME,
        httponly=True,
        samesite="Strict",
        secure=config.secure_cookie,
    )
    setup_session(app, storage)
    app.middlewares.append(unavailable_middleware)
    app.middlewares.append(make_auth_middleware(deps, _refuse))
    app.middlewares.append(badge_middleware)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
    )
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login_post, name="login_post")
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/password", password_page, name="password")
    app.router.add_post("/password", password_post, name="password_post")
    app.router.add_get("/", home, name="home")
    app.router.add_get("/callbacks", callback_list, name="callbacks")
    app.router.add_get("/callbacks/{ticket}", callback_page, name="callback")
    app.router.add_post("/callbacks/{ticket}", callback_post, name="callback_post")
    app.router.add_post("/callbacks/{ticket}/delete", callback_delete, name="callback_delete")
    app.router.add_get("/review", review_page, name="review")
    app.router.add_post("/review", review_post, name="review_post")
    analytics_routes.add_routes(app, _render, _deps)  # 利用状況 (bot/staff/analytics_routes.py)
    accounts_routes.add_routes(app, _render, _deps)  # アカウント管理 (bot/staff/accounts_routes.py)
    app.router.add_get("/audit", audit_page, name="audit")
    app.router.add_get("/audit.csv", audit_csv, name="audit_csv")
    app.router.add_static("/static", HERE / "static", name="static")
    from bot.staff import knowledge_pages  # FAQ and 手続き pages: their routes are all in that module

    default_work = (faq.kb_dir.parent / "staff") if faq is not None else Path(tempfile.gettempdir())
    kit = knowledge_pages.PageKit(_deps, _render, _refuse, _message)
    knowledge_pages.register(app, kit, data_dir, work_dir or default_work)

    async def close(_app: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, calls.close)  # waits for bounded calls
        if close_stores:
            stores.close()

    app.on_cleanup.append(close)
    return app
