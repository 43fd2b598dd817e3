"""Japanese telephone numbers as residents type them.

Residents write ``０９０ー１２３４ー５６７８``, ``(03)1234-5678``, ``+81 90 1234 5678`` or
``090-1234-5678です``. :func:`parse_phone` folds widths and dash look-alikes, lets the
``phonenumbers`` library (region JP) decide whether the number can exist, and returns it in the
forms the callback queue and staff need.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

#: Characters residents use as separators that NFKC does not turn into "-".
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc\uff70\u2500\u2501\u301c\uff5e~]")
#: A run that could be one phone number: digits with spaces, hyphens, dots or parentheses between.
_CANDIDATE = re.compile(r"\+?[\d(][\d\s().-]*\d")
_MAX_INPUT = 64

_TYPES: dict[int, str] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}


@dataclass(frozen=True)
class PhoneNumber:
    """A valid Japanese telephone number.

    Attributes:
        national: digits only, national format (``"09012345678"``).
        e164: international format (``"+819012345678"``).
        kind: ``"mobile"``, ``"fixed"``, ``"toll_free"``, ``"shared_cost"`` (0570), ``"voip"`` (050),
            ``"personal"`` (060), ``"pager"``, … or ``"unknown"``.
        formatted: national format with the usual hyphens (``"090-1234-5678"``), to read back.
    """

    national: str
    e164: str
    kind: str
    formatted: str


def _clean(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    return _DASHES.sub("-", folded).strip()


def without_phone(text: str) -> str:
    """The text with every digit run that could be a phone number taken out (width-folded): what is left of
    「山田花子、090-1234-5678」 is 「山田花子、」."""
    return _CANDIDATE.sub("", _clean(text or ""))


def parse_phone(text: str) -> PhoneNumber | None:
    """Parses a Japanese phone number written in any common way.

    Args:
        text: what the resident typed; words around one number (``"090-1234-5678です"``) are tolerated.

    Returns:
        The number, or ``None`` when the text holds no possible Japanese number (too short, impossible
        prefix, a foreign number, empty) or more than one run of digits.
    """
    if not text or len(text) > _MAX_INPUT:
        return None
    candidates = _CANDIDATE.findall(_clean(text))
    if len(candidates) != 1:
        return None
    try:
        number = phonenumbers.parse(candidates[0], "JP")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 81 or not phonenumbers.is_valid_number_for_region(number, "JP"):
        return None
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return PhoneNumber(
        national=re.sub(r"\D", "", formatted),
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        kind=_TYPES.get(phonenumbers.number_type(number), "unknown"),
        formatted=formatted,
    )
