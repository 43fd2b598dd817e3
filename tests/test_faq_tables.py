"""Staff tables in and out: every format round-trips without loss and keeps Excel row numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.tables import TableError, read_table, write_faq_table
from bot.knowledge.faq.validate import validate

TRICKY = [
    FaqEntry(
        id="F0001",
        question="住民票の写し、どこで取れますか？",
        answer=(
            '窓口で "本人確認書類" を見せてください。\n2行目、カンマ, と引用符 " も。'
            "\n\n空行の後も残ります 🙂"
        ),
        category="届出・証明",
        paraphrases=("住民票がほしい", "じゅうみんひょう, 取りたい", '"引用" 付きの言い換え 🏠'),
        department="市民課",
        url="https://www.city-sample.example/a?x=1&y=2",
        verified_on="2025-04-01",
    ),
    FaqEntry(id="F0002", question="=1+1 のような数式に見える質問", answer="+81 で始まる回答\t(タブ)"),
    FaqEntry(id="0012", question="番号が数字だけ", answer="先頭の 0 も残ります。", verified_on="2024-12-31"),
]
# CP932 cannot hold emoji: the Excel "CSV (comma delimited)" case uses text it can hold.
CP932_SAFE = [
    FaqEntry(
        id="F0001",
        question="児童手当の申請は？",
        answer="こども家庭課で受け付けます。\n「認定請求書」を出してください、①②も使えます。",
        paraphrases=("子どもの手当", "じどうてあて"),
        department="こども家庭課",
        verified_on="2025-01-15",
    ),
    FaqEntry(id="F0002", question='ｶﾀｶﾅ半角 と "引用"', answer="髙橋さん・﨑も CP932 の文字です。"),
]


def _read_entries(path: Path) -> list[FaqEntry]:
    report = validate(read_table(path))
    assert report.ok, [str(e) for e in report.errors]
    return report.entries


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("headers", ["en", "ja"])
def test_export_import_round_trip_keeps_everything(tmp_path: Path, suffix: str, headers: str) -> None:
    path = tmp_path / f"faq{suffix}"
    assert write_faq_table(TRICKY, path, headers=headers) == len(TRICKY)
    assert _read_entries(path) == TRICKY


def test_exported_csv_is_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    write_faq_table(TRICKY, path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert read_table(path).encoding == "utf-8-sig"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    entries = CP932_SAFE
    path = tmp_path / "faq.csv"
    write_faq_table(entries, path, encoding=encoding)
    table = read_table(path)
    assert table.encoding == encoding
    assert _read_entries(path) == entries
    # ...and the re-export of what was read is byte-identical to the staff file.
    again = tmp_path / "again.csv"
    write_faq_table(_read_entries(path), again, encoding=encoding)
    assert again.read_bytes() == path.read_bytes()


def test_excel_style_cp932_file_with_crlf_and_japanese_headers(tmp_path: Path) -> None:
    text = (
        "番号,質問,回答,分類,言い換え,担当課,URL,確認日\r\n"
        'K-1,粗大ごみの出し方,"申込みが必要です。\r\n手数料がかかります。",ごみ,"粗大ゴミ\r\n大きいごみ",環境課,'
        "https://www.city-sample.example/sodai,2025/4/1\r\n"
    )
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("cp932"))
    (entry,) = _read_entries(path)
    assert entry.answer == "申込みが必要です。\n手数料がかかります。"
    assert entry.paraphrases == ("粗大ゴミ", "大きいごみ")
    assert entry.verified_on == "2025-04-01"


def test_cp932_export_names_entry_with_unrepresentable_character(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="F0001"):
        write_faq_table(TRICKY, tmp_path / "faq.csv", encoding="cp932")
    assert not (tmp_path / "faq.csv").exists()


def test_undecodable_csv_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"id,question,answer\r\nF1,ok,ok\r\n" + b"F2,\x81\x20,x\r\n")
    with pytest.raises(TableError, match="3 行目"):
        read_table(path)


def test_row_numbers_follow_excel_even_with_multiline_cells_and_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        'id,question,answer\nF1,q1,"line1\nline2\nline3"\n\nF2,q2,a2\n,,\nF3,q3,a3\n', encoding="utf-8"
    )
    table = read_table(path)
    assert [(r.number, r.get("id")) for r in table.rows] == [(2, "F1"), (4, "F2"), (6, "F3")]


def test_xlsx_typed_cells_become_staff_text(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["番号", "質問", "回答", "確認日"])
    sheet.append([12, "数値の番号", "回答", dt.datetime(2025, 3, 31)])
    sheet.append([13.0, "日付型", "回答\r\n2行目", dt.date(2024, 2, 29)])
    path = tmp_path / "typed.xlsx"
    workbook.save(path)
    entries = _read_entries(path)
    assert [(e.id, e.verified_on, e.answer) for e in entries] == [
        ("12", "2025-03-31", "回答"),
        ("13", "2024-02-29", "回答\n2行目"),
    ]


def test_xlsx_prefers_sheet_named_faq(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["memo"])
    faq = workbook.create_sheet("FAQ")
    faq.append(["id", "question", "answer"])
    faq.append(["F1", "q", "a"])
    path = tmp_path / "two.xlsx"
    workbook.save(path)
    assert [e.id for e in _read_entries(path)] == ["F1"]


def test_unsupported_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="unsupported"):
        write_faq_table(TRICKY, tmp_path / "faq.ods")
    with pytest.raises(TableError, match="not found"):
        read_table(tmp_path / "nope.csv")


def test_broken_workbook_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(TableError, match="broken.xlsx"):
        read_table(path)
