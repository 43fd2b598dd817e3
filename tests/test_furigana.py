"""ふりがな segments from Sudachi readings: kanji only, hiragana, okurigana outside, offsets exact."""

from __future__ import annotations

import re

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


# --- Naughty strings (in the style of ginza's tests): the text comes back exactly, readings are kana, ------
# --- and numbers, URLs, phone numbers and 受付番号 never get ruby. -------------------------------------
NAUGHTY = [
    "受付番号は CB-20261202-0001 です。",
    "受付番号：CB-20261202-0001（12月3日の午前にお電話します）",
    "市民課（012-345-6701）へ。",
    "０１２−３４５−６７０１（市民課）",
    "119番、#8008、0120-279-889",
    "〒999-0001 サンプル県サンプル市中央一丁目1番1号",
    "詳しくは https://shinsei.city-sample.example/procedures/juminhyo?lang=ja&x=1#申請 を見てください。",
    "www.city-sample.example/kurashi/index.html から申請",
    "メール：shimin@city-sample.example（市民課）",
    "👍 住民票の写し 👎",
    "👨\u200d👩\u200d👧 世帯全員の住民票",
    "1\ufe0f\u20e3 本人確認書類",
    "𠮷田さんの住民票",  # a kanji outside the BMP (a surrogate pair in the widget's JavaScript)
    "葛\U000e0100飾区",  # an ideographic variation selector
    "住民票\ud800の写し",  # a lone surrogate (JSON allows it)
    "ｼﾞｭｳﾐﾝﾋｮｳ の申請",
    "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞの暗証番号",
    "か\u3099いこくじん住民",  # a combining dakuten
    "住民票\u200bの\u00a0写し\u3000を\t取りたい\r\n\ufeff窓口",
    "１２月２９日〜１月３日は閉庁です",
    "2026年12月2日（水）9時〜12時",
    "1,200円、1万5千円、10.5%",
    "<b>住民票</b> &amp; \"戸籍\" '印鑑' {name}",
    "市役所" * 800,  # longer than one Sudachi chunk
    "。、！？「」（）・…",
]


def _spans(text: str, pattern: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(pattern, text)]


def _ruby_spans(segs) -> list[tuple[int, int]]:
    out, pos = [], 0
    for surface, reading in segs:
        if reading is not None:
            out.append((pos, pos + len(surface)))
        pos += len(surface)
    return out


# Identifiers read digit by digit, never given ruby: 受付番号, phone numbers, postal codes, URLs, e-mail.
IDENTIFIERS = (
    r"[A-Z]{2}-\d{8}-\d{4}|[#＃]?[\d０-９]+(?:[-−][\d０-９]+)+|〒[\d-]+|https?://\S+|www\.\S+|\S+@[\w.-]+"
)


@pytest.mark.parametrize("text", NAUGHTY, ids=range(len(NAUGHTY)))
def test_naughty_strings(text):
    segs = segments(text)
    assert "".join(surface for surface, _ in segs) == text
    assert all(surface for surface, _ in segs)
    for surface, reading in segs:
        if reading is not None:
            assert has_kanji(surface), (surface, reading)
            assert re.fullmatch("[\u3041-\u3096ー]+", reading), (surface, reading)
            assert not re.search(r"[\ud800-\udfff\u200d\ufe00-\ufe0f]", surface[:1]), surface
            # digits under a ruby only where number and counter are one word (1人 = ひとり, 20日 = はつか)
            assert not re.search(r"\d", surface) or re.fullmatch(r"\d+[人日歳]", surface), surface
    for start, end in _spans(text, IDENTIFIERS):
        ident = text[start:end]
        overlapping = [(a, b) for a, b in _ruby_spans(segs) if a < end and start < b]
        # a URL may end in a kanji fragment (#申請): that part is not the URL the resident types
        assert all(has_kanji(text[a:b]) and not re.search(r"\d", text[a:b]) for a, b in overlapping), ident


def test_identifiers_stay_whole_in_one_piece():
    segs = segments("受付番号は CB-20261202-0001 です。お電話は012-345-6701へ。")
    plain = [surface for surface, reading in segs if reading is None]
    assert any("CB-20261202-0001" in s for s in plain)
    assert any("012-345-6701" in s for s in plain)


# --- Normalization: widths and spaces residents and staff type change nothing but the surfaces. ---------
NORMALIZATION = [
    ("１４日以内に届け出てください", "14日以内に届け出てください"),
    ("住民票　の写し", "住民票 の写し"),
    ("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞの申請", "マイナンバーカードの申請"),
    ("（市民課）", "(市民課)"),
    ("第２庁舎３階", "第2庁舎3階"),
    ("ＡＢＣ市役所", "ABC市役所"),
]


@pytest.mark.parametrize(("variant", "canonical"), NORMALIZATION)
def test_normalized_variants_get_the_same_readings(variant, canonical):
    def readings(text):
        return [reading for _, reading in segments(text) if reading]

    assert readings(variant) == readings(canonical)
    assert "".join(s for s, _ in segments(variant)) == variant


# --- Offsets: every ruby sits on the very characters of the original text it reads. -----------------------
@pytest.mark.parametrize(
    ("text", "ruby"),
    [
        ("　 転入届は\u3000１４日以内。", [("転入届", 2), ("日", 9), ("以内", 10)]),
        ("ｺﾝﾋﾞﾆで住民票", [("住民票", 6)]),
        ("か\u3099ん検診", [("検診", 3)]),
    ],
)
def test_ruby_offsets_point_into_the_original_text(text, ruby):
    segs = segments(text)
    pos, found = 0, []
    for surface, reading in segs:
        if reading:
            found.append((surface, pos))
            assert text[pos : pos + len(surface)] == surface
        pos += len(surface)
    assert found == ruby
