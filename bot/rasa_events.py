"""Rasa 3.6 looks up the class of every event it reads by walking the whole ``Event`` class tree.

``Event.resolve_by_type(type_name)`` (called for each event deserialised: every event of a conversation
when a tracker store retrieves it, every event an action server returns) builds
``rasa.shared.utils.common.all_subclasses(Event)`` anew each time — ~40 classes, each checked with
``inspect.isabstract`` — and scans it for the name. A conversation's turn retrieves all its events, so
the cost grows with the conversation: py-spy put 26% of the Rasa process's busy samples there at turns
61-200 of one conversation (bench/README.md, Load, fifth run).

:func:`install` replaces it with a lookup in a table of the same classes (the first class of
``all_subclasses(Event)`` with each name, as Rasa's loop returns), built once and built again whenever a
name is not in it (an ``Event`` subclass defined later is found as before); unknown names answer as
Rasa's does (``None`` for the old ``topic``, else ``default``, else ``ValueError``).
"""

from __future__ import annotations

import threading
from typing import Type

import rasa.shared.utils.common
from rasa.shared.core.events import Event

_table: dict[str, Type[Event]] = {}
_lock = threading.Lock()
_original = Event.__dict__["resolve_by_type"]


def _build() -> dict[str, Type[Event]]:
    table: dict[str, Type[Event]] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    return table


def resolve_by_type(type_name: str, default: Type[Event] | None = None) -> Type[Event] | None:
    """Rasa's ``Event.resolve_by_type`` (same classes, same answers), from a table."""
    found = _table.get(type_name)
    if found is None:
        with _lock:
            fresh = _build()  # built whole before it replaces the table's contents
            _table.clear()
            _table.update(fresh)
        found = _table.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # backwards compatibility to support old TopicSet evts (as Rasa)
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    """Replaces ``Event.resolve_by_type`` (once per process; idempotent)."""
    Event.resolve_by_type = staticmethod(resolve_by_type)


def uninstall() -> None:
    """Puts Rasa's own lookup back (tests)."""
    Event.resolve_by_type = _original
