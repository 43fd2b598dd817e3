"""The action server: rasa_sdk's executor behind a safer HTTP front.

rasa_sdk 3.6's own server answers an unexpected error with HTTP 500 and a body that echoes the whole
tracker (the resident's messages and slots) and logs the same; Rasa then drops the action's events
with no retry, so the resident sees nothing. Here an action that fails answers with an apology and
the city's number (response ``utter_action_failed``), and the log names only the action and the
exception type and frames, never the request.

The actions themselves (the conversation core: catalog matching, the FAQ ranking, the meaning lookups:
CPU work) run on an event loop of their own, in one thread (:class:`ActionsLoop`), not on the HTTP
server's: ``/health`` and the next requests are answered while an action computes.

Usage: ``python -m bot.action_server --port 5055 [--host 127.0.0.1]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
import traceback
import zlib
from typing import Any, Coroutine

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from bot.metrics import count_action_failure

logger = logging.getLogger("madoguchi.actions")

FAILURE_RESPONSE = "utter_action_failed"
#: Largest action call accepted (a tracker with a long conversation stays far below it).
MAX_BODY = 8 * 1024 * 1024


class ActionsLoop:
    """One thread running an event loop on which every action runs (started on first use). Actions
    interleave on it at their awaits as they did on the server's loop; the server's loop only awaits
    their results."""

    def __init__(self, name: str = "madoguchi-actions") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=self._serve, args=(loop,), name=self._name, daemon=True).start()
                self._loop = loop
            return self._loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.run_forever()

    async def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """The result of ``coro`` run on the actions' loop (cancelled with the awaiting request)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._started()))


class BodyTooLarge(Exception):
    """The (decompressed) action call is larger than :data:`MAX_BODY`."""


def inflate(body: bytes, limit: int = MAX_BODY) -> bytes:
    """Decompresses a deflate body, stopping (raises :class:`BodyTooLarge`) past ``limit`` bytes.

    A 64 KB deflate bomb used to be inflated to 64 MB before any size check.
    """
    inflater = zlib.decompressobj()
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge
    return out


def _decode(request: Request) -> dict | None:
    body = request.body or b""
    if request.headers.get("Content-Encoding") == "deflate":
        try:
            body = inflate(body)
        except zlib.error:
            return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def take_handed_vector(call: dict) -> bool:
    """Puts the message's e5 vector that the Rasa process handed over in the tracker's latest message
    (:mod:`bot.understanding.handover`) into this process's encoder memory, so the FAQ and meaning
    lookups do not embed the message again; returns whether one was taken (a missing or invalid one:
    the text is embedded as before)."""
    from bot.understanding import handover
    from bot.understanding.encoder import default_encoder

    tracker = call.get("tracker")
    latest = tracker.get("latest_message") if isinstance(tracker, dict) else None
    return handover.accept(latest, default_encoder())


def failure_result(main_phone: str) -> dict:
    """What Rasa receives when an action failed: no events, an apology with the city's number."""
    return {"events": [], "responses": [{"response": FAILURE_RESPONSE, "main_phone": main_phone}]}


def create_app(package: str = "actions", name: str = "madoguchi_actions") -> Sanic:
    """Creates the action server app (actions registered from ``package``).

    The city's main number for the apology is read now, from ``departments.yml`` alone (an apology must
    carry it even when some other data file is broken)."""
    from bot import settings
    from bot.crisis import city_phone

    main_phone = city_phone(settings.load().data_dir)
    app = Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY
    executor = ActionExecutor()
    executor.register_package(package)
    actions_loop = ActionsLoop()

    @app.get("/health")
    async def health(_: Request):
        return response.json({"status": "ok"})

    @app.get("/actions")
    async def actions(_: Request):
        return response.json([{"name": k} for k in executor.actions.keys()])

    @app.post("/webhook")
    async def webhook(request: Request):
        try:
            call = _decode(request)
        except BodyTooLarge:
            return response.json({"error": "action call too large"}, status=413)
        if call is None:
            return response.json({"error": "invalid action call"}, status=400)
        action_name = str(call.get("next_action", ""))
        take_handed_vector(call)
        try:
            result = await actions_loop.run(executor.run(call))
        except ActionExecutionRejection as error:
            return response.json({"error": "rejected", "action_name": error.action_name}, status=400)
        except ActionNotFoundException as error:
            logger.error("unknown action requested: %s", error.action_name)
            return response.json({"error": "unknown action", "action_name": error.action_name}, status=404)
        except Exception as error:  # noqa: BLE001 - every failure becomes an apology, never silence
            frames = "".join(traceback.format_tb(error.__traceback__))
            logger.error("action %s failed: %s\n%s", action_name, type(error).__name__, frames)
            count_action_failure(action_name if action_name in executor.actions else "unknown")
            return response.json(failure_result(main_phone))
        return response.json(result or {"events": [], "responses": []})

    @app.exception(SanicException)
    async def on_http_error(request: Request, error: SanicException):
        """404, 405, 413 ... answered with their own status, no ERROR line (a scanner is not a fault)."""
        status = getattr(error, "status_code", 500) or 500
        if status >= 500:
            logger.error("action server error: %s", type(error).__name__)
        return response.json({"error": "http error", "status": status}, status=status)

    @app.exception(Exception)
    async def on_error(request: Request, error: Exception):
        logger.error("action server error: %s", type(error).__name__)
        return response.json({"error": "internal error"}, status=500)

    return app


def warm_up() -> None:
    """Loads the catalog and its semantic index before the first message (embedding the catalog's texts
    takes seconds the first time, milliseconds from the ``var/embeddings`` cache)."""
    import time

    from actions.context import default

    started = time.monotonic()
    meaning = default().knowledge.meaning()
    rows = len(meaning.index.ids) if meaning is not None else 0
    logger.info("semantic index ready: %d catalog texts in %.1f s", rows, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="madoguchi action server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--host", default=os.environ.get("ACTIONS_HOST", "127.0.0.1"))
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    from bot.privacy import install_log_masking

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    from bot.metrics import count_encodings

    count_encodings("actions")
    app = create_app(args.actions)
    warm_up()
    from bot.heap import freeze

    freeze("action server, knowledge loaded")
    app.run(host=args.host, port=args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
