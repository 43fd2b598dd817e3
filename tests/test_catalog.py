"""Loading and validating the procedure catalog: the real data, and every kind of broken file."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot import settings
from bot.knowledge.catalog import CatalogError, load_catalog

REAL_DATA = settings.load({}).data_dir


# ----------------------------------------------------------------------------------------- real data


def test_real_catalog_loads_with_enough_procedures(catalog) -> None:
    assert len(catalog.procedures) >= 35
    assert catalog.city.name == "サンプル市"
    assert catalog.city.callback_slots


REQUIRED_IDS = """
tennyu tenshutsu tenkyo juminhyo inkan_toroku inkan_shomei koseki mynumber_apply mynumber_receive
mynumber_lost mynumber_pin mynumber_cert_renew birth marriage death okuyami kokuho_join kokuho_leave
nenkin_join nenkin_exemption jido_teate jido_fuyo_teate hoikusho ninshin kodomo_iryohi gomi_bunbetsu
sodai_gomi kazei_shomei juminzei kotei_shisanzei keijidosha_zei kaigo_nintei shogai_techo inu_toroku
hinanjo kaichojikan seikatsu_sodan konbini_kofu online_list
""".split()


def test_every_agreed_procedure_id_exists(catalog) -> None:
    assert sorted(set(REQUIRED_IDS) - set(catalog.procedures)) == []


def test_every_reference_resolves(catalog) -> None:
    for procedure in catalog.procedures.values():
        assert catalog.department(procedure.department) is not None, procedure.id
        assert catalog.department_of(procedure.id).id == procedure.department
        for rid in procedure.related:
            assert catalog.get(rid) is not None, (procedure.id, rid)
        assert procedure.where.online == (procedure.online is not None), procedure.id
        if procedure.online:
            assert procedure.online.url.startswith("https://"), procedure.id
    for event in catalog.life_events.values():
        for pid in event.checklist + tuple(p for o in event.options for p in o.checklist):
            assert catalog.get(pid) is not None, (event.id, pid)


def test_the_office_hours_entry_carries_the_phone_answer(catalog) -> None:
    """An hours question counts as a phone question: only the 開庁時間 entry is marked, by the data."""
    assert [p.id for p in catalog.procedures.values() if p.with_phone_answer] == ["kaichojikan"]


def test_callback_slots_lie_within_city_hours(catalog) -> None:
    hours = catalog.city.hours.weekdays
    for slot in catalog.city.callback_slots:
        assert hours.open <= slot.start < slot.end <= hours.close
    assert catalog.city.slot(catalog.city.callback_slots[0].id) is catalog.city.callback_slots[0]
    assert catalog.city.slot("nope") is None


def test_moving_life_event_asks_in_out_within(catalog) -> None:
    moving = catalog.life_event("moving")
    assert moving.question
    assert [o.id for o in moving.options] == ["in", "out", "within"]
    assert moving.option("in").checklist[0] == "tennyu"
    assert moving.option("out").checklist[0] == "tenshutsu"
    assert moving.option("within").checklist[0] == "tenkyo"
    for event_id in ("moving", "birth", "death", "marriage"):
        assert catalog.life_event(event_id) is not None


def test_shimin_opens_on_second_and_fourth_saturday(catalog) -> None:
    extra = catalog.department("shimin").hours.extra
    assert any(e.weekday == 5 and e.weeks == (2, 4) for e in extra)


@pytest.mark.parametrize(
    ("pid", "field", "fragment"),
    [
        ("tennyu", "deadline", "14日"),
        ("tenshutsu", "deadline", "14日"),
        ("tenkyo", "deadline", "14日"),
        ("birth", "deadline", "14日"),
        ("death", "deadline", "7日"),
        ("jido_teate", "deadline", "15日"),
        ("jido_teate", "details", "2024年10月"),
        ("mynumber_cert_renew", "summary", "5回目の誕生日"),
        ("konbini_kofu", "bring", "4桁"),
        ("juminhyo", "fee", "300円"),
        ("sodai_gomi", "details", "家電リサイクル法"),
    ],
)
def test_national_facts_are_in_the_data(catalog, pid: str, field: str, fragment: str) -> None:
    value = getattr(catalog.get(pid), field)
    text = " ".join(value) if isinstance(value, tuple) else value
    assert fragment in text


def test_no_rasa_and_no_work_at_import() -> None:
    code = (
        "import sys, bot.knowledge.catalog, bot.hours, bot.cli.catalog;"
        "heavy = ('rasa', 'rasa_sdk', 'jpholiday', 'sudachipy', 'phonenumbers');"
        "bad = [m for m in heavy if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REAL_DATA.parent)


def test_match_index_is_built_lazily_and_cached(tmp_path) -> None:
    fresh = load_catalog(REAL_DATA)
    assert "_procedure_index" not in vars(fresh)
    fresh.match("住民票")
    index = vars(fresh)["_procedure_index"]
    fresh.match("印鑑証明")
    assert fresh._procedure_index is index


# --------------------------------------------------------------------------------------- broken data


def _procedure(pid: str, **changes) -> dict:
    data = {
        "id": pid,
        "name": f"手続き{pid}",
        "aliases": [f"別名{pid}"],
        "category": "証明書",
        "summary": "概要です。",
        "summary_easy": "かんたんな 説明です。",
        "who": "本人",
        "deadline": None,
        "bring": ["本人確認書類"],
        "fee": "無料",
        "where": {"counter": True, "mail": False, "convenience_store": False, "online": True},
        "online": {
            "url": f"https://shinsei.city-sample.example/{pid}",
            "requires_mynumber_card": True,
            "note": "注意",
        },
        "alternatives": "窓口へどうぞ。",
        "department": "shimin",
        "details": "詳しい説明です。",
        "related": [],
    }
    data.update(changes)
    return data


def _valid_files() -> dict[str, object]:
    return {
        "departments.yml": {
            "city": {
                "name": "テスト市",
                "phone": "012-345-6700",
                "address": "テスト市1-1",
                "hours": {"weekdays": {"open": "8:30", "close": "17:15"}},
                "callback_slots": [{"id": "am", "label": "午前", "start": "9:00", "end": "12:00"}],
            },
            "departments": [
                {
                    "id": "shimin",
                    "name": "市民課",
                    "phone": "012-345-6701",
                    "location": "1階",
                    "hours": {"weekdays": {"open": "8:30", "close": "17:15"}},
                }
            ],
        },
        "catalog/a.yml": {"procedures": [_procedure("alpha", related=["beta"]), _procedure("beta")]},
        "catalog/b.yml": {"procedures": [_procedure("gamma")]},
        "life_events.yml": {
            "life_events": [
                {
                    "id": "moving",
                    "name": "引っ越し",
                    "triggers": ["引っ越し"],
                    "checklist": ["alpha"],
                    "question": "どちら？",
                    "options": [
                        {"id": "in", "label": "市外から", "triggers": ["市外から"], "checklist": ["beta"]}
                    ],
                }
            ]
        },
    }


def _write(root: Path, files: dict[str, object]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (
            content
            if isinstance(content, str)
            else yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
        )
        path.write_text(text, encoding="utf-8")
    return root


def _problems(tmp_path: Path, mutate) -> list[str]:
    files = copy.deepcopy(_valid_files())
    mutate(files)
    with pytest.raises(CatalogError) as info:
        load_catalog(_write(tmp_path, files))
    lines = [str(p) for p in info.value.problems]
    assert "\n".join(lines) in str(info.value)
    for line in lines:  # every problem reads "file: entry: field: what is wrong"
        assert re.match(r"^[^:]+: [^:]+: [^:]+: .+", line), line
    return lines


def test_minimal_valid_files_load(tmp_path) -> None:
    catalog = load_catalog(_write(tmp_path, _valid_files()))
    assert sorted(catalog.procedures) == ["alpha", "beta", "gamma"]
    assert catalog.get("gamma").source == "catalog/b.yml"
    assert catalog.get("nope") is None


def _proc(files, index=0, name="catalog/a.yml"):
    return files[name]["procedures"][index]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: _proc(f).pop("summary"), "catalog/a.yml: alpha: summary: missing"),
        (lambda f: _proc(f).pop("deadline"), "catalog/a.yml: alpha: deadline: missing"),
        (
            lambda f: _proc(f).update(with_phone_answer="はい"),
            "catalog/a.yml: alpha: with_phone_answer: must be true or false",
        ),
        (lambda f: _proc(f).update(summary_easy=""), "catalog/a.yml: alpha: summary_easy: must be non-empty"),
        (lambda f: _proc(f).update(aliases=[]), "catalog/a.yml: alpha: aliases: must list at least one"),
        (
            lambda f: _proc(f).update(department="zeimu"),
            "catalog/a.yml: alpha: department: unknown department 'zeimu'",
        ),
        (
            lambda f: _proc(f).update(related=["nothing"]),
            "catalog/a.yml: alpha: related: unknown procedure id 'nothing'",
        ),
        (
            lambda f: _proc(f).update(related=["alpha"]),
            "catalog/a.yml: alpha: related: a procedure cannot be related",
        ),
        (
            lambda f: _proc(f, 0, "catalog/b.yml").update(id="alpha"),
            "catalog/b.yml: alpha: id: duplicate procedure id",
        ),
        (lambda f: _proc(f).update(id="Alpha-1"), "catalog/a.yml: #1: id: 'Alpha-1' must be lower-case"),
        (
            lambda f: _proc(f)["online"].update(url="http://shinsei.city-sample.example/a"),
            "alpha: online.url: 'http://shinsei.city-sample.example/a' is not an https:// link",
        ),
        (lambda f: _proc(f)["online"].update(url="https://exa mple.com"), "alpha: online.url:"),
        (
            lambda f: _proc(f).update(online=None),
            "catalog/a.yml: alpha: where.online: must be true exactly when",
        ),
        (lambda f: _proc(f)["where"].pop("mail"), "catalog/a.yml: alpha: where.mail: missing"),
        (
            lambda f: _proc(f)["where"].update(mail="yes"),
            "catalog/a.yml: alpha: where.mail: must be true or false",
        ),
        (lambda f: _proc(f).update(aliase=["x"]), "catalog/a.yml: alpha: aliase: unknown field"),
        (
            lambda f: _proc(f, 1).update(aliases=["別名alpha"]),
            "catalog/a.yml: beta: aliases: '別名alpha' is also a name or alias of 'alpha'",
        ),
        (
            lambda f: f["departments.yml"]["departments"][0].update(phone="12345"),
            "departments.yml: shimin: phone: '12345' is not a Japanese phone number",
        ),
        (
            lambda f: f["departments.yml"]["departments"][0].update(phone="012-3456-78901"),
            "departments.yml: shimin: phone:",
        ),
        (
            lambda f: f["departments.yml"]["departments"][0]["hours"]["weekdays"].update(close="8:00"),
            "departments.yml: shimin: hours.weekdays: open 08:30 must be before close 08:00",
        ),
        (
            lambda f: f["departments.yml"]["departments"][0]["hours"]["weekdays"].update(open="8時半"),
            "departments.yml: shimin: hours.weekdays.open: '8時半' is not a time",
        ),
        (
            lambda f: f["departments.yml"]["departments"].append(
                dict(f["departments.yml"]["departments"][0])
            ),
            "departments.yml: shimin: id: duplicate department id",
        ),
        (
            lambda f: f["departments.yml"]["city"]["callback_slots"][0].update(end="18:00"),
            "departments.yml: city: callback_slots[0]: must lie within the city's weekday hours",
        ),
        (lambda f: f["departments.yml"]["city"].update(phone="0120"), "departments.yml: city: phone:"),
        (
            lambda f: f["life_events.yml"]["life_events"][0].update(checklist=["alpha", "zzz"]),
            "life_events.yml: moving: checklist: unknown procedure id 'zzz'",
        ),
        (
            lambda f: f["life_events.yml"]["life_events"][0]["options"][0].update(checklist=["yyy"]),
            "life_events.yml: moving: options.in.checklist: unknown procedure id 'yyy'",
        ),
        (
            lambda f: f["life_events.yml"]["life_events"][0]["options"][0].pop("label"),
            "life_events.yml: moving: options[0].label: missing",
        ),
        (
            lambda f: f["life_events.yml"]["life_events"][0].pop("question"),
            "life_events.yml: moving: question: must be non-empty text when options are given",
        ),
        (
            lambda f: f.update({"catalog/c.yml": "procedures:\n  - id: x\n  name: [oops\n"}),
            "catalog/c.yml: (file): -: invalid YAML: line",
        ),
        (
            lambda f: f.update({"catalog/c.yml": {"things": []}}),
            "catalog/c.yml: (file): procedures: the file must have",
        ),
    ],
)
def test_each_problem_names_file_entry_and_field(tmp_path, mutate, expected: str) -> None:
    lines = _problems(tmp_path, mutate)
    assert any(expected in line for line in lines), lines


def test_missing_files_are_reported(tmp_path) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    text = str(info.value)
    assert "departments.yml: (file): -: file not found" in text
    assert "life_events.yml: (file): -: file not found" in text
    assert "catalog/: (dir): -: no *.yml procedure files found" in text


def test_every_problem_is_listed_at_once(tmp_path) -> None:
    def mutate(files):
        _proc(files).pop("summary")
        _proc(files, 1).update(department="nowhere")
        _proc(files, 0, "catalog/b.yml")["online"].update(url="ftp://x.example")
        files["departments.yml"]["departments"][0].update(phone="999")

    lines = _problems(tmp_path, mutate)
    assert len(lines) == 4, lines
    assert {line.split(": ")[1] for line in lines} == {"alpha", "beta", "gamma", "shimin"}


def test_unquoted_times_and_numbers_stay_readable(tmp_path) -> None:
    files = _valid_files()
    text = yaml.safe_dump(files["departments.yml"], allow_unicode=True, sort_keys=False)
    files["departments.yml"] = text.replace("'8:30'", "8:30").replace("'17:15'", "17:15")
    assert "open: 8:30" in files["departments.yml"]
    catalog = load_catalog(_write(tmp_path, files))
    assert catalog.department("shimin").hours.weekdays.open.strftime("%H:%M") == "08:30"


def test_catalog_and_faq_share_one_link_rule():
    from bot.knowledge.catalog import is_valid_url
    from bot.knowledge.faq.validate import check_url
    from bot.links import LinkProblem, link_problem

    for url in ("https://www.city-sample.example/a", "https://-bad-.example/", "https://a b.example/"):
        assert is_valid_url(url) == (check_url(url) is None)
    assert link_problem("http://www.city-sample.example/a") is None  # FAQ: a warning only
    assert link_problem("http://www.city-sample.example/a", https_only=True) is LinkProblem.NOT_HTTPS
    assert not is_valid_url("http://www.city-sample.example/a")  # an online form must be https
