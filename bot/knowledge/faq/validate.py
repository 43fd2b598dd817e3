"""Validation of a staff FAQ table before anything changes.

Every problem is collected (not only the first) and carries the spreadsheet row number staff see in Excel
(header = row 1), or the entry id when the entries did not come from a sheet (review import).
Errors block the import; warnings (near-duplicate questions, http URLs, ...) are shown but do not.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Collection, Iterable, Iterator, Mapping

from bot.knowledge import dates
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.tables import FAQ_JA_HEADERS, FAQ_REQUIRED, Row, Table
from bot.links import LinkProblem, link_problem
from bot.text import normalize

#: Column name -> the header staff see: the FAQ sheet's, and the review sheet's own columns.
COLUMN_LABELS: dict[str, str] = {
    **FAQ_JA_HEADERS,
    "faq_id": "FAQ番号",
    "asked": "住民の質問",
    "guesses": "ボットの候補",
}

#: Near-duplicate threshold on normalized question text (difflib ratio).
NEAR_DUPLICATE_RATIO = 0.9

#: Ids go into button payloads (``/faq{"faq_id":"F0012"}``): letters, digits, ``_ . -`` only.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")

_ALLOWED_CONTROLS = frozenset("\n\t")


@dataclass(frozen=True)
class Issue:
    """One problem found in a table.

    Attributes:
        code: machine-readable kind (e.g. "empty", "duplicate_id", "bad_url", "near_duplicate").
        message: what is wrong, for staff.
        row: spreadsheet row number (header = 1), when known.
        column: canonical column name, or the header as written for unknown columns (staff read it
            by its Japanese header, :data:`COLUMN_LABELS`).
        ref: entry id, when there is no row number.
    """

    code: str
    message: str
    row: int | None = None
    column: str | None = None
    ref: str | None = None

    @property
    def column_label(self) -> str:
        """The column as staff see it in the sheet (回答, FAQ番号), "" when the issue has none."""
        return COLUMN_LABELS.get(self.column, self.column) if self.column else ""

    def location(self) -> str:
        """Where the problem is, as staff read it ("5行目 回答")."""
        parts = []
        if self.row is not None:
            parts.append(f"{self.row}行目")
        elif self.ref:
            parts.append(f"番号 {self.ref}")
        if self.column:
            parts.append(self.column_label)
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


@dataclass
class Report:
    """Outcome of validating a table.

    Attributes:
        errors: problems that block the import.
        warnings: problems shown to staff that do not block it.
        entries: the entries read (complete only when there are no errors).
        rows: entry id -> row number.
    """

    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    entries: list[FaqEntry] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing blocks the import."""
        return not self.errors

    def error(self, code: str, message: str, **where) -> None:
        self.errors.append(Issue(code, message, **where))

    def warn(self, code: str, message: str, **where) -> None:
        self.warnings.append(Issue(code, message, **where))


def validate(
    table: Table,
    *,
    today: dt.date | None = None,
    known_departments: Collection[str] | None = None,
) -> Report:
    """Checks a whole FAQ table and builds its entries.

    Args:
        table: the table as read by :func:`bot.knowledge.faq.tables.read_table`.
        today: reference date for "verified in the future" warnings (default: today).
        known_departments: department names/ids; any other 担当課 is an error. None = no check.
    """
    report = Report()
    _check_columns(table, report)
    if report.errors:
        return report
    for row in table.rows:
        _check_extra_cells(row, report)
        report.entries.append(entry_from_row(row))
        report.rows.setdefault(report.entries[-1].id, row.number)
    if not table.rows:
        report.error(
            "no_entries", "データ行がありません（空の表では取り込めません）/ the table has no entries"
        )
    rows_by_index = [row.number for row in table.rows]
    check_entries(report, report.entries, rows_by_index, today=today, known_departments=known_departments)
    return report


def entry_from_row(row: Row) -> FaqEntry:
    """Builds an entry from a row: cells trimmed, paraphrases one per line, dates in ISO when readable."""
    paraphrases = tuple(p.strip() for p in row.get("paraphrases").split("\n") if p.strip())
    verified = row.get("verified_on").strip()
    return FaqEntry(
        id=unicodedata.normalize("NFKC", row.get("id").strip()),
        question=row.get("question").strip(),
        answer=row.get("answer").strip(),
        category=row.get("category").strip(),
        paraphrases=paraphrases,
        department=row.get("department").strip(),
        url=row.get("url").strip(),
        verified_on=parse_date(verified) or verified,
    )


def parse_date(text: str) -> str | None:
    """ISO date of "2024-04-01", "2024/4/1", "2024年4月1日", "令和8年4月1日", "R8.4.1" (and see dates)."""
    return dates.iso_date(text)


#: What staff read for each :class:`bot.links.LinkProblem` (the FAQ accepts http with a warning).
URL_MESSAGES = {
    LinkProblem.SPACE: "URL に空白が含まれています",
    LinkProblem.MALFORMED: "URL の形式が正しくありません",
    LinkProblem.SCHEME: "URL は https:// で始めてください（http:// も使えますが、警告になります）",
    LinkProblem.HOST: "URL のホスト名が正しくありません",
}


def check_url(url: str) -> str | None:
    """Returns why a URL is malformed (the rule of :mod:`bot.links`), or None when it is usable."""
    problem = link_problem(url)
    return URL_MESSAGES[problem] if problem else None


def check_entries(
    report: Report,
    entries: list[FaqEntry],
    rows: list[int] | None = None,
    *,
    today: dt.date | None = None,
    known_departments: Collection[str] | None = None,
) -> Report:
    """Checks fields of each entry and the set as a whole, adding issues to ``report``.

    Args:
        report: where issues go.
        entries: the entries.
        rows: row number of each entry (same order), or None to name entries by id.
        today: reference date for future-date warnings.
        known_departments: department names/ids that exist (others are errors), or None to skip.
    """
    today = today or dt.date.today()
    where = [_where(e, rows[i] if rows else None) for i, e in enumerate(entries)]
    for entry, loc in zip(entries, where, strict=True):
        _check_fields(entry, loc, report, today, known_departments)
    _check_duplicate_ids(entries, where, report)
    _check_wordings(entries, where, report)
    _check_near_duplicates(entries, where, report)
    return report


def _where(entry: FaqEntry, row: int | None) -> dict:
    return {"row": row} if row is not None else {"ref": entry.id or "?"}


def _check_columns(table: Table, report: Report) -> None:
    seen: dict[str, str] = {}
    for column in table.columns:
        if column.field is None:
            if column.header:
                report.error(
                    "unknown_column",
                    f"知らない列です（使える列: {', '.join(_known_headers())}）",
                    row=1,
                    column=column.header,
                )
            continue
        if column.field in seen:
            report.error(
                "duplicate_column",
                f"同じ列が2回あります（「{seen[column.field]}」と「{column.header}」）",
                row=1,
                column=column.field,
            )
        seen.setdefault(column.field, column.header)
    for name in FAQ_REQUIRED:
        if name not in seen:
            report.error("missing_column", "必須の列がありません", row=1, column=name)


def _known_headers() -> list[str]:
    return [f"{name}/{ja}" for name, ja in FAQ_JA_HEADERS.items()]


def _check_extra_cells(row: Row, report: Report) -> None:
    for header in row.extra:
        report.error("cell_outside_columns", "見出しのない列に値があります", row=row.number, column=header)


def _check_fields(
    entry: FaqEntry,
    where: dict,
    report: Report,
    today: dt.date,
    known_departments: Collection[str] | None,
) -> None:
    for name in FAQ_REQUIRED:
        if not getattr(entry, name):
            report.error("empty", "空欄です（必須）", column=name, **where)
    if entry.id and not ID_PATTERN.match(entry.id):
        report.error(
            "bad_id",
            f"番号 {entry.id!r} は使えません（半角英数字と _ . - のみ、64文字まで）",
            column="id",
            **where,
        )
    for name in ("question", "answer", "category", "department", "url", "verified_on"):
        value = getattr(entry, name)
        if any(unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS for c in value):
            report.error("control_char", "制御文字が含まれています", column=name, **where)
    for name in ("question", "category", "department", "url", "verified_on", "id"):
        if "\n" in getattr(entry, name):
            report.error("multiline", "この列は1行で書いてください", column=name, **where)
    if entry.url:
        problem = check_url(entry.url)
        if problem:
            report.error("bad_url", f"{problem}: {entry.url}", column="url", **where)
        elif entry.url.startswith("http://"):
            report.warn("http_url", "https ではない URL です", column="url", **where)
    _check_date(entry, where, report, today)
    if known_departments is not None and entry.department and entry.department not in known_departments:
        report.error(
            "unknown_department",
            f"担当課「{entry.department}」は課の一覧（data/departments.yml）にありません",
            column="department",
            **where,
        )
    _check_paraphrases(entry, where, report)


def _check_date(entry: FaqEntry, where: dict, report: Report, today: dt.date) -> None:
    if not entry.verified_on:
        return
    iso = parse_date(entry.verified_on)
    if iso is None:
        report.error(
            "bad_date",
            f"日付を読めません: {entry.verified_on!r}（例: {dates.EXAMPLES}）",
            column="verified_on",
            **where,
        )
    elif dt.date.fromisoformat(iso) > today:
        report.warn("future_date", f"確認日 {iso} が未来の日付です", column="verified_on", **where)


def _check_paraphrases(entry: FaqEntry, where: dict, report: Report) -> None:
    seen = {normalize(entry.question)}
    for paraphrase in entry.paraphrases:
        key = normalize(paraphrase)
        if key in seen:
            report.warn(
                "repeated_paraphrase",
                f"同じ言い換えが重複しています: {paraphrase}",
                column="paraphrases",
                **where,
            )
        seen.add(key)
        if any(unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS for c in paraphrase):
            report.error("control_char", "制御文字が含まれています", column="paraphrases", **where)


def _check_duplicate_ids(entries: list[FaqEntry], where: list[dict], report: Report) -> None:
    first: dict[str, dict] = {}
    for entry, loc in zip(entries, where, strict=True):
        if not entry.id:
            continue
        key = entry.id.casefold()
        if key in first:
            other = _describe(first[key])
            report.error(
                "duplicate_id", f"番号 {entry.id} が重複しています（{other}と同じ）", column="id", **loc
            )
        else:
            first[key] = loc


def _describe(where: Mapping) -> str:
    return f"{where['row']}行目" if where.get("row") is not None else f"番号 {where.get('ref')}"


def _check_wordings(entries: list[FaqEntry], where: list[dict], report: Report) -> None:
    """Warns when the same wording (question or paraphrase) points at two different entries."""
    owner: dict[str, tuple[str, dict, str]] = {}
    for entry, loc in zip(entries, where, strict=True):
        question = normalize(entry.question)
        texts = {normalize(t) for t in (entry.question, *entry.paraphrases) if t.strip()}
        for text in sorted(texts, key=lambda t: t != question):  # the question first, as in the sheet
            column = "question" if text == question else "paraphrases"
            if text in owner and owner[text][0] != entry.id:
                other = f"{_describe(owner[text][1])}の{FAQ_JA_HEADERS[owner[text][2]]}"
                report.warn(
                    "same_wording",
                    f"「{text}」が {other}にもあります（どちらに答えるか決まりません）",
                    column=column,
                    **loc,
                )
            owner.setdefault(text, (entry.id, loc, column))


def _check_near_duplicates(entries: list[FaqEntry], where: list[dict], report: Report) -> None:
    """Warns when a wording (question or paraphrase) of one entry is nearly the same as one of another.

    The criterion is ``difflib`` ratio >= :data:`NEAR_DUPLICATE_RATIO` on normalized text, reported once
    per pair of entries, on the later one. To stay fast on thousands of entries, only pairs whose
    character-bigram Dice coefficient reaches :data:`_BIGRAM_PREFILTER` are compared (a ratio of 0.9
    leaves too few differences for the bigram overlap to fall below it).
    """
    items = [
        (i, normalize(text), text is entry.question)
        for i, entry in enumerate(entries)
        for text in (entry.question, *entry.paraphrases)
        if text.strip()
    ]
    reported: set[tuple[int, int]] = set()
    for a, b in _similar_pairs([text for _, text, _ in items]):
        (i, text_a, _), (j, text_b, is_question) = items[a], items[b]
        if i == j or text_a == text_b or (i, j) in reported:
            continue  # same entry, or an exact repeat (reported by _check_wordings)
        if difflib.SequenceMatcher(None, text_a, text_b, autojunk=False).ratio() < NEAR_DUPLICATE_RATIO:
            continue
        reported.add((i, j))  # items are in entry order and a < b, so i < j: report on the later entry
        report.warn(
            "near_duplicate",
            f"「{text_b}」が {_describe(where[i])}（{entries[i].id}）の「{text_a}」とほぼ同じです",
            column="question" if is_question else "paraphrases",
            **where[j],
        )


_BIGRAM_PREFILTER = 0.6
_CHUNK_ROWS = 512


def _bigrams(text: str) -> set[str]:
    return {text[k : k + 2] for k in range(len(text) - 1)} or {text}


def _similar_pairs(texts: list[str]) -> Iterator[tuple[int, int]]:
    """Pairs (i < j) whose character-bigram Dice coefficient is at least :data:`_BIGRAM_PREFILTER`."""
    import numpy as np
    from scipy.sparse import csr_matrix

    grams = [_bigrams(t) for t in texts]
    vocabulary: dict[str, int] = {}
    indices = [vocabulary.setdefault(g, len(vocabulary)) for gs in grams for g in gs]
    indptr = np.cumsum([0] + [len(gs) for gs in grams])
    matrix = csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(texts), len(vocabulary))
    )
    sizes = np.array([len(gs) for gs in grams], dtype=np.float32)
    for start in range(0, len(texts), _CHUNK_ROWS):
        common = (matrix[start : start + _CHUNK_ROWS] @ matrix.T).toarray()
        dice = 2 * common / (sizes[start : start + _CHUNK_ROWS, None] + sizes[None, :])
        for a, b in zip(*np.nonzero(dice >= _BIGRAM_PREFILTER), strict=True):
            i = start + int(a)
            if i < int(b):
                yield i, int(b)


def issues_text(issues: Iterable[Issue]) -> list[str]:
    """One line per issue, in row order."""
    ordered = sorted(
        issues, key=lambda i: (i.row if i.row is not None else 1 << 30, i.ref or "", i.column or "")
    )
    return [str(issue) for issue in ordered]
