"""Test bench for the LINE channel: stand-in LINE platform, echo bot, real Sanic server (fixtures: conftest).

``platform`` is an aiohttp server on 127.0.0.1 that behaves like the parts of the Messaging API the channel
uses: a reply token works once (tokens starting with ``expired`` never), a push with an already accepted
``X-Line-Retry-Key`` gets 409, and each path can be told to answer with scripted statuses first
(``accepted-500`` accepts the messages and still answers 500, like a platform hiccup). Every call is recorded
(path, headers, JSON) and every accepted message list is in ``platform.delivered``.

``line`` starts the channel blueprint in a real Sanic server, registered the way Rasa registers input
channels, with an echo bot behind it (a real coroutine driving a ``CollectingOutputChannel`` like Rasa's
processor does, and saving each turn in a real Rasa tracker store).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web
from rasa.core.channels.channel import UserMessage, register
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from sanic import Sanic

from bot.channels.line import LineInput
from bot.channels.line.config import LineConfig
from bot.channels.line.signature import compute_signature

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "8c9bd2bd66e8fa4d0ab7f0a1c5e1b2a3"
TOKEN = "test-channel-access-token"
USER_ID = "U4af4980629e1b2c3d4e5f60718293a4b"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_payload(name: str, **event_fields: Any) -> dict[str, Any]:
    """A recorded webhook payload; keyword arguments replace fields of its first event."""
    payload = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    if event_fields:
        payload["events"][0].update(copy.deepcopy(event_fields))
    return payload


def text_event(text: str, event_id: str, reply_token: str | None = None, user_id: str = USER_ID) -> dict:
    """A text message event like the recorded one, with its own id, token and text."""
    event = load_payload("text_message")["events"][0]
    event["webhookEventId"] = event_id
    event["replyToken"] = reply_token or f"rt-{event_id}"
    event["message"]["text"] = text
    event["source"]["userId"] = user_id
    return event


# --------------------------------------------------------------------------------------- platform


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    body: bytes


@dataclass
class FakeLinePlatform:
    """Stand-in for api.line.me (and, under ``/data``, api-data.line.me)."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    scripts: dict[str, list[Any]] = field(default_factory=dict)
    used_tokens: set[str] = field(default_factory=set)
    retry_keys: set[str] = field(default_factory=set)
    rich_menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    default_menu: str | None = None
    upload_status: int | None = None  # answer image uploads with this status instead

    def script(self, path: str, *answers: Any) -> None:
        """Answers the next calls to ``path`` with these statuses (ints) or ``"accepted-500"``."""
        self.scripts.setdefault(path, []).extend(answers)

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    @property
    def sends(self) -> list[Call]:
        """Every reply/push call, in order."""
        return [c for c in self.calls if c.path in ("/v2/bot/message/reply", "/v2/bot/message/push")]

    def delivered_texts(self) -> list[str]:
        return [m.get("text", m.get("altText")) for d in self.delivered for m in d["messages"]]

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw and request.content_type == "application/json" else None
        except ValueError:
            body = None
        self.calls.append(Call(request.method, request.path, dict(request.headers), body, raw))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"message": "Authentication failed"}, status=401)
        scripted = self.scripts.get(request.path)
        answer = scripted.pop(0) if scripted else None
        if isinstance(answer, int):
            return web.json_response({"message": f"scripted {answer}"}, status=answer)
        return self._route(request, body, raw, accepted_but_500=answer == "accepted-500")

    def _route(self, request: web.Request, body: Any, raw: bytes, accepted_but_500: bool) -> web.Response:
        path, method = request.path, request.method
        if path == "/v2/bot/message/reply":
            token = body["replyToken"]
            if token in self.used_tokens or token.startswith("expired"):
                return web.json_response({"message": "Invalid reply token"}, status=400)
            self.used_tokens.add(token)
            return self._accept("reply", token, body, accepted_but_500)
        if path == "/v2/bot/message/push":
            key = request.headers.get("X-Line-Retry-Key")
            if key in self.retry_keys:
                return web.json_response({"message": "The retry key is already accepted"}, status=409)
            if key:
                self.retry_keys.add(key)
            return self._accept("push", body["to"], body, accepted_but_500)
        if path == "/v2/bot/chat/loading/start":
            return web.json_response({}, status=202)
        return self._rich_menu(method, path, body, raw, request.content_type)

    def _accept(self, kind: str, target: str, body: Any, accepted_but_500: bool) -> web.Response:
        assert 1 <= len(body["messages"]) <= 5, "LINE accepts 1-5 messages per call"
        self.delivered.append({"kind": kind, "target": target, "messages": body["messages"]})
        if accepted_but_500:
            return web.json_response({"message": "Internal error"}, status=500)
        return web.json_response({"sentMessages": [{"id": str(i)} for i in range(len(body["messages"]))]})

    def _rich_menu(self, method: str, path: str, body: Any, raw: bytes, content_type: str) -> web.Response:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v2/bot/richmenu/validate":
            return web.json_response({})
        if method == "POST" and path == "/v2/bot/richmenu":
            menu_id = f"richmenu-{uuid.uuid4().hex}"
            self.rich_menus[menu_id] = dict(body, richMenuId=menu_id)
            return web.json_response({"richMenuId": menu_id})
        if method == "GET" and path == "/v2/bot/richmenu/list":
            return web.json_response({"richmenus": list(self.rich_menus.values())})
        if path == "/v2/bot/user/all/richmenu":
            if method == "GET":
                if self.default_menu is None:
                    return web.json_response({"message": "no default rich menu"}, status=404)
                return web.json_response({"richMenuId": self.default_menu})
            self.default_menu = None
            return web.json_response({})
        if parts[:2] == ["data", "v2"] and parts[-1] == "content" and method == "POST":
            menu_id = parts[-2]
            if menu_id not in self.rich_menus:
                return web.json_response({"message": "Not found"}, status=404)
            if self.upload_status is not None:
                return web.json_response({"message": "Invalid image"}, status=self.upload_status)
            self.images[menu_id] = (content_type, raw)
            return web.json_response({})
        if parts[:5] == ["v2", "bot", "user", "all", "richmenu"] and method == "POST":
            if parts[5] not in self.rich_menus or parts[5] not in self.images:
                return web.json_response({"message": "must upload richmenu image"}, status=400)
            self.default_menu = parts[5]
            return web.json_response({})
        if parts[:3] == ["v2", "bot", "richmenu"] and len(parts) == 4:
            menu = self.rich_menus.get(parts[3])
            if menu is None:
                return web.json_response({"message": "Not found"}, status=404)
            if method == "DELETE":
                del self.rich_menus[parts[3]]
                if self.default_menu == parts[3]:
                    self.default_menu = None
                return web.json_response({})
            return web.json_response(menu)
        return web.json_response({"message": "Not found"}, status=404)


def line_config(platform: FakeLinePlatform, **overrides: Any) -> LineConfig:
    values: dict[str, Any] = {
        "channel_secret": SECRET,
        "access_token": TOKEN,
        "api_base_url": platform.url,
        "api_data_base_url": platform.url + "/data",
        "backoff_seconds": 0.01,
    }
    values.update(overrides)
    return LineConfig(**values)


# --------------------------------------------------------------------------------------- echo bot


class EchoBot:
    """Rasa's ``on_new_message`` stand-in: saves the turn in a tracker store and answers through the
    output channel exactly as Rasa's processor does (``send_response`` with a message dict).

    Commands: ``slow:<seconds> ...`` waits first; ``many:<n>`` answers n texts; ``long:<n>`` one text of
    n characters; ``buttons:<n>`` n buttons; ``card`` a procedure answer (``cards:<n>`` n of them);
    ``boom`` (alone or before other words) fails. Anything else: ``echo: <text>`` with one button.
    """

    def __init__(self, tracker_store: TrackerStore) -> None:
        self.tracker_store = tracker_store
        self.seen: list[tuple[str, str]] = []
        self.started: list[str] = []

    async def __call__(self, message: UserMessage) -> None:
        text = message.text or ""
        self.started.append(text)
        if text.startswith("slow:"):
            await asyncio.sleep(float(text.split()[0].split(":")[1]))
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(text))
        await self.tracker_store.save(tracker)
        self.seen.append((message.sender_id, text))
        for answer in self.answers(text):
            await message.output_channel.send_response(message.sender_id, answer)

    @staticmethod
    def answers(text: str) -> list[dict[str, Any]]:
        command, _, arg = text.partition(":")
        if text.split(" ")[0] == "boom":
            raise RuntimeError("the bot broke")
        if command == "many":
            return [{"text": f"answer {i}"} for i in range(int(arg))]
        if command == "long":
            return [{"text": "あ" * int(arg)}]
        if command == "buttons":
            buttons = [
                {"title": f"button number {i} with a long title", "payload": f"/b{i}"}
                for i in range(int(arg))
            ]
            return [{"text": "choose", "buttons": buttons}]
        if command == "cards":
            return [{"text": f"card {i}", "custom": {"madoguchi": PROCEDURE_CARD}} for i in range(int(arg))]
        if text == "card":
            return [
                {
                    "text": "住民票の写し: 市民課の窓口、コンビニ、オンラインで取れます。",
                    "buttons": [{"title": "くわしく見る", "payload": '/ask_details{"procedure":"juminhyo"}'}],
                    "custom": {"madoguchi": PROCEDURE_CARD},
                }
            ]
        return [{"text": f"echo: {text}", "buttons": [{"title": "はい", "payload": "/affirm"}]}]


PROCEDURE_CARD = {
    "kind": "procedure",
    "procedure": "juminhyo",
    "name": "住民票の写しの交付",
    "summary": "住所を証明する書類です。本人か同じ世帯の人が請求できます。",
    "deadline": None,
    "bring": ["本人確認書類(運転免許証など)", "手数料"],
    "fee": "1通300円",
    "where": ["市民課の窓口", "コンビニ", "オンライン"],
    "online": {"url": "https://e-shinsei.example.jp/sample-city/juminhyo", "requires_mynumber_card": True},
    "department": {"name": "市民課", "phone": "0120-000-123"},
}


# --------------------------------------------------------------------------------------- server


@dataclass
class LineHarness:
    """The channel inside a running Sanic server, with its platform and bot."""

    platform: FakeLinePlatform
    channel: LineInput
    bot: EchoBot
    tracker_store: TrackerStore
    url: str
    session: aiohttp.ClientSession

    async def post(
        self, payload: Any, *, signature: str | None | Callable[[bytes], str] = "valid", **headers: str
    ) -> tuple[int, Any, float]:
        """POSTs a webhook body; returns status, JSON answer and seconds until the answer came."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        sent_headers = {"Content-Type": "application/json", **headers}
        if signature == "valid":
            sent_headers["X-Line-Signature"] = compute_signature(SECRET, body)
        elif signature is not None:
            sent_headers["X-Line-Signature"] = signature
        started = time.perf_counter()
        async with self.session.post(self.url, data=body, headers=sent_headers) as resp:
            answer = await resp.json(content_type=None)
            return resp.status, answer, time.perf_counter() - started

    async def settle(self) -> None:
        """Waits until every queued event was handled."""
        await asyncio.wait_for(self.channel.jobs.join(), timeout=15)


@contextlib.asynccontextmanager
async def serve_line(
    channel: LineInput, platform: FakeLinePlatform, tracker_store: TrackerStore | None = None
) -> AsyncIterator[LineHarness]:
    """Runs ``channel`` in a Sanic server (routes as Rasa registers them) with an :class:`EchoBot`."""
    tracker_store = tracker_store or InMemoryTrackerStore(Domain.empty())
    bot = EchoBot(tracker_store)
    app = Sanic(f"line_test_{uuid.uuid4().hex}")
    app.ctx.agent = SimpleNamespace(tracker_store=tracker_store, handle_message=bot)
    register([channel], app, route="/webhooks/")  # exactly as `rasa run` mounts input channels
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.start_serving()
    session = aiohttp.ClientSession()
    try:
        yield LineHarness(
            platform, channel, bot, tracker_store, f"http://127.0.0.1:{port}/webhooks/line/webhook", session
        )
    finally:
        await session.close()
        await server.before_stop()
        server.close()
        await server.wait_closed()


class ThreadedPlatform:
    """A :class:`FakeLinePlatform` served from its own thread and event loop, for tests whose bot runs in
    another process (the end-to-end test) and which wait synchronously."""

    def __init__(self) -> None:
        self.platform = FakeLinePlatform()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="line-platform", daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> FakeLinePlatform:
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("the stand-in LINE platform did not start")
        return self.platform

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.platform.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.platform.url = f"http://127.0.0.1:{port}"


def post(bot, payload: dict, signed: bool = True) -> tuple[int, float]:
    """POSTs a webhook body to the real bot's LINE channel; (status, seconds until the ack)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Line-Signature"] = compute_signature(SECRET, body)
    request = urllib.request.Request(f"{bot.rasa_url}/webhooks/line/webhook", data=body, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback
            return reply.status, time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, time.perf_counter() - started
