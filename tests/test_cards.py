"""The card contract: every kind round-trips through ``custom.madoguchi`` JSON; bad payloads are refused."""

from __future__ import annotations

import json

import pytest
import yaml

from bot import settings as settings_module
from bot.dialogue.cards import (
    CARD_KINDS,
    CARD_TYPES,
    Contact,
    OnlineForm,
    PhoneCard,
    ProcedureCard,
    card_from_json,
)

GOLDEN = settings_module.REPO_ROOT / "tests" / "golden" / "actions.json"


def _golden_cards() -> list[dict]:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return [
        m["custom"]["madoguchi"]
        for case in golden.values()
        for m in case["messages"]
        if (m.get("custom") or {}).get("madoguchi")
    ]


def _domain_cards() -> list[dict]:
    domain = yaml.safe_load((settings_module.REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [
        variant["custom"]["madoguchi"]
        for variants in domain["responses"].values()
        for variant in variants
        if (variant.get("custom") or {}).get("madoguchi")
    ]


@pytest.mark.parametrize("payload", _golden_cards() + _domain_cards(), ids=lambda p: p["kind"])
def test_every_card_sent_today_round_trips_exactly(payload):
    card = card_from_json(payload)
    assert card is not None and card.kind == payload["kind"]
    assert card.to_json() == payload


def test_every_kind_is_sent_somewhere():
    sent = {p["kind"] for p in _golden_cards() + _domain_cards()}
    assert sent == CARD_KINDS == set(CARD_TYPES)


def test_nested_fields_are_typed():
    payload = next(p for p in _golden_cards() if p["kind"] == "procedure" and p["online"])
    card = card_from_json(payload)
    assert isinstance(card, ProcedureCard)
    assert isinstance(card.online, OnlineForm) and isinstance(card.department, Contact)
    assert isinstance(card.bring, tuple)


@pytest.mark.parametrize("payload", [None, "procedure", {}, {"kind": "nope"}, {"kind": "details"}])
def test_malformed_payloads_give_none(payload):
    assert card_from_json(payload) is None


def test_unknown_fields_are_dropped():
    card = card_from_json({"kind": "callback", "ticket": "CB-1", "x": 2})
    assert card is not None and card.to_json() == {"kind": "callback", "ticket": "CB-1"}


def test_the_main_number_card_has_no_department():
    assert PhoneCard(phone="0120").to_json() == {"kind": "phone", "phone": "0120"}


def test_line_renders_every_card_kind():
    from bot.channels.line.render import CARD_RENDERERS

    assert set(CARD_RENDERERS) == CARD_KINDS


def widget_card_kinds() -> set[str]:
    """The keys of ``CARD_RENDERING`` in widget/madoguchi-widget.js."""
    import re

    source = (settings_module.REPO_ROOT / "widget" / "madoguchi-widget.js").read_text(encoding="utf-8")
    block = re.search(r"var CARD_RENDERING = \{(.*?)\};", source, re.S)
    assert block, "widget/madoguchi-widget.js has no CARD_RENDERING table"
    return set(re.findall(r"^\s*([a-z_]+):", block.group(1), re.M))


def test_the_widget_renders_every_card_kind():
    assert widget_card_kinds() == CARD_KINDS
