"""FAQ と手続き in the console (編集者・管理者): browse, search, edit one FAQ entry, upload a sheet with a
diff and a confirmation, download the live version, roll back, see stale content.

All routes of these pages are added by :func:`register` (one call in :func:`bot.staff.app.create_app`). The
work itself is done by the import's own code: :mod:`bot.staff.faq_editing` and
:mod:`bot.knowledge.catalog.sheet`; this module only reads forms, renders pages and writes the audit log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from aiohttp import web

from bot.knowledge.catalog import Catalog, CatalogError, department_names, load_catalog
from bot.knowledge.catalog import sheet as catalog_sheet
from bot.knowledge.faq import diff as faq_diff
from bot.knowledge.faq import live_base
from bot.knowledge.faq.tables import FAQ_COLUMNS, FAQ_JA_HEADERS, TableError, table_bytes
from bot.knowledge.faq.validate import Issue
from bot.staff import faq_editing as fe
from bot.staff import review as rv
from bot.staff.security import requires
from bot.staff.staging import Staging
from bot.stores import JST
from bot.text import normalize

#: A 確認日 older than this is listed as stale: the city's rules and fees change with the fiscal year
#: (April), so content nobody re-checked for over a year has likely missed one change.
STALE_AFTER_DAYS = 365
#: How many FAQ entries the list page shows at once (a city's whole FAQ is a few hundred).
LIST_LIMIT = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class PageKit:
    """What these pages use of :mod:`bot.staff.app` (passed in, so the two modules do not import each other):
    the request's dependencies, rendering a template, refusing with a message, and the UI messages."""

    deps: Callable[[web.Request], Any]
    render: Callable[..., web.Response]
    refuse: Callable[[web.Request, int, str], web.Response]
    message: Callable[..., str]


@dataclass
class KnowledgeDeps:
    """Where the pages read and write: the data directory (catalog) and the console's work folder."""

    data_dir: Path | None
    work_dir: Path
    staging: Staging
    kit: PageKit
    _catalogs: dict[str, tuple[Catalog | None, list[str]]] = field(default_factory=dict)

    def catalog_state(self) -> tuple[Catalog | None, list[str]]:
        """The catalog on disk and every problem ``madoguchi catalog check`` reports (cached by content)."""
        assert self.data_dir is not None
        key = catalog_sheet.stamp(self.data_dir)
        if key not in self._catalogs:
            self._catalogs.clear()
            self._catalogs[key] = _check_catalog(self.data_dir)
        return self._catalogs[key]


def _check_catalog(data_dir: Path) -> tuple[Catalog | None, list[str]]:
    from bot import language

    try:
        catalog = load_catalog(data_dir)
    except CatalogError as exc:
        return None, [catalog_sheet.with_japanese(str(p)) for p in exc.problems]
    return catalog, [catalog_sheet.with_japanese(line) for line in language.check(data_dir, catalog)]


KNOWLEDGE = web.AppKey("knowledge", KnowledgeDeps)


def _k(request: web.Request) -> KnowledgeDeps:
    return request.app[KNOWLEDGE]


def _deps(request: web.Request):
    return _k(request).kit.deps(request)


def _render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    return _k(request).kit.render(request, template, context, status)


def _refuse(request: web.Request, status: int, key: str) -> web.Response:
    return _k(request).kit.refuse(request, status, key)


def _message(request: web.Request, key: str, **values: Any) -> str:
    return _k(request).kit.message(request, key, **values)


def _today(request: web.Request) -> dt.date:
    return _deps(request).clock().astimezone(JST).date()


def _known_departments(request: web.Request) -> set[str]:
    return department_names.accepted(_deps(request).catalog.departments.values())


def _issues(issues: list[Issue]) -> list[Issue]:
    """Issues in row order (those without a row first)."""
    return sorted(issues, key=lambda i: (i.row if i.row is not None else 0, i.column_label))


async def _off_loop(func, *args, **kwargs):
    """Runs blocking work that is not a store call (reading sheets, building the index, publishing files)
    off the event loop; store calls go through the console's bounded ``deps.store``."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args, **kwargs))


async def _audit(request: web.Request, action: str, target: str, detail: str = "") -> None:
    actor = request["account"].name
    await _deps(request).store(lambda s: s.audit.record(actor, action, target, detail))


# --- FAQ: list, search, one entry -----------------------------------------------------------------


def _faq_or_404(request: web.Request):
    faq = _deps(request).faq
    return faq.snapshot() if faq is not None else None


@requires("editor")
async def faq_list(request: web.Request) -> web.Response:
    snapshot = _faq_or_404(request)
    if snapshot is None:
        return _refuse(request, 404, "not_found")
    query = request.query.get("q", "").strip()[:200]
    category = request.query.get("category", "")
    department = request.query.get("department", "")
    entries = list(snapshot.entries.values())
    found = fe.search(entries, query, category, department)
    notice = None
    if request.query.get("published"):
        notice = _message(request, "faq_published", version=request.query["published"])
    elif request.query.get("rolled_back"):
        notice = _message(request, "faq_rolled_back", version=request.query["rolled_back"])
    context = {
        "snapshot": snapshot,
        "entries": found[:LIST_LIMIT],
        "total": len(found),
        "limit": LIST_LIMIT,
        "q": query,
        "category": category,
        "department": department,
        "categories": sorted({e.category for e in entries} - {""}),
        "faq_departments": sorted({e.department for e in entries} - {""}),
        "notice": notice,
        "undo": request.query.get("undo", ""),
        "created": _jst_version(snapshot.created_at),
    }
    return _render(request, "faq_list.html", context)


def _jst_version(created_at: str) -> str:
    from bot.clock import jst_text

    return jst_text(created_at)


def _entry_context(
    request, values, original_id, error=None, issues=(), status=200, review=None
) -> web.Response:
    """The entry form; ``review``: the 見直し item it was opened from (its wording is kept as 言い換え)."""
    deps = _deps(request)
    snapshot = deps.faq.snapshot()
    context = {
        "values": values,
        "original_id": original_id,
        "review": review,
        "review_ref": rv.ref_of(normalize(review.question)) if review else "",
        "base_version": snapshot.version,
        "labels": FAQ_JA_HEADERS,
        "columns": FAQ_COLUMNS,
        "issues": _issues(list(issues)),
        "by_column": {i.column: i for i in issues if i.column},
        "department_choices": department_names.choices(deps.catalog),
        "categories": sorted({e.category for e in snapshot.entries.values()} - {""}),
        "error": error,
    }
    return _render(request, "faq_entry.html", context, status)


@requires("editor")
async def faq_entry_page(request: web.Request) -> web.Response:
    snapshot = _faq_or_404(request)
    if snapshot is None:
        return _refuse(request, 404, "not_found")
    faq_id = request.match_info.get("faq_id")
    entry = snapshot.get(faq_id) if faq_id else None
    if faq_id and entry is None:
        return _refuse(request, 404, "not_found")
    if not faq_id and request.query.get("review"):
        group = await _review_group(request, request.query["review"])
        if group is None:
            return _refuse(request, 404, "review_gone")
        values = rv.new_entry_values(group.question, snapshot, fe.form_values(None))
        return _entry_context(request, values, "", review=group)
    return _entry_context(request, fe.form_values(entry), faq_id or "")


async def _review_group(request: web.Request, ref: str):
    """The 見直し item a form or link names (:func:`bot.staff.review.find_ref`), or None."""
    groups = await _deps(request).store(lambda s: s.review.distinct())
    return rv.find_ref(groups, str(ref)[:64])


@requires("editor")
async def faq_entry_post(request: web.Request) -> web.Response:
    deps = _deps(request)
    if deps.faq is None:
        return _refuse(request, 404, "not_found")
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in FAQ_COLUMNS}
    original_id = str(form.get("original_id", ""))[:64]
    snapshot = deps.faq.snapshot()
    if original_id and original_id not in snapshot.entries:
        return _refuse(request, 404, "not_found")
    if str(form.get("base_version", "")) != snapshot.version:
        return _entry_context(request, values, original_id, _message(request, "faq_conflict"), status=409)
    if original_id and values["id"].strip() != original_id:
        values["id"] = original_id  # the number is the entry's name in buttons and statistics: kept
    review = None
    if not original_id and form.get("review"):
        review = await _review_group(request, str(form["review"]))
        if review is None:
            return _entry_context(request, values, "", _message(request, "review_gone"), status=400)
        values = rv.keep_wording(values, review.question)
    entry = fe.entry_from_form(values)
    checked = fe.check_edit(
        snapshot, entry, original_id or None, _known_departments(request), _today(request)
    )
    mine = [i for i in checked.report.errors if i.ref in (entry.id, "?")]
    if not checked.report.ok:
        others = [i for i in checked.report.errors if i not in mine]
        return _entry_context(
            request, values, original_id, _message(request, "faq_invalid"), mine + others, 400, review
        )
    if snapshot.get(entry.id) == entry:
        raise web.HTTPSeeOther(f"/faq/entry/{entry.id}?unchanged=1")
    try:
        version = await _off_loop(
            live_base.publish,
            checked.entries,
            deps.faq.kb_dir,
            source="staff-console",
            expected_version=snapshot.version,
        )
    except live_base.VersionConflict:
        return _entry_context(
            request, values, original_id, _message(request, "faq_conflict"), status=409, review=review
        )
    await _off_loop(deps.faq.refresh)
    action = "faq.edit" if original_id else "review.new_entry" if review else "faq.add"
    await _audit(request, action, version, entry.id)
    query = {"published": version, "undo": snapshot.version, "q": entry.id}
    raise web.HTTPSeeOther(f"/faq?{urlencode(query)}")


@requires("editor")
async def faq_download(request: web.Request) -> web.Response:
    deps = _deps(request)
    snapshot = _faq_or_404(request)
    if snapshot is None or not snapshot.version:
        return _refuse(request, 404, "not_found")
    from bot.knowledge.faq.tables import entry_cells

    header = [FAQ_JA_HEADERS[c] for c in FAQ_COLUMNS]
    rows = [[entry_cells(e)[c] for c in FAQ_COLUMNS] for e in snapshot.entries.values()]
    choices = {
        FAQ_COLUMNS.index("department") + 1: department_names.choices(deps.catalog),
        FAQ_COLUMNS.index("category") + 1: sorted({e.category for e in snapshot.entries.values()} - {""}),
    }
    data = await _off_loop(table_bytes, "faq.xlsx", header, rows, sheet_title="FAQ", choices=choices)
    await _audit(request, "faq.export", snapshot.version, str(len(rows)))
    stamp = deps.clock().astimezone(JST).strftime("%Y%m%d-%H%M")
    return web.Response(
        body=data,
        content_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="faq-{stamp}.xlsx"'},
    )


# --- FAQ: upload, diff, publish ---------------------------------------------------------------------


async def _uploaded(request: web.Request) -> tuple[str, bytes] | None:
    form = await request.post()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "file") or not upload.filename:
        return None
    return upload.filename, upload.file.read()


@requires("editor")
async def faq_upload_page(request: web.Request) -> web.Response:
    if _deps(request).faq is None:
        return _refuse(request, 404, "not_found")
    return _render(request, "faq_upload.html", {"stage": "form"})


@requires("editor")
async def faq_upload_post(request: web.Request) -> web.Response:
    deps = _deps(request)
    if deps.faq is None:
        return _refuse(request, 404, "not_found")
    uploaded = await _uploaded(request)
    if uploaded is None:
        return _render(
            request, "faq_upload.html", {"stage": "form", "error": _message(request, "upload_missing")}, 400
        )
    name, data = uploaded
    snapshot = deps.faq.snapshot()
    try:
        table, report = await _off_loop(
            fe.read_upload, name, data, _known_departments(request), _today(request)
        )
    except TableError as exc:
        return _render(request, "faq_upload.html", {"stage": "form", "error": str(exc)}, 400)
    context: dict[str, Any] = {
        "stage": "errors",
        "source": table.source,
        "warnings": _issues(report.warnings),
    }
    if not report.ok:
        context.update(
            issues=_issues(report.errors),
            error=_message(request, "upload_rejected", count=len(report.errors)),
        )
        return _render(request, "faq_upload.html", context, 400)
    changes = faq_diff.diff(snapshot.entries.values(), report.entries)
    token = deps_staging(request).put(
        request["account"].name,
        "faq",
        snapshot.version,
        table.source,
        [live_base.entry_to_json(e) for e in report.entries],
    )
    context.update(
        stage="preview", diff=changes, token=token, silent=faq_diff.SILENT_REMOVALS, labels=FAQ_JA_HEADERS
    )
    return _render(request, "faq_upload.html", context)


def deps_staging(request: web.Request) -> Staging:
    return _k(request).staging


@requires("editor")
async def faq_publish(request: web.Request) -> web.Response:
    deps = _deps(request)
    if deps.faq is None:
        return _refuse(request, 404, "not_found")
    form = await request.post()
    staged = deps_staging(request).get(str(form.get("token", "")), request["account"].name, "faq")
    if staged is None:
        return _render(
            request, "faq_upload.html", {"stage": "form", "error": _message(request, "upload_expired")}, 400
        )
    entries = [live_base.entry_from_json(d) for d in staged.payload]
    snapshot = deps.faq.snapshot()
    changes = faq_diff.diff(snapshot.entries.values(), entries)
    if changes.needs_confirmation and form.get("confirm_removals") != "yes":
        context = {
            "stage": "preview",
            "diff": changes,
            "token": staged.token,
            "source": staged.source,
            "silent": faq_diff.SILENT_REMOVALS,
            "labels": FAQ_JA_HEADERS,
            "error": _message(request, "confirm_removals", count=len(changes.removed)),
        }
        return _render(request, "faq_upload.html", context, 400)
    try:
        version = await _off_loop(
            live_base.publish,
            entries,
            deps.faq.kb_dir,
            source=staged.source,
            expected_version=staged.base_version,
        )
    except live_base.VersionConflict:
        deps_staging(request).drop(staged.token)
        return _render(
            request, "faq_upload.html", {"stage": "form", "error": _message(request, "faq_conflict")}, 409
        )
    deps_staging(request).drop(staged.token)
    await _off_loop(deps.faq.refresh)
    await _audit(request, "faq.import", version, f"{staged.source}: {changes.summary()}")
    raise web.HTTPSeeOther(f"/faq?{urlencode({'published': version, 'undo': staged.base_version})}")


@requires("editor")
async def faq_cancel(request: web.Request) -> web.Response:
    form = await request.post()
    deps_staging(request).drop(str(form.get("token", "")))
    raise web.HTTPSeeOther("/faq")


# --- FAQ: versions and rollback ---------------------------------------------------------------------


@requires("editor")
async def faq_versions(request: web.Request) -> web.Response:
    deps = _deps(request)
    if deps.faq is None:
        return _refuse(request, 404, "not_found")
    from bot.clock import version_time

    kb = deps.faq.kb_dir
    current = live_base.current_version(kb) or ""
    rows = []
    for version in reversed(live_base.list_versions(kb)):
        try:
            _, payload = live_base.read_entries(kb, version)
        except live_base.FaqBaseError:
            continue
        rows.append(
            {
                "version": version,
                "at": version_time(version),
                "source": payload.get("source", ""),
                "count": len(payload["entries"]),
                "current": version == current,
            }
        )
    return _render(request, "faq_versions.html", {"versions": rows})


@requires("editor")
async def faq_rollback(request: web.Request) -> web.Response:
    deps = _deps(request)
    if deps.faq is None:
        return _refuse(request, 404, "not_found")
    form = await request.post()
    version = str(form.get("version", ""))[:80]
    try:
        await _off_loop(live_base.rollback, deps.faq.kb_dir, version)
    except live_base.FaqBaseError:
        return _render(
            request, "error.html", {"status": 400, "message": _message(request, "rollback_missing")}, 400
        )
    await _off_loop(deps.faq.refresh)
    await _audit(request, "faq.rollback", version)
    raise web.HTTPSeeOther(f"/faq?{urlencode({'rolled_back': version})}")


# --- 手続き (catalog) -------------------------------------------------------------------------------


def _catalog_or_none(request: web.Request):
    k = _k(request)
    return k.catalog_state() if k.data_dir is not None else None


def _problems_by_id(problems: list[str]) -> dict[str, list[str]]:
    by_id: dict[str, list[str]] = {}
    for line in problems:
        parts = line.split(": ", 3)
        key = parts[1] if len(parts) == 4 else ""
        by_id.setdefault(key, []).append(line)
    return by_id


@requires("editor")
async def catalog_list(request: web.Request) -> web.Response:
    state = _catalog_or_none(request)
    if state is None:
        return _refuse(request, 404, "not_found")
    catalog, problems = state
    today = _today(request)
    stale = {p.id for p in catalog_sheet.stale(catalog, today, STALE_AFTER_DAYS)} if catalog else set()
    notice = None
    if request.query.get("published"):
        notice = _message(request, "catalog_published", count=request.query["published"])
    context = {
        "catalog": catalog,
        "problems": problems,
        "by_id": _problems_by_id(problems),
        "stale": stale,
        "stale_days": STALE_AFTER_DAYS,
        "notice": notice,
    }
    return _render(request, "catalog_list.html", context)


@requires("editor")
async def catalog_procedure(request: web.Request) -> web.Response:
    state = _catalog_or_none(request)
    catalog = state[0] if state else None
    procedure = catalog.get(request.match_info["pid"]) if catalog else None
    if procedure is None:
        return _refuse(request, 404, "not_found")
    cells = catalog_sheet.procedure_cells(catalog, procedure)
    rows = [(catalog_sheet.CATALOG_HEADERS[c], cells[c]) for c in catalog_sheet.CATALOG_COLUMNS]
    problems = _problems_by_id(state[1]).get(procedure.id, [])
    return _render(request, "catalog_procedure.html", {"p": procedure, "rows": rows, "problems": problems})


@requires("editor")
async def stale_page(request: web.Request) -> web.Response:
    deps, state = _deps(request), _catalog_or_none(request)
    today = _today(request)
    catalog = state[0] if state else None
    procedures = catalog_sheet.stale(catalog, today, STALE_AFTER_DAYS) if catalog else []
    snapshot = deps.faq.snapshot() if deps.faq is not None else None
    entries = []
    if snapshot is not None:
        entries = [
            e for e in snapshot.entries.values() if fe.is_stale(e.verified_on, today, STALE_AFTER_DAYS)
        ]
        entries.sort(key=lambda e: (e.verified_on or "", e.id))
    context = {"procedures": procedures, "entries": entries, "days": STALE_AFTER_DAYS, "today": today}
    return _render(request, "stale.html", context)


@requires("editor")
async def catalog_download(request: web.Request) -> web.Response:
    state = _catalog_or_none(request)
    if state is None or state[0] is None:
        return _refuse(request, 404, "not_found")
    data = await _off_loop(catalog_sheet.workbook_bytes, state[0])
    await _audit(request, "catalog.export", "", str(len(state[0].procedures)))
    stamp = _deps(request).clock().astimezone(JST).strftime("%Y%m%d-%H%M")
    return web.Response(
        body=data,
        content_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="catalog-{stamp}.xlsx"'},
    )


@requires("editor")
async def catalog_upload_page(request: web.Request) -> web.Response:
    if _catalog_or_none(request) is None:
        return _refuse(request, 404, "not_found")
    return _render(request, "catalog_upload.html", {"stage": "form"})


def _check_catalog_upload(name: str, data: bytes, catalog: Catalog, data_dir: Path):
    import tempfile

    suffix = Path(name).suffix.lower()
    if suffix not in fe.UPLOAD_SUFFIXES:
        raise TableError("Excel（.xlsx）か CSV（.csv）のファイルを選んでください。")
    with tempfile.TemporaryDirectory(prefix="madoguchi-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        table = catalog_sheet.read_sheet(path)
    from bot import language  # the English-content check of `catalog check`

    return catalog_sheet.check_sheet(table, catalog, data_dir, language.check)


@requires("editor")
async def catalog_upload_post(request: web.Request) -> web.Response:
    k, state = _k(request), _catalog_or_none(request)
    if state is None:
        return _refuse(request, 404, "not_found")
    catalog = state[0]
    if catalog is None:
        return _render(
            request,
            "catalog_upload.html",
            {"stage": "form", "error": _message(request, "catalog_broken")},
            409,
        )
    uploaded = await _uploaded(request)
    if uploaded is None:
        return _render(
            request,
            "catalog_upload.html",
            {"stage": "form", "error": _message(request, "upload_missing")},
            400,
        )
    name, data = uploaded
    base = catalog_sheet.stamp(k.data_dir)
    try:
        check = await _off_loop(_check_catalog_upload, name, data, catalog, k.data_dir)
    except TableError as exc:
        return _render(request, "catalog_upload.html", {"stage": "form", "error": str(exc)}, 400)
    if not check.ok:
        context = {
            "stage": "errors",
            "source": Path(name).name,
            "issues": _issues(check.issues),
            "error": _message(request, "upload_rejected", count=len(check.issues)),
        }
        return _render(request, "catalog_upload.html", context, 400)
    changes = catalog_sheet.diff(catalog, check.catalog)
    token = k.staging.put(request["account"].name, "catalog", base, Path(name).name, check.files)
    context = {
        "stage": "preview",
        "diff": changes,
        "token": token,
        "source": Path(name).name,
        "silent": faq_diff.SILENT_REMOVALS,
        "names": {p: check.catalog.get(p).name for p in check.catalog.procedures},
        "old_names": {p: catalog.get(p).name for p in catalog.procedures},
    }
    return _render(request, "catalog_upload.html", context)


@requires("editor")
async def catalog_publish(request: web.Request) -> web.Response:
    k, state = _k(request), _catalog_or_none(request)
    if state is None or state[0] is None:
        return _refuse(request, 404, "not_found")
    form = await request.post()
    staged = k.staging.get(str(form.get("token", "")), request["account"].name, "catalog")
    if staged is None:
        return _render(
            request,
            "catalog_upload.html",
            {"stage": "form", "error": _message(request, "upload_expired")},
            400,
        )
    removed = [
        pid
        for pid in state[0].procedures
        if not any(d["id"] == pid for ds in staged.payload.values() for d in ds)
    ]
    if len(removed) > faq_diff.SILENT_REMOVALS and form.get("confirm_removals") != "yes":
        return _render(
            request,
            "catalog_upload.html",
            {"stage": "form", "error": _message(request, "confirm_removals", count=len(removed))},
            400,
        )
    try:
        touched = await _off_loop(
            catalog_sheet.publish, staged.payload, k.data_dir, staged.base_version, k.work_dir, state[0]
        )
    except catalog_sheet.CatalogChanged:
        k.staging.drop(staged.token)
        return _render(
            request,
            "catalog_upload.html",
            {"stage": "form", "error": _message(request, "catalog_conflict")},
            409,
        )
    k.staging.drop(staged.token)
    await _audit(request, "catalog.import", staged.source, "、".join(touched))
    raise web.HTTPSeeOther(f"/catalog?{urlencode({'published': len(touched)})}")


@requires("editor")
async def catalog_cancel(request: web.Request) -> web.Response:
    form = await request.post()
    _k(request).staging.drop(str(form.get("token", "")))
    raise web.HTTPSeeOther("/catalog")


# --- 見直し: 対象外 --------------------------------------------------------------------------------


@requires("editor")
async def review_dismiss(request: web.Request) -> web.Response:
    """対象外（今後出さない）: spam and out-of-scope questions leave the review list for good."""
    from bot.text import normalize

    deps = _deps(request)
    form = await request.post()
    key = str(form.get("key", ""))
    groups = await deps.store(lambda s: s.review.distinct())
    group = next((g for g in groups if normalize(g.question) == key), None)
    if group is None:
        raise web.HTTPSeeOther("/review")
    deleted = await deps.store(lambda s: s.review.dismiss(key))
    await _audit(
        request, "review.dismiss", "", str(deleted)
    )  # no wording in the audit log: it may be a resident's
    raise web.HTTPSeeOther(f"/review?{urlencode({'dismissed': deleted})}")


# --- registration -----------------------------------------------------------------------------------


def register(app: web.Application, kit: PageKit, data_dir: Path | None, work_dir: Path) -> None:
    """Adds the FAQ and 手続き pages to the console (``data_dir`` None: the catalog pages answer 404)."""
    app[KNOWLEDGE] = KnowledgeDeps(data_dir, Path(work_dir), Staging(Path(work_dir) / "staged"), kit)
    add = app.router
    add.add_get("/faq", faq_list, name="faq")
    add.add_get("/faq/new", faq_entry_page, name="faq_new")
    add.add_get("/faq/entry/{faq_id}", faq_entry_page, name="faq_entry")
    add.add_post("/faq/entry", faq_entry_post, name="faq_entry_post")
    add.add_get("/faq.xlsx", faq_download, name="faq_download")
    add.add_get("/faq/upload", faq_upload_page, name="faq_upload")
    add.add_post("/faq/upload", faq_upload_post, name="faq_upload_post")
    add.add_post("/faq/publish", faq_publish, name="faq_publish")
    add.add_post("/faq/cancel", faq_cancel, name="faq_cancel")
    add.add_get("/faq/versions", faq_versions, name="faq_versions")
    add.add_post("/faq/rollback", faq_rollback, name="faq_rollback")
    add.add_get("/catalog", catalog_list, name="catalog")
    add.add_get("/catalog/p/{pid}", catalog_procedure, name="catalog_procedure")
    add.add_get("/catalog.xlsx", catalog_download, name="catalog_download")
    add.add_get("/catalog/upload", catalog_upload_page, name="catalog_upload")
    add.add_post("/catalog/upload", catalog_upload_post, name="catalog_upload_post")
    add.add_post("/catalog/publish", catalog_publish, name="catalog_publish")
    add.add_post("/catalog/cancel", catalog_cancel, name="catalog_cancel")
    add.add_get("/stale", stale_page, name="stale")
    add.add_post("/review/dismiss", review_dismiss, name="review_dismiss")
