"""The action server is sent the events of the turn, not the whole conversation, each call.

Rasa 3.6's ``RemoteAction`` sends the tracker with every event of the conversation's session
(``EventVerbosity.ALL``) on every action call: turned into dicts, JSON-encoded, sent over loopback and
decoded again by the action server, a cost that grows with the conversation (py-spy, turns 61-200 of one
conversation: 7% of the Rasa process's busy samples in encoding the call; bench/README.md, Load, fifth
run). Our actions read the tracker's slots, its latest message and input channel, which Rasa sends
beside the events, and only these events (``grep tracker. actions/``): the latest user message (its input
channel: ``actions/feedback.py``) and the start of a form's run (``actions/callback.py``
``request_key``: the latest ``active_loop`` event naming ``callback_form``).

:func:`events_needed_from` therefore keeps the events from the latest user message, or from an earlier
event that starts the latest run of any form (the latest ``active_loop`` naming it), whichever comes
first; everything when there is no user message, or when an ``undo`` or ``rewind`` comes after the
cut (they would take back events that were cut). Everything else of the call is Rasa's own
(``_action_call_format`` of rasa 3.6.x, with the events cut), so the actions answer the same.
"""

from __future__ import annotations

from typing import Any, Sequence

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActiveLoop, Event, UserUttered
from rasa.shared.core.trackers import EventVerbosity

#: Events that take back earlier ones in rasa_sdk's ``applied_events``: none may follow the cut.
_TAKE_BACK = ("undo", "rewind")

_original = RemoteAction.__dict__["_action_call_format"]


def events_needed_from(events: Sequence[Event]) -> int:
    """The index of the first event an action call carries (see the module docstring)."""
    cut = None
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], UserUttered):
            cut = i
            break
    if cut is None:
        return 0
    forms_seen: set[str] = set()
    for i in range(len(events) - 1, -1, -1):
        event = events[i]
        if isinstance(event, ActiveLoop) and event.name and event.name not in forms_seen:
            forms_seen.add(event.name)
            cut = min(cut, i)
    if any(event.type_name in _TAKE_BACK for event in events[cut:]):
        return 0
    return cut


def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
    """Rasa's request to the action server, with the events from :func:`events_needed_from` on."""
    events = list(tracker.events)
    tracker_state = tracker.current_state(EventVerbosity.NONE)
    tracker_state["events"] = [e.as_dict() for e in events[events_needed_from(events) :]]

    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
        self.name()
    ):
        result["domain"] = domain.as_dict()
    return result


def install() -> None:
    """Replaces ``RemoteAction._action_call_format`` (once per process; idempotent)."""
    RemoteAction._action_call_format = _action_call_format


def uninstall() -> None:
    """Puts Rasa's own back (tests)."""
    RemoteAction._action_call_format = _original
