"""The sample city's FAQ (data/faq/sample_faq.csv) is a valid, complete table for サンプル市."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot import settings as settings_module
from bot.cli.faq import known_departments
from bot.knowledge.faq.tables import read_table
from bot.knowledge.faq.validate import Report, validate

DATA = settings_module.REPO_ROOT / "data"
SAMPLE = DATA / "faq" / "sample_faq.csv"
AREAS = (
    "届出・証明",
    "マイナンバー",
    "税",
    "保険・年金",
    "子育て",
    "ごみ",
    "福祉",
    "介護",
    "防災",
    "施設",
    "窓口",
)


@pytest.fixture(scope="module")
def report() -> Report:
    return validate(read_table(SAMPLE), known_departments=known_departments(DATA))


def test_sample_is_valid_without_warnings(report: Report) -> None:
    assert [str(i) for i in report.errors] == []
    assert [str(i) for i in report.warnings] == []


def test_sample_is_plain_utf8_with_english_headers() -> None:
    table = read_table(SAMPLE)
    assert table.encoding == "utf-8"
    assert [c.header for c in table.columns] == [
        "id",
        "question",
        "answer",
        "category",
        "paraphrases",
        "department",
        "url",
        "verified_on",
    ]


def test_sample_covers_every_area_of_municipal_life(report: Report) -> None:
    assert len(report.entries) >= 150
    categories = Counter(e.category for e in report.entries)
    for area in AREAS:
        assert sum(n for c, n in categories.items() if area in c) >= 3, area


def test_every_entry_is_complete_and_fictional(report: Report) -> None:
    departments = known_departments(DATA)
    assert departments, "data/departments.yml is missing"
    for entry in report.entries:
        assert entry.department in departments, entry.id
        assert urlsplit(entry.url).hostname == "www.city-sample.example", entry.id
        assert entry.verified_on, entry.id
        assert entry.category, entry.id
    with_paraphrases = sum(1 for e in report.entries if e.paraphrases)
    assert with_paraphrases >= 0.9 * len(report.entries)


def test_urls_are_distinct_pages(report: Report) -> None:
    urls = Counter(e.url for e in report.entries)
    assert [u for u, n in urls.items() if n > 1] == []


def test_emergency_numbers_in_answers_are_the_national_ones(report: Report) -> None:
    text = "\n".join(e.answer for e in report.entries)
    for number in ("119", "110", "#8000", "189", "171", "188", "#9110"):
        assert number in text
    assert "0570-064-556" in text  # こころの健康相談統一ダイヤル


def test_seed_file_is_found_where_make_run_looks(tmp_path: Path) -> None:
    settings = settings_module.load({"MADOGUCHI_HOME": str(settings_module.REPO_ROOT)})
    assert (settings.data_dir / "faq" / "sample_faq.csv").resolve() == SAMPLE.resolve()
