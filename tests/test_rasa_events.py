"""Rasa's event classes are looked up in a table (bot.rasa_events) instead of a walk of the Event class
tree per event read: the same class for every name, the same answers for unknown names, and a subclass
defined later is still found."""

from __future__ import annotations

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered, deserialise_events

from bot import rasa_events


@pytest.fixture
def installed():
    rasa_events.install()
    yield
    rasa_events.uninstall()


def _rasa(type_name, default=None):
    return rasa_events._original.__func__(type_name, default)


def test_every_event_name_resolves_to_the_class_rasa_finds(installed):
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert {"user", "action", "slot", "session_started", "bot"} <= names
    for name in names:
        assert Event.resolve_by_type(name) is _rasa(name)


def test_unknown_names_answer_as_rasa_does(installed):
    assert Event.resolve_by_type("topic") is None and _rasa("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_a_subclass_defined_after_the_first_lookup_is_found(installed):
    assert Event.resolve_by_type("user") is UserUttered

    class LateEvent(ActionExecuted):
        type_name = "madoguchi_test_late_event"

    assert Event.resolve_by_type("madoguchi_test_late_event") is LateEvent


def test_events_deserialise_the_same(installed):
    raw = [
        {"event": "user", "text": "住民票", "parse_data": {"intent": {"name": "ask_procedure"}}},
        {"event": "action", "name": "action_listen"},
        {"event": "slot", "name": "procedure", "value": "juminhyo"},
    ]
    ours = deserialise_events(raw)
    rasa_events.uninstall()
    assert ours == deserialise_events(raw)
