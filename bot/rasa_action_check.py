"""Rasa 3.6 checks every action server reply against its JSON schema with ``jsonschema.validate``,
which first checks the *schema itself* against the draft 2020-12 meta-schema, on every call: py-spy
found 40% of the Rasa process's busy time there (bench/README.md, Load). :func:`install` makes
``RemoteAction`` check replies with one validator built (and its schema checked) once per process:
the same validator class, the same errors (the best match, with Rasa's hint appended).
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def reply_validator():
    """The validator of Rasa's action-server reply schema (its schema checked once)."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = best_match(reply_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Replaces ``RemoteAction._validate_action_result`` (once per process; idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result
