"""やさしい日本語 for every field of a procedure card: data/yasashii.yml, its check, the answers it makes."""

from __future__ import annotations

import shutil

import pytest
import yaml

from bot import settings
from bot.cli import main
from bot.dialogue import compose
from bot.dialogue.live import LiveKnowledge
from bot.dialogue.replies import render_line
from bot.knowledge import yasashii
from bot.knowledge.catalog import load_catalog

REAL_DATA = settings.load({}).data_dir


@pytest.fixture(scope="module")
def knowledge():
    return LiveKnowledge(settings.load({}), faq=lambda: None).now()


def _copy(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(REAL_DATA, data)
    return data


def _edit(data, change) -> None:
    path = data / yasashii.EASY_FILE
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def test_every_procedure_department_and_place_has_its_easy_text():
    catalog = load_catalog(REAL_DATA)
    pack = yasashii.load(REAL_DATA)
    assert yasashii.agreement(pack, catalog) == []
    assert set(pack.procedures) == set(catalog.procedures) and len(catalog.procedures) >= 59
    for pid, procedure in catalog.procedures.items():
        easy = pack.procedures[pid]
        assert bool(easy.deadline) == bool(procedure.deadline), pid
        assert bool(easy.bring) == bool(procedure.bring), pid
        assert easy.fee and easy.fee != procedure.fee, pid  # written anew, not copied


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda d: d["procedures"]["tennyu"].pop("deadline"),
            "yasashii.yml: tennyu: deadline: missing やさしい日本語",
        ),
        (
            lambda d: d["procedures"]["juminhyo"].update(bring=[]),
            "yasashii.yml: juminhyo: bring: missing やさしい日本語",
        ),
        (lambda d: d["procedures"]["birth"].pop("fee"), "yasashii.yml: birth: fee: missing やさしい日本語"),
        (lambda d: d["procedures"].pop("death"), "yasashii.yml: death: -: no やさしい日本語"),
        (
            lambda d: d["departments"].pop("kankyo"),
            "yasashii.yml: departments: kankyo: missing やさしい日本語",
        ),
        (lambda d: d["where_labels"].pop("mail"), "yasashii.yml: where_labels: mail: missing やさしい日本語"),
        (
            lambda d: d["procedures"]["marriage"].update(deadline="すぐ"),
            "marriage: deadline: the procedure has no deadline",
        ),
        (
            lambda d: d["procedures"]["tennyu"].update(fees="x"),
            "yasashii.yml: tennyu: fees: unknown field(s)",
        ),
    ],
)
def test_catalog_check_reports_a_missing_easy_field(tmp_path, capsys, change, expected):
    data = _copy(tmp_path)
    _edit(data, change)
    assert main(["catalog", "check", "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert "問題 1 件" in err


def test_catalog_check_reports_a_missing_file(tmp_path, capsys):
    data = _copy(tmp_path)
    (data / yasashii.EASY_FILE).unlink()
    assert main(["catalog", "check", "--data", str(data)]) == 1
    assert "yasashii.yml: (file): -: file not found" in capsys.readouterr().err


def test_easy_card_carries_every_field_from_the_data(knowledge):
    pack = knowledge.easy
    for pid in ("tennyu", "juminhyo", "sodai_gomi", "gomi_bunbetsu"):
        procedure = knowledge.catalog.get(pid)
        card = compose.procedure_card(knowledge, procedure).to_json()
        easy = card["easy_fields"]
        assert easy["summary"] == procedure.summary_easy
        assert easy["deadline"] == pack.procedures[pid].deadline
        assert easy["bring"] == list(pack.procedures[pid].bring)
        assert easy["fee"] == pack.procedures[pid].fee
        keys = [k for k in compose._WHERE_ORDER if getattr(procedure.where, k)]
        assert easy["where"] == [pack.where_labels[k] for k in keys]
        department = knowledge.catalog.department_of(pid)
        assert easy["department"] == {"name": pack.departments[department.id], "phone": department.phone}
        # the standard fields are still there, for the switch back
        assert card["fee"] == procedure.fee and card["bring"] == list(procedure.bring)


def test_easy_answer_text_uses_only_easy_fields(knowledge):
    """Plain-text channels (LINE alt text, REST without the widget) show the easy fields too."""
    procedure = knowledge.catalog.get("tennyu")
    easy = knowledge.easy.procedures["tennyu"]
    standard = [
        render_line(x, knowledge.messages) for x in compose.procedure_lines(knowledge, procedure, False)
    ]
    simple = [render_line(x, knowledge.messages) for x in compose.procedure_lines(knowledge, procedure, True)]
    assert len(standard) == len(simple)
    joined = "\n".join(simple)
    for value in (easy.deadline, easy.fee, *easy.bring):
        assert value in joined
    for value in (procedure.deadline, procedure.fee, *procedure.bring):
        assert value not in joined
    assert knowledge.messages.text("procedure.easy.fee", fee=easy.fee) in simple
