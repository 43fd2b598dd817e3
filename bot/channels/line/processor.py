"""What the channel does with each (signature-checked, queued) LINE event.

Every event runs in the background, one at a time per conversation. An event whose ``webhookEventId``
was already seen is skipped, so a redelivery never produces a second answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import TrackerStore

from bot import romaji
from bot.analytics.recorder import TurnRecorder
from bot.channels.desks import crisis_answer, off_loop
from bot.channels.line.client import LineApiClient, LineApiError, ReplyOutcome
from bot.channels.line.config import LineConfig
from bot.channels.line.dedup import EventMemory
from bot.channels.line.events import LineEvent
from bot.channels.line.forget import delete_conversation
from bot.channels.line.identity import conversation_id
from bot.channels.line.keep import ChecklistKeeper
from bot.channels.line.render import batches, render_turn, text_message
from bot.channels.line.texts import LineTexts
from bot.crisis import BackgroundTurns, CrisisDesk
from bot.language import LanguageDesk
from bot.metrics import TurnRecord, count_line_events, observe_turn
from bot.rasa_stores import StorageUnavailable
from bot.understanding.worker import UnderstandingBusy

logger = logging.getLogger(__name__)

CHANNEL_NAME = "line"
HANDLED_EVENTS = frozenset({"message", "postback", "follow", "unfollow"})
#: How long a crisis message waits for the normal turn before the crisis is answered from data. LINE's
#: reply token lives about a minute, but a resident in danger should not wait: 3 s is three times the p95
#: of a normal turn measured on 2 cores (bench/README.md).
CRISIS_TIMEOUT_SECONDS = 3.0
#: Placeholder in ``messages.yml``'s error text for the city's main number.
CITY_PHONE_PLACEHOLDER = "{city_phone}"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
Batch = list[dict[str, Any]]
Message = dict[str, Any]
TrackerStoreGetter = Callable[[], "TrackerStore | None"]


class TurnCollector(CollectingOutputChannel):
    """Collects the bot's messages of one turn whole (text, buttons and custom together)."""

    @classmethod
    def name(cls) -> str:
        """``line``: responses in domain.yml with ``channel: line`` are chosen for this channel."""
        return CHANNEL_NAME

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Keeps the message as Rasa produced it; rendering happens once the turn is complete."""
        await self._persist_message(dict(message))


class EventProcessor:
    """Handles one LINE event end to end: de-duplication, the Rasa turn, rendering and sending."""

    def __init__(
        self,
        config: LineConfig,
        client: LineApiClient,
        texts: LineTexts,
        memory: EventMemory,
        on_new_message: OnNewMessage,
        tracker_store: TrackerStoreGetter,
        crisis: CrisisDesk | None = None,
        languages: LanguageDesk | None = None,
        usage: TurnRecorder | None = None,
        keeper: ChecklistKeeper | None = None,
    ) -> None:
        """Wires the processor.

        Args:
            config: channel configuration.
            client: Messaging API client.
            texts: the channel's own texts (greeting, unsupported types, error, card labels).
            memory: remembers event ids.
            on_new_message: Rasa's handler for a user message (``agent.handle_message``).
            tracker_store: returns the agent's tracker store (for deleting a conversation).
            crisis: answers a crisis from data when the turn fails or is slow (none: error text only).
            languages: answers messages not in Japanese from data (none: every message goes to Rasa).
            usage: records each turn for 利用状況 (default: the project's stores).
            keeper: answers 「このリストを残す」 postbacks (none: they go to Rasa like any postback).
        """
        self._config = config
        self._client = client
        self._texts = texts
        self._memory = memory
        self._on_new_message = on_new_message
        self._tracker_store = tracker_store
        self._crisis = crisis
        self._languages = languages
        self._usage = usage or TurnRecorder()
        self._keeper = keeper
        self._background = BackgroundTurns(
            lambda error: logger.error(
                "line: a crisis turn failed in the background (%s)", type(error).__name__
            )
        )

    def conversation_of(self, event: LineEvent) -> str | None:
        """The Rasa conversation id of the event's chat (``None`` when the event names no chat)."""
        if not event.chat_id:
            return None
        return conversation_id(self._config.channel_secret, event.chat_id)

    async def process(self, event: LineEvent) -> None:
        """Handles one event; a duplicate (already seen ``webhookEventId``) is skipped."""
        if event.type not in HANDLED_EVENTS:
            logger.info("line: event type %.40s ignored", event.type)
            return
        if await self._already_handled(event):
            logger.info("line: %s event already handled; skipped", event.type)
            count_line_events("duplicate")
            return
        if event.type == "message":
            await self._on_message(event)
        elif event.type == "postback":
            if self._keeper is not None and self._keeper.wants(event.postback_data):
                await self._keep(event, event.postback_data)
            elif event.postback_data:
                await self._turn(event, event.postback_data)
        elif event.type == "follow":
            await self._send(event, render_turn([self._texts.follow], self._texts.card))
        else:
            await self._forget(event)

    async def _already_handled(self, event: LineEvent) -> bool:
        """Checks and records the event id. If the store fails, the event is answered anyway: a resident
        left without an answer (perhaps about an emergency) is worse than a rare duplicate."""
        if not event.event_id:
            return False
        try:
            return await self._memory.seen_before(event.event_id, self._config.dedup_ttl_seconds)
        except Exception as error:
            logger.error(
                "line: event memory unavailable (%s); answering without de-duplication", type(error).__name__
            )
            return False

    async def _keep(self, event: LineEvent, data: str) -> None:
        """「このリストを残す」: the checklist again as plain text (the error text if it is unknown)."""
        try:
            objects = self._keeper.answer(data)
        except Exception as error:  # noqa: BLE001 — the resident always gets an answer
            logger.error("line: keeping a checklist failed (%s)", type(error).__name__, exc_info=error)
            objects = None
        await self._send(event, objects or [text_message(self.error_text())])

    async def _on_message(self, event: LineEvent) -> None:
        if event.message_type == "text" and event.text and event.text.strip():
            await self._turn(event, event.text)
            return
        await self._send(event, [text_message(self._texts.unsupported_text(event.message_type))])

    async def _turn(self, event: LineEvent, text: str) -> None:
        sender = self.conversation_of(event)
        if sender is None:
            return
        foreign = await self._foreign(text)
        if foreign:  # not Japanese: the English card or the notice, from data (bot.language)
            self._usage.turn(CHANNEL_NAME, sender, text, foreign)
            observe_turn(TurnRecord.of_answer(CHANNEL_NAME, foreign, 0.0, "other_language"))
            await self._send(event, render_turn(foreign, self._texts.card))
            return
        text = romaji.reading(text)  # Japanese typed in romaji: the turn reads it in kana
        collector = TurnCollector()
        message = UserMessage(
            text,
            collector,
            sender,
            input_channel=CHANNEL_NAME,
            message_id=event.event_id,
            metadata={"line": {"source_type": event.source_type, "event": event.type}},
        )
        loading = _LoadingIndicator(self._client, self._config, event)
        crisis = await crisis_answer(self._crisis, text) if self._crisis is not None else None
        started = time.perf_counter()
        try:
            if crisis is None:
                await self._on_new_message(message)
            else:
                await self._background.wait(self._on_new_message(message), CRISIS_TIMEOUT_SECONDS)
            objects = render_turn(collector.messages, self._texts.card)
            self._usage.turn(CHANNEL_NAME, sender, text, collector.messages)
            record = TurnRecord.of_answer(CHANNEL_NAME, collector.messages, time.perf_counter() - started)
        except Exception as error:  # noqa: BLE001 — the resident always gets an answer
            objects = self._failure_answer(crisis, error)
            record = _failure_record(crisis is not None, error, time.perf_counter() - started)
            if crisis is not None:
                self._usage.turn(CHANNEL_NAME, sender, text, crisis)
            else:
                self._usage.failed_turn(CHANNEL_NAME, sender)
        finally:
            await loading.stop()
        observe_turn(record)
        await self._send(event, objects)

    async def _foreign(self, text: str) -> list[Message] | None:
        """The answer from data to a message not in Japanese, judged on the understanding thread; ``None``
        for Japanese, and when that thread is full (the turn then fails ``overloaded``, with the error
        text or, by the rules, the crisis answer)."""
        if self._languages is None:
            return None
        try:
            return await off_loop(self._languages.answer, text)
        except UnderstandingBusy:
            return None

    def _failure_answer(self, crisis: list[Message] | None, error: BaseException) -> list[Message]:
        """The crisis answer from data, or the error text with the city's number."""
        if crisis is not None:
            logger.warning(
                "line: the turn failed (%s); the crisis was answered from data", type(error).__name__
            )
            return render_turn(crisis, self._texts.card)
        logger.error(
            "line: the turn failed (%s); sending the error text", type(error).__name__, exc_info=error
        )
        return [text_message(self.error_text())]

    def error_text(self) -> str:
        """The error text, with the city's main number in place of ``{city_phone}``."""
        return self.with_city_phone(self._texts.error)

    def with_city_phone(self, text: str) -> str:
        """``text`` with the city's main number in place of ``{city_phone}``."""
        phone = self._crisis.city_phone if self._crisis is not None else ""
        return text.replace(CITY_PHONE_PLACEHOLDER, phone or "")

    async def _forget(self, event: LineEvent) -> None:
        sender = self.conversation_of(event)
        if sender is None:
            return
        if await delete_conversation(self._tracker_store(), sender):
            logger.info("line: conversation deleted after unfollow")

    async def _send(self, event: LineEvent, objects: Sequence[Mapping[str, Any]]) -> None:
        """Sends the turn: first 5 objects in one reply; the rest (or all, if the reply token is
        rejected) pushed with a retry key per call."""
        calls = batches(list(objects))
        if not calls:
            return
        try:
            pending = await self._reply_first(event, calls)
            for batch in pending:
                if not event.chat_id:
                    logger.warning("line: no chat id to push to; %d message(s) not sent", len(batch))
                    count_line_events("send_failed")
                    return
                await self._client.push(event.chat_id, batch)
        except LineApiError as error:
            logger.error("line: sending failed: %s", error)
            count_line_events("send_failed")
            return
        count_line_events("answered")

    async def _reply_first(self, event: LineEvent, calls: list[Batch]) -> list[Batch]:
        if not event.reply_token:
            return calls
        outcome = await self._client.reply(event.reply_token, calls[0])
        if outcome is ReplyOutcome.TOKEN_REJECTED:
            logger.info("line: reply token rejected (missing, used or expired); pushing instead")
            return calls
        if outcome is ReplyOutcome.UNCERTAIN:
            logger.warning("line: reply may have been delivered despite errors; not pushing it again")
        return calls[1:]


def _failure_record(crisis: bool, error: BaseException, seconds: float) -> TurnRecord:
    """The metrics record of a failed LINE turn (answered with the crisis from data, or the error text)."""
    return TurnRecord(CHANNEL_NAME, "crisis_from_data" if crisis else "error", seconds, _error_code(error))


def _error_code(error: BaseException) -> str:
    """A short code for a failed turn (the names the REST channel uses where they apply)."""
    if isinstance(error, asyncio.TimeoutError):
        return "timeout"
    if isinstance(error, StorageUnavailable):
        return "storage_unavailable"
    if isinstance(error, UnderstandingBusy):
        return "overloaded"
    if isinstance(error, LockError):
        return "busy"
    return "internal_error"


class _LoadingIndicator:
    """Shows LINE's loading animation when a one-on-one turn takes longer than a moment.

    Once the animation request has gone out, :meth:`stop` waits for it (briefly) so it cannot arrive after
    the answer and keep spinning.
    """

    def __init__(self, client: LineApiClient, config: LineConfig, event: LineEvent) -> None:
        self._requested = False
        self._task: asyncio.Task[None] | None = None
        if event.is_one_on_one and event.user_id:
            self._task = asyncio.get_running_loop().create_task(
                self._run(client, event.user_id, config.loading_delay_seconds, config.loading_seconds)
            )

    async def _run(self, client: LineApiClient, user_id: str, delay: float, seconds: int) -> None:
        await asyncio.sleep(delay)
        self._requested = True
        try:
            await client.start_loading(user_id, seconds)
        except Exception as error:  # best effort: never fail the turn for the animation
            logger.debug("line: loading animation failed: %s", type(error).__name__)

    async def stop(self) -> None:
        """Cancels a pending animation, or waits (at most 2 s) for one already requested."""
        if self._task is None:
            return
        if not self._requested:
            self._task.cancel()
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=2.0)
        except asyncio.TimeoutError:
            logger.debug("line: loading animation request still running; answering anyway")


async def tell(processor: EventProcessor, event: LineEvent, text: str) -> None:
    """Sends one text in answer to ``event`` outside the dialogue (e.g. the flood notice)."""
    await processor._send(event, [text_message(text)])
