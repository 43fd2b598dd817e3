"""Servers and constants shared by the widget's browser tests (imported by conftest and the tests).

* :class:`StandInRasa` answers ``POST /webhooks/rest/webhook`` from ``standin_replies.json`` the way
  Rasa's REST channel does (a JSON list of ``{recipient_id, text, buttons}``), adds ``furigana`` with the
  real :func:`bot.channels.web.add_furigana` when asked, sends CORS headers and records every request;
* :class:`Served` runs an aiohttp app on loopback in a :class:`BackgroundLoop` thread and can stop
  listening and listen again on the same port (a server that cannot be reached, then comes back).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.web import add_furigana

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "tests" / "artifacts"
REPLIES = Path(__file__).with_name("standin_replies.json")
CITY_PHONE = "012-345-6700"
#: What the widget sends, once per conversation, when it is first opened (its starter buttons).
STARTER_PAYLOAD = "/ask_procedure"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class BackgroundLoop:
    """An asyncio loop in a daemon thread, for aiohttp servers used by synchronous browser tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="widget-test-servers", daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 15.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self._cancel_pending())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    @staticmethod
    async def _cancel_pending() -> None:
        """Cancels requests still being answered (a slow stand-in answer) so that none is left dangling."""
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Served:
    """One aiohttp app on loopback that can stop listening and listen again on the same port."""

    def __init__(self, bg: BackgroundLoop, app: web.Application) -> None:
        self.bg = bg
        self.runner = web.AppRunner(app, access_log=None)
        self.site: web.TCPSite | None = None
        self.port = 0
        self.listening = False

    async def _listen(self) -> None:
        self.site = web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True)
        await self.site.start()
        self.port = self.site._server.sockets[0].getsockname()[1]
        self.listening = True

    def start(self) -> Served:
        self.bg.run(self.runner.setup())
        self.bg.run(self._listen())
        return self

    def stop_listening(self) -> None:
        self.bg.run(self.site.stop())
        self.listening = False

    def listen_again(self) -> None:
        self.bg.run(self._listen())

    def cleanup(self) -> None:
        self.bg.run(self.runner.cleanup())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class StandInRasa:
    """Answers ``POST /webhooks/rest/webhook`` like Rasa's REST channel, from canned replies."""

    rules: list[dict[str, Any]]
    fallback: list[dict[str, Any]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    error_status: int | None = None  # answer every request with this HTTP error (e.g. 503)
    delay_s: float = 0.15  # long enough for the typing indicator to be seen

    @classmethod
    def from_file(cls, path: Path) -> StandInRasa:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return cls(rules=doc["rules"], fallback=doc["fallback"])

    def reset(self) -> None:
        self.requests.clear()
        self.error_status = None
        self.delay_s = 0.15

    def rule_for(self, message: str) -> dict[str, Any] | None:
        for rule in self.rules:
            if (
                rule.get("payload") == message
                or ("contains" in rule and rule["contains"] in message)
                or ("pattern" in rule and re.search(rule["pattern"], message))
            ):
                return rule
        return None

    def reply(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        metadata = body.get("metadata") or {}
        rule = self.rule_for(body["message"])
        if rule is None:
            messages = self.fallback
        else:
            messages = rule["yasashii"] if metadata.get("yasashii") and "yasashii" in rule else rule["reply"]
        out = [{"recipient_id": body["sender"], **m} for m in messages]
        return add_furigana(out) if metadata.get("furigana") else out

    def app(self) -> web.Application:
        @web.middleware
        async def cors(request: web.Request, handler):
            if request.method == "OPTIONS":
                resp = web.Response(status=204)
            else:
                resp = await handler(request)
            resp.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
            resp.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            resp.headers["Access-Control-Allow-Headers"] = "Content-Type"
            # no keep-alive: once the server stops listening, the next request fails as it would
            # for a resident (a kept-alive connection from the starter request would still answer)
            resp.force_close()
            return resp

        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            self.requests.append(body)
            if self.error_status:
                return web.json_response(
                    {"error": "stand-in failure", "code": "not_ready"}, status=self.error_status
                )
            await asyncio.sleep(self.delay_s)
            return web.json_response(self.reply(body))

        app = web.Application(middlewares=[cors])
        app.router.add_route("*", "/webhooks/rest/webhook", webhook)
        return app

    def asked(self) -> list[dict[str, Any]]:
        """The requests a resident caused: all but the widget's starter request."""
        return [r for r in self.requests if r["message"] != STARTER_PAYLOAD]

    def messages(self) -> list[str]:
        """Messages of :meth:`asked` (the starter request left out)."""
        return [r["message"] for r in self.asked()]


@dataclass
class WidgetServers:
    standin: StandInRasa
    rasa: Served
    site: Served

    @property
    def page_url(self) -> str:
        return self.site.url + "/"
