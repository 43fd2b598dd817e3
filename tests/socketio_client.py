"""A socket.io client for the end-to-end tests: python-socketio's AsyncClient collecting bot events."""

from __future__ import annotations

import asyncio

import engineio.packet
import socketio
import socketio.packet

#: Longest wait for the whole answer to one message (a turn takes ~0.1 s; the machine is shared).
ANSWER_WITHIN_S = 30


class Conversation:
    """A socket.io client that collects ``bot_uttered`` events."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue = asyncio.Queue()
        self.confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.client.on("bot_uttered", self.events.put_nowait)
        self.client.on("session_confirm", self._confirm)

    def _confirm(self, session_id: str) -> None:
        if not self.confirmed.done():
            self.confirmed.set_result(session_id)

    async def open(self, url: str, origin: str, session_id: str) -> str:
        # Long polling: python-engineio 4.15's WebSocket client needs aiohttp >= 3.10 (ClientWSTimeout),
        # newer than Rasa 3.6 allows; the server side is the same for both transports.
        await self.client.connect(url, headers={"Origin": origin}, transports=["polling"])
        await self.client.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmed, ANSWER_WITHIN_S)

    async def close(self) -> None:
        """Disconnects as ``client.disconnect()`` does (socket.io DISCONNECT, engine.io CLOSE, both posted
        before returning) without waiting out the long poll in flight: python-engineio's ``disconnect()``
        awaits its read loop, whose GET the server answers only at its next ping (~25 s of idle wall time
        per test). Closing the HTTP session ends that GET; the read loop is then awaited (bounded)."""
        eio = self.client.eio
        for namespace in self.client.namespaces:
            await self.client._send_packet(  # noqa: SLF001 - what AsyncClient.disconnect sends first
                self.client.packet_class(socketio.packet.DISCONNECT, namespace=namespace)
            )
        await eio._send_packet(engineio.packet.Packet(engineio.packet.CLOSE))  # noqa: SLF001
        await asyncio.wait_for(eio.queue.join(), ANSWER_WITHIN_S)  # the POST with them was answered
        reader = eio.read_loop_task
        await eio.disconnect(abort=True)
        if reader is not None:
            await asyncio.wait_for(asyncio.shield(reader), ANSWER_WITHIN_S)

    async def say(self, session_id: str, text: str, until_kind: str) -> list[dict]:
        """Sends ``text``; returns the bot events up to the custom message of ``until_kind``."""
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        got: list[dict] = []
        while True:
            event = await asyncio.wait_for(self.events.get(), ANSWER_WITHIN_S)
            got.append(event)
            if ((event.get("custom") or {}).get("madoguchi") or {}).get("kind") == until_kind:
                return got
