"""Rasa's message parsing off the server's event loop, on the understanding threads.

Rasa 3.6's ``MessageProcessor.parse_message`` is ``async`` but runs the whole NLU graph (Sudachi, count
vectors, the classifier, the safety component and its e5 encoder) synchronously, on the event loop: one
message's CPU held up every other request of the process. :func:`install` replaces it with a version
that runs the same graph (``_parse_message_with_graph``, unchanged) on
:func:`bot.understanding.worker.default_worker` and awaits it; the rest of Rasa's method is kept (the
full retrieval intent, the DEBUG parse line, the unseen-features check). There the parse data also gets
the message's e5 vector for the action server (:mod:`bot.understanding.handover`), taken from the
encoder's memory, never embedded for it. A full queue fails the turn with
:class:`~bot.understanding.worker.UnderstandingBusy` (the channels answer ``overloaded``).

Installed by :mod:`bot.rasa_server` before Rasa starts (as :mod:`bot.rasa_action_check`).
"""

from __future__ import annotations

import copy
from typing import Any, Dict

from rasa.core import processor as rasa_processor
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from bot.understanding import handover
from bot.understanding.worker import default_worker


def _parse_and_hand_over(
    processor: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker,
    only_output_properties: bool,
) -> Dict[str, Any]:
    """On the understanding thread: Rasa's graph parse, then the message's vector for the action server."""
    parse_data = processor._parse_message_with_graph(message, tracker, only_output_properties)
    handover.attach(parse_data, _encoder())
    return parse_data


def _encoder() -> Any:
    from bot.understanding.encoder import default_encoder

    return default_encoder()


def off_loop_parse_message(original):
    """``MessageProcessor.parse_message`` (``original``) with the graph run on the understanding thread."""

    async def parse_message(
        self: MessageProcessor,
        message: UserMessage,
        tracker: DialogueStateTracker | None = None,
        only_output_properties: bool = True,
    ) -> Dict[str, Any]:
        if self.http_interpreter:  # a remote NLU server: Rasa already awaits it
            return await original(self, message, tracker, only_output_properties)
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        parse_data = await default_worker().run(
            _parse_and_hand_over, self, message, tracker, only_output_properties
        )
        self._update_full_retrieval_intent(parse_data)
        rasa_processor.structlogger.debug(
            "processor.message.parse",
            parse_data_text=copy.deepcopy(parse_data["text"]),
            parse_data_intent=parse_data["intent"],
            parse_data_entities=copy.deepcopy(parse_data["entities"]),
        )
        self._check_for_unseen_features(parse_data)
        return parse_data

    parse_message.off_loop = True  # type: ignore[attr-defined]
    return parse_message


def install() -> None:
    """Replaces ``MessageProcessor.parse_message`` (once per process; idempotent)."""
    if not getattr(MessageProcessor.parse_message, "off_loop", False):
        MessageProcessor.parse_message = off_loop_parse_message(MessageProcessor.parse_message)
