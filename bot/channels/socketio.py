"""Rasa's socket.io channel, made to work with python-socketio 5.x, and with the Origin check on.

Three problems of Rasa 3.6's ``SocketIOInput`` with the python-socketio the lock pins (5.18):

* it creates its server with ``cors_allowed_origins=[]``, which tells python-engineio to skip the Origin
  check entirely: any web page on the internet could open a socket to the assistant in a resident's
  browser. Here only the city's origins (``CORS_ORIGINS``, the REST channel's list) may connect;
* it calls ``sio.enter_room`` without ``await`` (a coroutine since python-socketio 5.x: "never awaited"),
  so with ``session_persistence`` the socket never joins its session's room and every answer is sent to
  a room nobody is in: the channel never answered;
* its ``send_custom_json`` passes the ``custom`` payload as keyword arguments of ``AsyncServer.emit``, so
  every structured message (procedure cards, and the 119/110, crisis-line and DV answers) raised
  ``emit() got an unexpected keyword argument 'madoguchi'``. Here it is sent as the REST channel sends
  it: ``{"custom": {...}}`` on the bot event, after the text message that carries the same answer.

When a turn fails (Redis down or hung, the action server dead, the model not loaded) or a crisis
message's turn is slow, the channel answers itself, as the REST channel does: a message the crisis desk
flags (:mod:`bot.crisis`: the safety rules and the trained model's meaning classifier) gets its 119/110,
crisis-line, DV or abuse answer from the data files after at most ``crisis_timeout_s`` (a late answer of
the turn is then dropped, never sent twice); any other message gets the error text of
``data/messages.yml`` (``channel.error``: the city's number and 119/110) with a coded
``custom.madoguchi`` of kind ``error``.

The resident's text is never logged: a failed turn logs only the code and the exception type.

credentials.yml: ``bot.channels.socketio.OriginCheckedSocketIOInput:`` with Rasa's usual socket.io keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

import yaml
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from socketio import AsyncServer

from bot import english_meaning, language, romaji, settings
from bot.analytics.recorder import TurnRecorder
from bot.channels.desks import crisis_answer, crisis_desk, off_loop
from bot.channels.turn_watch import install_action_failure_watch, watching_turn
from bot.channels.web import EMERGENCY_NUMBERS, turn_failure
from bot.crisis import BackgroundTurns, CrisisDesk
from bot.metrics import TurnRecord, observe_turn
from bot.understanding.worker import UnderstandingBusy

logger = logging.getLogger(__name__)

#: Same rules as the REST channel's ``sender`` (a session id becomes the conversation id).
_SESSION_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
MAX_MESSAGE_CHARS = 1_000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: How long a crisis message waits for the normal turn before the channel answers it from data (as the
#: REST channel's default ``crisis_timeout_s``).
CRISIS_TIMEOUT_S = 3.0
#: How long any other turn may take before the resident gets the error text.
TURN_TIMEOUT_S = 30.0
#: Where the channel's error text lives (``data/messages.yml``) and its placeholder for the city's number.
MESSAGES_FILE = "messages.yml"
ERROR_TEXT_KEY = ("channel", "error")
CITY_PHONE_PLACEHOLDER = "{city_phone}"


def allowed_origins(value: str | None = None) -> List[str]:
    """The origins from ``CORS_ORIGINS`` (space or comma separated); "*" is refused."""
    raw = os.environ.get("CORS_ORIGINS", "") if value is None else value
    origins = [o.strip().rstrip("/") for o in raw.replace(",", " ").split() if o.strip()]
    if "*" in origins:
        raise ValueError("CORS_ORIGINS must list the city's origins; '*' would let any site connect")
    return origins


class MadoguchiSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output with ``custom`` payloads sent as ``{"custom": ...}`` to the session."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, namespace: str | None = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace
        #: The bot messages of this turn, as Rasa produced them (for the analytics record).
        self.sent: List[Dict[str, Any]] = []
        #: Set when the channel answered for the turn (crisis from data, or the error text): what the
        #: turn still produces afterwards is dropped, so the resident never gets two answers.
        self.closed = False

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if self.closed:
            return
        self.sent.append(dict(message))
        await super().send_response(recipient_id, message)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if self.closed:
            return
        await self.sio.emit(self.bot_message_evt, response, room=socket_id, namespace=self.namespace)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


def error_text(data_dir: Path, phone: str) -> str:
    """The channel's error text from ``data/messages.yml``, with the city's number filled in.

    Raises:
        ValueError: the file has no ``channel.error`` text (read at start-up: a broken file stops the start).
    """
    raw = yaml.safe_load((data_dir / MESSAGES_FILE).read_text(encoding="utf-8")) or {}
    text = raw
    for key in ERROR_TEXT_KEY:
        text = text.get(key) if isinstance(text, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{data_dir / MESSAGES_FILE}: {'.'.join(ERROR_TEXT_KEY)} is missing")
    return text.replace(CITY_PHONE_PLACEHOLDER, phone)


def error_message(text: str, code: str, phone: str) -> Dict[str, Any]:
    """The bot message of a failed turn: the text, and a coded payload any client can act on."""
    payload = {"kind": "error", "code": code, "phone": phone, "emergency": list(EMERGENCY_NUMBERS)}
    return {"text": text, "custom": {"madoguchi": payload}}


def _session_id(data: Any) -> str:
    """The session id the client asked for when it is well-formed, else a new one."""
    wanted = data.get("session_id") if isinstance(data, dict) else None
    return wanted if isinstance(wanted, str) and _SESSION_ID.match(wanted) else uuid.uuid4().hex


class OriginCheckedSocketIOInput(SocketIOInput):
    """socket.io input channel: Origin check, awaited room joins, custom payloads that reach the client."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    crisis_timeout_s = CRISIS_TIMEOUT_S
    turn_timeout_s = TURN_TIMEOUT_S

    @property
    def crisis(self) -> CrisisDesk:
        """The crisis desk (built at start-up, as the REST channel's: rules, answers, meaning classifier)."""
        if getattr(self, "_crisis", None) is None:
            self._crisis = crisis_desk()
        return self._crisis

    @property
    def error_text(self) -> str:
        """The text a failed turn is answered with (the city's number and 119/110)."""
        if getattr(self, "_error_text", None) is None:
            self._error_text = error_text(settings.load().data_dir, self.crisis.city_phone)
        return self._error_text

    @property
    def languages(self) -> language.LanguageDesk | None:
        """Answers messages not in Japanese, as on REST (:mod:`bot.language`); None when its data files
        are broken (logged once: Japanese residents are still answered)."""
        if not getattr(self, "_languages_loaded", False):
            self._languages_loaded = True
            self._languages = None
            try:
                self._languages = language.load_desk(
                    settings.load().data_dir, **english_meaning.desk_options(self.crisis)
                )
            except Exception as error:  # noqa: BLE001 — a broken translation must not stop the channel
                logger.error("socketio: the language desk is unavailable: exception=%s", type(error).__name__)
        return self._languages

    @property
    def background(self) -> BackgroundTurns:
        """Crisis turns the channel answered from data but lets finish (created on first use)."""
        if getattr(self, "_background", None) is None:
            self._background = BackgroundTurns(
                lambda error: logger.error(
                    "socketio: a crisis turn failed in the background: exception=%s", type(error).__name__
                )
            )
        return self._background

    @property
    def usage(self) -> TurnRecorder:
        """Records each turn for 利用状況 (created on first use; Rasa builds the channel itself)."""
        if getattr(self, "_usage", None) is None:
            self._usage = TurnRecorder()
        return self._usage

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        creds = credentials or {}
        channel.origins = allowed_origins(creds.get("cors_origins"))
        channel.crisis_timeout_s = float(creds.get("crisis_timeout_s", CRISIS_TIMEOUT_S))
        channel.turn_timeout_s = float(creds.get("turn_timeout_s", TURN_TIMEOUT_S))
        return channel

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return MadoguchiSocketIOOutput(self.sio, self.bot_message_evt, self.namespace)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        install_action_failure_watch()
        self.error_text  # noqa: B018 — read the data files now: a broken file stops the start, loudly
        self.languages  # noqa: B018 — embed the English texts now (cached on disk), not on a first message
        # An explicit list makes engineio check the Origin header of every request and upgrade.
        self.sio.eio.cors_allowed_origins = list(getattr(self, "origins", None) or allowed_origins())
        # python-socketio keeps one handler per event: these replace Rasa's two broken ones.
        self.sio.on("session_request", namespace=self.namespace)(self._session_request)
        self.sio.on(self.user_message_evt, namespace=self.namespace)(
            self._make_message_handler(on_new_message)
        )
        return blueprint

    async def _session_request(self, sid: str, data: Any) -> None:
        session_id = _session_id(data)
        if self.session_persistence:
            await self.sio.enter_room(sid, session_id, namespace=self.namespace)
        await self.sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

    def _user_message(self, sid: str, data: Any) -> UserMessage | None:
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return None
        text = data["message"]
        if not text.strip() or len(text) > MAX_MESSAGE_CHARS or _LONE_SURROGATE.search(text):
            return None
        if self.session_persistence:
            sender = data.get("session_id")
            if not isinstance(sender, str) or not _SESSION_ID.match(sender):
                return None
        else:
            sender = sid
        metadata = data.get(self.metadata_key) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = {}
        if not isinstance(metadata, dict):
            metadata = {}
        output = MadoguchiSocketIOOutput(self.sio, self.bot_message_evt, self.namespace)
        return UserMessage(text, output, sender, input_channel=self.name(), metadata=metadata)

    def _make_message_handler(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Callable[[str, Any], Awaitable[None]]:
        async def handle_message(sid: str, data: Any) -> None:
            message = self._user_message(sid, data)
            if message is None:
                logger.warning("socketio: a malformed message event was ignored")
                return
            started = time.perf_counter()
            if await self._answer_other_language(message):
                observe_turn(TurnRecord(self.name(), "other_language", time.perf_counter() - started))
                return
            # Japanese typed in romaji: the turn (NLU, safety rules, crisis desk, catalog) reads it in kana
            message.text = romaji.reading(message.text)
            outcome, code = await self._answer(message, on_new_message)
            observe_turn(TurnRecord(self.name(), outcome, time.perf_counter() - started, code))

        return handle_message

    async def _answer_other_language(self, message: UserMessage) -> bool:
        """Answers a message not in Japanese from data (English card or notice), as on REST."""
        desk = self.languages
        hint = message.metadata.get("lang") if message.metadata else None
        try:  # CPU work (e5 for a foreign message): on the understanding thread
            answer = (
                await off_loop(desk.answer, message.text, hint if isinstance(hint, str) else None)
                if desk
                else None
            )
        except UnderstandingBusy:
            answer = None  # the Japanese turn then fails "overloaded" with the error text (or the crisis)
        if not answer:
            return False
        await self._send(message.sender_id, list(answer))
        self.usage.turn(self.name(), message.sender_id, message.text, list(answer))
        return True

    async def _answer(
        self, message: UserMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> tuple[str, str | None]:
        """Runs the turn, or answers for it when it fails or a crisis is late; the (outcome, code)."""
        output: MadoguchiSocketIOOutput = message.output_channel
        crisis = await crisis_answer(self.crisis, message.text)
        try:
            with watching_turn() as watch:
                if crisis is None:
                    await asyncio.wait_for(on_new_message(message), timeout=self.turn_timeout_s)
                else:
                    await self.background.wait(on_new_message(message), self.crisis_timeout_s)
            code = "action_failed" if watch.action_failed else None
        except Exception as error:  # noqa: BLE001 — logged without the resident's text
            code = turn_failure(error).code
            logger.error("socketio turn failed: code=%s exception=%s", code, type(error).__name__)
        if code is None:
            self.usage.turn(self.name(), message.sender_id, message.text, output.sent)
            return "answered", None
        output.closed = True
        if crisis is not None and not _has_safety_answer(output.sent):
            logger.warning("socketio turn failed: code=%s; the crisis was answered from the data files", code)
            await self._send(message.sender_id, crisis)
            self.usage.turn(self.name(), message.sender_id, message.text, crisis)
            return "crisis_from_data", code
        if crisis is None:
            answer = error_message(self.error_text, code, self.crisis.city_phone)
            await self._send(message.sender_id, [answer])
            self.usage.failed_turn(self.name(), message.sender_id)
            return "error", code
        return "answered", code

    async def _send(self, recipient_id: str, messages: List[Dict[str, Any]]) -> None:
        """Sends messages the channel composed itself (on a fresh output: the turn's one is closed)."""
        output = MadoguchiSocketIOOutput(self.sio, self.bot_message_evt, self.namespace)
        for bot_message in messages:
            await output.send_response(recipient_id, bot_message)


def _has_safety_answer(sent: List[Dict[str, Any]]) -> bool:
    """Whether the turn had already sent a safety answer before it failed."""
    return any(((m.get("custom") or {}).get("madoguchi") or {}).get("kind") == "safety" for m in sent)
