"""Rasa's socket.io channel with the Origin check switched back on.

Rasa 3.6 creates its socket.io server with ``cors_allowed_origins=[]``, which tells python-engineio to
skip the Origin check entirely: any web page on the internet could open a socket to the assistant in a
resident's browser. This channel allows only the city's origins (``CORS_ORIGINS``, the same list the
REST channel's CORS uses).

credentials.yml: ``bot.channels.socketio.OriginCheckedSocketIOInput:`` with Rasa's usual socket.io keys.
"""

from __future__ import annotations

import os
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint


def allowed_origins(value: str | None = None) -> List[str]:
    """The origins from ``CORS_ORIGINS`` (space or comma separated); "*" is refused."""
    raw = os.environ.get("CORS_ORIGINS", "") if value is None else value
    origins = [o.strip().rstrip("/") for o in raw.replace(",", " ").split() if o.strip()]
    if "*" in origins:
        raise ValueError("CORS_ORIGINS must list the city's origins; '*' would let any site connect")
    return origins


class OriginCheckedSocketIOInput(SocketIOInput):
    """socket.io input channel that rejects connections from origins not in ``CORS_ORIGINS``."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        channel.origins = allowed_origins((credentials or {}).get("cors_origins"))
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        # An explicit list makes engineio check the Origin header of every request and upgrade.
        self.sio.eio.cors_allowed_origins = list(getattr(self, "origins", None) or allowed_origins())
        return blueprint
