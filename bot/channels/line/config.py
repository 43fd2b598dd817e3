"""Configuration of the LINE channel, read from ``credentials.yml`` and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_API_BASE_URL = "https://api.line.me"

# (credentials.yml key, environment variable)
_SOURCES = {
    "channel_secret": ("channel_secret", "LINE_CHANNEL_SECRET"),
    "access_token": ("channel_access_token", "LINE_CHANNEL_ACCESS_TOKEN"),
    "api_base_url": ("api_base_url", "LINE_API_BASE_URL"),
    "api_data_base_url": ("api_data_base_url", "LINE_API_DATA_BASE_URL"),
}


@dataclass(frozen=True)
class LineConfig:
    """Everything the LINE channel needs to know; immutable for the channel's life.

    Attributes:
        channel_secret: signs webhooks and keys the conversation ids; the channel is on when it is set.
        access_token: long-lived channel access token for the Messaging API.
        api_base_url: Messaging API base (tests and on-premise proxies point it elsewhere).
        api_data_base_url: base for content uploads (rich menu image); derived from ``api_base_url``.
        max_body_bytes: webhook bodies larger than this are refused with 413.
        dedup_ttl_seconds: how long a webhook event id is remembered (LINE redelivers for about a day).
        loading_delay_seconds: a turn still running after this long shows LINE's loading animation.
        loading_seconds: how long the animation asks to be shown (5-60, multiple of 5).
        request_timeout_seconds: total timeout of one API call.
        max_attempts: attempts per API call when LINE answers 429/5xx or the network fails.
        backoff_seconds: first wait between attempts; doubles each time.
        max_pending_per_user: events queued for one user beyond this are dropped (flood guard).
    """

    channel_secret: str = ""
    access_token: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL
    api_data_base_url: str = ""
    max_body_bytes: int = 256 * 1024
    dedup_ttl_seconds: int = 3 * 24 * 3600
    loading_delay_seconds: float = 0.5
    loading_seconds: int = 20
    request_timeout_seconds: float = 10.0
    max_attempts: int = 4
    backoff_seconds: float = 0.5
    max_pending_per_user: int = 20

    @property
    def enabled(self) -> bool:
        """The channel accepts webhooks only when the channel secret is configured."""
        return bool(self.channel_secret)

    @property
    def data_base_url(self) -> str:
        """Base URL of the api-data host (explicit setting, else derived)."""
        return self.api_data_base_url or derive_data_base_url(self.api_base_url)

    @classmethod
    def from_sources(
        cls,
        credentials: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> LineConfig:
        """Builds the configuration; a non-empty ``credentials.yml`` value wins over the environment.

        Args:
            credentials: the channel's section of ``credentials.yml`` (may be ``None``).
            environ: mapping to read instead of ``os.environ`` (tests).
            **overrides: any field of :class:`LineConfig` (tests use short delays).
        """
        credentials = credentials or {}
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field, (cred_key, env_key) in _SOURCES.items():
            value = credentials.get(cred_key) or env.get(env_key) or ""
            value = str(value).strip()
            if value:
                values[field] = value
        if "api_base_url" in values:
            values["api_base_url"] = values["api_base_url"].rstrip("/")
        if "api_data_base_url" in values:
            values["api_data_base_url"] = values["api_data_base_url"].rstrip("/")
        values.update(overrides)
        return cls(**values)


def derive_data_base_url(api_base_url: str) -> str:
    """Returns the api-data base for an API base: ``https://api.line.me`` -> ``https://api-data.line.me``.

    A host that does not start with ``api.`` (a proxy, a test server) serves both, so it is returned as is.
    """
    parts = urlsplit(api_base_url)
    host = parts.hostname or ""
    if not host.startswith("api."):
        return api_base_url.rstrip("/")
    netloc = parts.netloc.replace(host, "api-data." + host[len("api.") :], 1)
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")
