"""The structured cards a reply can carry: one frozen dataclass per kind.

A card travels to the channels as ``custom.madoguchi`` (:meth:`Card.to_json`); rich channels (the LINE
Flex renderer, the widget) read it back with :func:`card_from_json`. Channels that do not understand a
card show the reply's plain text and buttons, which every reply also has.

Adding a kind: a dataclass here (with ``kind`` and its fields, listed in :data:`CARD_TYPES`), a renderer
per channel (``bot/channels/line/render.py`` and ``widget/madoguchi-widget.js``'s ``CARD_KINDS``), and a
line in the card tests; ``tests/test_cards.py`` fails until every channel knows the new kind.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Mapping


@dataclass(frozen=True, kw_only=True)
class Card:
    """Base of every card: ``kind`` names it on the wire; the fields are its payload."""

    kind: ClassVar[str] = ""
    #: Fields left out of the payload when they are None (cards domain.yml writes with fewer fields).
    optional: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``custom.madoguchi`` payload: ``{"kind": …, <fields>}``."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in self.optional:
                continue
            out[f.name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, (OnlineForm, Contact, EasyFields)):
        return value.to_json()
    return value


@dataclass(frozen=True, kw_only=True)
class OnlineForm:
    """A procedure's online form (電子申請)."""

    url: str
    requires_mynumber_card: bool

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "requires_mynumber_card": self.requires_mynumber_card}


@dataclass(frozen=True, kw_only=True)
class Contact:
    """A department as a card shows it."""

    name: str
    phone: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "phone": self.phone}


@dataclass(frozen=True, kw_only=True)
class EasyFields:
    """Every field of a procedure card in やさしい日本語 (data/catalog ``summary_easy`` and
    data/yasashii.yml), beside the standard ones so that a channel can switch between them."""

    summary: str
    deadline: str | None
    bring: tuple[str, ...]
    fee: str
    where: tuple[str, ...]
    department: Contact | None

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "deadline": self.deadline,
            "bring": list(self.bring),
            "fee": self.fee,
            "where": list(self.where),
            "department": self.department.to_json() if self.department else None,
        }


@dataclass(frozen=True, kw_only=True)
class ProcedureCard(Card):
    """The short answer about one procedure; ``easy``: show the やさしい日本語 fields (``easy_fields``, or
    ``summary_easy`` alone when a card has no ``easy_fields``)."""

    kind: ClassVar[str] = "procedure"
    optional: ClassVar[tuple[str, ...]] = ("easy_fields",)
    easy: bool
    procedure: str
    name: str
    summary: str
    summary_easy: str | None
    deadline: str | None
    bring: tuple[str, ...]
    fee: str | None
    where: tuple[str, ...]
    online: OnlineForm | None
    department: Contact | None
    easy_fields: EasyFields | None = None


@dataclass(frozen=True, kw_only=True)
class DetailsCard(Card):
    """The longer explanation of a procedure."""

    kind: ClassVar[str] = "details"
    procedure: str


@dataclass(frozen=True, kw_only=True)
class OnlineCard(Card):
    """Whether (and where) a procedure can be done online."""

    kind: ClassVar[str] = "online"
    procedure: str
    online: OnlineForm | None


@dataclass(frozen=True, kw_only=True)
class ChecklistCard(Card):
    """The procedures a life event calls for (``option``: 市外から / 市外へ / 市内で, or None)."""

    kind: ClassVar[str] = "checklist"
    optional: ClassVar[tuple[str, ...]] = ("intro",)
    life_event: str
    option: str | None
    procedures: tuple[str, ...]
    #: The deadline shown for each procedure, in the same order (the checklist's own wording or the
    #: procedure's; None: no deadline).
    deadlines: tuple[str | None, ...] = ()
    #: A sentence before the list (condolences for 家族が亡くなった), or None.
    intro: str | None = None


@dataclass(frozen=True, kw_only=True)
class ClarifyCard(Card):
    """One clarifying question about a life event (its options are the reply's buttons)."""

    kind: ClassVar[str] = "clarify"
    life_event: str


@dataclass(frozen=True, kw_only=True)
class MenuCard(Card):
    """Popular procedures offered when nothing is named yet."""

    kind: ClassVar[str] = "menu"
    procedures: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class FaqCard(Card):
    """One FAQ answer."""

    kind: ClassVar[str] = "faq"
    optional: ClassVar[tuple[str, ...]] = ("contact",)
    faq_id: str
    question: str
    department: str
    url: str | None
    verified_on: str | None
    #: The 担当課 the entry names, with its phone (None when the entry names none the catalog knows).
    contact: Contact | None = None


@dataclass(frozen=True, kw_only=True)
class SuggestionsCard(Card):
    """「もしかして」: ``count`` guesses are the reply's first buttons (then phone and callback).

    Beside an answer (``offer`` set, no phone and callback buttons): ``"maybe"`` — other procedures the
    message may mean, the answer's margin was thin; ``"checklist"`` — the life event the message also
    describes; ``"also"`` — a second question of the same message. ``options``: what each button opens
    (``procedure:ID``, ``life_event:ID``, ``faq:ID``), in button order.
    """

    kind: ClassVar[str] = "suggestions"
    optional: ClassVar[tuple[str, ...]] = ("offer", "options")
    count: int
    offer: str | None = None
    options: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class FallbackCard(Card):
    """Nothing matched: only the ways to a person are offered."""

    kind: ClassVar[str] = "fallback"


@dataclass(frozen=True, kw_only=True)
class SafetyCard(Card):
    """A crisis answer (emergency, self_harm, dv) and the numbers to call (written in domain.yml)."""

    kind: ClassVar[str] = "safety"
    category: str
    phones: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CallbackFormCard(Card):
    """A step of the callback form (phone, slot, confirm)."""

    kind: ClassVar[str] = "callback_form"
    step: str


@dataclass(frozen=True, kw_only=True)
class CallbackCard(Card):
    """A stored callback request and its 受付番号; ``call_date`` (ISO date) and ``slot`` (a callback slot id)
    say when the city will call.

    What a resident reads out over the phone is the day of the request and its number of that day:
    ``received`` (ISO date) and ``number`` (``0001``); ``ticket`` (``CB-20261202-0001``) is the key the
    stores and staff use (``bot.stores.records.resolve_ticket`` finds it from the spoken form).
    ``received_label`` (「12月2日（水）」) and ``call_when`` (「12月3日（木）の午前中（9時〜12時）」) are
    those days as residents read them."""

    kind: ClassVar[str] = "callback"
    optional: ClassVar[tuple[str, ...]] = (
        "call_date",
        "slot",
        "number",
        "received",
        "received_label",
        "call_when",
    )
    ticket: str
    call_date: str | None = None
    slot: str | None = None
    number: str | None = None
    received: str | None = None
    received_label: str | None = None
    call_when: str | None = None


@dataclass(frozen=True, kw_only=True)
class PhoneCard(Card):
    """A number to call; ``department`` and ``open_now`` are absent when domain.yml gives only the main
    number (utter_phone_give_up). ``callback``: why a confirmed callback request got no 受付番号 instead —
    ``not_stored`` (certainly not received) or ``unsure`` (the store could not say whether it was)."""

    kind: ClassVar[str] = "phone"
    optional: ClassVar[tuple[str, ...]] = ("department", "open_now", "callback")
    department: str | None = None
    phone: str
    open_now: bool | None = None
    callback: str | None = None


#: Every card kind -> its type. The channels' renderer tables are checked against this.
CARD_TYPES: Mapping[str, type[Card]] = {
    cls.kind: cls
    for cls in (
        ProcedureCard,
        DetailsCard,
        OnlineCard,
        ChecklistCard,
        ClarifyCard,
        MenuCard,
        FaqCard,
        SuggestionsCard,
        FallbackCard,
        SafetyCard,
        CallbackFormCard,
        CallbackCard,
        PhoneCard,
    )
}
CARD_KINDS = frozenset(CARD_TYPES)

_NESTED = {"online": OnlineForm, "department": Contact}


def card_from_json(data: Any) -> Card | None:
    """The card of a ``custom.madoguchi`` payload; None when it is not a well-formed card.

    Channels call this on what arrives from the action server (or domain.yml), so nothing is trusted:
    an unknown kind, a missing field or a field of the wrong shape gives None, and the channel falls
    back to the plain text and buttons.
    """
    if not isinstance(data, Mapping):
        return None
    cls = CARD_TYPES.get(str(data.get("kind") or ""))
    if cls is None:
        return None
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            if f.name in cls.optional:
                continue
            return None
        values[f.name] = _from_plain(cls, f.name, data[f.name])
    try:
        return cls(**values)
    except TypeError:
        return None


def _from_plain(cls: type[Card], name: str, value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    nested = _NESTED.get(name)
    if nested is not None and isinstance(value, Mapping):
        try:
            return nested(**{f.name: value[f.name] for f in fields(nested)})
        except (KeyError, TypeError):
            return None
    return value
