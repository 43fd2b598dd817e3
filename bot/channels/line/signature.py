"""``X-Line-Signature``: base64 HMAC-SHA256 of the raw body, keyed by the channel secret."""

from __future__ import annotations

import base64
import hashlib
import hmac


def compute_signature(channel_secret: str, body: bytes) -> str:
    """Returns the signature LINE sends for ``body``."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(channel_secret: str, body: bytes, signature: str | None) -> bool:
    """Checks ``signature`` against ``body`` in constant time; a missing or empty signature fails."""
    if not channel_secret or not signature:
        return False
    expected = compute_signature(channel_secret, body).encode("ascii")
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))
