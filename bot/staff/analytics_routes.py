"""The 利用状況 pages: ``GET /usage`` (``?period=day|week``) and every table as ``/usage/<table>.csv`` and
``/usage/<table>.xlsx``. For 閲覧, 編集者 and 管理者.

:func:`add_routes` takes the console's render and dependency helpers, so this module does not import
:mod:`bot.staff.app` (which calls it).
"""

from __future__ import annotations

import csv
import io
from typing import Any, Callable

from aiohttp import web
from openpyxl import Workbook
from openpyxl.styles import Font

from bot.staff import analytics as an
from bot.staff import charts
from bot.staff.security import requires
from bot.stores import JST

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@")
#: Widest column of an exported sheet (characters); Japanese wordings are cut off on screen, not in data.
_MAX_WIDTH = 60

Render = Callable[[web.Request, str, dict[str, Any]], web.Response]


def _period(request: web.Request) -> str:
    period = request.query.get("period", "day")
    return period if period in an.PERIODS else "day"


def _labels(deps: Any) -> an.Labels:
    catalog, snapshot = deps.catalog, deps.faq.snapshot() if deps.faq is not None else None

    def procedure(pid: str) -> str:
        found = catalog.get(pid) or catalog.life_event(pid)
        return found.name if found else pid

    def faq(fid: str) -> str:
        entry = snapshot.get(fid) if snapshot is not None else None
        return entry.question if entry else fid

    def department(did: str | None) -> str:
        found = catalog.department(did) if did else None
        return found.name if found else (did or deps.ui["no_department"])

    return an.Labels(procedure, faq, department, deps.ui["analytics"])


async def compute(deps: Any, period: str) -> an.Analytics:
    """The page's figures now, from the stores (one bounded call off the event loop)."""
    now = deps.clock()
    since = an.window_start(now, period)
    events, callbacks = await deps.store(lambda s: (s.analytics.events(since=since), s.callbacks.list()))
    return an.summarize(now, period, events, callbacks, _labels(deps))


def _series(result: an.Analytics, words: dict[str, Any]) -> list[charts.Series]:
    return [
        charts.Series(words["groups"][g], [p.by_group[g] for p in result.periods]) for g in an.GROUP_ORDER
    ]


def _cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def table_csv(table: an.Table) -> bytes:
    """UTF-8 with BOM (Excel opens the Japanese correctly)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def table_xlsx(table: an.Table, note: str) -> bytes:
    """One sheet: the title and period on top, bold headers, widths that fit."""
    book = Workbook()
    sheet = book.active
    sheet.title = table.name
    sheet.append([table.title])
    sheet.append([note])
    sheet.append(list(table.columns))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    sheet["A1"].font = Font(bold=True, size=13)
    for row in table.rows:
        sheet.append([_cell(v) for v in row])
    for i, name in enumerate(table.columns, start=1):
        width = max([len(str(name))] + [len(str(row[i - 1])) for row in table.rows])
        sheet.column_dimensions[sheet.cell(3, i).column_letter].width = min(_MAX_WIDTH, 2 * width + 2)
    sheet.freeze_panes = "A4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def add_routes(app: web.Application, render: Render, deps_of: Callable[[web.Request], Any]) -> None:
    """Adds the 利用状況 routes to the console ``app``."""

    @requires("viewer", "editor")
    async def usage_page(request: web.Request) -> web.Response:
        deps = deps_of(request)
        period = _period(request)
        result = await compute(deps, period)
        events = await deps.store(lambda s: s.analytics.count())
        words = deps.ui["analytics"]
        series = _series(result, words)
        labels = [p.label for p in result.periods]
        context = {
            "a": result,
            "w": words,
            "t": result.tables,
            "periods": an.PERIODS,
            "trend": charts.stacked_columns("trend", words["titles"]["periods"][period], labels, series),
            "legend": charts.legend(series),
            "hours_chart": charts.stacked_columns(
                "hours",
                words["titles"]["hours"],
                [str(h) for h in range(24)],
                [charts.Series("", result.hours)],
            ),
            "events": events,
            "retention_days": deps.stores.retention_days,
        }
        return render(request, "analytics.html", context)

    @requires("viewer", "editor")
    async def usage_download(request: web.Request) -> web.Response:
        deps, account = deps_of(request), request["account"]
        name, fmt = request.match_info["table"], request.match_info["format"]
        period = _period(request)
        result = await compute(deps, period)
        table = result.tables.get(name)
        if table is None:
            raise web.HTTPNotFound()
        await deps.store(lambda s: s.audit.record(account.name, "usage.export", f"{name}.{fmt}", period))
        stamp = deps.clock().astimezone(JST).strftime("%Y%m%d")
        filename = f"usage-{name}-{period}-{stamp}.{fmt}"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if fmt == "csv":
            return web.Response(
                body=table_csv(table), content_type="text/csv", charset="utf-8", headers=headers
            )
        note = f"{result.first:%Y-%m-%d} – {result.last:%Y-%m-%d}"
        return web.Response(body=table_xlsx(table, note), content_type=XLSX_TYPE, headers=headers)

    app.router.add_get("/usage", usage_page, name="usage")
    app.router.add_get(r"/usage/{table:[a-z_]+}.{format:csv|xlsx}", usage_download, name="usage_download")
