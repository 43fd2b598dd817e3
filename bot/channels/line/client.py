"""A small aiohttp client for the LINE Messaging API: reply, push, loading animation, rich menus.

One client (and one ``aiohttp.ClientSession``, created on first use inside the running loop) lives as
long as the channel. Every call has explicit timeouts; 429, 5xx and network errors are retried with a
bounded exponential backoff. Nothing a resident wrote is ever logged: errors show the HTTP status, the API
path and LINE's own error text only.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.channels.line.config import LineConfig

logger = logging.getLogger(__name__)

REPLY_PATH = "/v2/bot/message/reply"
PUSH_PATH = "/v2/bot/message/push"
LOADING_PATH = "/v2/bot/chat/loading/start"
MAX_BACKOFF_SECONDS = 8.0


class LineApiError(RuntimeError):
    """A Messaging API call failed for good.

    Attributes:
        status: HTTP status (0 when no answer came back).
        path: API path that failed.
        detail: LINE's error message (never the resident's text).
    """

    def __init__(self, status: int, path: str, detail: str = "") -> None:
        super().__init__(f"LINE API {path} failed with status {status}: {detail}".rstrip(": "))
        self.status = status
        self.path = path
        self.detail = detail


class ReplyOutcome(enum.Enum):
    """What happened to a reply call."""

    SENT = "sent"
    #: 400: the token is missing, used or expired; nothing was sent, a push is safe.
    TOKEN_REJECTED = "token_rejected"  # noqa: S105 (an outcome, not a secret)
    #: an earlier attempt got 5xx or no answer: it may have been delivered; a push could duplicate it.
    UNCERTAIN = "uncertain"


@dataclass
class ApiResponse:
    """Status, headers and parsed JSON body (``None`` when the body is empty or not JSON)."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for 2xx."""
        return 200 <= self.status < 300

    def error_detail(self) -> str:
        """LINE's error text (``message`` plus the properties named in ``details``)."""
        if not isinstance(self.body, Mapping):
            return ""
        detail = str(self.body.get("message") or "")
        properties = [
            str(d.get("property")) for d in self.body.get("details") or [] if isinstance(d, Mapping)
        ]
        return f"{detail} ({', '.join(properties)})" if properties else detail


class LineApiClient:
    """Messaging API client bound to one channel access token."""

    def __init__(
        self, config: LineConfig, *, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    ) -> None:
        """Creates the client; the HTTP session is opened lazily on the first call.

        Args:
            config: channel configuration (token, base URLs, timeouts, retry policy).
            sleep: how to wait between attempts (tests pass a recorder).
        """
        self._config = config
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            total = self._config.request_timeout_seconds
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=total, connect=min(5.0, total)),
                headers={"Authorization": f"Bearer {self._config.access_token}"},
            )
        return self._session

    async def close(self) -> None:
        """Closes the HTTP session (idempotent)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def reply(self, reply_token: str, messages: Sequence[Mapping[str, Any]]) -> ReplyOutcome:
        """Sends up to 5 messages with a reply token.

        Raises:
            LineApiError: any other failure (e.g. 401, 403).
        """
        body = {"replyToken": reply_token, "messages": list(messages)}
        response, uncertain = await self._call("POST", self._api(REPLY_PATH), json_body=body)
        if response is not None and response.ok:
            return ReplyOutcome.SENT
        if uncertain:
            return ReplyOutcome.UNCERTAIN
        if response is not None and response.status == 400:
            return ReplyOutcome.TOKEN_REJECTED
        raise self._error(REPLY_PATH, response)

    async def push(self, to: str, messages: Sequence[Mapping[str, Any]], retry_key: str | None = None) -> str:
        """Pushes up to 5 messages, safely retryable: one ``X-Line-Retry-Key`` for all attempts.

        Returns:
            The retry key used (a 409 answer means an earlier attempt with it was accepted).

        Raises:
            LineApiError: the push failed for good.
        """
        key = retry_key or str(uuid.uuid4())
        body = {"to": to, "messages": list(messages)}
        headers = {"X-Line-Retry-Key": key}
        response, _ = await self._call("POST", self._api(PUSH_PATH), json_body=body, headers=headers)
        if response is not None and (response.ok or response.status == 409):
            return key
        raise self._error(PUSH_PATH, response)

    async def start_loading(self, chat_id: str, seconds: int) -> bool:
        """Shows the loading animation in a one-on-one chat (best effort, one attempt)."""
        body = {"chatId": chat_id, "loadingSeconds": seconds}
        response, _ = await self._call("POST", self._api(LOADING_PATH), json_body=body, attempts=1)
        if response is None or not response.ok:
            logger.debug("line: loading animation not shown (status %s)", getattr(response, "status", 0))
            return False
        return True

    async def get_json(self, path: str, *, missing_ok: bool = False) -> Any:
        """GETs a Messaging API resource; with ``missing_ok`` a 404 returns ``None``."""
        response, _ = await self._call("GET", self._api(path))
        if response is not None and missing_ok and response.status == 404:
            return None
        return self._checked(path, response)

    async def post_json(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """POSTs JSON (or nothing) to a Messaging API path and returns the JSON answer."""
        response, _ = await self._call("POST", self._api(path), json_body=body)
        return self._checked(path, response)

    async def delete(self, path: str) -> Any:
        """DELETEs a Messaging API resource."""
        response, _ = await self._call("DELETE", self._api(path))
        return self._checked(path, response)

    async def upload(self, path: str, data: bytes, content_type: str) -> Any:
        """POSTs binary content to the api-data host (rich menu images)."""
        url = self._config.data_base_url + path
        response, _ = await self._call("POST", url, data=data, headers={"Content-Type": content_type})
        return self._checked(path, response)

    def _api(self, path: str) -> str:
        return self._config.api_base_url + path

    def _checked(self, path: str, response: ApiResponse | None) -> Any:
        if response is None or not response.ok:
            raise self._error(path, response)
        return response.body

    @staticmethod
    def _error(path: str, response: ApiResponse | None) -> LineApiError:
        if response is None:
            return LineApiError(0, path, "no answer (network error or timeout)")
        return LineApiError(response.status, path, response.error_detail())

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        attempts: int | None = None,
    ) -> tuple[ApiResponse | None, bool]:
        """Performs one API call with retries.

        Returns:
            The last response (``None`` when no attempt got one) and whether any attempt ended in a way
            that may have been processed by LINE (5xx or no answer).
        """
        attempts = attempts or self._config.max_attempts
        uncertain = False
        response: ApiResponse | None = None
        for attempt in range(attempts):
            try:
                response = await self._once(method, url, json_body, data, headers)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                logger.warning("line: %s %s: %s", method, _path(url), type(error).__name__)
                response, uncertain = None, True
            else:
                if response.status < 500 and response.status != 429:
                    return response, uncertain
                uncertain = uncertain or response.status >= 500
                logger.warning("line: %s %s answered %d", method, _path(url), response.status)
            if attempt + 1 < attempts:
                await self._sleep(self._delay(attempt, response))
        return response, uncertain

    async def _once(
        self,
        method: str,
        url: str,
        json_body: Mapping[str, Any] | None,
        data: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> ApiResponse:
        async with self._http().request(method, url, json=json_body, data=data, headers=headers) as resp:
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = None
            return ApiResponse(resp.status, body, dict(resp.headers))

    def _delay(self, attempt: int, response: ApiResponse | None) -> float:
        delay = self._config.backoff_seconds * (2**attempt)
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            delay = max(delay, float(retry_after))
        return min(delay, MAX_BACKOFF_SECONDS)


def _path(url: str) -> str:
    """The path of a URL for logs (no query strings, no host)."""
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
