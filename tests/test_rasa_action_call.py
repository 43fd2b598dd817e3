"""The action server is sent the turn's events (bot.rasa_action_call): from the latest user message, or
from the latest start of each form's run when earlier; everything else of the call is Rasa's own."""

from __future__ import annotations

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

from actions.callback import request_key
from bot import rasa_action_call

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [ask, affirm]
slots:
  procedure: {type: text, mappings: [{type: custom}]}
forms:
  callback_form: {required_slots: []}
"""
)


def _turn(text: str, ts: float) -> list:
    return [
        ActionExecuted("action_listen", timestamp=ts),
        UserUttered(text, {"name": "ask", "confidence": 1.0}, timestamp=ts + 0.1, input_channel="rest"),
        ActionExecuted("action_answer_procedure", timestamp=ts + 0.2),
        BotUttered("はい", timestamp=ts + 0.3),
        SlotSet("procedure", f"p{int(ts)}", timestamp=ts + 0.4),
    ]


def _tracker(events: list) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("resident-1", events, DOMAIN.slots)


def _calls(tracker):
    action = RemoteAction("action_answer_procedure", EndpointConfig("http://127.0.0.1:1/webhook"))
    rasa_action_call.uninstall()
    theirs = action._action_call_format(tracker, DOMAIN)
    rasa_action_call.install()
    try:
        ours = action._action_call_format(tracker, DOMAIN)
    finally:
        rasa_action_call.uninstall()
    return ours, theirs


def test_a_long_conversation_sends_only_the_turn_and_the_rest_as_rasa():
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    for n in range(30):
        events += _turn(f"質問{n}", float(10 * n + 1))
    events.append(ActionExecuted("action_listen", timestamp=400.0))
    events.append(UserUttered("最後の質問", {"name": "ask"}, timestamp=401.0, input_channel="rest"))
    ours, theirs = _calls(_tracker(events))
    sent = ours["tracker"].pop("events")
    full = theirs["tracker"].pop("events")
    assert ours == theirs  # slots, latest message, input channel, domain, version ... unchanged
    assert sent == full[-1:] and sent[0]["event"] == "user" and len(full) == 2 + 30 * 5 + 2


def test_a_form_run_is_sent_from_its_start_and_its_request_key_is_the_same():
    events = _turn("住民票", 1.0) + [ActiveLoop("callback_form", timestamp=5.0)]
    for n in range(3):
        events += _turn(f"答え{n}", float(10 + 10 * n))
    events += [ActiveLoop(None, timestamp=50.0)] + _turn("送信", 60.0)
    ours, theirs = _calls(_tracker(events))
    assert ours["tracker"]["events"][0]["event"] == "active_loop"
    assert ours["tracker"]["events"] == theirs["tracker"]["events"][5:]
    assert request_key(Tracker.from_dict(ours["tracker"])) == request_key(
        Tracker.from_dict(theirs["tracker"])
    )
    assert Tracker.from_dict(ours["tracker"]).get_latest_input_channel() == "rest"


@pytest.mark.parametrize(
    "events",
    [
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        _turn("一", 1.0) + _turn("二", 10.0) + [UserUtteranceReverted(timestamp=20.0)],
    ],
    ids=["no user message yet", "a rewind after the cut"],
)
def test_everything_is_sent_when_cutting_could_change_what_the_actions_see(events):
    ours, theirs = _calls(_tracker(events))
    assert ours == theirs
