"""A callback request goes to the department of its topic (the issue's 担当課 `-` defect)."""

from __future__ import annotations

import pytest
from test_actions import isolated_var, run, tracker  # noqa: F401 - fixture and helpers of the actions tests

from actions import context
from actions.callback import ActionSubmitCallback
from bot.knowledge.routing import department_for


@pytest.mark.parametrize(
    ("procedure", "topic", "department"),
    [
        ("jido_teate", "介護保険のことで相談したい", "kodomo"),  # the conversation's procedure decides
        (None, "介護保険のことで相談したい", "kaigo"),
        (None, "住民票の写しについて", "shimin"),
        ("no_such_procedure", "ゴミの出し方", "kankyo"),
        (None, "よくわからない", None),
        (None, None, None),
    ],
)
def test_department_for(procedure, topic, department):
    found = department_for(context.catalog(), procedure, topic)
    assert (found.id if found else None) == department


def test_a_callback_about_介護保険_without_a_procedure_goes_to_介護保険課():
    slots = {
        "callback_phone": "09012345678",
        "callback_name": "山田太郎",
        "callback_slot": context.catalog().city.callback_slots[0].id,
        "callback_topic": "介護保険のことで相談したい",
        "callback_confirmed": True,
    }
    messages, _ = run(ActionSubmitCallback(), tracker("/affirm", "affirm", slots=slots))
    stored = context.stores().callbacks.get(messages[0]["ticket"])
    assert stored.department == "kaigo"
    assert messages[0]["department_name"] == context.catalog().department("kaigo").name
