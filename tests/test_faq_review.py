"""Review loop: unanswered questions -> staff workbook -> edits in Excel -> paraphrases / new entries."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from bot import settings as settings_module
from bot.cli import main
from bot.knowledge.faq import live_base
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.review import (
    REVIEW_COLUMNS,
    REVIEW_JA_HEADERS,
    apply_review,
    read_review_workbook,
    write_review_workbook,
)
from bot.stores import ReviewGroup, open_stores

JST = dt.timezone(dt.timedelta(hours=9))
ENTRIES = [
    FaqEntry(
        id="F0001",
        question="住民票の写しはどこで取れますか",
        answer="市民課の窓口で取れます。",
        paraphrases=("住民票がほしい",),
        department="市民課",
    ),
    FaqEntry(id="F0002", question="粗大ごみの出し方を教えてください", answer="事前の申込みが必要です。"),
]
COL = {name: i for i, name in enumerate(REVIEW_COLUMNS, start=1)}


def _group(question: str, count: int = 1, guesses=("F0001",), kinds=("low_confidence",)) -> ReviewGroup:
    return ReviewGroup(
        question=question,
        count=count,
        first_asked=dt.datetime(2025, 5, 1, 9, 30, tzinfo=JST),
        last_asked=dt.datetime(2025, 5, 2, 14, 5, tzinfo=JST),
        kinds=list(kinds),
        guesses=list(guesses),
    )


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    path = tmp_path / "kb"
    live_base.publish(ENTRIES, path)
    return path


def _fill(path: Path, edits: dict[int, dict[str, str]]) -> None:
    """Edits the workbook the way staff do in Excel: typing into cells of given rows."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    for row, values in edits.items():
        for name, value in values.items():
            sheet.cell(row=row, column=COL[name], value=value)
    workbook.save(path)


def test_export_writes_one_row_per_question_with_empty_staff_columns(kb: Path, tmp_path: Path) -> None:
    path = tmp_path / "review.xlsx"
    groups = [
        _group("住民票 コンビニで取れる？", count=2),
        _group("犬の登録はどこ", count=5, guesses=(), kinds=("fallback", "unhelpful")),
        _group("住民票がほしい"),  # already a paraphrase: resolved earlier, left out
    ]
    written, skipped = write_review_workbook(groups, path, live_base.load_current(kb))
    assert (written, skipped) == (2, 1)
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert list(rows[0]) == [REVIEW_JA_HEADERS[c] for c in REVIEW_COLUMNS]
    assert [r[0] for r in rows[1:]] == ["犬の登録はどこ", "住民票 コンビニで取れる？"]  # most asked first
    first = dict(zip(REVIEW_COLUMNS, rows[2], strict=True))
    assert first["count"] == 2 and first["kinds"] == "自信なし"
    assert first["first_asked"].startswith("2025-05-01") and first["last_asked"].startswith("2025-05-02")
    assert first["guesses"].splitlines()[0] == "F0001 住民票の写しはどこで取れますか"
    assert all(first[c] is None for c in ("faq_id", "question", "answer", "category", "department"))


def test_export_shows_japan_time_and_readable_guesses(kb: Path, tmp_path: Path) -> None:
    path = tmp_path / "review.xlsx"
    group = _group("粗大ごみを出したい", guesses=("faq:F0001", "procedure:sodai_gomi"))
    group = dataclasses.replace(
        group,
        first_asked=dt.datetime(2026, 4, 1, 0, 30, tzinfo=dt.timezone.utc),  # the stores keep UTC
        last_asked=dt.datetime(2026, 4, 1, 15, 0),  # naive: UTC too
    )
    write_review_workbook([group], path, live_base.load_current(kb), {"sodai_gomi": "粗大ごみの収集"})
    cells = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))[1]
    row = dict(zip(REVIEW_COLUMNS, cells, strict=True))
    assert (row["first_asked"], row["last_asked"]) == ("2026-04-01 09:30", "2026-04-02 00:00")
    lines = row["guesses"].splitlines()
    assert lines[:2] == ["F0001 住民票の写しはどこで取れますか", "手続き: 粗大ごみの収集"]
    assert not any(line.startswith(("faq:", "procedure:")) for line in lines)


def test_staff_edits_add_paraphrases_and_create_entries(kb: Path, tmp_path: Path) -> None:
    path = tmp_path / "review.xlsx"
    groups = [
        _group("住民票 コンビニで取れる？", count=3),
        _group("犬を飼い始めたら何をする", count=2, guesses=()),
        _group("犬の登録ってどうやるの", count=1, guesses=()),
        _group("よくわからない質問", count=1),
    ]
    write_review_workbook(groups, path, live_base.load_current(kb))
    new = {"question": "犬の登録はどうすればいいですか", "answer": "飼い始めて30日以内に登録してください。"}
    _fill(
        path,
        {
            2: {"faq_id": "F0001"},
            3: {**new, "category": "生活", "department": "環境課"},
            4: {**new, "category": "生活", "department": "環境課"},  # a second wording of the same new entry
        },
    )
    outcome = apply_review(read_review_workbook(path), ENTRIES, today=dt.date(2025, 6, 1))
    assert outcome.report.ok, [str(e) for e in outcome.report.errors]
    assert outcome.paraphrases_added == [("F0001", "住民票 コンビニで取れる？")]
    assert outcome.created == ["F0003"] and outcome.undecided == 1
    version = live_base.publish(
        outcome.entries, kb.parent / "kb", expected_version=live_base.current_version(kb)
    )
    snapshot = live_base.load_current(kb)
    assert snapshot.version == version
    assert snapshot.get("F0001").paraphrases == ("住民票がほしい", "住民票 コンビニで取れる？")
    created = snapshot.get("F0003")
    assert (created.question, created.department, created.category, created.verified_on) == (
        new["question"],
        "環境課",
        "生活",
        "2025-06-01",
    )
    assert created.paraphrases == ("犬を飼い始めたら何をする", "犬の登録ってどうやるの")
    assert snapshot.search("犬を飼い始めたら何をする", top_k=1)[0][0].id == "F0003"


def test_review_errors_name_the_review_rows(kb: Path, tmp_path: Path) -> None:
    path = tmp_path / "review.xlsx"
    write_review_workbook(
        [_group(f"質問{i}", count=9 - i) for i in range(6)], path, live_base.load_current(kb)
    )
    _fill(
        path,
        {
            2: {"faq_id": "F9999"},
            3: {"faq_id": "F0001", "question": "新しい質問", "answer": "回答"},
            4: {"question": "回答のない新しい質問"},
            5: {"question": "同じ質問", "answer": "回答A"},
            6: {"question": "同じ質問", "answer": "回答B"},
            7: {"faq_id": "bad id!", "question": "q", "answer": "a"},
        },
    )
    outcome = apply_review(read_review_workbook(path), ENTRIES)
    assert [(e.code, e.row, e.column) for e in outcome.report.errors] == [
        ("unknown_id", 2, "faq_id"),
        ("id_exists", 3, "faq_id"),
        ("empty", 4, "answer"),
        ("conflict", 6, "answer"),
        ("bad_id", 7, "faq_id"),
    ]


def test_review_import_cli_end_to_end_with_real_stores(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MADOGUCHI_HOME", str(tmp_path))
    monkeypatch.delenv("MADOGUCHI_VAR", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = settings_module.load()
    live_base.publish(ENTRIES, settings.faq_dir)
    stores = open_stores(settings)
    try:
        stores.review.record("住民票をコンビニで取りたい 電話は090-1234-5678", "low_confidence", ["F0001"])
        stores.review.record("住民票をコンビニで取りたい 電話は090-1234-5678", "unhelpful", ["F0001"])
        stores.review.record("マンホールのふたが壊れている", "fallback", [])
    finally:
        stores.close()
    path = tmp_path / "review.xlsx"
    assert main(["review", "export", str(path)]) == 0
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))[1:]
    assert len(rows) == 2 and all("5678" not in r[0] for r in rows)  # masked by the store
    by_question = {r[0]: n for n, r in enumerate(rows, start=2)}
    phone_row = next(n for q, n in by_question.items() if q.startswith("住民票"))
    _fill(path, {phone_row: {"faq_id": "F0001"}})
    before = live_base.current_version(settings.faq_dir)
    assert main(["review", "import", str(path), "--dry-run"]) == 0
    assert live_base.current_version(settings.faq_dir) == before
    assert main(["review", "import", str(path)]) == 0
    assert "言い換え追加 1 件" in capsys.readouterr().out
    entry = live_base.load_current(settings.faq_dir).get("F0001")
    assert len(entry.paraphrases) == 2 and entry.paraphrases[1].startswith("住民票をコンビニで取りたい")
    # The resolved question no longer comes back in the next export.
    assert main(["review", "export", str(path)]) == 0
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))[1:]
    assert [r[0] for r in rows] == ["マンホールのふたが壊れている"]


def test_review_import_with_errors_changes_nothing(kb: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "review.xlsx"
    write_review_workbook([_group("質問A"), _group("質問B")], path, live_base.load_current(kb))
    _fill(path, {2: {"faq_id": "F0002"}, 3: {"faq_id": "F7777"}})
    before = live_base.current_version(kb)
    assert main(["review", "import", str(path), "--kb", str(kb)]) == 1
    err = capsys.readouterr().err
    assert "3行目 FAQ番号: FAQ番号 F7777 はありません" in err and "faq_id" not in err  # as the sheet says
    assert live_base.current_version(kb) == before


def test_multiline_resident_question_becomes_one_paraphrase(kb: Path, tmp_path: Path) -> None:
    path = tmp_path / "review.xlsx"
    write_review_workbook([_group("住民票を\nコンビニで")], path, live_base.load_current(kb))
    _fill(path, {2: {"faq_id": "f0001"}})  # ids are matched case-insensitively, as Excel users type them
    outcome = apply_review(read_review_workbook(path), ENTRIES)
    assert outcome.report.ok
    assert outcome.paraphrases_added == [("F0001", "住民票を コンビニで")]


def test_wording_clash_with_an_older_entry_is_reported_on_the_review_row(kb: Path, tmp_path: Path) -> None:
    path = tmp_path / "review.xlsx"
    write_review_workbook([_group("粗大ごみの出し方を教えてください？")], path, live_base.load_current(kb))
    _fill(path, {2: {"faq_id": "F0001"}})  # staff chose the wrong entry: it is F0002's question
    outcome = apply_review(read_review_workbook(path), ENTRIES)
    assert outcome.report.ok
    assert [(w.code, w.row) for w in outcome.report.warnings] == [("near_duplicate", 2)]


def test_taishogai_in_the_workbook_drops_a_question_for_good(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MADOGUCHI_HOME", str(tmp_path))
    monkeypatch.delenv("MADOGUCHI_VAR", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = settings_module.load()
    live_base.publish(ENTRIES, settings.faq_dir)
    with open_stores(settings) as stores:
        stores.review.record("激安セール 今すぐクリック", "fallback", [])
        stores.review.record("マンホールのふたが壊れている", "fallback", [])
    path = tmp_path / "review.xlsx"
    assert main(["review", "export", str(path)]) == 0
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))[1:]
    spam = next(n for n, r in enumerate(rows, start=2) if r[0].startswith("激安"))
    _fill(path, {spam: {"faq_id": "対象外"}})
    before = live_base.current_version(settings.faq_dir)
    assert main(["review", "import", str(path)]) == 0
    assert "対象外 1 件" in capsys.readouterr().out
    assert live_base.current_version(settings.faq_dir) == before  # the FAQ is not touched
    with open_stores(settings) as stores:
        stores.review.record("激安セール 今すぐクリック", "fallback", [])  # asked again
        assert [g.question for g in stores.review.distinct()] == ["マンホールのふたが壊れている"]
