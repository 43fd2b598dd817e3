"""Known-answer and tamper tests for the webhook signature."""

from __future__ import annotations

import base64
import hashlib
import hmac

from bot.channels.line.signature import compute_signature, verify_signature

SECRET = "a3f1c2d4e5b60718293a4b5c6d7e8f90"
BODY = b'{"destination":"Uxxxxxxxx","events":[]}'
# base64(HMAC-SHA256(SECRET, BODY)), computed once with the standard library and fixed here.
EXPECTED = "mz0wknRGPBwbOWIakXk6+qXIMBGiAN1sAs+AIQD7y2I="


def test_known_answer():
    independent = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).decode()
    assert independent == EXPECTED
    assert compute_signature(SECRET, BODY) == EXPECTED
    assert verify_signature(SECRET, BODY, EXPECTED)


def test_signature_of_japanese_body_is_over_raw_utf8_bytes():
    body = '{"events":[{"message":{"text":"住民票"}}]}'.encode()
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert verify_signature(SECRET, body, expected)
    assert not verify_signature(SECRET, body.decode().encode("utf-16"), expected)


def test_tampering_fails():
    assert not verify_signature(SECRET, BODY + b" ", EXPECTED)
    assert not verify_signature("another-secret", BODY, EXPECTED)
    assert not verify_signature(SECRET, BODY, EXPECTED[:-2] + "A=")
    assert not verify_signature(SECRET, BODY, None)
    assert not verify_signature(SECRET, BODY, "")
    assert not verify_signature(SECRET, BODY, "署名")  # non-ASCII header value: refused, no crash
    assert not verify_signature("", BODY, compute_signature("", BODY))  # no secret, no channel
