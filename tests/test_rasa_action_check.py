"""Action server replies are checked against Rasa's schema by one validator built once (Rasa 3.6 checked
the schema itself against the meta-schema on every reply): same verdicts, same errors."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_action_check

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "はい"}]}
BAD = {"events": "not a list", "responses": []}


@pytest.fixture
def action(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    rasa_action_check.install()
    return RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_a_good_reply_passes_and_a_bad_one_raises_as_rasa_does(action):
    assert action._validate_action_result(GOOD) is True
    with pytest.raises(jsonschema.ValidationError) as raised:
        action._validate_action_result(BAD)
    with pytest.raises(jsonschema.ValidationError) as by_rasa:
        jsonschema.validate(BAD, RemoteAction.action_response_format_spec())
    assert raised.value.message.startswith(by_rasa.value.message)
    assert "Failed to validate Action server response" in raised.value.message


def test_the_schema_is_checked_once_not_per_reply(action, monkeypatch):
    calls = []
    check = jsonschema.Draft202012Validator.check_schema
    monkeypatch.setattr(
        jsonschema.Draft202012Validator, "check_schema", classmethod(lambda c, s: calls.append(1) or check(s))
    )
    rasa_action_check.reply_validator.cache_clear()
    for _ in range(5):
        action._validate_action_result(GOOD)
    assert len(calls) == 1
