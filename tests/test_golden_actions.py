"""Every action's full output (texts, buttons, ``custom.madoguchi`` cards, responses, slot events) is
exactly what it was when tests/golden/actions.json was captured (before the conversation core moved
to ``bot/dialogue``). Regenerate only for an intended change of behaviour:
``.venv/bin/python -m tests.test_golden_actions --write``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import datetime
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.cards import CARD_KINDS

GOLDEN = Path(__file__).resolve().parent / "golden" / "actions.json"
#: A Tuesday inside office hours, and a Saturday outside them.
OPEN_TIME = "2026-11-24T10:00:00+09:00"
CLOSED_TIME = "2026-11-28T10:00:00+09:00"
_TICKET = re.compile(r"CB-\d{8}-\d{4}")


def _e(name: str, value) -> dict:
    return {"entity": name, "value": value}


#: name -> (action class, text, intent, entities, slots, metadata, time)
CASES: dict[str, tuple] = {
    "procedure_juminhyo": ("procedures.ActionAnswerProcedure", "住民票の写しを取りたいです", "ask_procedure"),
    "procedure_kana": ("procedures.ActionAnswerProcedure", "ｼﾞｭｳﾐﾝﾋｮｳ 土日", "ask_procedure"),
    "procedure_sodai": ("procedures.ActionAnswerProcedure", "粗大ごみを出したい", "ask_procedure"),
    "procedure_easy": (
        "procedures.ActionAnswerProcedure",
        "住民票がほしい",
        "ask_procedure",
        [],
        {},
        {"yasashii": True},
    ),
    "procedure_button": (
        "procedures.ActionAnswerProcedure",
        "/ask_procedure",
        "ask_procedure",
        [_e("procedure", "koseki")],
    ),
    "procedure_menu": ("procedures.ActionAnswerProcedure", "/ask_procedure", "ask_procedure"),
    "moving_clarify": ("procedures.ActionAnswerProcedure", "引っ越しをします", "life_event"),
    "moving_in_checklist": (
        "procedures.ActionAnswerProcedure",
        "/life_event",
        "life_event",
        [_e("life_event", "moving"), _e("move_type", "in")],
    ),
    "moving_named_option": ("procedures.ActionAnswerProcedure", "引っ越すので転出の手続きを", "life_event"),
    "birth_checklist": ("procedures.ActionAnswerProcedure", "子どもが生まれました", "life_event"),
    "named_beats_event": ("procedures.ActionAnswerProcedure", "転入届の持ち物を教えて", "life_event"),
    "faq_confident": ("procedures.ActionAnswerProcedure", "住民票は土日でも取れますか", "nlu_fallback"),
    "faq_close": ("faq.ActionAnswerFaq", "図書館の本を返したい", "nlu_fallback"),
    "faq_nothing": ("faq.ActionAnswerFaq", "明日の天気はどうですか", "nlu_fallback"),
    "faq_close_only": ("faq.ActionAnswerFaq", "窓口の混雑", "nlu_fallback"),
    "faq_garbage_day": ("procedures.ActionAnswerProcedure", "ごみの日", "nlu_fallback"),
    "faq_suggest": ("faq.ActionAnswerFaq", "税金", "nlu_fallback"),
    "faq_button": ("faq.ActionAnswerFaq", "/faq_select", "faq_select", [_e("faq_id", "F0001")]),
    "details_slot": (
        "procedures.ActionProcedureDetails",
        "もっと詳しく",
        "ask_details",
        [],
        {"procedure": "jido_teate"},
    ),
    "details_none": ("procedures.ActionProcedureDetails", "もっと詳しく", "ask_details"),
    "details_button": (
        "procedures.ActionProcedureDetails",
        "/ask_details",
        "ask_details",
        [_e("procedure", "tennyu")],
    ),
    "online_overview": ("procedures.ActionAnswerOnline", "オンラインでできる手続きを教えて", "ask_online"),
    "online_named": ("procedures.ActionAnswerOnline", "転出届はネットで出せますか", "ask_online"),
    "online_generic": (
        "procedures.ActionAnswerOnline",
        "オンライン申請で出ていく届けもできますか",
        "ask_online",
    ),
    "online_none": (
        "procedures.ActionAnswerOnline",
        "/ask_online",
        "ask_online",
        [_e("procedure", "inkan_toroku")],
    ),
    "phone_open": (
        "contact.ActionContactPhone",
        "電話で聞きたい",
        "ask_phone",
        [],
        {"procedure": "sodai_gomi"},
        {},
        OPEN_TIME,
    ),
    "phone_closed": (
        "contact.ActionContactPhone",
        "電話で聞きたい",
        "ask_phone",
        [],
        {"procedure": "sodai_gomi"},
        {},
        CLOSED_TIME,
    ),
    "phone_main": ("contact.ActionContactPhone", "人と話したい", "ask_phone", [], {}, {}, OPEN_TIME),
    "callback_slot": ("callback.ActionAskCallbackSlot", "", "inform"),
    "callback_confirm": (
        "callback.ActionAskCallbackConfirmed",
        "",
        "inform",
        [],
        {
            "callback_phone": "09012345678",
            "callback_name": "山田",
            "callback_slot": "weekday_am",
            "callback_topic": "児童手当",
        },
    ),
    "callback_submit": (
        "callback.ActionSubmitCallback",
        "/affirm",
        "affirm",
        [],
        {
            "callback_phone": "09012345678",
            "callback_name": "山田太郎",
            "callback_slot": "weekday_am",
            "callback_topic": "児童手当のこと",
            "callback_confirmed": True,
            "procedure": "jido_teate",
        },
    ),
    "safety_dog": ("safety.ActionSafetyFollowup", "飼っていた犬が死んでしまいました", "self_harm"),
    "safety_none": ("safety.ActionSafetyFollowup", "もう死にたい", "self_harm"),
    "feedback_yes": (
        "feedback.ActionRecordFeedback",
        "/feedback",
        "feedback",
        [_e("helpful", True)],
        {"last_question": "住民票", "last_answer": "procedure:juminhyo"},
    ),
}


def _tracker(text, intent, entities=(), slots=None, metadata=None) -> Tracker:
    return Tracker(
        sender_id="golden",
        slots=dict(slots or {}),
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": list(entities),
            "metadata": dict(metadata or {}),
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def _action(dotted: str, context):
    import importlib

    module, cls = dotted.split(".")
    return getattr(importlib.import_module(f"actions.{module}"), cls)(context=context)


def _scrub(value):
    """Tickets carry the date they were made; the rest is compared as is."""
    return json.loads(_TICKET.sub("CB-DATE-SEQ", json.dumps(value, ensure_ascii=False)))


def run_case(name: str, env) -> dict:
    """Runs one case in ``env`` (see the ``env`` fixture) -> {"messages", "events"}."""
    action, text, intent, *rest = CASES[name]
    entities, slots, metadata, moment = (rest + [[], {}, {}, OPEN_TIME][len(rest) :])[:4]
    env.moment = datetime.fromisoformat(moment)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        _action(action, env.context).run(dispatcher, _tracker(text, intent, entities, slots, metadata), {})
    )
    return _scrub({"messages": dispatcher.messages, "events": events})


def _faq_snapshot():
    from bot import settings as settings_module
    from bot.knowledge.faq.live_base import Snapshot, default_ranker
    from bot.knowledge.faq.tables import read_table
    from bot.knowledge.faq.validate import validate

    report = validate(read_table(settings_module.REPO_ROOT / "data" / "faq" / "sample_faq.csv"))
    entries = {e.id: e for e in report.entries}
    return Snapshot(version="golden", entries=entries, index=default_ranker().build(report.entries))


class _Env:
    """The actions' context over a private var dir, the sample FAQ and a fixed time."""

    def __init__(self, var_dir: Path, snapshot) -> None:
        from actions.context import Context
        from bot import settings as settings_module

        self.moment = datetime.fromisoformat(OPEN_TIME)
        settings = settings_module.load({"MADOGUCHI_VAR": str(var_dir)})
        self.context = Context(settings, clock=lambda: self.moment, faq=lambda: snapshot)


@pytest.fixture(scope="module")
def snapshot():
    return _faq_snapshot()


@pytest.fixture()
def env(tmp_path, snapshot):
    environment = _Env(tmp_path / "var", snapshot)
    yield environment
    environment.context.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_action_output_is_unchanged(name, env):
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))[name]
    assert run_case(name, env) == expected


def test_every_card_kind_an_action_sends_is_covered():
    """The golden cases cover every card kind the actions compose (safety comes from domain.yml)."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    kinds = {
        m["custom"]["madoguchi"]["kind"]
        for case in golden.values()
        for m in case["messages"]
        if (m.get("custom") or {}).get("madoguchi")
    }
    assert kinds == CARD_KINDS - {"safety"}


def _write() -> None:  # pragma: no cover - regeneration helper
    import tempfile

    snapshot = _faq_snapshot()
    with tempfile.TemporaryDirectory() as tmp:
        env = _Env(Path(tmp), snapshot)
        out = {name: run_case(name, env) for name in sorted(CASES)}
        env.context.close()
    GOLDEN.write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN} ({len(out)} cases)")


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] == ["--write"]:
        _write()
