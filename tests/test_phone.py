"""parse_phone: Japanese numbers in the ways residents type them."""

from __future__ import annotations

import pytest

from bot.phone import PhoneNumber, parse_phone


@pytest.mark.parametrize(
    ("text", "national", "e164", "kind"),
    [
        ("090-1234-5678", "09012345678", "+819012345678", "mobile"),
        ("09012345678", "09012345678", "+819012345678", "mobile"),
        ("０９０ー１２３４ー５６７８", "09012345678", "+819012345678", "mobile"),
        ("０９０－１２３４－５６７８", "09012345678", "+819012345678", "mobile"),
        ("090‐1234‐5678", "09012345678", "+819012345678", "mobile"),
        ("090—1234—5678", "09012345678", "+819012345678", "mobile"),
        ("090 1234 5678", "09012345678", "+819012345678", "mobile"),
        ("090　1234　5678", "09012345678", "+819012345678", "mobile"),
        ("+81 90 1234 5678", "09012345678", "+819012345678", "mobile"),
        ("+81-90-1234-5678", "09012345678", "+819012345678", "mobile"),
        ("+81 (0)90-1234-5678", "09012345678", "+819012345678", "mobile"),
        ("080-9876-5432", "08098765432", "+818098765432", "mobile"),
        ("(03)1234-5678", "0312345678", "+81312345678", "fixed"),
        ("03(1234)5678", "0312345678", "+81312345678", "fixed"),
        ("０３（１２３４）５６７８", "0312345678", "+81312345678", "fixed"),
        ("06-6123-4567", "0661234567", "+81661234567", "fixed"),
        ("0466-12-3456", "0466123456", "+81466123456", "fixed"),
        ("0120-123-456", "0120123456", "+81120123456", "toll_free"),
        ("0800-123-4567", "08001234567", "+818001234567", "toll_free"),
        ("050-1234-5678", "05012345678", "+815012345678", "voip"),
        ("090-1234-5678です", "09012345678", "+819012345678", "mobile"),
        ("電話は０９０ー１２３４ー５６７８でお願いします", "09012345678", "+819012345678", "mobile"),
        ("TEL:03-1234-5678", "0312345678", "+81312345678", "fixed"),
    ],
)
def test_valid_numbers(text: str, national: str, e164: str, kind: str):
    number = parse_phone(text)
    assert isinstance(number, PhoneNumber)
    assert (number.national, number.e164, number.kind) == (national, e164, kind)
    assert number.formatted.replace("-", "") == national


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "電話番号",
        "12345",
        "110",
        "119",
        "03-1234-567",  # one digit short
        "090-1234-56789",  # one digit too many
        "099-1234-5678",  # no such prefix
        "03-0000-0000",  # impossible subscriber number
        "+1 650 253 0000",  # valid, but not Japanese
        "+44 20 7946 0958",
        "090-1234-5678 か 03-1234-5678",  # two numbers: ask again rather than guess
        "1-800-FLOWERS",
        "0" * 200,
        "０９０ー１２３４ー５６７８" * 10,
    ],
)
def test_rejected(text: str):
    assert parse_phone(text) is None


def test_same_number_any_writing_is_equal():
    writings = ["090-1234-5678", "０９０ー１２３４ー５６７８", "+81 90-1234-5678", "(090)1234-5678"]
    assert len({parse_phone(w) for w in writings}) == 1
