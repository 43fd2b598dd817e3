"""Actions never fail a turn on a store error (README, Rasa 3.6 traps): with the stores on a Redis
nobody listens on, the actions that record something (the review log, feedback, the analytics vote)
still answer the resident, and the failure is a log line with the error's class only."""

from __future__ import annotations

import asyncio
import logging

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from servers import free_port

from actions.context import Context
from actions.feedback import ActionRecordFeedback
from actions.procedures import ActionAnswerProcedure
from bot import settings as settings_module

QUESTION = "ほげほげの手続きについて教えてください"


@pytest.fixture
def down_context(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens: every store call fails at once
    ctx = Context(settings_module.load({"MADOGUCHI_VAR": str(tmp_path / "var"), "REDIS_URL": url}))
    yield ctx
    ctx.close()


def _tracker(text: str, intent: str, slots: dict | None = None) -> Tracker:
    return Tracker(
        sender_id="down",
        slots=slots or {},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def _run(action, tracker: Tracker) -> list[dict]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_an_unanswered_question_is_answered_though_the_review_log_is_down(down_context, caplog):
    caplog.set_level(logging.ERROR)
    messages = _run(ActionAnswerProcedure(context=down_context), _tracker(QUESTION, "ask_procedure"))
    assert messages  # the resident got the fallback
    assert "could not record a question for review: ConnectionError" in caplog.text
    assert QUESTION not in caplog.text


def test_a_vote_is_thanked_though_feedback_review_and_analytics_are_down(down_context, caplog):
    caplog.set_level(logging.WARNING)
    slots = {"last_question": QUESTION, "last_answer": "faq:F0001", "helpful": False}
    messages = _run(ActionRecordFeedback(context=down_context), _tracker("/feedback", "feedback", slots))
    assert [m.get("response") for m in messages] == ["utter_feedback_sorry"]
    for failed in ("could not record feedback", "could not record a question for review"):
        assert f"{failed}: ConnectionError" in caplog.text
    assert QUESTION not in caplog.text
