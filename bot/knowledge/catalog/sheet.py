"""The procedure catalog as a staff spreadsheet: one row per procedure, out to Excel and back to YAML.

Staff never touch ``data/catalog/*.yml``: they download the catalog as a workbook (Japanese headers,
drop-down lists for 担当課 and 分類, ○/× for the ways a procedure can be done), edit it, and upload it.
An upload is checked completely before anything changes — first the sheet itself (required cells, ○/×,
担当課 by name, 確認日 with 和暦), then the catalog it would make, by loading it from a scratch copy of the
data directory with the same :func:`~bot.knowledge.catalog.load_catalog` and English-content check as
``madoguchi catalog check``. Every problem names the row and the column, in Japanese. Only then are the
changed files replaced, each atomically; the bot re-reads them within its reload interval.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import yaml

from bot.files import atomic_write_bytes
from bot.knowledge import dates
from bot.knowledge.catalog import department_names
from bot.knowledge.catalog.loading import load_catalog
from bot.knowledge.catalog.model import CATALOG_DIR, Catalog, Procedure
from bot.knowledge.catalog.validation import CatalogError, Problem
from bot.knowledge.faq.tables import Row, Table, header_map, read_table, table_bytes
from bot.knowledge.faq.validate import Issue

#: Sheet column -> Japanese header, in sheet order.
CATALOG_HEADERS: dict[str, str] = {
    "file": "ファイル",
    "id": "手続きID",
    "name": "名前",
    "category": "分類",
    "department": "担当課",
    "aliases": "別名",
    "summary": "説明",
    "summary_easy": "やさしい日本語の説明",
    "who": "対象",
    "deadline": "期限",
    "bring": "持ち物",
    "fee": "手数料",
    "counter": "窓口",
    "mail": "郵送",
    "convenience_store": "コンビニ",
    "online": "オンライン",
    "phone": "電話",
    "online_url": "申請URL",
    "requires_mynumber_card": "マイナンバーカード必要",
    "online_note": "オンラインの注意",
    "alternatives": "ほかの方法",
    "details": "詳しい説明",
    "related": "関連する手続き",
    "verified_on": "確認日",
    "with_phone_answer": "電話の案内も出す",
}
CATALOG_COLUMNS = tuple(CATALOG_HEADERS)
CATALOG_HEADER_MAP = header_map(CATALOG_HEADERS, CATALOG_COLUMNS)
SHEET_TITLE = "手続き"
#: Cells holding one item per line.
LIST_COLUMNS = ("aliases", "bring", "related")
FLAG_COLUMNS = (
    "counter",
    "mail",
    "convenience_store",
    "online",
    "phone",
    "requires_mynumber_card",
    "with_phone_answer",
)
REQUIRED = (
    "file",
    "id",
    "name",
    "category",
    "department",
    "summary",
    "summary_easy",
    "who",
    "fee",
    "alternatives",
    "details",
)
YES, NO = "○", "×"
_YES = {"○", "〇", "◯", "はい", "TRUE", "YES", "1", "Y"}
_NO = {"×", "✕", "いいえ", "FALSE", "NO", "0", "N", "-", ""}
_FILE = re.compile(r"^[a-z0-9_]+\.yml$")
_WIDTHS = {1: 18, 2: 18, 3: 24, 4: 12, 5: 16, 6: 30, 7: 50, 8: 50, 11: 40, 21: 40, 22: 60}
#: The loader's (English) messages as staff read them; anything else is shown as it is.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (
            r"^no English content$",
            "英語の内容（data/languages/en.yml）がありません。担当者に英語の名前・説明・持ち物の追加を依頼してください",
        ),
        (r"^'(.+)' is also a name or alias of '(.+)'$", r"「\1」はほかの手続き（\2）の名前か別名と同じです"),
        (r"^unknown procedure id '(.+)'$", r"手続きID「\1」はありません"),
        (r"^a procedure cannot be related to itself$", "自分自身を関連する手続きにはできません"),
        (r"^duplicate procedure id", "手続きIDが重複しています"),
        (
            r"^must be true exactly when an 'online' form is given$",
            "申請URLを書いたときだけ「オンライン」を ○ にしてください",
        ),
        (r"is not an https:// link$", "申請URLは https:// で始まるリンクにしてください"),
        (
            r"^must be non-empty text \(what residents",
            "オンラインの注意を書いてください（申請の前に知っておくこと）",
        ),
        (
            r"must be lower-case ascii letters, digits and _",
            "半角の英小文字・数字・_ で書いてください（例 juminhyo）",
        ),
        (r"^must be non-empty text", "空欄です（必須）"),
        (r"^must list at least one item$", "1つ以上書いてください"),
        (r"^unknown department '(.+)'$", r"担当課「\1」は data/departments.yml にありません"),
        (r"is not a Japanese phone number", "電話番号は 012-345-6789 のようにハイフンを入れて書いてください"),
        (r"^missing", "ありません（必須）"),
        (r"^file not found$", "ファイルがありません"),
        (r"^invalid YAML", "YAML の書き方が正しくありません"),
        (r"is not a date", f"日付を読めません（例: {dates.EXAMPLES}）"),
    )
)
_FIELD_COLUMN = {
    "where.online": "online",
    "where.counter": "counter",
    "where.mail": "mail",
    "where.convenience_store": "convenience_store",
    "where.phone": "phone",
    "online.url": "online_url",
    "online.note": "online_note",
    "online.requires_mynumber_card": "requires_mynumber_card",
    "online": "online_url",
    "-": "",
}


#: Checks of other data files against a catalog: ``(data_dir, catalog) -> ["file: entry: field: message"]``.
MoreChecks = Callable[[Path, Catalog], list[str]]


@dataclass
class CatalogCheck:
    """Outcome of checking an uploaded catalog sheet."""

    issues: list[Issue] = field(default_factory=list)
    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rows: dict[str, list[str]] = field(default_factory=dict)
    catalog: Catalog | None = None

    @property
    def ok(self) -> bool:
        return not self.issues


@dataclass(frozen=True)
class CatalogDiff:
    """Procedures added, changed (which columns, as headers) and removed by an upload."""

    added: tuple[str, ...]
    changed: tuple[tuple[str, tuple[str, ...]], ...]
    removed: tuple[str, ...]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def summary(self) -> str:
        return (
            f"追加 {len(self.added)} 件・変更 {len(self.changed)} 件・削除 {len(self.removed)} 件"
            f"（変更なし {self.unchanged} 件）"
        )


# --------------------------------------------------------------------------------------------- export


def procedure_cells(catalog: Catalog, procedure: Procedure) -> dict[str, str]:
    """The sheet cells of one procedure (担当課 by its short name, ○/× for flags, lists one per line)."""
    department = catalog.department(procedure.department)
    online = procedure.online
    where = procedure.where
    flag = lambda value: YES if value else NO  # noqa: E731 - a one-word mapping
    return {
        "file": Path(procedure.source).name,
        "id": procedure.id,
        "name": procedure.name,
        "category": procedure.category,
        "department": department_names.short_name(department) if department else procedure.department,
        "aliases": "\n".join(procedure.aliases),
        "summary": procedure.summary,
        "summary_easy": procedure.summary_easy,
        "who": procedure.who,
        "deadline": procedure.deadline or "",
        "bring": "\n".join(procedure.bring),
        "fee": procedure.fee,
        "counter": flag(where.counter),
        "mail": flag(where.mail),
        "convenience_store": flag(where.convenience_store),
        "online": flag(where.online),
        "phone": flag(where.phone),
        "online_url": online.url if online else "",
        "requires_mynumber_card": flag(online.requires_mynumber_card) if online else "",
        "online_note": online.note if online else "",
        "alternatives": procedure.alternatives,
        "details": procedure.details,
        "related": "\n".join(procedure.related),
        "verified_on": procedure.verified_on,
        "with_phone_answer": flag(procedure.with_phone_answer),
    }


def categories(catalog: Catalog) -> list[str]:
    """The 分類 in use, in catalog order (the drop-down list)."""
    return list(dict.fromkeys(p.category for p in catalog.procedures.values()))


def workbook_bytes(catalog: Catalog) -> bytes:
    """The catalog as an .xlsx workbook."""
    header = [CATALOG_HEADERS[c] for c in CATALOG_COLUMNS]
    rows = [[procedure_cells(catalog, p)[c] for c in CATALOG_COLUMNS] for p in catalog.procedures.values()]
    position = {c: i for i, c in enumerate(CATALOG_COLUMNS, start=1)}
    choices = {
        position["department"]: department_names.choices(catalog),
        position["category"]: categories(catalog),
        **{position[c]: [YES, NO] for c in FLAG_COLUMNS},
    }
    wrap = [
        position[c]
        for c in (*LIST_COLUMNS, "summary", "summary_easy", "details", "alternatives", "online_note")
    ]
    return table_bytes(
        "catalog.xlsx",
        header,
        rows,
        sheet_title=SHEET_TITLE,
        wrap_columns=wrap,
        widths=_WIDTHS,
        choices=choices,
    )


# --------------------------------------------------------------------------------------------- import


def read_sheet(path: Path) -> Table:
    """Reads an uploaded workbook/CSV with the catalog's headers.

    Raises:
        TableError: the file cannot be read at all.
    """
    return read_table(path, CATALOG_HEADER_MAP)


def check_sheet(
    table: Table, catalog: Catalog, data_dir: Path, more_checks: MoreChecks | None = None
) -> CatalogCheck:
    """Checks an uploaded sheet completely: the cells, then the catalog it would make.

    ``more_checks(data_dir, catalog)`` adds the checks of other data files against the new catalog, as
    ``file: entry: field: message`` lines (``bot.language.check``: every procedure has English content).
    """
    check = CatalogCheck()
    _check_headers(table, check)
    if check.issues:
        return check
    if not table.rows:
        check.issues.append(Issue("no_entries", "データ行がありません（空の表では取り込めません）"))
        return check
    index: dict[tuple[str, str], int] = {}
    for row in table.rows:
        for header in row.extra:
            check.issues.append(
                Issue("cell_outside_columns", "見出しのない列に値があります", row.number, header)
            )
        document = _document(row, catalog, check)
        if document is None:
            continue
        name = _file_name(row.get("file"))
        entries = check.files.setdefault(name, [])
        entries.append(document)
        index[(f"{CATALOG_DIR}/{name}", document["id"])] = row.number
        index[(f"{CATALOG_DIR}/{name}", f"#{len(entries)}")] = row.number
        index.setdefault(("*", document["id"]), row.number)
    if check.issues:
        return check
    check.catalog = _load_scratch(check.files, data_dir, index, check, more_checks)
    return check


def _check_headers(table: Table, check: CatalogCheck) -> None:
    seen = set()
    for column in table.columns:
        if column.field is None and column.header:
            known = "、".join(CATALOG_HEADERS.values())
            check.issues.append(
                Issue("unknown_column", f"知らない列です（使える列: {known}）", 1, column.header)
            )
        elif column.field in seen:
            check.issues.append(Issue("duplicate_column", "同じ列が2回あります", 1, column.header))
        seen.add(column.field)
    for name in REQUIRED:
        if name not in seen:
            check.issues.append(Issue("missing_column", "必須の列がありません", 1, CATALOG_HEADERS[name]))


def _file_name(cell: str) -> str:
    name = cell.strip()
    return name if name.endswith(".yml") else f"{name}.yml"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in re.split(r"[\n、,]", text) if line.strip()]


def _document(row, catalog: Catalog, check: CatalogCheck) -> dict[str, Any] | None:
    """The YAML mapping of one row, or None (problems added) when a cell cannot be read."""
    before = len(check.issues)

    def problem(column: str, message: str, code: str = "bad_cell") -> None:
        check.issues.append(Issue(code, message, row.number, CATALOG_HEADERS[column]))

    cell = {name: row.get(name).strip() for name in CATALOG_COLUMNS}
    for name in REQUIRED:
        if not cell[name]:
            problem(name, "空欄です（必須）", "empty")
    if cell["file"] and not _FILE.match(_file_name(cell["file"])):
        problem("file", "ファイル名は半角の英小文字・数字・_ で書いてください（例 certificates.yml）")
    flags = {}
    for name in FLAG_COLUMNS:
        value = cell[name].upper()
        if value in _YES:
            flags[name] = True
        elif value in _NO:
            flags[name] = False
        else:
            problem(name, f"「{cell[name]}」は ○ か × で書いてください")
    department = department_names.find(catalog, cell["department"]) if cell["department"] else None
    if cell["department"] and department is None:
        problem("department", f"担当課「{cell['department']}」は課の一覧（data/departments.yml）にありません")
    verified = dates.iso_date(cell["verified_on"]) if cell["verified_on"] else ""
    if verified is None:
        problem(
            "verified_on", f"日付を読めません: {cell['verified_on']!r}（例: {dates.EXAMPLES}）", "bad_date"
        )
    if len(check.issues) > before:
        return None
    online_given = any(cell[c] for c in ("online_url", "online_note"))
    document: dict[str, Any] = {
        "id": cell["id"],
        "name": cell["name"],
        "aliases": [line.strip() for line in row.get("aliases").split("\n") if line.strip()],
        "category": cell["category"],
        "summary": cell["summary"],
        "summary_easy": cell["summary_easy"],
        "who": cell["who"],
        "deadline": cell["deadline"] or None,
        "bring": [line.strip() for line in row.get("bring").split("\n") if line.strip()],
        "fee": cell["fee"],
        "where": {k: flags[k] for k in ("counter", "mail", "convenience_store", "online")},
        "online": {
            "url": cell["online_url"],
            "requires_mynumber_card": flags["requires_mynumber_card"],
            "note": cell["online_note"],
        }
        if online_given
        else None,
        "alternatives": cell["alternatives"],
        "department": department.id,
        "details": cell["details"],
        "related": _lines(cell["related"]),
    }
    if flags["phone"]:
        document["where"]["phone"] = True
    if verified:
        document["verified_on"] = verified
    if flags["with_phone_answer"]:
        document["with_phone_answer"] = True
    return document


@contextlib.contextmanager
def _scratch(data_dir: Path, files: Mapping[str, list[dict[str, Any]]]) -> Iterator[Path]:
    """A copy of the data directory (links to everything but ``catalog/``) with the new catalog files."""
    with tempfile.TemporaryDirectory(prefix="madoguchi-catalog-") as folder:
        root = Path(folder)
        for item in Path(data_dir).iterdir():
            if item.name != CATALOG_DIR:
                (root / item.name).symlink_to(item.resolve(), target_is_directory=item.is_dir())
        (root / CATALOG_DIR).mkdir()
        for name, entries in files.items():
            (root / CATALOG_DIR / name).write_text(yaml_text(entries), encoding="utf-8")
        yield root


def _load_scratch(
    files, data_dir: Path, index: Mapping[tuple[str, str], int], check: CatalogCheck, more_checks
):
    with _scratch(data_dir, files) as root:
        try:
            catalog = load_catalog(root)
        except CatalogError as exc:
            check.issues.extend(_issue(p, index) for p in exc.problems)
            return None
        for line in more_checks(root, catalog) if more_checks else ():
            parts = line.split(": ", 3)
            if len(parts) == 4:
                check.issues.append(_issue(Problem(*parts), index))
            else:
                check.issues.append(Issue("catalog", line))
    return catalog if check.ok else None


def japanese(message: str) -> str | None:
    """The loader's English message as staff read it, or None when there is no translation."""
    for pattern, text in _MESSAGES:
        if pattern.search(message):
            return pattern.sub(text, message) if pattern.pattern.startswith("^") else text
    return None


def with_japanese(line: str) -> str:
    """A ``file: entry: field: message`` line of ``catalog check`` with the message in Japanese after it."""
    parts = line.split(": ", 3)
    ja = japanese(parts[3]) if len(parts) == 4 else None
    return f"{line} / {ja}" if ja else line


def _issue(problem: Problem, index: Mapping[tuple[str, str], int]) -> Issue:
    row = index.get((problem.file, problem.entry)) or index.get(("*", problem.entry))
    column = _FIELD_COLUMN.get(problem.field, re.sub(r"\[\d+\]$", "", problem.field.split(".")[0]))
    header = CATALOG_HEADERS.get(column, "")
    message = japanese(problem.message) or problem.message
    if row is None:  # a problem in another file (life_events.yml, languages/en.yml): say where
        message = f"{problem.file}: {problem.entry}: {message}"
    return Issue("catalog", message, row, header or None)


# --------------------------------------------------------------------------------------------- diff


def diff(before: Catalog, after: Catalog) -> CatalogDiff:
    """What publishing ``after`` changes in ``before``, by procedure id."""
    old = {pid: procedure_cells(before, p) for pid, p in before.procedures.items()}
    new = {pid: procedure_cells(after, p) for pid, p in after.procedures.items()}
    added = tuple(pid for pid in new if pid not in old)
    removed = tuple(pid for pid in old if pid not in new)
    changed, unchanged = [], 0
    for pid, cells in new.items():
        if pid not in old:
            continue
        columns = tuple(CATALOG_HEADERS[c] for c in CATALOG_COLUMNS if cells[c] != old[pid][c])
        if columns:
            changed.append((pid, columns))
        else:
            unchanged += 1
    return CatalogDiff(added, tuple(changed), removed, unchanged)


# --------------------------------------------------------------------------------------------- publish


class _Dumper(yaml.SafeDumper):
    """Block style; several lines as a literal block (what staff would write by hand)."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def yaml_text(entries: Sequence[Mapping[str, Any]], comment: str = "") -> str:
    """One catalog file: an optional leading comment, then ``procedures:``."""
    body = yaml.dump(
        {"procedures": list(entries)}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000
    )
    return (comment + body) if comment else body


def leading_comment(path: Path) -> str:
    """The comment lines at the top of a file (kept when the console rewrites it)."""
    if not path.is_file():
        return ""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def stamp(data_dir: Path) -> str:
    """A digest of every catalog file: an upload publishes only over the catalog it was compared with."""
    digest = hashlib.sha256()
    for path in sorted((Path(data_dir) / CATALOG_DIR).glob("*.yml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


class CatalogChanged(Exception):
    """The catalog files changed between the upload and its confirmation."""


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".catalog.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def procedure_document(catalog: Catalog, procedure: Procedure) -> dict[str, Any]:
    """The mapping an unchanged sheet row of ``procedure`` gives (what :func:`publish` compares)."""
    check = CatalogCheck()
    row = Row(number=0, values=procedure_cells(catalog, procedure))
    document = _document(row, catalog, check)
    assert document is not None, check.issues  # a loaded procedure always makes a valid row
    return document


def publish(
    files: Mapping[str, list[dict[str, Any]]],
    data_dir: Path,
    expected_stamp: str,
    lock_dir: Path,
    current: Catalog,
) -> list[str]:
    """Writes the changed catalog files (each atomically) and removes files left without procedures.

    A file whose procedures are the same as in ``current`` is left as it is (its hand-written layout
    and comments stay); a changed one is rewritten from the sheet, keeping its leading comment.

    Returns:
        the names of the files written or removed.

    Raises:
        CatalogChanged: the catalog is no longer the one the upload was checked against.
    """
    folder = Path(data_dir) / CATALOG_DIR
    touched = []
    with _lock(Path(lock_dir)):
        if stamp(data_dir) != expected_stamp:
            raise CatalogChanged("the catalog changed meanwhile")
        for name, entries in files.items():
            path = folder / name
            before = [
                procedure_document(current, p)
                for p in current.procedures.values()
                if p.source == f"{CATALOG_DIR}/{name}"
            ]
            if path.is_file() and before == list(entries):
                continue
            atomic_write_bytes(path, yaml_text(entries, leading_comment(path)).encode("utf-8"))
            touched.append(name)
        for path in sorted(folder.glob("*.yml")):
            if path.name not in files:
                path.unlink()
                touched.append(path.name)
    return touched


def stale(catalog: Catalog, today: dt.date, days: int) -> list[Procedure]:
    """Procedures whose 確認日 is missing or more than ``days`` old, oldest first (missing first)."""
    found = []
    for procedure in catalog.procedures.values():
        checked = dates.parse_date(procedure.verified_on) if procedure.verified_on else None
        if checked is None or (today - checked).days > days:
            found.append((checked or dt.date.min, procedure))
    return [p for _, p in sorted(found, key=lambda item: (item[0], item[1].id))]
