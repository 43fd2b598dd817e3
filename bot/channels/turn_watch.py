"""Seeing that a turn's custom action failed, although Rasa 3.6 hides it.

Rasa's ``MessageProcessor`` catches an action server's failure, logs it and goes on: the turn "succeeds"
with the action's events lost and nothing sent (trap: action-server errors drop events). The only trace is
the log record, so the channels watch Rasa's processor logger for it, per turn: a
:class:`TurnWatch` is set in a context variable while the turn runs (tasks the turn starts copy the
context, so they share the same watch) and the filter marks it.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from dataclasses import dataclass

#: Logger and message prefix with which Rasa 3.6's MessageProcessor reports a failed custom action
#: (it swallows the exception and goes on, so the failure is only visible in its log record).
PROCESSOR_LOGGER = "rasa.core.processor"
ACTION_FAILURE_PREFIX = "Encountered an exception while running action"


@dataclass
class TurnWatch:
    """What the processor's log said about the current turn."""

    action_failed: bool = False


_current_turn: contextvars.ContextVar[TurnWatch | None] = contextvars.ContextVar(
    "madoguchi_turn_watch", default=None
)


class _ActionFailureFilter(logging.Filter):
    """Marks the current turn as failed when Rasa's processor reports a failed custom action."""

    def filter(self, record: logging.LogRecord) -> bool:
        watch = _current_turn.get()
        if watch is not None and str(record.msg).startswith(ACTION_FAILURE_PREFIX):
            watch.action_failed = True
        return True


def install_action_failure_watch() -> None:
    """Attaches the action-failure filter to Rasa's processor logger (once per process)."""
    proc_logger = logging.getLogger(PROCESSOR_LOGGER)
    if not any(isinstance(f, _ActionFailureFilter) for f in proc_logger.filters):
        proc_logger.addFilter(_ActionFailureFilter())


@contextlib.contextmanager
def watching_turn() -> Iterator[TurnWatch]:
    """The watch of the turn run inside this block (start the turn's task inside it)."""
    watch = TurnWatch()
    token = _current_turn.set(watch)
    try:
        yield watch
    finally:
        _current_turn.reset(token)
