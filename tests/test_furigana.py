"""ふりがな segments from Sudachi readings: kanji only, hiragana, okurigana outside, offsets exact."""

from __future__ import annotations

import pytest

from bot.furigana import align, has_kanji, segments, to_hiragana


def _joined(segs) -> str:
    return "".join(surface for surface, _ in segs)


def test_okurigana_stay_outside_the_ruby():
    segs = segments("住民票の写しを取りたい")
    assert segs == [
        ["住民票", "じゅうみんひょう"],
        ["の", None],
        ["写", "うつ"],
        ["しを", None],
        ["取", "と"],
        ["りたい", None],
    ]


@pytest.mark.parametrize(
    ("surface", "reading", "expected"),
    [
        ("引っ越し", "ひっこし", [["引", "ひ"], ["っ", None], ["越", "こ"], ["し", None]]),
        ("お届け", "おとどけ", [["お", None], ["届", "とど"], ["け", None]]),
        ("手続き", "てつづき", [["手続", "てつづ"], ["き", None]]),
        ("日々", "ひび", [["日々", "ひび"]]),
        ("ごみ", "ごみ", [["ごみ", None]]),
        ("ヶ月", "かげつ", [["ヶ月", "かげつ"]]),  # kana that cannot be aligned: whole word, whole reading
    ],
)
def test_align(surface, reading, expected):
    assert align(surface, reading) == expected


@pytest.mark.parametrize(
    "text",
    [
        "転入届は　引っ越してから１４日以内に。\n詳しくは https://example.jp/a?b=1 を見てください。",
        "ｼﾞｭｳﾐﾝﾋｮｳ と 住民票",
        "  前後の空白  ",
        "ＡＢＣ１２３",
        "",
    ],
)
def test_surfaces_rebuild_the_original_text_exactly(text):
    segs = segments(text)
    assert _joined(segs) == text
    for surface, reading in segs:
        if reading is not None:
            assert has_kanji(surface)
            assert all("\u3041" <= c <= "\u3096" or c == "ー" for c in reading), reading
        assert surface  # no empty pieces


def test_text_without_kanji_has_no_ruby_and_is_merged():
    assert segments("ありがとうございます。https://example.jp") == [
        ["ありがとうございます。https://example.jp", None]
    ]


def test_a_counter_after_an_arabic_numeral_is_read_as_it_sounds_after_that_number():
    # Sudachi reads 分 as ふん and 日 as にち on their own; 30分 is さんじゅっぷん, 10日 is とおか.
    assert segments("30分後、10日まで") == [
        ["30", None],
        ["分", "ぷん"],
        ["後", "ご"],
        ["、10", None],
        ["日", "か"],
        ["まで", None],
    ]


def test_to_hiragana():
    assert to_hiragana("ジュウミンヒョウー住A") == "じゅうみんひょうー住A"
