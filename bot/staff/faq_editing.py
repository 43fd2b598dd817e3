"""The FAQ as the console edits it: one entry from a form, a whole sheet from an upload, search, staleness.

Everything goes through the import's own reading and checks
(:func:`bot.knowledge.faq.validate.entry_from_row`, :func:`~bot.knowledge.faq.validate.check_entries`,
:func:`~bot.knowledge.faq.validate.validate`), so a form and a sheet get the same messages, and publishing
is the import's atomic :func:`bot.knowledge.faq.live_base.publish`. Plain Python: the handlers are in
:mod:`bot.staff.knowledge_pages`.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterable, Mapping

from bot.knowledge import dates
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.live_base import Snapshot
from bot.knowledge.faq.tables import FAQ_COLUMNS, Row, Table, TableError, entry_cells, read_table
from bot.knowledge.faq.validate import Report, check_entries, entry_from_row, validate
from bot.text import normalize

#: Upload types the console accepts (what Excel saves; the CLI reads the same).
UPLOAD_SUFFIXES = (".xlsx", ".csv")
#: Longest form field kept (an answer of a few screens; the sheet has no such limit but a form post does).
MAX_FIELD = 8000


@dataclass(frozen=True)
class EditCheck:
    """A form edit checked against the whole base: the new entry list and every problem."""

    entry: FaqEntry
    entries: list[FaqEntry]
    report: Report


def entry_from_form(form: Mapping[str, str]) -> FaqEntry:
    """The entry a form describes, read exactly as a sheet row is (trimmed, 言い換え one per line, 和暦)."""
    values = {name: str(form.get(name, ""))[:MAX_FIELD].replace("\r\n", "\n") for name in FAQ_COLUMNS}
    return entry_from_row(Row(number=0, values=values))


def form_values(entry: FaqEntry | None) -> dict[str, str]:
    """The form's fields for an entry (empty for a new one)."""
    return entry_cells(entry) if entry else {name: "" for name in FAQ_COLUMNS}


def check_edit(
    snapshot: Snapshot,
    entry: FaqEntry,
    original_id: str | None,
    known_departments: Collection[str] | None,
    today: dt.date,
) -> EditCheck:
    """Puts ``entry`` in place of ``original_id`` (or adds it); checks the whole base as an import would."""
    entries = list(snapshot.entries.values())
    if original_id and original_id in snapshot.entries:
        entries = [entry if e.id == original_id else e for e in entries]
    else:
        entries.append(entry)
    report = check_entries(Report(), entries, None, today=today, known_departments=known_departments)
    report.entries = entries
    return EditCheck(entry, entries, report)


def read_upload(
    filename: str, data: bytes, known_departments: Collection[str] | None, today: dt.date
) -> tuple[Table, Report]:
    """Reads and validates an uploaded sheet.

    Raises:
        TableError: the file is of another type or cannot be read at all.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise TableError("Excel（.xlsx）か CSV（.csv）のファイルを選んでください。")
    with tempfile.TemporaryDirectory(prefix="madoguchi-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        table = read_table(path)
    table = Table(Path(filename).name, table.encoding, table.columns, table.rows)
    return table, validate(table, today=today, known_departments=known_departments)


def search(
    entries: Iterable[FaqEntry], query: str, category: str = "", department: str = ""
) -> list[FaqEntry]:
    """Entries whose number, question, 言い換え or answer contain the query (width and case folded)."""
    needle = normalize(query) if query.strip() else ""
    found = []
    for entry in entries:
        if category and entry.category != category:
            continue
        if department and entry.department != department:
            continue
        text = normalize("\n".join((entry.id, entry.question, *entry.paraphrases, entry.answer)))
        if needle and needle not in text:
            continue
        found.append(entry)
    return found


def is_stale(verified_on: str, today: dt.date, days: int) -> bool:
    """True when a 確認日 is missing, unreadable, or more than ``days`` before ``today``."""
    found = dates.parse_date(verified_on) if verified_on else None
    return found is None or (today - found).days > days
