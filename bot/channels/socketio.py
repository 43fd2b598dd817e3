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

The resident's text is never logged: a failed turn logs only the exception type.

credentials.yml: ``bot.channels.socketio.OriginCheckedSocketIOInput:`` with Rasa's usual socket.io keys.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from socketio import AsyncServer

from bot.analytics.recorder import TurnRecorder
from bot.metrics import TurnRecord, observe_turn

logger = logging.getLogger(__name__)

#: Same rules as the REST channel's ``sender`` (a session id becomes the conversation id).
_SESSION_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
MAX_MESSAGE_CHARS = 1_000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self.sent.append(dict(message))
        await super().send_response(recipient_id, message)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await self.sio.emit(self.bot_message_evt, response, room=socket_id, namespace=self.namespace)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


def _session_id(data: Any) -> str:
    """The session id the client asked for when it is well-formed, else a new one."""
    wanted = data.get("session_id") if isinstance(data, dict) else None
    return wanted if isinstance(wanted, str) and _SESSION_ID.match(wanted) else uuid.uuid4().hex


class OriginCheckedSocketIOInput(SocketIOInput):
    """socket.io input channel: Origin check, awaited room joins, custom payloads that reach the client."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @property
    def usage(self) -> TurnRecorder:
        """Records each turn for 利用状況 (created on first use; Rasa builds the channel itself)."""
        if getattr(self, "_usage", None) is None:
            self._usage = TurnRecorder()
        return self._usage

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        channel.origins = allowed_origins((credentials or {}).get("cors_origins"))
        return channel

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return MadoguchiSocketIOOutput(self.sio, self.bot_message_evt, self.namespace)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
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
            outcome, code = "answered", None
            try:
                await on_new_message(message)
                self.usage.turn(self.name(), message.sender_id, message.text, message.output_channel.sent)
            except Exception as error:  # noqa: BLE001 - logged without the resident's text
                logger.error("socketio turn failed: exception=%s", type(error).__name__)
                outcome, code = "error", "internal_error"
            observe_turn(TurnRecord(self.name(), outcome, time.perf_counter() - started, code))

        return handle_message
