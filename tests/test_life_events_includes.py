"""A life event that includes another (data/life_events.yml ``includes``): 離婚 includes 引っ越し, so a
message telling a separation and the move it causes gets the divorce checklist, which lists the move."""

from __future__ import annotations

import pytest
import yaml

from bot import settings
from bot.dialogue.resolve import resolve
from bot.knowledge.catalog import CatalogError, load_catalog

REAL_DATA = settings.load({}).data_dir


def test_divorce_includes_moving_and_lists_the_move(catalog):
    divorce = catalog.life_event("divorce")
    assert "moving" in divorce.includes
    assert {"tenkyo", "tenshutsu"} <= set(divorce.checklist)


@pytest.mark.parametrize(
    "text",
    [
        "別れて実家に戻る",
        "別れて実家に帰ります",
        "夫と別れて実家に戻ります",
        "離婚して実家に帰ります",
        "離婚したので引っ越します",
        "妻と別れたので引っ越しします",
        "旦那と別れて新しい家に移る",
        "離婚することになって、アパートに移ります",
    ],
)
def test_separation_and_move_get_the_divorce_checklist(catalog, asked, text):
    life = catalog.match_life_event_scored(text)
    assert life is not None and life[0].id == "divorce", (text, life and life[0].id)
    resolution = resolve(text, "life_event", catalog, None, None, asked)
    assert (resolution.kind, resolution.event.id if resolution.event else None) == ("life_event", "divorce")


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("実家に戻ります", "moving"),
        ("来月引っ越します", "moving"),
        ("新しい家に移る", "moving"),
        ("離婚しました", "divorce"),
        ("夫と別れた", "divorce"),
    ],
)
def test_one_event_told_alone_is_that_event(catalog, text, event):
    life = catalog.match_life_event_scored(text)
    assert life is not None and life[0].id == event, (text, life and life[0].id)


def _write(tmp_path, includes):
    (tmp_path / "catalog").mkdir()
    for name in ("departments.yml",):
        (tmp_path / name).write_text((REAL_DATA / name).read_text(encoding="utf-8"), encoding="utf-8")
    for path in (REAL_DATA / "catalog").glob("*.yml"):
        (tmp_path / "catalog" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    events = yaml.safe_load((REAL_DATA / "life_events.yml").read_text(encoding="utf-8"))
    for event in events["life_events"]:
        if event["id"] == "divorce":
            event["includes"] = includes
    (tmp_path / "life_events.yml").write_text(yaml.safe_dump(events, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("includes", [["no_such_event"], ["divorce"]])
def test_includes_must_name_another_life_event(tmp_path, includes):
    _write(tmp_path, includes)
    with pytest.raises(CatalogError) as error:
        load_catalog(tmp_path)
    assert "includes" in str(error.value)
