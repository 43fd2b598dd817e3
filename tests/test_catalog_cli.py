"""``madoguchi catalog check|show|match`` over the real data and a broken copy."""

from __future__ import annotations

import shutil

from bot import settings
from bot.cli import main

REAL_DATA = settings.load({}).data_dir


def test_check_real_data_prints_summary(capsys) -> None:
    assert main(["catalog", "check", "--data", str(REAL_DATA)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: ")
    assert "procedures" in out and "life events" in out


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
    assert "2 problem(s)" in err


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
    assert "unknown procedure id 'no_such_thing'" in capsys.readouterr().err


def test_match_lists_procedures_and_life_event(capsys) -> None:
    assert main(["catalog", "match", "東京から引っ越してきたので転入届", "--data", str(REAL_DATA)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[1] == "tennyu"
    assert out[-1] == "life event: moving / in"


def test_check_names_problems_of_the_action_words_and_meaning_examples(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    shutil.copytree(REAL_DATA, data)
    actions = (data / "asked_actions.yml").read_text(encoding="utf-8")
    (data / "asked_actions.yml").write_text(
        actions.replace("lost: mynumber_lost", "lost: mynumber_gone", 1), encoding="utf-8"
    )
    examples = "procedures:\n  nothing_here: [例文]\nlife_events: {}\n"
    (data / "meaning.yml").write_text(examples, encoding="utf-8")

    assert main(["catalog", "check", "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "asked_actions.yml: groups: 1: mynumber_gone: no such procedure in the catalog" in err
    assert "meaning.yml: procedures: nothing_here: no such id in the catalog" in err
