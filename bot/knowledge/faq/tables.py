"""Staff spreadsheets in and out: CSV (UTF-8, UTF-8 with BOM, Shift_JIS/CP932 as Excel writes it) and .xlsx.

Reading keeps every row's number as the staff member sees it in Excel (the header is row 1), so that
validation can point at the exact row. Reading does not judge the content: unknown or missing columns and
bad values are reported by :mod:`bot.knowledge.faq.validate`. Only problems that stop the file from being
read at all (unknown extension, undecodable bytes, broken workbook) raise :class:`TableError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from bot.files import atomic_write_bytes
from bot.knowledge.faq.entry import FaqEntry
from bot.text import normalize

#: Columns of the FAQ table, in export order.
FAQ_COLUMNS: tuple[str, ...] = (
    "id",
    "question",
    "answer",
    "category",
    "paraphrases",
    "department",
    "url",
    "verified_on",
)
#: Columns every FAQ table must have.
FAQ_REQUIRED: tuple[str, ...] = ("id", "question", "answer")
#: Japanese header of each FAQ column (accepted on import, written with ``headers="ja"``).
FAQ_JA_HEADERS: dict[str, str] = {
    "id": "番号",
    "question": "質問",
    "answer": "回答",
    "category": "分類",
    "paraphrases": "言い換え",
    "department": "担当課",
    "url": "URL",
    "verified_on": "確認日",
}
#: Columns whose cells hold several lines that belong together (wrapped in Excel).
MULTILINE_COLUMNS = frozenset({"answer", "paraphrases", "asked", "guesses"})

CSV_ENCODINGS = ("utf-8-sig", "utf-8", "cp932")

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class TableError(Exception):
    """The file cannot be read or written as a table at all (the message says why and where)."""


@dataclass(frozen=True)
class Column:
    """One header cell.

    Attributes:
        position: 1-based column number (A = 1).
        header: the header text as written in the file.
        field: the canonical column name, or None when the header is not known.
    """

    position: int
    header: str
    field: str | None


@dataclass(frozen=True)
class Row:
    """One data row.

    Attributes:
        number: row number as Excel shows it (the header is row 1).
        values: canonical column name -> cell text (only known columns; first occurrence wins).
        extra: unknown header -> cell text, for cells with content under unknown or empty headers.
    """

    number: int
    values: Mapping[str, str]
    extra: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        """The cell text of a canonical column ("" when absent)."""
        return self.values.get(name, "")


@dataclass(frozen=True)
class Table:
    """A spreadsheet read from disk.

    Attributes:
        source: file name it came from.
        encoding: detected text encoding ("xlsx" for workbooks).
        columns: header cells in order.
        rows: non-empty data rows in order.
    """

    source: str
    encoding: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


def header_key(text: str) -> str:
    """Folds a header for lookup: NFKC, lower case, spaces/hyphens -> underscores."""
    folded = normalize(text)
    return folded.replace(" ", "_").replace("-", "_")


def header_map(ja_headers: Mapping[str, str], columns: Iterable[str]) -> dict[str, str]:
    """Builds folded header -> canonical column for English names and their Japanese headers."""
    mapping = {header_key(name): name for name in columns}
    mapping.update({header_key(ja): name for name, ja in ja_headers.items()})
    return mapping


FAQ_HEADER_MAP = header_map(FAQ_JA_HEADERS, FAQ_COLUMNS)


# --------------------------------------------------------------------------------------------- reading


def read_table(path: str | os.PathLike[str], headers: Mapping[str, str] = FAQ_HEADER_MAP) -> Table:
    """Reads a CSV/TSV or .xlsx table.

    Args:
        path: the file; the format follows the extension (.xlsx/.xlsm = workbook, anything else = text).
        headers: folded header -> canonical column (see :func:`header_map`); defaults to the FAQ table.

    Raises:
        TableError: when the file is missing or cannot be decoded/parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise TableError(f"ファイルがありません / file not found: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        encoding, records = "xlsx", _xlsx_records(path)
    else:
        encoding, text = decode_csv_bytes(path.read_bytes())
        records = _csv_records(text)
    return _build_table(path.name, encoding, records, headers)


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """Decodes CSV bytes: BOM -> UTF-8 (or UTF-16), else UTF-8, else CP932.

    Returns:
        ``(encoding, text)``.

    Raises:
        TableError: naming the line of the first byte that neither UTF-8 nor CP932 can read.
    """
    if data.startswith(_UTF8_BOM):
        try:
            return "utf-8-sig", data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _decode_error(data, exc, "UTF-8 (BOM)") from None
    if data[:2] in _UTF16_BOMS:
        try:
            return "utf-16", data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _decode_error(data, exc, "UTF-16") from None
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            return "cp932", data.decode("cp932")
        except UnicodeDecodeError:
            raise _decode_error(data, utf8_error, "UTF-8 / Shift_JIS (CP932)") from None


def _decode_error(data: bytes, exc: UnicodeDecodeError, tried: str) -> TableError:
    line = data.count(b"\n", 0, exc.start) + 1
    return TableError(
        f"文字コードを読み取れません（{tried} のどれでもありません）: {line} 行目付近 (byte {exc.start}). "
        "Excel で「CSV UTF-8」として保存し直してください / cannot decode the file"
    )


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yields (Excel row number, cells); a quoted cell spanning lines is still one row."""
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, [_clean_text(c) for c in cells]
    except csv.Error as exc:
        raise TableError(f"CSV を読めません: {reader.line_num} 行目付近: {exc}") from None


def _xlsx_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    import openpyxl  # imported lazily: only workbook users pay for it

    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise TableError(f"Excel ファイルを開けません / cannot open workbook {path.name}: {exc}") from None
    try:
        sheet = workbook["FAQ"] if "FAQ" in workbook.sheetnames else workbook.active
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            yield number, [cell_text(v) for v in values]
    finally:
        workbook.close()


def cell_text(value: object) -> str:
    """Text of a workbook cell as staff see it (dates as ISO, 12.0 as 12, line breaks as \\n)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _clean_text(str(value))


def _clean_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _build_table(
    source: str, encoding: str, records: Iterable[tuple[int, list[str]]], headers: Mapping[str, str]
) -> Table:
    columns: tuple[Column, ...] | None = None
    rows: list[Row] = []
    for number, cells in records:
        if columns is None:
            columns = _columns(cells, headers)
            continue
        if not any(c.strip() for c in cells):
            continue  # empty rows are skipped but still counted
        rows.append(_row(number, cells, columns))
    if columns is None:
        raise TableError(f"表が空です（見出し行がありません）/ empty table: {source}")
    return Table(source=source, encoding=encoding, columns=columns, rows=tuple(rows))


def _columns(cells: Sequence[str], headers: Mapping[str, str]) -> tuple[Column, ...]:
    columns = []
    for position, cell in enumerate(cells, start=1):
        header = cell.strip()
        columns.append(Column(position, header, headers.get(header_key(header)) if header else None))
    return tuple(columns)


def _row(number: int, cells: Sequence[str], columns: Sequence[Column]) -> Row:
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    for position, cell in enumerate(cells, start=1):
        column = columns[position - 1] if position <= len(columns) else None
        if column is not None and column.field is not None:
            values.setdefault(column.field, cell)
        elif cell.strip():
            extra[column.header if column is not None and column.header else f"#{position}"] = cell
    return Row(number=number, values=values, extra=extra)


# --------------------------------------------------------------------------------------------- writing


def entry_cells(entry: FaqEntry) -> dict[str, str]:
    """The cells of one FAQ entry (paraphrases one per line)."""
    return {
        "id": entry.id,
        "question": entry.question,
        "answer": entry.answer,
        "category": entry.category,
        "paraphrases": "\n".join(entry.paraphrases),
        "department": entry.department,
        "url": entry.url,
        "verified_on": entry.verified_on,
    }


def write_faq_table(
    entries: Iterable[FaqEntry],
    path: str | os.PathLike[str],
    *,
    headers: str = "ja",
    encoding: str = "utf-8-sig",
    choices: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Writes FAQ entries as CSV (by default UTF-8 with BOM, which Excel opens) or .xlsx, by extension.

    Args:
        entries: the entries, written in the given order.
        path: target file; replaced atomically.
        headers: "ja" (番号, 質問, ...; what staff read) or "en" (id, question, ...).
        encoding: CSV encoding ("utf-8-sig", "utf-8" or "cp932"); ignored for .xlsx.
        choices: column -> values offered as a drop-down list in the workbook (担当課, 分類); .xlsx only.

    Returns:
        the number of entries written.

    Raises:
        TableError: unknown header style/extension, or a character the chosen encoding cannot hold.
    """
    if headers not in ("en", "ja"):
        raise TableError(f"headers must be 'en' or 'ja', not {headers!r}")
    header_row = [FAQ_JA_HEADERS[c] if headers == "ja" else c for c in FAQ_COLUMNS]
    rows = []
    ids = []
    for entry in entries:
        cells = entry_cells(entry)
        rows.append([cells[c] for c in FAQ_COLUMNS])
        ids.append(entry.id)
    lists = {FAQ_COLUMNS.index(c) + 1: list(v) for c, v in (choices or {}).items() if v}
    write_rows(path, header_row, rows, row_labels=ids, encoding=encoding, sheet_title="FAQ", choices=lists)
    return len(rows)


def write_rows(
    path: str | os.PathLike[str], header: Sequence[str], rows: Sequence[Sequence[object]], **options: Any
) -> None:
    """Writes a header and rows to CSV or .xlsx (by extension), atomically (temp file + ``os.replace``).

    ``options``: those of :func:`table_bytes` (row labels, encoding, sheet title, wrapped columns, widths,
    drop-down choices).
    """
    atomic_write_bytes(Path(path), table_bytes(path, header, rows, **options))


def table_bytes(
    path: str | os.PathLike[str],
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    row_labels: Sequence[str] | None = None,
    encoding: str = "utf-8-sig",
    sheet_title: str = "FAQ",
    wrap_columns: Iterable[int] = (),
    widths: Mapping[int, int] | None = None,
    choices: Mapping[int, Sequence[str]] | None = None,
) -> bytes:
    """The bytes :func:`write_rows` writes (the format follows ``path``'s extension): for downloads."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        data = _xlsx_bytes(header, rows, sheet_title, wrap_columns, widths, choices or {})
    elif suffix in (".csv", ".txt", ".tsv"):
        data = _csv_bytes(header, rows, encoding, row_labels, "\t" if suffix == ".tsv" else ",")
    else:
        raise TableError(f"対応していない拡張子です / unsupported file type: {path.name} (use .csv or .xlsx)")
    return data


def _csv_bytes(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    encoding: str,
    row_labels: Sequence[str] | None,
    delimiter: str,
) -> bytes:
    if encoding.lower().replace("_", "-") not in CSV_ENCODINGS:
        raise TableError(f"unsupported CSV encoding {encoding!r}; use one of {', '.join(CSV_ENCODINGS)}")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for index, row in enumerate(rows):
        cells = ["" if v is None else str(v) for v in row]
        for column, cell in zip(header, cells, strict=False):
            try:
                cell.encode(encoding)
            except UnicodeEncodeError as exc:
                label = row_labels[index] if row_labels else f"{index + 2} 行目"
                raise TableError(
                    f"{label} の {column}: 文字 {cell[exc.start]!r} は {encoding} で書けません。"
                    " UTF-8 (既定) か .xlsx で書き出してください / character not representable"
                ) from None
        writer.writerow(cells)
    return buffer.getvalue().encode(encoding)


def _xlsx_bytes(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    sheet_title: str,
    wrap_columns: Iterable[int],
    widths: Mapping[int, int] | None,
    choices: Mapping[int, Sequence[str]],
) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wrap = set(wrap_columns) or {i for i, h in enumerate(header, 1) if _is_multiline_header(h)}
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            if column in wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                cell.alignment = Alignment(vertical="top")
    for column in range(1, len(header) + 1):
        width = (widths or {}).get(column, 60 if column in wrap else 16)
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    _add_choices(workbook, sheet, header, choices)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


#: Rows a drop-down list covers below the header: room for a whole city's FAQ and years of additions.
CHOICE_ROWS = 5000
#: The (hidden) sheet holding the drop-down values: a list in a sheet has no 255-character limit.
CHOICES_SHEET = "選択肢"


def _add_choices(workbook, sheet, header: Sequence[str], choices: Mapping[int, Sequence[str]]) -> None:
    """Drop-down lists (data validation) for the given columns; other values get Excel's warning."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    if not choices:
        return
    lists = workbook.create_sheet(CHOICES_SHEET)
    lists.sheet_state = "hidden"
    for n, (column, values) in enumerate(sorted(choices.items()), start=1):
        letter = get_column_letter(n)
        lists.cell(row=1, column=n, value=header[column - 1])
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=n, value=value).data_type = "s"
        target = get_column_letter(column)
        rule = DataValidation(
            type="list",
            formula1=f"'{CHOICES_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=header[column - 1],
            error="一覧にない値です。一覧から選んでください。",
        )
        rule.add(f"{target}2:{target}{CHOICE_ROWS}")
        sheet.add_data_validation(rule)


def _is_multiline_header(header: str) -> bool:
    canonical = FAQ_HEADER_MAP.get(header_key(header), header)
    return canonical in MULTILINE_COLUMNS
