"""The ふりがな readings table against the real Sudachi readings, and the corrections file that fixes them.

The table (tests/furigana_readings.yml) holds words and phrases common in municipal answers with the
ruby a person checked; ``.venv/bin/python -m tests.furigana_table`` prints the score before/after.
"""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from bot import furigana_corrections, settings
from bot.cli import main
from bot.furigana import default_corrections, segments
from bot.furigana_corrections import Corrections, CorrectionsError, parse
from tests.furigana_table import load_table, notation

TABLE = load_table()
#: Asked in issue #11: at least 200 checked words and phrases.
MIN_TABLE_ROWS = 200


def test_the_table_is_large_enough_and_well_formed():
    assert len(TABLE) >= MIN_TABLE_ROWS
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in TABLE.items())
    for text, expected in TABLE.items():  # without the readings, the notation gives back the text
        assert re.sub(r"\{[^}]*\}", "", expected) == text
        assert all(re.fullmatch("[\u3041-\u3096\u30fc]+", r) for r in re.findall(r"\{([^}]*)\}", expected))


@pytest.mark.parametrize(("text", "expected"), list(TABLE.items()), ids=list(TABLE))
def test_reading(text, expected):
    assert notation(segments(text)) == expected


def _without(fixes: Corrections, index: int, kind: str) -> Corrections:
    phrases, words = list(fixes.phrases), list(fixes.words)
    (phrases if kind == "phrases" else words).pop(index)
    return Corrections(tuple(phrases), tuple(words))


@pytest.mark.parametrize("kind", ["phrases", "words"])
def test_every_correction_fixes_a_row_of_the_table(kind):
    """No dead entries: taking any one correction away breaks a row that shows why it is there."""
    fixes = default_corrections()
    entries = getattr(fixes, kind)
    assert entries
    for index, entry in enumerate(entries):
        key = entry.text if kind == "phrases" else entry.surface
        rows = {t: e for t, e in TABLE.items() if key in t}
        reduced = _without(fixes, index, kind)
        broken = [t for t, e in rows.items() if notation(segments(t, reduced)) != e]
        assert broken, f"{kind}[{index + 1}] {key!r}: no table row needs it (add the row it fixes)"


def test_sudachi_alone_reads_方_after_a_verb_as_ほう_and_the_corrections_fix_it():
    assert notation(segments("加入する方", Corrections())) == "加入{かにゅう}する方{ほう}"
    assert notation(segments("加入する方")) == "加入{かにゅう}する方{かた}"
    assert notation(segments("こちらの方が")) == "こちらの方{ほう}が"


def test_a_phrase_only_matches_on_word_boundaries():
    # 「の方」 must not take the 方 of 方法, nor the の of その.
    assert notation(segments("その方法の方針")) == "その方法{ほうほう}の方針{ほうしん}"


def test_corrections_come_from_the_data_directory(tmp_path, monkeypatch):
    folder = tmp_path / "furigana"
    folder.mkdir()
    entry = "phrases:\n  - {text: 窓口, reading: まどくち}\n"
    (folder / "corrections.yml").write_text(entry, encoding="utf-8")
    (folder / "counters.yml").write_text("counters: {}\n", encoding="utf-8")
    monkeypatch.setenv("MADOGUCHI_DATA", str(tmp_path))
    assert notation(segments("窓口")) == "窓口{まどくち}"
    monkeypatch.delenv("MADOGUCHI_DATA")
    assert notation(segments("窓口")) == "窓口{まどぐち}"


def test_the_file_is_read_once_per_process(tmp_path):
    path = tmp_path / "corrections.yml"
    path.write_text("phrases: []\n", encoding="utf-8")
    first = furigana_corrections.cached(path)
    path.write_text("not: [valid", encoding="utf-8")
    assert furigana_corrections.cached(path) is first


# (file content, the start of the error after "corrections.yml: "); None: the control row, accepted.
BAD = [
    ("[1, 2]", "expected a mapping"),
    ("phrases: {text: 方}", "'phrases' must be a list"),
    ("phrases:\n  - 方", "phrases[1]: expected a mapping"),
    ("phrases:\n  - {text: 方法}", "phrases[1] (text: 方法): 'reading' must be hiragana"),
    ("phrases:\n  - {text: 方法, reading: ホウホウ}", "phrases[1] (text: 方法): 'reading' must be"),
    ("phrases:\n  - {text: ほう, reading: ほう}", "phrases[1] (text: ほう): 'text' must be a text"),
    ("phrases:\n  - {text: お持ちの方, reading: もちのかた}", "phrases[1] (text: お持ちの方): the kana"),
    ("phrases:\n  - {text: 方, reading: かた, where: x}", "phrases[1] (text: 方): unknown keys ['where']"),
    (
        "phrases:\n  - {text: 一丁目, reading: いっちょうめ}\n  - {text: 一丁目, reading: いち}",
        "phrases[2]: text",
    ),
    (
        "words:\n  - {surface: 方, reading: かた, after_pos: []}",
        "words[1] (surface: 方): 'after_pos' must be",
    ),
    ("words:\n  - {surface: 方, reading: かた, after_pos: [verb]}", "words[1] (surface: 方): unknown parts"),
    (
        "words:\n  - {surface: お方, reading: おかた, after_pos: [動詞]}",
        "words[1] (surface: お方): 'surface' must",
    ),
    ("words:\n  - {surface: 方々, reading: かたがた, after_pos: [動詞]}", None),
]


@pytest.mark.parametrize(("text", "error"), BAD)
def test_a_malformed_file_is_refused_naming_the_entry(text, error):
    raw = yaml.safe_load(text)
    if error is None:
        assert parse(raw, "corrections.yml").words[0].reading == "かたがた"
        return
    with pytest.raises(CorrectionsError, match="^" + re.escape(f"corrections.yml: {error}")):
        parse(raw, "corrections.yml")


def test_a_missing_or_broken_file_is_an_error(tmp_path):
    with pytest.raises(CorrectionsError, match="missing"):
        furigana_corrections.load(tmp_path / "none.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("phrases: [", encoding="utf-8")
    with pytest.raises(CorrectionsError, match="not valid YAML"):
        furigana_corrections.load(broken)
    empty = tmp_path / "empty.yml"
    empty.write_text("# none yet\n", encoding="utf-8")
    assert furigana_corrections.load(empty) == Corrections()


def test_catalog_check_reports_a_broken_corrections_entry(tmp_path, capsys):
    real = settings.load({}).data_dir
    data = tmp_path / "data"
    shutil.copytree(real, data)  # every file `catalog check` reads (yasashii, asked actions, meaning…)
    assert main(["catalog", "check", "--data", str(data)]) == 0
    assert "ふりがな: " in capsys.readouterr().out

    path = data / "furigana" / "corrections.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("reading: のかた", "reading: ノカタ"), encoding="utf-8"
    )
    assert main(["catalog", "check", "--data", str(data)]) == 1
    assert "phrases[1] (text: の方): 'reading' must be hiragana only" in capsys.readouterr().err


def test_a_word_rule_without_after_pos_applies_everywhere_and_a_context_rule_first():
    raw = yaml.safe_load(
        "words:\n  - {surface: 園, reading: その}\n  - {surface: 園, reading: えん, after_pos: [連体詞]}"
    )
    fixes = parse(raw, "corrections.yml")
    assert fixes.word_reading("園", "連体詞") == "えん"
    assert fixes.word_reading("園", None) == "その"
