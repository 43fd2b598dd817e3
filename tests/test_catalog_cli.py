"""``madoguchi catalog check|show|match`` over the real data and a broken copy."""

from __future__ import annotations

import shutil

import yaml

from bot import settings
from bot.cli import main

REAL_DATA = settings.load({}).data_dir


def test_check_real_data_prints_summary(capsys) -> None:
    assert main(["catalog", "check", "--data", str(REAL_DATA)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("問題ありません / OK: 手続き ")
    assert "手続き" in out and "ライフイベント" in out


def test_check_broken_data_lists_problems_and_fails(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    shutil.copytree(REAL_DATA / "catalog", data / "catalog")
    shutil.copy(REAL_DATA / "life_events.yml", data / "life_events.yml")
    text = (REAL_DATA / "departments.yml").read_text(encoding="utf-8")
    (data / "departments.yml").write_text(text.replace("012-345-6704", "12-34"), encoding="utf-8")
    moving = (data / "catalog" / "moving.yml").read_text(encoding="utf-8")
    (data / "catalog" / "moving.yml").write_text(
        moving.replace("department: shimin", "department: nowhere", 1), encoding="utf-8"
    )

    assert main(["catalog", "check", "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "departments.yml: kankyo: phone: '12-34' is not a Japanese phone number" in err
    assert "catalog/moving.yml: tennyu: department: unknown department 'nowhere'" in err
    assert "問題 2 件" in err


def test_check_uses_madoguchi_data_by_default(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("MADOGUCHI_DATA", str(tmp_path))
    assert main(["catalog", "check"]) == 1
    assert "departments.yml: (file): -: file not found" in capsys.readouterr().err


def test_show_prints_the_procedure(capsys) -> None:
    assert main(["catalog", "show", "juminhyo", "--data", str(REAL_DATA)]) == 0
    out = capsys.readouterr().out
    assert "[juminhyo]" in out
    assert "https://shinsei.city-sample.example/procedures/juminhyo" in out
    assert "012-345-6701" in out  # the department's phone


def test_show_unknown_id_fails(capsys) -> None:
    assert main(["catalog", "show", "no_such_thing", "--data", str(REAL_DATA)]) == 1
    assert "手続き 'no_such_thing' はありません" in capsys.readouterr().err


def test_match_lists_procedures_and_life_event(capsys) -> None:
    assert main(["catalog", "match", "東京から引っ越してきたので転入届", "--data", str(REAL_DATA)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[1] == "tennyu"
    assert out[-1] == "ライフイベント / life event: moving / in"


def test_export_edit_import_round_trip(tmp_path, monkeypatch, capsys) -> None:
    import shutil

    import openpyxl

    from bot.knowledge.catalog import load_catalog, sheet

    data = tmp_path / "data"
    shutil.copytree(REAL_DATA, data)
    monkeypatch.setenv("MADOGUCHI_VAR", str(tmp_path / "var"))
    book = tmp_path / "catalog.xlsx"
    assert main(["catalog", "export", str(book), "--data", str(data)]) == 0
    capsys.readouterr()
    assert main(["catalog", "import", str(book), "--data", str(data)]) == 0
    assert "追加 0 件・変更 0 件・削除 0 件" in capsys.readouterr().out
    workbook = openpyxl.load_workbook(book)
    rows = workbook[sheet.SHEET_TITLE]
    header = [c.value for c in rows[1]]
    mail = header.index("郵送") + 1
    flipped = "○" if rows.cell(row=3, column=mail).value == "×" else "×"
    rows.cell(row=2, column=header.index("確認日") + 1, value="R8.4.1")
    rows.cell(row=3, column=mail, value="ときどき")
    workbook.save(book)
    assert main(["catalog", "import", str(book), "--data", str(data)]) == 1
    assert "3行目 郵送: 「ときどき」は ○ か × で書いてください" in capsys.readouterr().err
    rows.cell(row=3, column=mail, value=flipped)
    workbook.save(book)
    assert main(["catalog", "import", str(book), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "変更 2 件" in out
    first = rows.cell(row=2, column=2).value
    assert load_catalog(data).get(first).verified_on == "2026-04-01"
    assert load_catalog(data).get("kaichojikan").with_phone_answer  # 電話の案内も出す ○ kept
    assert not load_catalog(data).get(first).with_phone_answer or first == "kaichojikan"


def test_check_names_problems_of_the_action_words_and_meaning_examples(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    shutil.copytree(REAL_DATA, data)
    actions = (data / "asked_actions.yml").read_text(encoding="utf-8")
    (data / "asked_actions.yml").write_text(
        actions.replace("lost: mynumber_lost", "lost: mynumber_gone", 1), encoding="utf-8"
    )
    examples = "procedures:\n  nothing_here: [例文]\nlife_events: {}\n"
    (data / "meaning.yml").write_text(examples, encoding="utf-8")

    # the problem is named by the group's number (1-based) in the file: the group whose "lost" was changed
    groups = yaml.safe_load(actions)["groups"]
    number = next(i for i, g in enumerate(groups, 1) if g.get("choose", {}).get("lost") == "mynumber_lost")

    assert main(["catalog", "check", "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert f"asked_actions.yml: groups: {number}: mynumber_gone: no such procedure in the catalog" in err
    assert "meaning.yml: procedures: nothing_here: no such id in the catalog" in err
