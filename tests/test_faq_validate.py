"""Every validation problem is reported, with the row number staff see in Excel (header = row 1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.knowledge.faq.tables import read_table
from bot.knowledge.faq.validate import Report, check_url, parse_date, validate

TODAY = dt.date(2025, 6, 1)
HEADER = "id,question,answer,category,paraphrases,department,url,verified_on\n"


def _validate(tmp_path: Path, body: str, header: str = HEADER, **kwargs) -> Report:
    path = tmp_path / "faq.csv"
    path.write_text(header + body, encoding="utf-8")
    return validate(read_table(path), today=TODAY, **kwargs)


def _codes(issues) -> list[tuple[str, int | None, str | None]]:
    return [(i.code, i.row, i.column) for i in issues]


def test_clean_table_has_no_issues(tmp_path: Path) -> None:
    report = _validate(
        tmp_path,
        "F1,住民票の写しはどこで取れますか,市民課で取れます。,届出,住民票がほしい,市民課,"
        "https://www.city-sample.example/a,2025-04-01\n"
        "F2,粗大ごみの出し方,申込みが必要です。,ごみ,,環境課,,\n",
    )
    assert report.ok and not report.warnings
    assert [e.id for e in report.entries] == ["F1", "F2"]
    assert report.rows == {"F1": 2, "F2": 3}


def test_empty_required_cells_name_row_and_column(tmp_path: Path) -> None:
    report = _validate(tmp_path, "F1,q1,a1,,,,,\n,q2,a2,,,,,\nF3,  ,a3,,,,,\nF4,q4,,,,,,\n")
    assert _codes(report.errors) == [("empty", 3, "id"), ("empty", 4, "question"), ("empty", 5, "answer")]
    assert str(report.errors[1]).startswith("4行目 質問")


def test_duplicate_ids_point_at_both_rows(tmp_path: Path) -> None:
    report = _validate(tmp_path, "F1,q1,a1,,,,,\nF2,q2,a2,,,,,\nf1,q3,a3,,,,,\n")
    assert _codes(report.errors) == [("duplicate_id", 4, "id")]
    assert "2行目" in report.errors[0].message


def test_full_width_id_is_folded_and_bad_ids_rejected(tmp_path: Path) -> None:
    report = _validate(tmp_path, 'Ｆ００１,q1,a1,,,,,\nF 2,q2,a2,,,,,\n"F{3}",q3,a3,,,,,\n')
    assert report.entries[0].id == "F001"
    assert _codes(report.errors) == [("bad_id", 3, "id"), ("bad_id", 4, "id")]


@pytest.mark.parametrize(
    "url",
    [
        "www.city-sample.example/a",
        "ftp://www.city-sample.example/a",
        "https://",
        "https:/www.city-sample.example",
        "https://www.city sample.example/",
        "https://city-sample/",
        "https://www.city-sample.example:99999/",
        "https://-bad-.example/",
    ],
)
def test_malformed_urls_are_errors(tmp_path: Path, url: str) -> None:
    report = _validate(tmp_path, f'F1,q,a,,,,"{url}",\n')
    assert _codes(report.errors) == [("bad_url", 2, "url")]
    assert check_url(url) is not None


def test_http_url_is_only_a_warning(tmp_path: Path) -> None:
    report = _validate(tmp_path, "F1,q,a,,,,http://www.city-sample.example/a,\n")
    assert report.ok
    assert _codes(report.warnings) == [("http_url", 2, "url")]


@pytest.mark.parametrize("text", ["2025-13-01", "2025/02/30", "令和7年2月30日", "4/1/2025", "昨日"])
def test_bad_dates_are_errors(tmp_path: Path, text: str) -> None:
    report = _validate(tmp_path, f"F1,q,a,,,,,{text}\n")
    assert _codes(report.errors) == [("bad_date", 2, "verified_on")]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2025-04-01", "2025-04-01"),
        ("2025/4/1", "2025-04-01"),
        ("2025.04.01", "2025-04-01"),
        ("2025年4月1日", "2025-04-01"),
        ("２０２５/４/１", "2025-04-01"),
        ("2025-04-01 00:00:00", "2025-04-01"),
    ],
)
def test_date_spellings_are_normalized(text: str, iso: str) -> None:
    assert parse_date(text) == iso


def test_future_date_is_a_warning(tmp_path: Path) -> None:
    report = _validate(tmp_path, "F1,q,a,,,,,2030-01-01\n")
    assert report.ok and _codes(report.warnings) == [("future_date", 2, "verified_on")]


def test_missing_and_unknown_columns_are_row_1_errors(tmp_path: Path) -> None:
    report = _validate(tmp_path, "F1,q,x\n", header="番号,質問,メモ\n")
    assert sorted(_codes(report.errors)) == [("missing_column", 1, "answer"), ("unknown_column", 1, "メモ")]
    assert report.entries == []


def test_duplicate_column_in_two_languages(tmp_path: Path) -> None:
    report = _validate(tmp_path, "F1,q,a,b\n", header="id,question,answer,回答\n")
    assert _codes(report.errors) == [("duplicate_column", 1, "answer")]


def test_cell_under_no_header_is_an_error(tmp_path: Path) -> None:
    report = _validate(tmp_path, "F1,q,a,stray\n", header="id,question,answer\n")
    assert _codes(report.errors) == [("cell_outside_columns", 2, "#4")]


def test_empty_table_cannot_replace_the_base(tmp_path: Path) -> None:
    report = _validate(tmp_path, "")
    assert _codes(report.errors) == [("no_entries", None, None)]


def test_near_duplicate_questions_are_warnings(tmp_path: Path) -> None:
    report = _validate(
        tmp_path,
        "F1,住民票の写しはどこで取れますか,a,,,,,\n"
        "F2,粗大ごみの出し方,b,,,,,\n"
        "F3,住民票の写しはどこで取れますか？,c,,,,,\n"
        "F4,住民票の写しはいつ取れますか,d,,,,,\n",
    )
    assert report.ok
    assert _codes(report.warnings) == [("near_duplicate", 4, "question")]
    assert "2行目" in report.warnings[0].message


def test_same_wording_on_two_entries_and_repeated_paraphrase(tmp_path: Path) -> None:
    report = _validate(
        tmp_path,
        'F1,住民票がほしい,a,,"住民票\n住民票",,,\nF2,印鑑登録をしたい,b,,住民票,,,\n',
    )
    assert report.ok
    assert sorted(_codes(report.warnings)) == [
        ("repeated_paraphrase", 2, "paraphrases"),
        ("same_wording", 3, "paraphrases"),
    ]


def test_control_characters_and_multiline_single_line_fields(tmp_path: Path) -> None:
    report = _validate(tmp_path, 'F1,"q\x07",a,,,,,\nF2,"two\nlines",a,,,,,\n')
    assert _codes(report.errors) == [("control_char", 2, "question"), ("multiline", 3, "question")]


def test_unknown_department_is_an_error_when_a_list_is_given(tmp_path: Path) -> None:
    body = "F1,q,a,,,市民課,,\nF2,q2,a2,,,宇宙課,,\n"
    assert _validate(tmp_path, body).ok
    report = _validate(tmp_path, body, known_departments={"市民課", "shimin"})
    assert _codes(report.errors) == [("unknown_department", 3, "department")]


def test_a_wording_repeated_in_the_question_blames_the_question_column(tmp_path: Path) -> None:
    report = _validate(
        tmp_path, "F1,住民票がほしい,a,,,,,\nF2,住民票がほしい,b,,,,,\nF3,別,c,,住民票がほしい,,,\n"
    )
    same = [(i.row, i.column) for i in report.warnings if i.code == "same_wording"]
    assert same == [(3, "question"), (4, "paraphrases")]
    assert str(next(i for i in report.warnings if i.row == 3 and i.code == "same_wording")).startswith(
        "3行目 質問: 「住民票がほしい」が 2行目の質問にも"
    )


@pytest.mark.parametrize(
    ("cell", "iso"),
    [
        ("令和8年4月1日", "2026-04-01"),
        ("令和元年5月1日", "2019-05-01"),
        ("R8.4.1", "2026-04-01"),
        ("平成31年4月30日", "2019-04-30"),
        ("２０２６／４／１", "2026-04-01"),
    ],
)
def test_verified_on_accepts_wareki(tmp_path: Path, cell: str, iso: str) -> None:
    report = _validate(tmp_path, f"F1,q,a,,,,,{cell}\n")
    assert report.ok and report.entries[0].verified_on == iso


def test_a_wareki_date_before_its_era_is_refused(tmp_path: Path) -> None:
    report = _validate(tmp_path, "F1,q,a,,,,,令和1年4月1日\n")
    assert _codes(report.errors) == [("bad_date", 2, "verified_on")]


def test_all_problems_are_collected_not_only_the_first(tmp_path: Path) -> None:
    report = _validate(tmp_path, "F1,,a,,,,bad-url,2025-99-99\nF1,q,,,,,,\n")
    assert _codes(report.errors) == [
        ("empty", 2, "question"),
        ("bad_url", 2, "url"),
        ("bad_date", 2, "verified_on"),
        ("empty", 3, "answer"),
        ("duplicate_id", 3, "id"),
    ]
