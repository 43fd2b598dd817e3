"""The fixed tune/check split every benchmark uses: tune data and rules on "tune", read "check" as a total."""

from __future__ import annotations

import hashlib


def half(key: str) -> str:
    """``"tune"`` or ``"check"`` by the first byte of the SHA-256 of ``key`` (query id or question text)."""
    return "tune" if hashlib.sha256(key.encode("utf-8")).digest()[0] % 2 == 0 else "check"
