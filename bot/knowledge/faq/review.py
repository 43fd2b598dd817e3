"""The review loop: questions the bot could not answer go out to staff as a workbook and come back as FAQ.

Export writes one row per distinct (already masked) resident question with how often and when it was asked,
why it was logged and the bot's best guesses, plus empty columns staff fill:

- ``faq_id`` only: the resident wording becomes a paraphrase of that existing entry;
- ``question`` + ``answer`` (+ ``category``, ``department``; ``faq_id`` empty or a new id): a new entry,
  with the resident wording as its paraphrase;
- ``対象外`` in ``faq_id``: spam or out of scope; the question leaves the review list for good;
- nothing: the row is left for later.

Import applies those decisions to the current entries and checks the result with the same validation as a
table import; the caller publishes it (atomically, only if nobody published in between).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Protocol, Sequence

from bot.clock import jst_text
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.live_base import Snapshot
from bot.knowledge.faq.tables import Row, Table, header_map, read_table, write_rows
from bot.knowledge.faq.validate import ID_PATTERN, Report, check_entries
from bot.text import normalize

#: Columns of the review workbook, in order.
REVIEW_COLUMNS: tuple[str, ...] = (
    "asked",
    "count",
    "first_asked",
    "last_asked",
    "kinds",
    "guesses",
    "faq_id",
    "question",
    "answer",
    "category",
    "department",
)
#: Columns staff fill in.
STAFF_COLUMNS: tuple[str, ...] = ("faq_id", "question", "answer", "category", "department")
#: Japanese headers written to the workbook (English names are accepted on import too).
REVIEW_JA_HEADERS: dict[str, str] = {
    "asked": "住民の質問",
    "count": "回数",
    "first_asked": "初回",
    "last_asked": "最終",
    "kinds": "記録の種類",
    "guesses": "ボットの候補",
    "faq_id": "FAQ番号",
    "question": "新しい質問",
    "answer": "新しい回答",
    "category": "分類",
    "department": "担当課",
}
REVIEW_HEADER_MAP = header_map(REVIEW_JA_HEADERS, REVIEW_COLUMNS)
#: How the review kinds of ``bot.stores`` are shown to staff.
KIND_LABELS: dict[str, str] = {
    "low_confidence": "自信なし",
    "fallback": "答えなし",
    "unhelpful": "役に立たなかった",
}
MAX_GUESSES = 5
#: Written in FAQ番号: the question is spam or out of scope (対象外（今後出さない）).
DISMISS = "対象外"
_WIDTHS = {1: 40, 2: 6, 3: 17, 4: 17, 5: 16, 6: 40, 7: 10, 8: 36, 9: 60, 10: 14, 11: 14}
_NEW_ID = re.compile(r"^F(\d+)$")


def next_faq_id(ids: Iterable[str]) -> str:
    """The number a new entry gets: one past the highest ``F0000``-style number in ``ids``."""
    numbers = [int(m.group(1)) for i in ids if (m := _NEW_ID.match(i))]
    return f"F{max(numbers, default=0) + 1:04d}"


class ReviewGroupLike(Protocol):
    """What export needs of ``bot.stores`` ``ReviewGroup``."""

    question: str
    count: int
    first_asked: Any
    last_asked: Any
    kinds: Sequence[str]
    guesses: Sequence[str]


@dataclass
class ReviewOutcome:
    """Result of applying a staff-edited review workbook.

    Attributes:
        report: errors (block publishing) and warnings, with review-sheet row numbers.
        entries: the complete new entry list (meaningful only when ``report.ok``).
        paraphrases_added: (faq id, wording) added to existing entries.
        created: ids of new entries.
        unchanged: rows whose wording was already known (nothing to do).
        undecided: rows staff left empty.
        dismissed: wordings staff marked 対象外 (the caller drops them from the review log).
    """

    report: Report = field(default_factory=Report)
    entries: list[FaqEntry] = field(default_factory=list)
    paraphrases_added: list[tuple[str, str]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    unchanged: int = 0
    undecided: int = 0
    dismissed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.paraphrases_added or self.created)


# --------------------------------------------------------------------------------------------- export


def known_wordings(entries: Iterable[FaqEntry]) -> set[str]:
    """Normalized questions and paraphrases of the entries."""
    return {normalize(t) for e in entries for t in (e.question, *e.paraphrases)}


def write_review_workbook(
    groups: Iterable[ReviewGroupLike],
    path: str | os.PathLike[str],
    snapshot: Snapshot,
    procedure_names: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """Writes the review workbook (.xlsx).

    Questions whose wording the base already knows (resolved by an earlier review) are left out.

    Args:
        groups: distinct review records (``open_stores(settings).review.distinct()``).
        path: the workbook to write.
        snapshot: the live base, to describe guesses and skip resolved questions.
        procedure_names: procedure id -> name, to describe guessed procedures.

    Returns:
        ``(rows written, groups skipped as already resolved)``.
    """
    known = known_wordings(snapshot.entries.values())
    rows: list[list[object]] = []
    skipped = 0
    ordered = sorted(groups, key=lambda g: (-int(g.count), _sort_time(g.last_asked)))
    for group in ordered:
        if normalize(group.question) in known:
            skipped += 1
            continue
        rows.append(
            [
                group.question,
                int(group.count),
                _time_text(group.first_asked),
                _time_text(group.last_asked),
                "、".join(KIND_LABELS.get(k, k) for k in group.kinds),
                "\n".join(_guess_lines(group, snapshot, procedure_names)),
                *([""] * len(STAFF_COLUMNS)),
            ]
        )
    header = [REVIEW_JA_HEADERS[c] for c in REVIEW_COLUMNS]
    wrap = {REVIEW_COLUMNS.index(c) + 1 for c in ("asked", "guesses", "question", "answer")}
    write_rows(path, header, rows, sheet_title="review", wrap_columns=wrap, widths=_WIDTHS)
    return len(rows), skipped


def _guess_lines(
    group: ReviewGroupLike, snapshot: Snapshot, procedure_names: Mapping[str, str] | None = None
) -> list[str]:
    """The bot's guesses as staff read them: ``F0085 指定ごみ袋はどこで買えますか``, ``手続き: 粗大ごみ``.

    The log keeps guesses as ``faq:F0085`` / ``procedure:sodai_gomi``; the prefix is what the bot
    guessed (an FAQ entry or a procedure), not something staff should have to decode.
    """
    ids = [str(g) for g in group.guesses]
    if len(ids) < MAX_GUESSES:
        ids += [f"faq:{e.id}" for e, _ in snapshot.search(group.question, top_k=MAX_GUESSES)]
    lines: list[str] = []
    for guess in dict.fromkeys(ids):
        kind, _, ref = guess.partition(":") if ":" in guess else ("faq", "", guess)
        if kind == "procedure":
            lines.append(f"手続き: {(procedure_names or {}).get(ref, ref)}")
        else:
            entry = snapshot.get(ref)
            lines.append(f"{ref} {entry.question}" if entry else ref)
        if len(lines) == MAX_GUESSES:
            break
    return list(dict.fromkeys(lines))


def _time_text(value: object) -> str:
    """Japan time, whatever the server's zone (naive values are taken as UTC, as the stores write them)."""
    if isinstance(value, dt.datetime):
        return jst_text(value).removesuffix(" JST")
    return "" if value is None else str(value)


def _sort_time(value: object) -> float:
    if isinstance(value, dt.datetime):
        return -(value.timestamp() if value.tzinfo else value.replace(tzinfo=dt.timezone.utc).timestamp())
    return 0.0


# --------------------------------------------------------------------------------------------- import


def read_review_workbook(path: str | os.PathLike[str]) -> Table:
    """Reads a staff-edited review workbook (or CSV).

    Raises:
        TableError: the file cannot be read.
    """
    return read_table(path, headers=REVIEW_HEADER_MAP)


def apply_review(table: Table, entries: Sequence[FaqEntry], *, today: dt.date | None = None) -> ReviewOutcome:
    """Applies staff decisions to the entries (nothing is written here).

    Args:
        table: the review workbook as read by :func:`read_review_workbook`.
        entries: the current entries of the live base.
        today: date written as ``verified_on`` of new entries (default: today).
    """
    today = today or dt.date.today()
    outcome = ReviewOutcome()
    report = outcome.report
    present = {c.field for c in table.columns if c.field}
    for name in ("asked", "faq_id"):
        if name not in present:
            report.error("missing_column", f"必須の列 {REVIEW_JA_HEADERS[name]} ({name}) がありません", row=1)
    for column in table.columns:
        if column.field is None and column.header:
            report.warn("ignored_column", "この列は使いません（無視します）", row=1, column=column.header)
    if report.errors:
        return outcome
    plan = _Plan(list(entries), today)
    for row in table.rows:
        plan.apply(row, outcome)
    outcome.entries = plan.entries()
    changed = set(plan.changed)
    # Changed entries last: a clash between an old and a changed entry is reported on the changed one.
    ordered = [e for e in outcome.entries if e.id not in changed] + [
        e for e in outcome.entries if e.id in changed
    ]
    scratch = check_entries(Report(), ordered, rows=None, today=today)
    for issues, target in ((scratch.errors, report.errors), (scratch.warnings, report.warnings)):
        target.extend(replace(i, row=plan.rows.get(i.ref)) for i in issues if i.ref in changed)
    return outcome


class _Plan:
    """Decisions applied so far: existing entries with added paraphrases, and new entries."""

    def __init__(self, entries: list[FaqEntry], today: dt.date) -> None:
        self.order = [e.id for e in entries]
        self.by_id: dict[str, FaqEntry] = {e.id: e for e in entries}
        self.folded = {e.id.casefold(): e.id for e in entries}
        self.new_ids: list[str] = []
        self.new_by_question: dict[str, str] = {}
        self.rows: dict[str, int] = {}
        self.changed: list[str] = []
        self.today = today

    def entries(self) -> list[FaqEntry]:
        return [self.by_id[i] for i in self.order] + [self.by_id[i] for i in self.new_ids]

    def apply(self, row: Row, outcome: ReviewOutcome) -> None:
        asked = " ".join(row.get("asked").split())  # one line: paraphrases are one per line
        faq_id = unicodedata.normalize("NFKC", row.get("faq_id").strip())
        question, answer = row.get("question").strip(), row.get("answer").strip()
        if not any(row.get(c).strip() for c in STAFF_COLUMNS):
            outcome.undecided += 1
            return
        report = outcome.report
        if not asked:
            report.error("empty", "住民の質問が空です", row=row.number, column="asked")
            return
        if faq_id == DISMISS:
            if question or answer:
                report.error(
                    "dismiss_with_entry",
                    f"「{DISMISS}」にするなら新しい質問・回答は空にしてください",
                    row=row.number,
                    column="faq_id",
                )
                return
            outcome.dismissed.append(asked)
            return
        existing = self.folded.get(faq_id.casefold()) if faq_id else None
        if existing and existing not in self.new_ids:
            if question or answer:
                report.error(
                    "id_exists",
                    f"FAQ番号 {faq_id} は既にあります。言い換えにするなら新しい質問・回答は空に、"
                    "新しい項目にするなら FAQ番号を空か新しい番号にしてください",
                    row=row.number,
                    column="faq_id",
                )
                return
            self._add_paraphrase(existing, asked, row, outcome)
            return
        if not question or not answer:
            if faq_id and not question and not answer:
                report.error("unknown_id", f"FAQ番号 {faq_id} はありません", row=row.number, column="faq_id")
            else:
                missing = "question" if not question else "answer"
                report.error(
                    "empty", "新しい項目には質問と回答の両方が必要です", row=row.number, column=missing
                )
            return
        self._add_new(row, faq_id, asked, question, answer, outcome)

    def _add_paraphrase(self, faq_id: str, asked: str, row: Row, outcome: ReviewOutcome) -> None:
        entry = self.by_id[faq_id]
        if normalize(asked) in known_wordings([entry]):
            outcome.unchanged += 1
            return
        self.by_id[faq_id] = replace(entry, paraphrases=(*entry.paraphrases, asked))
        outcome.paraphrases_added.append((faq_id, asked))
        self._touch(faq_id, row.number)

    def _add_new(
        self, row: Row, faq_id: str, asked: str, question: str, answer: str, outcome: ReviewOutcome
    ) -> None:
        key = normalize(question)
        same = self.new_by_question.get(key) or (self.folded.get(faq_id.casefold()) if faq_id else None)
        if same:  # several resident wordings for one new entry
            entry = self.by_id[same]
            if normalize(entry.answer) != normalize(answer):
                outcome.report.error(
                    "conflict",
                    f"同じ新しい項目 ({same}) に {self.rows.get(same)}行目と違う回答が書かれています",
                    row=row.number,
                    column="answer",
                )
                return
            if normalize(asked) not in known_wordings([entry]):
                self.by_id[same] = replace(entry, paraphrases=(*entry.paraphrases, asked))
            return
        if faq_id and not ID_PATTERN.match(faq_id):
            outcome.report.error("bad_id", f"番号 {faq_id!r} は使えません", row=row.number, column="faq_id")
            return
        faq_id = faq_id or self._next_id()
        paraphrases = () if normalize(asked) == key else (asked,)
        self.by_id[faq_id] = FaqEntry(
            id=faq_id,
            question=question,
            answer=answer,
            category=row.get("category").strip(),
            paraphrases=paraphrases,
            department=row.get("department").strip(),
            verified_on=self.today.isoformat(),
        )
        self.new_ids.append(faq_id)
        self.folded[faq_id.casefold()] = faq_id
        self.new_by_question[key] = faq_id
        outcome.created.append(faq_id)
        self._touch(faq_id, row.number)

    def _next_id(self) -> str:
        return next_faq_id(self.by_id)

    def _touch(self, faq_id: str, row_number: int) -> None:
        self.rows.setdefault(faq_id, row_number)
        if faq_id not in self.changed:
            self.changed.append(faq_id)
