"""Settings of the staff console, read from the environment.

``STAFF_HOST`` / ``STAFF_PORT``: where it listens (loopback and 5080 by default: the console is meant
for the 庁内 network through the city's reverse proxy, never for the residents' ports).
``STAFF_TLS=1``: the proxy serves the console over HTTPS, so the session cookie is marked Secure.
``STAFF_IDLE_MINUTES``: minutes without a request after which a session ends.
``STAFF_TRUST_FORWARDED=1``: the per-address sign-in delay reads the address the city's proxy appends to
``X-Forwarded-For`` (set it only behind that proxy, which must overwrite the header, never pass it on).
``STAFF_SESSION_KEY``: 32 random bytes, url-safe base64 (Fernet key); without it a key is created once
under ``var/staff/session.key`` (mode 0600), so sessions survive restarts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5080
#: 30 minutes: a clerk who steps away from a 庁内 PC is signed out well within a lunch break, and a call
#: with a resident (rarely over 20 minutes) does not end the session while the request page is open.
DEFAULT_IDLE_MINUTES = 30
#: 5 failed sign-ins lock that account name for 15 minutes (the issue's policy; guessing stays at
#: 20 tries an hour per account, while a clerk who mistypes a few times is never locked out).
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15
SESSION_KEY_FILE = "staff/session.key"
#: Seconds between the queue page's own refreshes: a new request shows within half a minute.
REFRESH_SECONDS = 30
#: Longest a page waits for one store call (bot/stores/offloop.py) before it answers 503 with the code
#: ``storage_unavailable``. A store call takes ~1 ms; a hung Redis fails by itself after its 1 s socket
#: timeout (bot/stores/redis_backend.py), so the bound mostly fires on SQLite waiting for another writer
#: (up to 15 s): 3 s tells the clerk to retry instead of leaving the page loading.
STORE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class StaffConfig:
    """How the console runs."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    secure_cookie: bool = False
    idle_timeout: timedelta = timedelta(minutes=DEFAULT_IDLE_MINUTES)
    lock_after: int = LOCK_AFTER_FAILURES
    lock_for: timedelta = timedelta(minutes=LOCK_MINUTES)
    session_key: bytes = b""
    refresh_seconds: int = REFRESH_SECONDS
    trust_forwarded: bool = False
    store_timeout_s: float = STORE_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, var_dir: Path, env: dict[str, str] | None = None) -> StaffConfig:
        """Reads the environment; creates the session key file under ``var_dir`` when needed."""
        env = dict(os.environ if env is None else env)
        key = (env.get("STAFF_SESSION_KEY") or "").encode() or session_key(var_dir / SESSION_KEY_FILE)
        Fernet(key)  # refuses a malformed key at start rather than at the first request
        return cls(
            host=env.get("STAFF_HOST") or DEFAULT_HOST,
            port=int(env.get("STAFF_PORT") or DEFAULT_PORT),
            secure_cookie=(env.get("STAFF_TLS") or "").lower() in ("1", "true", "yes"),
            idle_timeout=timedelta(minutes=int(env.get("STAFF_IDLE_MINUTES") or DEFAULT_IDLE_MINUTES)),
            session_key=key,
            trust_forwarded=(env.get("STAFF_TRUST_FORWARDED") or "").lower() in ("1", "true", "yes"),
        )


def session_key(path: Path) -> bytes:
    """The key stored in ``path``, created (mode 0600) on first use."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key
