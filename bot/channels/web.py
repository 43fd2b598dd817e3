"""The honest REST channel for the web chat widget.

Rasa 3.6's built-in ``rest`` channel answers HTTP 200 with ``[]`` when a turn fails and writes the
resident's text into the log. This channel keeps the same URL (``/webhooks/rest/webhook``) and the same
response shape on success, but:

* validates the body (``sender``, ``message``, ``metadata``) and answers 400 with a JSON error naming the
  field;
* answers 503 / 500 with ``{"error": "...", "code": "..."}`` when the model is not loaded, the action
  server fails, the conversation is locked, the turn times out, or anything else breaks — never a
  tracker, never the resident's text;
* never logs the resident's text (only the error code and exception type/frames);
* answers a crisis itself when the turn fails or is slow: a message the crisis detector flags (the safety
  rules, then the meaning classifier of the trained model, :mod:`bot.crisis`) gets the 119/110,
  crisis-line, DV or abuse answer from the data files with status 200 when the model is not loaded, Redis
  or the action server fails, the conversation is locked or no answer came within ``crisis_timeout_s``
  (the turn then goes on in the background and is recorded as usual);
* every error body carries the city's phone number (``phone``) and the emergency numbers
  (``emergency``), so any client can show a way out;
* passes ``metadata`` (the widget sends ``{"yasashii": bool, "furigana": bool}``) on to the tracker;
* answers a message not in Japanese itself, from ``data/languages/`` (:mod:`bot.language`): the English
  card of the procedure it names, or a notice in the resident's language with the city's phone
  (``metadata.lang``, the widget's language switch, is a hint when the text alone does not tell);
* when ``metadata.furigana`` is true, adds ``"furigana": [[surface, reading_or_null], ...]`` to each bot
  text message (see :mod:`bot.furigana`).

Configure it in ``credentials.yml``::

    bot.channels.web.MadoguchiRestInput:
      max_message_chars: 1000   # optional
      turn_timeout_s: 30        # optional
      crisis_timeout_s: 3       # optional: how long a crisis message waits for the normal turn

The ``?stream=true`` mode of Rasa's channel is not offered: the answer is always one JSON array.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.lock_store import LockError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import english_meaning, furigana, language, romaji, settings
from bot.analytics.recorder import TurnRecorder
from bot.channels.desks import crisis_answer, crisis_desk, crisis_intent, off_loop
from bot.channels.turn_watch import install_action_failure_watch, watching_turn
from bot.crisis import BackgroundTurns, CrisisDesk
from bot.metrics import TurnRecord, observe_turn
from bot.rasa_stores import StorageUnavailable
from bot.understanding.worker import UnderstandingBusy

logger = logging.getLogger(__name__)

#: Turns of this channel run at once in one process; the others wait their turn (first come, first
#: served). A turn is CPU work (its policies on the server's event loop; its NLU, since then, on the
#: understanding thread, bot/understanding/worker.py): with every waiting turn
#: started at once, each one's Redis calls wait behind the others' CPU work, so under a burst (50
#: conversations at once on 2 shared cores, tests/test_nginx_instances.py) their bounded 0.8 s Redis
#: waits expired and turns failed with storage_unavailable although Redis was fine. 2 (the LINE
#: channel's figure, bot/channels/line/serial.py) starved the process: py-spy found the Rasa process
#: idle half the time at 20 users, both turns waiting for the action server or SQLite (bench/README.md).
#: 4 keeps the loop's lag to ~3 other turns' CPU (~150 ms) while the next turn overlaps that I/O.
MAX_RUNNING_TURNS = 4

#: Numbers every error body names beside the city's own: fire/ambulance and police.
EMERGENCY_NUMBERS = ("119", "110")

_SENDER = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
_METADATA_FLAGS = ("yasashii", "furigana")
#: Languages the widget's language switch may send as ``metadata.lang``.
CHOSEN_LANGUAGES = ("ja", "en", *language.NOTICE_LANGUAGES)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestError(Exception):
    """A request the channel refuses, with the HTTP status and a machine-readable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Size limits for one request."""

    max_body_bytes: int = 16_384
    max_message_chars: int = 1_000
    max_metadata_bytes: int = 2_048


@dataclass(frozen=True)
class Inbound:
    """A validated request body."""

    sender: str
    message: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def wants_furigana(self) -> bool:
        return self.metadata.get("furigana") is True


def error_body(code: str, message: str, phone: str = "") -> dict[str, Any]:
    """The JSON body of every error answer: a code, a developer message and the numbers to call."""
    body: dict[str, Any] = {"error": message, "code": code, "emergency": list(EMERGENCY_NUMBERS)}
    if phone:
        body["phone"] = phone
    return body


def _json_object(body: bytes, limits: Limits) -> dict[str, Any]:
    if len(body) > limits.max_body_bytes:
        raise RequestError(
            400, "body_too_large", f"request body is larger than {limits.max_body_bytes} bytes"
        )
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RequestError(400, "invalid_json", "request body is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise RequestError(400, "invalid_json", "request body must be a JSON object")
    return data


def _sender(data: dict[str, Any]) -> str:
    sender = data.get("sender")
    if not isinstance(sender, str) or not _SENDER.match(sender):
        raise RequestError(
            400, "invalid_sender", "field 'sender' must be 1-128 characters of A-Z a-z 0-9 _ . : @ -"
        )
    return sender


def _message(data: dict[str, Any], limits: Limits) -> str:
    message = data.get("message")
    if not isinstance(message, str):
        raise RequestError(400, "invalid_message", "field 'message' must be a string")
    if not message.strip():
        raise RequestError(400, "empty_message", "field 'message' is empty")
    if _LONE_SURROGATE.search(message):  # "\ud800" in JSON: not text; the pipeline would fail with 500
        raise RequestError(400, "invalid_message", "field 'message' is not valid Unicode text")
    if len(message) > limits.max_message_chars:
        raise RequestError(
            400, "message_too_long", f"field 'message' is longer than {limits.max_message_chars} characters"
        )
    return message


def _metadata(data: dict[str, Any], limits: Limits) -> dict[str, Any]:
    metadata = data.get("metadata")
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise RequestError(400, "invalid_metadata", "field 'metadata' must be a JSON object")
    for flag in _METADATA_FLAGS:
        if flag in metadata and not isinstance(metadata[flag], bool):
            raise RequestError(400, "invalid_metadata", f"field 'metadata.{flag}' must be true or false")
    if "lang" in metadata and metadata["lang"] not in CHOSEN_LANGUAGES:
        raise RequestError(
            400, "invalid_metadata", f"field 'metadata.lang' must be one of {', '.join(CHOSEN_LANGUAGES)}"
        )
    if len(json.dumps(metadata, ensure_ascii=False).encode("utf-8")) > limits.max_metadata_bytes:
        raise RequestError(
            400, "invalid_metadata", f"field 'metadata' is larger than {limits.max_metadata_bytes} bytes"
        )
    return metadata


def parse_body(body: bytes, limits: Limits = Limits()) -> Inbound:
    """Validates a webhook request body.

    Raises:
        RequestError: status 400, naming the offending field.
    """
    data = _json_object(body, limits)
    return Inbound(sender=_sender(data), message=_message(data, limits), metadata=_metadata(data, limits))


#: Text fields of a procedure card that the widget shows (and so annotates), standard and やさしい日本語.
CARD_TEXT_FIELDS = ("name", "summary", "deadline", "bring", "fee", "where", "department")


def card_texts(card: dict[str, Any]) -> dict[str, str]:
    """The texts of a procedure card by path: ``summary``, ``bring.0``, ``department``, ``easy.fee`` …"""
    out: dict[str, str] = {}

    def take(prefix: str, fields: Any, names: tuple[str, ...]) -> None:
        if not isinstance(fields, dict):
            return
        for name in names:
            value = fields.get(name)
            if name == "department" and isinstance(value, dict):
                value = value.get("name")
            if isinstance(value, str) and value:
                out[prefix + name] = value
            elif isinstance(value, list):
                out.update(
                    {f"{prefix}{name}.{i}": v for i, v in enumerate(value) if isinstance(v, str) and v}
                )

    take("", card, CARD_TEXT_FIELDS)
    take("easy.", card.get("easy_fields"), CARD_TEXT_FIELDS[1:])
    return out


def add_furigana(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Returns copies of the bot messages with a ``furigana`` field next to each ``text``, and, for a
    procedure card, ``custom.madoguchi.furigana``: the readings of each of its texts by path
    (:func:`card_texts`), so that the widget can show any of them with ruby."""
    out = []
    for msg in messages:
        msg = dict(msg)
        if isinstance(msg.get("text"), str):
            msg["furigana"] = furigana.segments(msg["text"])
        custom = msg.get("custom")
        card = custom.get("madoguchi") if isinstance(custom, dict) else None
        if isinstance(card, dict) and card.get("kind") == "procedure":
            card = dict(card, furigana={path: furigana.segments(t) for path, t in card_texts(card).items()})
            msg["custom"] = dict(custom, madoguchi=card)
        out.append(msg)
    return out


@dataclass(frozen=True)
class _Answered:
    """What one request came to: the bot messages to send, or the error to answer with."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = "answered"
    error: RequestError | None = None
    cause: RequestError | None = None  # the failure a crisis answer from data stood in for

    def record(self, channel: str, seconds: float) -> TurnRecord:
        """The turn's metrics record (:mod:`bot.metrics`)."""
        failure = self.error or self.cause
        if self.error is not None:
            return TurnRecord(channel, self.outcome, seconds, failure.code)
        record = TurnRecord.of_answer(channel, self.messages, seconds, self.outcome)
        return replace(record, error_code=failure.code) if failure else record


def _log_failure(code: str, exc: BaseException | None) -> None:
    """Logs a failed turn without the resident's text: code, exception type and stack frames only."""
    if exc is None:
        logger.error("web turn failed: code=%s", code)
        return
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("web turn failed: code=%s exception=%s\n%s", code, type(exc).__name__, frames)


def turn_failure(exc: BaseException) -> RequestError:
    """The coded error a failed turn is answered with (the REST status, and the code every channel logs)."""
    if isinstance(exc, asyncio.TimeoutError):
        return RequestError(503, "timeout", "the assistant did not answer in time")
    if isinstance(exc, StorageUnavailable):
        message = "the conversation store is not answering; please try again"
        return RequestError(503, "storage_unavailable", message)
    if isinstance(exc, RequestError):
        return exc
    if isinstance(exc, UnderstandingBusy):
        return RequestError(
            503, "overloaded", "the assistant has too many messages at once; please try again"
        )
    if isinstance(exc, LockError):
        return RequestError(503, "busy", "the conversation is busy with another message")
    return RequestError(500, "internal_error", "the assistant failed to handle the message")


def _close(turn: Awaitable[Any]) -> None:
    """Closes a turn's coroutine that will never be awaited (no "never awaited" warning)."""
    if inspect.iscoroutine(turn):
        turn.close()


def _agent_ready(request: Request) -> bool:
    agent = getattr(request.app.ctx, "agent", None)
    return agent is not None and agent.is_ready()


class MadoguchiRestInput(InputChannel):
    """Rasa input channel for the web widget: ``POST /webhooks/rest/webhook``."""

    def __init__(
        self,
        limits: Limits = Limits(),
        turn_timeout_s: float = 30.0,
        crisis_timeout_s: float = 3.0,
        crisis: CrisisDesk | None = None,
        usage: TurnRecorder | None = None,
    ) -> None:
        """Creates the channel.

        Args:
            limits: request size limits.
            turn_timeout_s: how long a turn may take before the resident gets a ``timeout`` error.
            crisis_timeout_s: how long a crisis message waits for the normal turn before the channel
                answers it from data (the turn goes on in the background).
            crisis: the crisis desk (default: built from the data files when the routes are made).
            usage: records each answered turn for 利用状況 (default: the project's stores).
        """
        self.limits = limits
        self.turn_timeout_s = turn_timeout_s
        self.crisis_timeout_s = crisis_timeout_s
        self._crisis = crisis
        self._languages: language.LanguageDesk | None = None
        self._languages_loaded = False
        self.background = BackgroundTurns(lambda exc: _log_failure("background_turn_failed", exc))
        self.usage = usage or TurnRecorder()
        self._running: asyncio.Semaphore | None = None  # made on the server's loop, at first use

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MadoguchiRestInput:
        """Builds the channel from its ``credentials.yml`` section (all keys optional)."""
        creds = dict(credentials or {})
        defaults = Limits()
        limits = Limits(
            max_body_bytes=int(creds.pop("max_body_bytes", defaults.max_body_bytes)),
            max_message_chars=int(creds.pop("max_message_chars", defaults.max_message_chars)),
            max_metadata_bytes=int(creds.pop("max_metadata_bytes", defaults.max_metadata_bytes)),
        )
        timeout = float(creds.pop("turn_timeout_s", 30.0))
        crisis_timeout = float(creds.pop("crisis_timeout_s", 3.0))
        if creds:
            raise ValueError(f"unknown keys for {cls.__name__} in credentials.yml: {sorted(creds)}")
        return cls(limits=limits, turn_timeout_s=timeout, crisis_timeout_s=crisis_timeout)

    @property
    def crisis(self) -> CrisisDesk:
        """The crisis desk (built on first use, at start-up: ``data/safety.yml``, ``domain.yml`` and the
        trained model's crisis classifier, with the sentence encoder the NLU pipeline shares)."""
        if self._crisis is None:
            self._crisis = crisis_desk()
        return self._crisis

    @property
    def languages(self) -> language.LanguageDesk | None:
        """Answers messages not in Japanese (:mod:`bot.language`); None when its data files are broken
        (logged once: Japanese residents are still answered)."""
        if not self._languages_loaded:
            self._languages_loaded = True
            try:
                self._languages = language.load_desk(
                    settings.load().data_dir, **english_meaning.desk_options(self.crisis)
                )
            except Exception as exc:  # noqa: BLE001 — a broken translation must not stop the channel
                _log_failure("languages_unavailable", exc)
        return self._languages

    def foreign_answer(self, inbound: Inbound) -> list[dict[str, Any]] | None:
        """The answer from data to a message not in Japanese (English card or notice), else None (CPU
        work, e5 for a foreign message: the channel calls it on the understanding thread)."""
        desk = self.languages
        hint = inbound.metadata.get("lang")
        messages = desk.answer(inbound.message, hint if isinstance(hint, str) else None) if desk else None
        return [{"recipient_id": inbound.sender, **m} for m in messages] if messages else None

    async def run_turn(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], inbound: Inbound
    ) -> list[dict[str, Any]]:
        """Runs one turn and returns the bot messages.

        Raises:
            RequestError: 503/500 when the turn failed (the cause is logged without the text).
        """
        collector = CollectingOutputChannel()
        user_message = UserMessage(
            inbound.message, collector, inbound.sender, input_channel=self.name(), metadata=inbound.metadata
        )
        with watching_turn() as watch:
            await self._guarded_turn(on_new_message(user_message), inbound)
        if watch.action_failed:
            _log_failure("action_failed", None)
            raise RequestError(503, "action_failed", "a back-end service of the assistant is unavailable")
        return collector.messages

    async def _guarded_turn(self, turn: Awaitable[Any], inbound: Inbound) -> None:
        """Awaits the turn; its failures become coded :class:`RequestError` s (logged without the text)."""
        try:
            await self._wait_for_turn(turn, inbound)
        except Exception as exc:  # noqa: BLE001 — any failure must reach the widget as an error
            error = turn_failure(exc)
            _log_failure(error.code, exc)
            raise error from None

    async def _wait_for_turn(self, turn: Awaitable[Any], inbound: Inbound) -> None:
        """Awaits the turn; a crisis message waits only ``crisis_timeout_s``, and then the turn is left to
        finish in the background (its answer is dropped: the channel answers the crisis from data)."""
        try:
            intent = await crisis_intent(self.crisis, inbound.message)
        except BaseException:
            _close(turn)
            raise
        if intent is None:
            await asyncio.wait_for(self._in_turn(turn), timeout=self.turn_timeout_s)
            return
        await self.background.wait(self._in_turn(turn), self.crisis_timeout_s)

    async def _in_turn(self, turn: Awaitable[Any]) -> None:
        """Runs the turn once fewer than :data:`MAX_RUNNING_TURNS` others run (the wait counts toward the
        turn's timeout; a crisis waits at most ``crisis_timeout_s`` before its answer from data)."""
        if self._running is None:
            self._running = asyncio.Semaphore(MAX_RUNNING_TURNS)
        started = False
        try:
            async with self._running:
                started = True
                await turn
        finally:
            if not started:
                _close(turn)  # timed out while waiting: the turn never ran

    async def crisis_answer(self, inbound: Inbound, code: str) -> list[dict[str, Any]] | None:
        """The data-only answer to a crisis message whose turn failed with ``code`` (``None``: no crisis)."""
        messages = await crisis_answer(self.crisis, inbound.message)
        if messages is None:
            return None
        logger.warning("web turn failed: code=%s; the crisis was answered from the data files", code)
        return [{"recipient_id": inbound.sender, **m} for m in messages]

    async def handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Answers one webhook request (validation, readiness, turn, crisis fallback, furigana)."""
        started = time.perf_counter()
        turn = await self._answer(request, on_new_message)
        observe_turn(turn.record(self.name(), time.perf_counter() - started))
        if turn.error is not None:
            return self._error(turn.error)
        return response.json(turn.messages, ensure_ascii=False)

    async def _answer(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> _Answered:
        try:
            inbound = parse_body(request.body or b"", self.limits)
        except RequestError as err:
            return _Answered(error=err, outcome="refused")
        outcome, error = "answered", None
        try:
            try:
                foreign = await off_loop(self.foreign_answer, inbound)
            except UnderstandingBusy as busy:
                raise turn_failure(busy) from None
            if foreign is not None:
                self.usage.turn(self.name(), inbound.sender, inbound.message, foreign)
                return _Answered(messages=foreign, outcome="other_language")
            # Japanese typed in romaji: the turn (NLU, safety rules, crisis desk, catalog) reads it in kana
            inbound = replace(inbound, message=romaji.reading(inbound.message))
            if not _agent_ready(request):
                raise RequestError(503, "not_ready", "the assistant is starting or has no model loaded")
            messages = await self.run_turn(on_new_message, inbound)
        except RequestError as err:
            messages = await self.crisis_answer(inbound, err.code)
            if messages is None:
                self.usage.failed_turn(self.name(), inbound.sender)
                return _Answered(error=err, outcome="error")
            outcome, error = "crisis_from_data", err
        self.usage.turn(self.name(), inbound.sender, inbound.message, messages)
        if inbound.wants_furigana:
            try:
                messages = add_furigana(messages)
            except Exception as exc:  # noqa: BLE001 — the answer is still worth sending without ruby
                _log_failure("furigana_failed", exc)
        return _Answered(messages=messages, outcome=outcome, cause=error)

    def _error(self, err: RequestError) -> HTTPResponse:
        return response.json(error_body(err.code, err.message, self.crisis.city_phone), status=err.status)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The Sanic routes: ``GET /`` (health) and ``POST /webhook``."""
        install_action_failure_watch()
        self.crisis  # noqa: B018 — read the data files now: a broken safety file stops the start, loudly
        self.languages  # noqa: B018 — embed the English texts now, not on a resident's first message
        bp = Blueprint(f"madoguchi_rest_{id(self)}", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "ready": _agent_ready(request)})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.handle(request, on_new_message)

        return bp
