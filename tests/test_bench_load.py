"""The load generator's bookkeeping (bench/load.py): error causes and per-resident addresses."""

from __future__ import annotations

import ipaddress
import json

from bench.load import Tally, error_cause, resident_address


def test_each_resident_has_its_own_stable_private_address():
    addresses = {resident_address(f"closed-{n}-abc") for n in range(200)}
    assert len(addresses) > 190  # spread, so nginx's sticky hash spreads residents over processes
    assert resident_address("open-1-x") == resident_address("open-1-x")
    assert all(ipaddress.ip_address(a).is_private for a in addresses)


def test_an_error_is_named_by_the_channels_code_or_its_status():
    assert error_cause(503, json.dumps({"code": "overloaded", "message": "…"}).encode()) == "503 overloaded"
    assert error_cause(502, b"<html>Bad Gateway</html>") == "HTTP 502"
    assert error_cause(500, b"[1, 2]") == "HTTP 500"


def test_the_causes_note_lists_the_most_frequent_first():
    tally = Tally()
    assert tally.causes_note() == ""
    tally.causes.update(["client timeout", "503 overloaded", "503 overloaded"])
    assert tally.causes_note() == "errors: 503 overloaded 2, client timeout 1"
