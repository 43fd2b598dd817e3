"""Life-event checklists as a counter clerk checks them: items exist, deadlines agree with the procedure,
the bereavement list is the right one; and the checks ``madoguchi catalog check`` runs on broken files."""

from __future__ import annotations

import asyncio
import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Context
from actions.procedures import ActionAnswerProcedure
from bot import settings
from bot.knowledge.catalog import CatalogError, load_catalog
from bot.knowledge.checklists import deadline_problems, parse_checklist, time_limits

REAL_DATA = settings.load({}).data_dir
ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------- time limits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("生まれた日を含めて14日以内", {(14, "日")}),
        ("１４日以内（国外は3か月以内）", {(14, "日"), (3, "か月")}),
        ("3ヶ月以内、または3カ月", {(3, "か月")}),
        ("葬儀の翌日から2年以内、1週間前まで", {(2, "年"), (1, "週間")}),
        ("すみやかに", set()),
        ("", set()),
    ],
)
def test_time_limits_are_read_with_units_folded(text: str, expected: set) -> None:
    assert time_limits(text) == expected


# ---------------------------------------------------------------------------------- parse_checklist


def _parse(value):
    problems: list[tuple[str, str]] = []
    ids, deadlines = parse_checklist(value, lambda field, message: problems.append((field, message)))
    return ids, deadlines, problems


def test_checklist_reads_ids_and_items_with_their_own_deadline() -> None:
    ids, deadlines, problems = _parse(["a", {"id": "b", "deadline": " 亡くなった日から14日以内 "}, "c"])
    assert ids == ("a", "b", "c")
    assert deadlines == (("b", "亡くなった日から14日以内"),)
    assert problems == []


@pytest.mark.parametrize(
    ("value", "field", "fragment"),
    [
        ([], "checklist", "at least one"),
        (None, "checklist", "at least one"),
        (["a", "a"], "checklist[1]", "listed twice"),
        ([{"id": "a"}], "checklist[0].deadline", "non-empty"),
        ([{"id": "a", "deadline": "14日", "note": "x"}], "checklist[0]", "unknown field"),
        ([{"deadline": "14日"}], "checklist[0]", "procedure id"),
        ([3], "checklist[0]", "procedure id"),
    ],
)
def test_broken_checklists_are_reported(value, field: str, fragment: str) -> None:
    _, _, problems = _parse(value)
    assert any(f == field and fragment in m for f, m in problems), problems


class _P:
    def __init__(self, deadline, summary="", details=""):
        self.deadline, self.summary, self.details = deadline, summary, details


def test_a_deadline_naming_another_time_limit_contradicts_the_procedure() -> None:
    procedures = {"kokuho_leave": _P("新しい健康保険に入った日から14日以内"), "x": _P(None, details="3か月")}
    own = [
        ("checklist", "kokuho_leave", "亡くなった日から14日以内"),  # same limit, other starting day
        ("checklist", "kokuho_leave", "転出届と同じ日に"),  # no limit named
        ("options.out.checklist", "kokuho_leave", "15日以内"),  # contradicts 14日
        ("checklist", "x", "3ヶ月以内"),  # named in the details
        ("checklist", "unknown", "1日"),  # reported elsewhere as an unknown id
    ]
    problems = deadline_problems(own, procedures)
    assert [(f, pid) for f, pid, _ in problems] == [("options.out.checklist", "kokuho_leave")]
    assert "15日" in problems[0][2]


# ------------------------------------------------------------------------------ loading broken files


def _files() -> dict[str, object]:
    procedure = {
        "id": "alpha",
        "name": "手続きA",
        "aliases": ["別名A"],
        "category": "証明書",
        "summary": "概要です。",
        "summary_easy": "かんたんな 説明です。",
        "who": "本人",
        "deadline": "届出から14日以内",
        "bring": [],
        "fee": "無料",
        "where": {"counter": True, "mail": False, "convenience_store": False, "online": False},
        "online": None,
        "alternatives": "窓口へどうぞ。",
        "department": "shimin",
        "details": "詳しい説明です。",
        "related": [],
    }
    beta = {**procedure, "id": "beta", "name": "手続きB", "aliases": ["別名B"], "deadline": None}
    hours = {"weekdays": {"open": "8:30", "close": "17:15"}}
    return {
        "departments.yml": {
            "city": {
                "name": "テスト市",
                "phone": "012-345-6700",
                "address": "テスト市1-1",
                "hours": hours,
                "callback_slots": [{"id": "am", "label": "午前", "start": "9:00", "end": "12:00"}],
            },
            "departments": [
                {"id": "shimin", "name": "市民課", "phone": "012-345-6701", "location": "1階", "hours": hours}
            ],
        },
        "catalog/a.yml": {"procedures": [procedure, beta]},
        "life_events.yml": {
            "life_events": [
                {
                    "id": "death",
                    "name": "家族が亡くなった",
                    "intro": "お悔やみ申し上げます。",
                    "triggers": ["亡くなった"],
                    "checklist": [{"id": "alpha", "deadline": "亡くなった日から14日以内"}, "beta"],
                },
                {
                    "id": "moving",
                    "name": "引っ越し",
                    "triggers": ["引っ越し"],
                    "checklist": ["alpha"],
                    "question": "どちら？",
                    "options": [
                        {
                            "id": "out",
                            "label": "市外へ",
                            "triggers": ["市外へ"],
                            "checklist": ["beta", {"id": "alpha", "deadline": "転出届と同じ日に"}],
                        }
                    ],
                },
            ]
        },
    }


def _write(root: Path, files: dict) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def test_valid_overrides_load_and_are_shown_instead_of_the_procedures_deadline(tmp_path) -> None:
    catalog = load_catalog(_write(tmp_path, _files()))
    death, alpha, beta = catalog.life_event("death"), catalog.get("alpha"), catalog.get("beta")
    assert death.intro == "お悔やみ申し上げます。"
    assert death.checklist == ("alpha", "beta")
    assert death.deadline_of(alpha) == "亡くなった日から14日以内"
    assert death.deadline_of(beta) is None
    out = catalog.life_event("moving").option("out")
    assert out.deadline_of(alpha) == "転出届と同じ日に"
    assert catalog.life_event("moving").deadline_of(alpha) == "届出から14日以内"
    assert catalog.life_event("moving").intro is None


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda f: f["life_events.yml"]["life_events"][0]["checklist"][0].update(deadline="15日以内"),
            "life_events.yml: death: checklist: deadline '15日以内' names 15日",
        ),
        (
            lambda f: f["life_events.yml"]["life_events"][1]["options"][0]["checklist"][1].update(
                deadline="1か月以内"
            ),
            "life_events.yml: moving: options.out.checklist: deadline '1か月以内' names 1か月",
        ),
        (
            lambda f: f["life_events.yml"]["life_events"][0]["checklist"].append("beta"),
            "life_events.yml: death: checklist[2]: 'beta' is listed twice",
        ),
        (
            lambda f: f["life_events.yml"]["life_events"][0]["checklist"].append(
                {"id": "zzz", "deadline": "1日"}
            ),
            "life_events.yml: death: checklist: unknown procedure id 'zzz'",
        ),
        (
            lambda f: f["life_events.yml"]["life_events"][1]["options"][0]["checklist"].append("beta"),
            "life_events.yml: moving: options[0].checklist[2]: 'beta' is listed twice",
        ),
        (
            lambda f: f["life_events.yml"]["life_events"][0].update(intro=""),
            "life_events.yml: death: intro: must be non-empty text",
        ),
        (
            lambda f: f["catalog/a.yml"]["procedures"][0]["where"].update(phone="yes"),
            "catalog/a.yml: alpha: where.phone: must be true or false",
        ),
        (
            lambda f: f["catalog/a.yml"]["procedures"][0]["where"].update(fax=True),
            "catalog/a.yml: alpha: where.fax: unknown field(s)",
        ),
    ],
)
def test_checklist_problems_name_file_event_and_field(tmp_path, mutate, expected: str) -> None:
    files = copy.deepcopy(_files())
    mutate(files)
    with pytest.raises(CatalogError) as info:
        load_catalog(_write(tmp_path, files))
    lines = [str(p) for p in info.value.problems]
    assert any(line.startswith(expected) for line in lines), lines


def test_catalog_check_command_fails_on_a_contradicting_deadline(tmp_path) -> None:
    files = copy.deepcopy(_files())
    files["life_events.yml"]["life_events"][0]["checklist"][0]["deadline"] = "亡くなった日から7日以内"
    data = _write(tmp_path, files)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "catalog", "check", "--data", str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 1
    assert "life_events.yml: death: checklist: deadline '亡くなった日から7日以内' names 7日" in result.stderr


def test_where_phone_is_optional_and_false_when_absent(tmp_path) -> None:
    catalog = load_catalog(_write(tmp_path, _files()))
    assert catalog.get("alpha").where.phone is False


# ------------------------------------------------------------------------------------- real content


def test_the_catalog_covers_what_older_residents_ask(catalog) -> None:
    assert len(catalog.procedures) >= 55
    for pid in (
        "kouki_iryo",
        "kaigo_hokensho",
        "hokensho_saikofu",
        "nouzei_sodan",
        "kogaku_ryoyohi",
        "zairyu_card_jusho",
        "yobo_sesshu",
        "gan_kenshin",
        "nenkin_izoku",
        "sousai_hi",
    ):
        assert catalog.get(pid) is not None, pid


def test_bereavement_checklist_is_the_right_one(catalog) -> None:
    death = catalog.life_event("death")
    assert death.intro and "お悔やみ" in death.intro
    assert "kaigo_nintei" not in death.checklist  # applying for care is not what a death needs
    for pid in (
        "death",
        "okuyami",
        "kokuho_leave",
        "kouki_iryo",
        "kaigo_hokensho",
        "nenkin_izoku",
        "sousai_hi",
    ):
        assert pid in death.checklist, pid
    for pid in ("kokuho_leave", "kouki_iryo", "kaigo_hokensho"):
        assert "亡くなった日" in death.deadline_of(catalog.get(pid)), pid


def test_moving_checklists(catalog) -> None:
    moving = catalog.life_event("moving")
    moving_in = moving.option("in").checklist
    for pid in ("tennyu", "mynumber_address", "inkan_toroku", "nenkin_join", "kouki_iryo", "kaigo_hokensho"):
        assert pid in moving_in, pid
    within = moving.option("within")
    for pid in within.checklist:
        assert "転出" not in (within.deadline_of(catalog.get(pid)) or ""), pid
    assert "mynumber_address" in within.checklist
    out = moving.option("out")
    for pid in ("kokuho_leave", "kouki_iryo", "kaigo_hokensho"):
        assert "転出届と同じ日" in out.deadline_of(catalog.get(pid)), pid


def test_sodai_gomi_can_be_applied_for_by_phone(catalog) -> None:
    sodai = catalog.get("sodai_gomi")
    assert sodai.where.phone and sodai.where.online
    assert "電話" in sodai.summary


def test_every_shown_checklist_deadline_agrees_with_its_procedure(catalog) -> None:
    for event in catalog.life_events.values():
        for holder in (event, *event.options):
            for pid in holder.checklist:
                procedure = catalog.get(pid)
                shown = holder.deadline_of(procedure) or ""
                own = " ".join(filter(None, (procedure.deadline, procedure.summary, procedure.details)))
                assert time_limits(shown) <= time_limits(own), (event.id, pid, shown)


# ---------------------------------------------------------------------------------------- the answer


@pytest.fixture()
def isolated_var(tmp_path, monkeypatch):
    """Actions made without a context use one over a private var dir (SQLite stores)."""
    import actions.context

    ctx = Context(settings.load({"MADOGUCHI_VAR": str(tmp_path / "var")}))
    monkeypatch.setattr(actions.context, "default", lambda: ctx)
    yield ctx
    ctx.close()


def _run(entities: list[dict]) -> list[dict]:
    tracker = Tracker(
        sender_id="test",
        slots={},
        latest_message={
            "text": "/life_event",
            "intent": {"name": "life_event", "confidence": 1.0},
            "entities": entities,
            "metadata": {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerProcedure().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_the_bereavement_answer_opens_with_condolences_and_shows_the_lists_deadlines(isolated_var, catalog):
    messages = _run([{"entity": "life_event", "value": "death"}])
    card = messages[0]["custom"]["madoguchi"]
    death = catalog.life_event("death")
    assert card["kind"] == "checklist" and card["intro"] == death.intro
    assert messages[0]["text"].startswith(death.intro)
    deadlines = dict(zip(card["procedures"], card["deadlines"], strict=True))
    assert deadlines["kouki_iryo"] == death.deadline_of(catalog.get("kouki_iryo"))
    assert deadlines["kouki_iryo"] in messages[0]["text"]


def test_the_within_city_answer_shows_no_moving_out_deadline(isolated_var, catalog):
    messages = _run([{"entity": "life_event", "value": "moving"}, {"entity": "move_type", "value": "within"}])
    card = messages[0]["custom"]["madoguchi"]
    assert card["option"] == "within" and "intro" not in card
    assert "jido_teate_change" in card["procedures"]
    assert len(card["deadlines"]) == len(card["procedures"])
    assert not any("転出" in (d or "") for d in card["deadlines"])
