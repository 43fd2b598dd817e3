"""The crisis desk: crisis answers from the data files alone, for when everything else is down."""

from __future__ import annotations

import asyncio
import shutil

import pytest
import yaml

from bot import settings
from bot.crisis import BackgroundTurns, CrisisDataError, load_desk
from bot.knowledge.catalog import load_catalog

CONF = settings.load({})
DOMAIN = CONF.home / "domain.yml"


@pytest.fixture(scope="module")
def desk():
    return load_desk(CONF.data_dir, DOMAIN)


@pytest.mark.parametrize(
    ("text", "category", "number"),
    [
        ("家が燃えてる！", "emergency", "119"),
        ("父が倒れて動かない", "emergency", "119"),
        ("もう死にたい", "self_harm", "0120-279-338"),
        ("夫に殴られています", "dv", "#8008"),
    ],
)
def test_a_crisis_gets_the_domain_answer_with_its_numbers(desk, text, category, number):
    [message] = desk.answer(text)
    card = message["custom"]["madoguchi"]
    assert (card["kind"], card["category"]) == ("safety", category)
    assert number in card["phones"] and number in message["text"]


def test_the_answer_is_the_bots_own_response():
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    desk = load_desk(CONF.data_dir, DOMAIN)
    [message] = desk.answer("火事です")
    expected = domain["responses"]["utter_emergency"][0]
    assert message == {"text": expected["text"], "custom": expected["custom"]}


@pytest.mark.parametrize("text", ["住民票の写しがほしい", "火災保険の手続き", "防犯講習はありますか", ""])
def test_ordinary_questions_get_no_crisis_answer(desk, text):
    assert desk.answer(text) is None


def test_answers_are_fresh_copies(desk):
    first = desk.answer("火事です")
    first[0]["custom"]["madoguchi"]["phones"].clear()
    assert desk.answer("火事です")[0]["custom"]["madoguchi"]["phones"]


def test_city_phone_is_the_catalogs(desk):
    assert desk.city_phone and desk.city_phone == load_catalog(CONF.data_dir).city.phone


def test_a_rule_without_its_response_stops_the_start(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(CONF.data_dir, data)
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    del domain["responses"]["utter_dv"]
    broken = tmp_path / "domain.yml"
    broken.write_text(yaml.safe_dump(domain, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CrisisDataError, match="utter_dv"):
        load_desk(data, broken)


def test_an_unreadable_departments_file_leaves_the_phone_empty_not_the_desk(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(CONF.data_dir, data)
    (data / "departments.yml").write_text("city: [", encoding="utf-8")
    desk = load_desk(data, DOMAIN)
    assert desk.city_phone == "" and desk.answer("火事です")


async def test_a_slow_turn_goes_on_in_the_background():
    release, finished = asyncio.Event(), asyncio.Event()
    errors: list[BaseException] = []

    async def turn() -> None:
        await release.wait()
        finished.set()

    turns = BackgroundTurns(errors.append)
    with pytest.raises(asyncio.TimeoutError):
        await turns.wait(turn(), timeout=0.01)
    assert len(turns) == 1 and not finished.is_set()
    release.set()
    await asyncio.wait_for(finished.wait(), timeout=5)
    await asyncio.sleep(0)  # let the done-callback run
    assert len(turns) == 0 and errors == []


async def test_a_background_failure_is_reported():
    release = asyncio.Event()
    errors: list[BaseException] = []

    async def turn() -> None:
        await release.wait()
        raise ConnectionError("redis went away")

    turns = BackgroundTurns(errors.append)
    with pytest.raises(asyncio.TimeoutError):
        await turns.wait(turn(), timeout=0.01)
    release.set()
    for _ in range(100):
        if errors:
            break
        await asyncio.sleep(0)
    assert [type(e) for e in errors] == [ConnectionError] and len(turns) == 0


async def test_a_quick_turn_is_simply_awaited():
    turns = BackgroundTurns(lambda e: None)

    async def turn() -> str:
        return "done"

    await turns.wait(turn(), timeout=5)
    assert len(turns) == 0
