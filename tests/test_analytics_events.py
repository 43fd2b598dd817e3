"""The per-turn analytics record: outcome from the cards, salted conversation hash, background writes."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from bot import settings as settings_module
from bot.analytics.events import answer_ids, feedback_event, resident_wording, turn_event
from bot.analytics.identity import SALT_ENV, SALT_FILE, conversation_hash, load_salt
from bot.analytics.outcome import CARD_TO_KIND, PRECEDENCE, outcome_of
from bot.analytics.recorder import TurnRecorder
from bot.dialogue.cards import CARD_KINDS
from bot.stores import JST, open_stores
from bot.stores.analytics import TURN_KINDS

AT = datetime(2026, 11, 26, 10, 0, tzinfo=JST)


def msg(kind: str, **fields) -> dict:
    return {"recipient_id": "x", "text": "…", "custom": {"madoguchi": {"kind": kind, **fields}}}


def test_every_card_kind_maps_to_a_turn_kind():
    assert set(CARD_TO_KIND) == set(CARD_KINDS)
    assert set(CARD_TO_KIND.values()) <= set(TURN_KINDS) and set(PRECEDENCE) <= set(TURN_KINDS)


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (
            [msg("procedure", procedure="juminhyo", department={"name": "市民課", "phone": "0120-000-000"})],
            ("procedure", "juminhyo", None, "市民課"),
        ),
        ([msg("details", procedure="inkan")], ("procedure", "inkan", None, None)),
        ([msg("faq", faq_id="F0012", department="環境課")], ("faq", None, "F0012", "環境課")),
        ([msg("checklist", life_event="tenshutsu", procedures=[])], ("checklist", "tenshutsu", None, None)),
        ([msg("fallback")], ("fallback", None, None, None)),
        ([msg("suggestions", count=2)], ("suggestions", None, None, None)),
        ([msg("callback_form", step="phone")], ("form", None, None, None)),
        ([{"text": "こんにちは"}], ("other", None, None, None)),
        ([], ("other", None, None, None)),
        # a crisis line beside a procedure card is a safety turn; the 受付番号 after the form a callback
        (
            [msg("procedure", procedure="juminhyo"), msg("safety", category="self_harm", phones=[])],
            ("safety", None, None, None),
        ),
        (
            [msg("callback_form", step="confirm"), msg("callback", ticket="CB-20261126-0001")],
            ("callback", None, None, None),
        ),
        ([msg("suggestions", count=1), msg("faq", faq_id="F1", department="x")], ("faq", None, "F1", "x")),
        ([{"custom": {"madoguchi": "broken"}}, {"custom": None}, "not a dict"], ("other", None, None, None)),
    ],
)
def test_outcome_from_the_cards(messages, expected):
    o = outcome_of(messages)
    assert (o.kind, o.procedure, o.faq_id, o.department) == expected


def test_wording_excludes_button_payloads():
    assert resident_wording('/feedback{"helpful":true}') is None
    assert resident_wording("  ") is None and resident_wording(None) is None
    assert resident_wording("犬の登録") == "犬の登録"


def test_answer_ids_of_the_last_answer_slot():
    assert answer_ids("faq:F0007") == (None, "F0007")
    assert answer_ids("procedure:juminhyo") == ("juminhyo", None)
    assert answer_ids("life_event:tennyu:shigai") == ("tennyu", None)
    assert answer_ids("fallback") == (None, None) and answer_ids(None) == (None, None)


def test_the_hash_is_stable_per_salt_and_channel_and_hides_the_id():
    line_id = "U" + "4" * 32
    value = conversation_hash(b"salt", "line", line_id)
    assert value == conversation_hash(b"salt", "line", line_id) and len(value) == 32
    assert value != conversation_hash(b"other", "line", line_id)
    assert value != conversation_hash(b"salt", "rest", line_id)
    assert line_id not in value and "4" * 8 not in value


def test_salt_file_is_made_once_private_and_the_environment_wins(tmp_path):
    first = load_salt(tmp_path / "var", environ={})
    assert len(first) == 32 and load_salt(tmp_path / "var", environ={}) == first
    assert os.stat(tmp_path / "var" / SALT_FILE).st_mode & 0o777 == 0o600
    assert load_salt(tmp_path / "var", environ={SALT_ENV: "city-secret"}) == b"city-secret"


def test_turn_and_feedback_events():
    event = turn_event(b"s", AT, "rest", "abc", "090-1234-5678 どこ？", [msg("fallback")])
    assert (event.kind, event.conversation) == ("fallback", conversation_hash(b"s", "rest", "abc"))
    vote = feedback_event(b"s", AT, "rest", "abc", False, "procedure:juminhyo")
    assert (vote.kind, vote.helpful, vote.procedure, vote.conversation) == (
        "feedback",
        False,
        "juminhyo",
        event.conversation,
    )


async def test_the_recorder_writes_in_the_background_to_the_real_store(tmp_path):
    stores = open_stores(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "var")}))
    recorder = TurnRecorder(lambda: (stores.analytics, b"salt"), clock=lambda: AT)
    recorder.turn("rest", "sender-1", "山田です 090-1234-5678 犬が", [msg("fallback")])
    recorder.turn("rest", "sender-1", "住民票", [msg("procedure", procedure="juminhyo")])
    await recorder.drain()
    by_kind = {e.kind: e for e in stores.analytics.events()}  # written concurrently: same time, any order
    assert set(by_kind) == {"fallback", "procedure"}
    assert "[電話番号]" in by_kind["fallback"].text and "5678" not in by_kind["fallback"].text
    assert "山田" not in by_kind["fallback"].text and "犬が" in by_kind["fallback"].text
    assert by_kind["procedure"].text is None
    assert by_kind["fallback"].conversation == by_kind["procedure"].conversation
    stores.close()


async def test_a_failing_store_costs_a_log_line_never_the_turn(tmp_path, caplog):
    stores = open_stores(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "var")}))
    stores.close()  # every write now fails (sqlite3.ProgrammingError)
    recorder = TurnRecorder(lambda: (stores.analytics, b"salt"), clock=lambda: AT)
    recorder.turn("line", "U" + "1" * 32, "電話 090-1234-5678", [msg("fallback")])
    await recorder.drain()
    assert "analytics: a turn was not recorded (ProgrammingError)" in caplog.text
    assert "090" not in caplog.text
