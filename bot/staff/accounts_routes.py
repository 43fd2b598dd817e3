"""アカウント管理 for 管理者: ``GET /accounts`` (list and the add form), ``POST /accounts`` (add, shows a
one-time password once), ``POST /accounts/<name>/reset`` and ``/delete`` (each with a confirmation).
Every change is in the 監査ログ; the same actions are ``madoguchi staff add|reset|delete``.

:func:`add_routes` takes the console's render and dependency helpers, so this module does not import
:mod:`bot.staff.app` (which calls it).
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from aiohttp import web

from bot.staff import passwords
from bot.staff.security import requires
from bot.stores import ROLES, StaffAccount, StoreError, account_name

Render = Callable[..., web.Response]


def add_routes(app: web.Application, render: Render, deps_of: Callable[[web.Request], Any]) -> None:
    """Adds the account routes to the console ``app`` (管理者 only)."""

    async def page(
        request: web.Request, notice: str | None = None, error: str | None = None, status: int = 200
    ) -> web.Response:
        accounts = await deps_of(request).store(lambda s: s.accounts.list())
        context = {"accounts": accounts, "roles": ROLES, "notice": notice, "error": error}
        return render(request, "accounts.html", context, status)

    def message(request: web.Request, key: str, **values: Any) -> str:
        return deps_of(request).ui["messages"][key].format(**values)

    async def hashed(request: web.Request, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, deps_of(request).hasher.hash, password)

    @requires()
    async def accounts_page(request: web.Request) -> web.Response:
        return await page(request)

    @requires()
    async def account_add(request: web.Request) -> web.Response:
        deps, actor = deps_of(request), request["account"]
        form = await request.post()
        role, department = str(form.get("role", "")), str(form.get("department", "")).strip() or None
        try:
            name = account_name(str(form.get("name", ""))[:100])
        except StoreError:
            return await page(request, error=message(request, "account_bad_name"), status=400)
        if role not in ROLES or (department is not None and department not in deps.catalog.departments):
            return await page(request, error=message(request, "account_bad_role"), status=400)
        password = passwords.generate()
        account = StaffAccount(name, role, department, await hashed(request, password), True, deps.clock())
        try:
            await deps.store(lambda s: s.accounts.create(account))
        except StoreError:
            return await page(request, error=message(request, "account_exists", name=name), status=409)
        await deps.store(lambda s: s.audit.record(actor.name, "account.add", name, role))
        return await page(request, notice=message(request, "account_added", name=name, password=password))

    async def target(request: web.Request) -> StaffAccount | None:
        name = request.match_info["name"]
        return await deps_of(request).store(lambda s: s.accounts.get(name))

    @requires()
    async def account_reset(request: web.Request) -> web.Response:
        deps, actor, found = deps_of(request), request["account"], await target(request)
        form = await request.post()
        if found is None:
            return await page(request, error=message(request, "not_found"), status=404)
        if form.get("confirm") != "yes":
            return await page(request, error=message(request, "account_confirm"), status=400)
        password = passwords.generate()
        new_hash = await hashed(request, password)

        def reset(stores) -> None:
            stores.accounts.set_password(found.name, new_hash, must_change=True)
            stores.audit.record(actor.name, "account.reset", found.name)

        await deps.store(reset)
        return await page(
            request, notice=message(request, "account_reset", name=found.name, password=password)
        )

    @requires()
    async def account_delete(request: web.Request) -> web.Response:
        deps, actor, found = deps_of(request), request["account"], await target(request)
        form = await request.post()
        if found is None:
            return await page(request, error=message(request, "not_found"), status=404)
        if found.name == actor.name:
            return await page(request, error=message(request, "account_self"), status=400)
        if form.get("confirm") != "yes":
            return await page(request, error=message(request, "account_confirm"), status=400)

        def delete(stores) -> None:
            stores.accounts.delete(found.name)
            stores.audit.record(actor.name, "account.delete", found.name)

        await deps.store(delete)
        return await page(request, notice=message(request, "account_deleted", name=found.name))

    app.router.add_get("/accounts", accounts_page, name="accounts")
    app.router.add_post("/accounts", account_add, name="account_add")
    app.router.add_post(r"/accounts/{name}/reset", account_reset, name="account_reset")
    app.router.add_post(r"/accounts/{name}/delete", account_delete, name="account_delete")
