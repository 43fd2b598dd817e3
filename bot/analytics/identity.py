"""The salted hash that stands for a conversation in the analytics record.

Conversations are counted by ``HMAC-SHA256(salt, channel + ":" + conversation id)`` cut to 128 bits: the
same conversation always gives the same value (so 会話数 can be counted), nobody without the salt can
get from a widget session or a LINE chat back to the value or the other way, and deleting the salt
unlinks every record already written. The salt comes from ``MADOGUCHI_ANALYTICS_SALT`` (set it the same
on every host when the Rasa server and the action server do not share ``var/``) or from
``var/analytics.salt``, created on first use (32 random bytes, mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

SALT_ENV = "MADOGUCHI_ANALYTICS_SALT"
SALT_FILE = "analytics.salt"
_SALT_BYTES = 32
#: 32 hex digits = 128 bits: collisions are negligible for any city's number of conversations.
_HASH_HEX = 32


def load_salt(var_dir: Path, environ: dict[str, str] | None = None) -> bytes:
    """The salt from the environment, else the salt file (created atomically when missing)."""
    env = os.environ if environ is None else environ
    if env.get(SALT_ENV):
        return env[SALT_ENV].encode("utf-8")
    path = var_dir / SALT_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: when two processes start together, one writes and both read the same salt
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return _read_when_written(path)
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(_SALT_BYTES))
        out.flush()
        os.fsync(out.fileno())
    return path.read_bytes()


def _read_when_written(path: Path) -> bytes:
    for _ in range(200):  # the other process writes 32 bytes right after creating the file
        data = path.read_bytes()
        if len(data) >= _SALT_BYTES:
            return data
        time.sleep(0.005)
    raise RuntimeError(f"{path}: the analytics salt file is empty")


def conversation_hash(salt: bytes, channel: str, conversation_id: str) -> str:
    """The value recorded instead of the conversation id."""
    digest = hmac.new(salt, f"{channel}:{conversation_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:_HASH_HEX]
