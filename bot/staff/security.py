"""Who may do what: the session (idle timeout, account re-read on every request), roles per route,
CSRF tokens on every form, and response headers (CSP, no caching of pages with phone numbers).

Every route is refused unless it is public (sign-in, static files) or declares its roles with
:func:`requires`; 管理者 may use every route.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp_session import Session, get_session, new_session

from bot.stores import StaffAccount

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Route names anyone may open.
PUBLIC_ROUTES = frozenset({"login", "login_post", "static", "healthz"})
#: Public routes answered without reading the session or the account (no store call: the liveness
#: check stays fast while a store hangs, and a stylesheet never waits for one).
NO_SESSION_ROUTES = frozenset({"static", "healthz"})
#: Routes a user with a one-time password may still use.
FIRST_LOGIN_ROUTES = frozenset({"password", "password_post", "logout"})
#: Header the page's own refresh script sends: such requests do not count as activity (a screen left
#: open must still time out).
AUTO_REFRESH_HEADER = "X-Staff-Auto-Refresh"
CSRF_FIELD = "csrf"

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on the console's own
    # forms, and the origin check below could not tell them from a foreign page's
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def requires(*roles: str) -> Callable[[Handler], Handler]:
    """Marks a handler with the roles that may use it (管理者 always may)."""

    def mark(handler: Handler) -> Handler:
        handler.staff_roles = frozenset(roles) | {"admin"}  # type: ignore[attr-defined]
        return handler

    return mark


def password_version(account: StaffAccount) -> str:
    """A short digest of the password hash kept in the session: a changed password ends other sessions."""
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def csrf_token(session: Session) -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


async def start_session(request: web.Request, account: StaffAccount, now: float) -> Session:
    """A fresh session for a signed-in account (new CSRF token; nothing carried over)."""
    session = await new_session(request)
    session["user"] = account.name
    session["pwv"] = password_version(account)
    session["seen"] = now
    csrf_token(session)
    return session


def _csrf_ok(session: Session, submitted: object) -> bool:
    expected = session.get(CSRF_FIELD)
    return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


def _same_origin(request: web.Request, behind_tls: bool) -> bool:
    """Whether the browser says the form came from the console itself (absent headers: not a browser).

    Behind the city's TLS proxy the browser's origin is https while the proxy talks http to us; the proxy
    must pass the Host header on unchanged.
    """
    origin = request.headers.get("Origin")
    site = request.headers.get("Sec-Fetch-Site")
    scheme = "https" if behind_tls else request.scheme
    return (origin is None or origin == f"{scheme}://{request.host}") and site in (None, "same-origin")


def make_auth_middleware(deps, refuse: Callable[[web.Request, int, str], web.StreamResponse]):
    """The middleware that decides every request; ``refuse(request, status, message_key)`` renders errors."""

    async def current_account(request: web.Request, session: Session) -> StaffAccount | None:
        name = session.get("user")
        if not name:
            return None
        now = deps.clock().timestamp()
        if now - float(session.get("seen", 0)) > deps.config.idle_timeout.total_seconds():
            session.invalidate()
            request["timed_out"] = True
            return None
        account = await deps.store(lambda s: s.accounts.get(name))
        if account is None or session.get("pwv") != password_version(account):
            session.invalidate()
            return None
        if not request.headers.get(AUTO_REFRESH_HEADER):
            session["seen"] = now
        return account

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.route.name in NO_SESSION_ROUTES:
            return await handler(request)
        session = await get_session(request)
        request["session"] = session
        account = await current_account(request, session)
        request["account"] = account
        if request.method not in ("GET", "HEAD"):
            form = await request.post()
            if not _same_origin(request, deps.config.secure_cookie) or not _csrf_ok(
                session, form.get(CSRF_FIELD)
            ):
                return refuse(request, 403, "csrf")
        route = request.match_info.route.name
        if route in PUBLIC_ROUTES:
            return await handler(request)
        if account is None:
            if request.method in ("GET", "HEAD"):
                suffix = "?timeout=1" if request.get("timed_out") else ""
                raise web.HTTPSeeOther(f"/login{suffix}")
            return refuse(request, 401, "unauthorized")
        if request.match_info.http_exception is not None:
            return refuse(request, request.match_info.http_exception.status, "not_found")
        if account.must_change and route not in FIRST_LOGIN_ROUTES:
            raise web.HTTPSeeOther("/password")
        roles = getattr(request.match_info.handler, "staff_roles", None)
        if roles is None or account.role not in roles:
            return refuse(request, 403, "forbidden")
        return await handler(request)

    return auth


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Adds the security headers to every answer, errors included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(_HEADERS)
        raise
    response.headers.update(_HEADERS)
    return response
