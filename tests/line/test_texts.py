"""The channel's own texts come from data/line/messages.yml and are validated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.channels.line.texts import CARD_LABELS, UNSUPPORTED_KINDS, TextsError, load_texts

DATA = Path(__file__).parents[2] / "data" / "line"


def test_shipped_texts_are_complete():
    texts = load_texts(DATA)
    raw = yaml.safe_load((DATA / "messages.yml").read_text(encoding="utf-8"))
    assert texts.follow["text"] == raw["follow"]["text"].strip()
    assert all(texts.unsupported[kind] for kind in UNSUPPORTED_KINDS)
    assert set(texts.card) == set(CARD_LABELS)
    assert texts.unsupported_text("imagemap") == texts.unsupported["other"]
    assert texts.unsupported_text("sticker") == raw["unsupported"]["sticker"].strip()


def test_greeting_says_how_to_reach_a_person_and_emergency_numbers():
    texts = load_texts(DATA)
    payloads = {button["payload"] for button in texts.follow["buttons"]}
    assert {"/ask_phone", "/request_callback"} <= payloads
    assert "119" in texts.follow["text"] and "110" in texts.follow["text"]


def _broken(tmp_path: Path, edit) -> Path:
    shutil.copy(DATA / "messages.yml", tmp_path / "messages.yml")
    raw = yaml.safe_load((tmp_path / "messages.yml").read_text(encoding="utf-8"))
    edit(raw)
    (tmp_path / "messages.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda raw: raw["unsupported"].pop("sticker"), "unsupported.sticker"),
        (lambda raw: raw["card"].update(fee="  "), "card.fee"),
        (lambda raw: raw["card"].update(call="電話する"), "card.call"),
        (lambda raw: raw["card"].update(call="{phone} {number}"), "card.call"),
        (lambda raw: raw.pop("error"), "'error'"),
        (lambda raw: raw["follow"]["buttons"][1].pop("payload"), "follow.buttons[1].payload"),
    ],
)
def test_bad_texts_name_the_entry(tmp_path, edit, named):
    with pytest.raises(TextsError, match=r"messages\.yml") as caught:
        load_texts(_broken(tmp_path, edit))
    assert named in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(TextsError, match="cannot read"):
        load_texts(tmp_path)
