"""Every text a resident can receive goes through ふりがな without error, and every kanji gets a kana reading.

Sources: the responses of domain.yml, data/messages.yml, data/line/messages.yml, data/departments.yml,
data/life_events.yml, data/yasashii.yml, the catalog (data/catalog/*.yml) and the FAQ answers
(data/faq/sample_faq.csv).
Keys that residents never see (ids, aliases and triggers they may type, URLs, safety patterns) are left
out.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, Iterable

import pytest
import yaml

from bot.furigana import has_kanji, segments

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
#: Keys whose values residents never read (ids, what they may type, links, machine data).
NOT_SHOWN = frozenset({"id", "aliases", "triggers", "url", "related", "payload", "department", "weekday"})
#: 695 distinct texts with kanji at the time of writing: far fewer means a source is no longer read.
MIN_TEXTS = 500
_KANJI_RUN = re.compile("[\u3005\u3006\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_KANA = re.compile("^[\u3041-\u3096\u30fc]+$")


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_SHOWN:
                yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def resident_texts() -> dict[str, set[str]]:
    """``{source: texts with kanji}`` for every file residents' answers come from."""
    sources: dict[str, Any] = {"domain.yml": _yaml(REPO / "domain.yml")["responses"]}
    files = ["messages.yml", "line/messages.yml", "departments.yml", "life_events.yml", "yasashii.yml"]
    files += [f"catalog/{p.name}" for p in sorted((DATA / "catalog").glob("*.yml"))]
    sources.update({f"data/{name}": _yaml(DATA / name) for name in files})
    with (DATA / "faq" / "sample_faq.csv").open(encoding="utf-8", newline="") as fh:
        sources["data/faq/sample_faq.csv"] = [row["answer"] for row in csv.DictReader(fh)]
    return {name: {t for t in _leaves(raw) if has_kanji(t)} for name, raw in sources.items()}


TEXTS = resident_texts()


def test_every_source_has_texts():
    assert all(TEXTS.values()), [name for name, texts in TEXTS.items() if not texts]
    assert sum(map(len, TEXTS.values())) > MIN_TEXTS


@pytest.mark.parametrize("source", sorted(TEXTS))
def test_every_kanji_of_every_text_gets_a_kana_reading(source):
    unread = {}
    for text in sorted(TEXTS[source]):
        segs = segments(text)
        assert "".join(surface for surface, _ in segs) == text
        for surface, reading in segs:
            if reading is not None:
                assert _KANA.match(reading), (text, surface, reading)
            else:
                unread.update({run: text for run in _KANJI_RUN.findall(surface)})
    assert not unread, f"{source}: kanji without a reading (add them to data/furigana/): {unread}"


WEEKDAY_READINGS = ["げつ", "か", "すい", "もく", "きん", "ど", "にち"]


def test_the_next_opening_date_reads_its_weekday_as_a_weekday():
    phone = _yaml(DATA / "messages.yml")["phone"]
    for label, expected in zip(phone["weekdays"], WEEKDAY_READINGS, strict=True):
        text = phone["next_open_format"].format(month=12, day=3, weekday=label, time="9:00")
        readings = dict((surface, reading) for surface, reading in segments(text) if reading)
        assert readings[label] == expected, text
