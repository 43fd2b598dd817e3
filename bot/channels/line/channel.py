"""The Rasa input channel for LINE: ``bot.channels.line.LineInput`` in ``credentials.yml``.

Webhook: ``POST /webhooks/line/webhook``. The raw body is size-capped and its ``X-Line-Signature``
checked before it is parsed; the answer (200) goes back at once and each event is handled in the
background, in order per conversation (see :mod:`bot.channels.line.processor`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from rasa.core.tracker_store import TrackerStore
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import english_meaning, settings
from bot.channels.desks import crisis_desk
from bot.channels.line.client import LineApiClient
from bot.channels.line.config import LineConfig
from bot.channels.line.dedup import EventMemory
from bot.channels.line.events import LineEvent, PayloadError, parse_body
from bot.channels.line.keep import ChecklistKeeper
from bot.channels.line.processor import CHANNEL_NAME, HANDLED_EVENTS, EventProcessor, OnNewMessage, tell
from bot.channels.line.serial import SerialJobs
from bot.channels.line.signature import verify_signature
from bot.channels.line.texts import LineTexts, load_texts
from bot.crisis import CrisisDesk
from bot.dialogue.live import LiveKnowledge
from bot.language import LanguageDesk
from bot.language import load_desk as load_language_desk
from bot.metrics import count_line_events

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Line-Signature"
SHUTDOWN_GRACE_SECONDS = 10.0


class LineInput(InputChannel):
    """LINE Messaging API channel (on when ``LINE_CHANNEL_SECRET`` is set)."""

    @classmethod
    def name(cls) -> str:
        """URL prefix and channel name: ``/webhooks/line/...``."""
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> LineInput:
        """Builds the channel from its ``credentials.yml`` section (may be empty) and the environment."""
        return cls(LineConfig.from_sources(credentials))

    def __init__(
        self,
        config: LineConfig | None = None,
        *,
        texts: LineTexts | None = None,
        memory: EventMemory | None = None,
        client: LineApiClient | None = None,
        crisis: CrisisDesk | None = None,
    ) -> None:
        """Creates the channel; nothing is opened until the server runs.

        Args:
            config: configuration (default: from the environment).
            texts: the channel's own texts (default: ``data/line/messages.yml`` of the settings).
            memory: event-id memory (default: the project's stores).
            client: Messaging API client (default: one for ``config``).
            crisis: answers crises from data when a turn fails (default: from the data files).
        """
        self.config = config or LineConfig.from_sources(None)
        self._texts = texts
        self._crisis = crisis
        self._memory = memory or EventMemory()
        self.client = client or LineApiClient(self.config)
        self.jobs = SerialJobs(self.config.max_pending_per_user)
        #: Events the flood guard dropped since start (each time the resident is told once per body).
        self.dropped_events = 0
        self._notices: set[asyncio.Task] = set()
        self._app: Any = None

    def get_output_channel(self) -> OutputChannel | None:
        """None: answers need a LINE chat id, which only an incoming event carries (never stored)."""
        return None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The Sanic blueprint with ``GET /`` (health) and ``POST /webhook``."""
        bp = Blueprint(f"line_webhook_{id(self)}", __name__)
        processor = self._processor(on_new_message) if self.config.enabled else None
        if processor is None:
            logger.warning("line: LINE_CHANNEL_SECRET is not set; the LINE webhook answers 503")
        elif not self.config.access_token:
            logger.error("line: LINE_CHANNEL_ACCESS_TOKEN is not set; the bot cannot answer on LINE")

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if processor else "disabled"})

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            if processor is None:
                return _error(503, "line_disabled", "LINE_CHANNEL_SECRET is not set on this server")
            return await self._receive(request, processor)

        @bp.listener("before_server_stop")
        async def drain(*_: Any) -> None:
            await self.shutdown()

        return bp

    async def shutdown(self) -> None:
        """Lets running turns finish (bounded), then closes the HTTP session."""
        try:
            await asyncio.wait_for(self.jobs.join(), timeout=SHUTDOWN_GRACE_SECONDS)
        except asyncio.TimeoutError:
            logger.warning("line: unfinished turns cancelled at shutdown")
        await self.jobs.cancel()
        await self.client.close()

    def _processor(self, on_new_message: OnNewMessage) -> EventProcessor:
        conf = settings.load()
        if self._texts is None:
            self._texts = load_texts(conf.data_dir / "line")
        if self._crisis is None:
            self._crisis = crisis_desk()
        return EventProcessor(
            self.config,
            self.client,
            self._texts,
            self._memory,
            on_new_message,
            self._tracker_store,
            crisis=self._crisis,
            languages=_language_desk(conf.data_dir, self._crisis),
            keeper=ChecklistKeeper(LiveKnowledge(conf, faq=_no_faq).now),
        )

    def _tracker_store(self) -> TrackerStore | None:
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        return getattr(agent, "tracker_store", None)

    async def _receive(self, request: Request, processor: EventProcessor) -> HTTPResponse:
        self._app = request.app
        body = await _read_capped(request, self.config.max_body_bytes)
        if body is None:
            limit = self.config.max_body_bytes
            return _error(413, "body_too_large", f"webhook bodies are limited to {limit} bytes")
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return _error(401, "missing_signature", f"{SIGNATURE_HEADER} header is required")
        if not verify_signature(self.config.channel_secret, body, signature):
            logger.warning("line: webhook with a wrong signature refused")
            return _error(401, "invalid_signature", f"{SIGNATURE_HEADER} does not match the body")
        try:
            events = parse_body(body)
        except PayloadError as error:
            return _error(400, "bad_payload", str(error))
        count_line_events("received", len(events))
        dropped: dict[str, list[LineEvent]] = {}
        for event in events:
            key = self._dispatch(event, processor)
            if key is not None:
                dropped.setdefault(key, []).append(event)
        for lost in dropped.values():
            self._tell_dropped(lost, processor)
        return response.json({})

    def _tell_dropped(self, lost: list[LineEvent], processor: EventProcessor) -> None:
        """One polite message per conversation and body, with the first dropped event's reply token."""
        logger.warning("line: %d event(s) of one conversation dropped by the flood guard", len(lost))
        self.dropped_events += len(lost)
        count_line_events("dropped", len(lost))
        task = asyncio.get_running_loop().create_task(
            tell(processor, lost[0], processor.with_city_phone(self._texts.flood))
        )
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    def _dispatch(self, event: LineEvent, processor: EventProcessor) -> str | None:
        """Queues the event's turn; returns its conversation key when the flood guard dropped it."""
        if event.mode == "standby":
            logger.debug("line: standby %s event ignored", event.type)
            return None
        if event.type not in HANDLED_EVENTS:
            logger.info("line: event type %.40s ignored", event.type)
            return None
        key = processor.conversation_of(event)
        if key is None:
            logger.info("line: %s event without a chat ignored", event.type)
            return None
        return None if self.jobs.submit(key, lambda: processor.process(event)) else key


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """Reads the streamed body; ``None`` as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, code: str, detail: str) -> HTTPResponse:
    return response.json({"error": code, "detail": detail}, status=status)


def _no_faq() -> None:
    """Checklists need no FAQ: the keeper's knowledge leaves the FAQ base closed."""
    return None


def _language_desk(data_dir, crisis: CrisisDesk) -> LanguageDesk | None:
    """The desk answering messages not in Japanese; None (logged) when its data files are broken."""
    try:
        return load_language_desk(data_dir, **english_meaning.desk_options(crisis))
    except Exception as error:  # noqa: BLE001 — a broken translation must not stop the channel
        logger.error("line: answers in other languages are off (%s)", type(error).__name__)
        return None
