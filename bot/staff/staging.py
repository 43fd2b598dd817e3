"""Uploads waiting for confirmation: validated content kept on disk between "show the diff" and "publish".

An upload is read and validated completely, then kept here under a random token with the account that
made it and the version it was compared with; the confirmation form names only the token. Publishing
reads it back (same account, not expired) and checks the base did not change meanwhile. Files are written
atomically, mode 0600, and removed after publishing, on cancel, or :data:`KEEP_FOR` after upload.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.files import atomic_write_bytes

#: An upload not confirmed within an hour is dropped: the diff staff saw is likely stale by then.
KEEP_FOR_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class Staged:
    """One upload waiting for confirmation."""

    token: str
    owner: str
    kind: str
    base_version: str
    source: str
    payload: Any


class Staging:
    """Staged uploads under ``folder`` (``var/staff/staged``)."""

    def __init__(self, folder: Path, clock=time.time) -> None:
        self.folder = Path(folder)
        self._clock = clock

    def put(self, owner: str, kind: str, base_version: str, source: str, payload: Any) -> str:
        """Keeps an upload; returns its token."""
        self._expire()
        token = secrets.token_urlsafe(24)
        record = {
            "owner": owner,
            "kind": kind,
            "base_version": base_version,
            "source": source,
            "at": self._clock(),
            "payload": payload,
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(token)
        atomic_write_bytes(path, json.dumps(record, ensure_ascii=False).encode("utf-8"))
        os.chmod(path, 0o600)
        return token

    def get(self, token: str, owner: str, kind: str) -> Staged | None:
        """The upload of this token, if it is this account's, of this kind and not expired."""
        if not _TOKEN.match(token or ""):
            return None
        try:
            record = json.loads(self._path(token).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("owner") != owner or record.get("kind") != kind or self._expired(record):
            return None
        return Staged(token, owner, kind, record["base_version"], record["source"], record["payload"])

    def drop(self, token: str) -> None:
        """Forgets an upload (after publishing or on cancel)."""
        if _TOKEN.match(token or ""):
            self._path(token).unlink(missing_ok=True)

    def _path(self, token: str) -> Path:
        return self.folder / f"{token}.json"

    def _expired(self, record: dict) -> bool:
        return self._clock() - float(record.get("at", 0)) > KEEP_FOR_SECONDS

    def _expire(self) -> None:
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*.json"):
            try:
                if self._clock() - path.stat().st_mtime > KEEP_FOR_SECONDS:
                    path.unlink(missing_ok=True)
            except OSError:
                continue
