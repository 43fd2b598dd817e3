"""Passwords: argon2id hashes (argon2-cffi's RFC 9106 low-memory profile), generated one-time passwords."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

#: Generated passwords: 16 characters from an alphabet without look-alikes (0/O, 1/l/I): ~92 bits.
GENERATED_LENGTH = 16
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: The shortest password a person may choose (NIST SP 800-63B: at least 8; 12 for staff with access
#: to residents' phone numbers).
MIN_LENGTH = 12
MAX_LENGTH = 256


def default_hasher() -> PasswordHasher:
    """argon2id, t=3, m=64 MiB, p=4 (argon2-cffi's default, RFC 9106's second recommendation)."""
    return PasswordHasher(type=Type.ID)


def generate() -> str:
    """A random one-time password."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))


def problem(password: str) -> str | None:
    """Why ``password`` may not be chosen (a key of the UI messages), or None."""
    if len(password) < MIN_LENGTH:
        return "password_too_short"
    if len(password) > MAX_LENGTH:
        return "password_too_long"
    return None


def verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; False for any malformed hash."""
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
