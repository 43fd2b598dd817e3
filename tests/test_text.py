"""Japanese normalization and analysis (bot/text.py): table tests and naughty strings."""

from __future__ import annotations

import pytest

from bot.text import analyze, content_lemmas, normalize, normalize_with_offsets, reading, to_katakana

NORMALIZATION = [
    ("ｼﾞｭｳﾐﾝﾋｮｳ", "ジュウミンヒョウ"),  # half-width kana with voiced marks
    ("ﾊﾟｽﾎﾟｰﾄ", "パスポート"),  # semi-voiced marks
    ("０９０－１２３４－５６７８", "090-1234-5678"),  # full-width digits and minus
    ("住民票　土日", "住民票 土日"),  # ideographic space
    ("  前後の空白  ", "前後の空白"),
    ("ＡＢＣ abc", "abc abc"),  # full-width Latin, ASCII lower-cased
    ("㍻", "平成"),  # compatibility characters expand
    ("マイナンバーカード", "マイナンバーカード"),  # already normal: unchanged
    ("a\t\n b", "a b"),  # runs of white space fold to one
    ("", ""),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALIZATION)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


LEMMAS = [
    ("引越しの手つづき", ["引っ越し", "手続き"]),
    ("引っ越しの手続き", ["引っ越し", "手続き"]),
    ("住民票を取りたい", ["住民票", "取る"]),
    ("ｼﾞｭｳﾐﾝﾋｮｳ", ["ジュウミンヒョウ"]),
]


@pytest.mark.parametrize(("raw", "expected"), LEMMAS)
def test_content_lemmas_use_sudachi_normalized_forms(raw, expected):
    assert content_lemmas(raw) == expected


OFFSETS = [
    "ｼﾞｭｳﾐﾝﾋｮｳを取りたい",
    "０９０－１２３４－５６７８に電話",
    "住民票　土日",
    "😀引越し🏠の手つづき",
    "  ﾏｲﾅｶｰﾄﾞ  なくした ",
    "㍻の戸籍",
]


@pytest.mark.parametrize("raw", OFFSETS)
def test_token_offsets_point_into_the_original_text(raw):
    morphs = analyze(raw)
    assert morphs, raw
    previous_end = 0
    for m in morphs:
        assert raw[m.start : m.end] == m.surface
        assert m.start >= previous_end
        previous_end = m.end
    # every non-space character of the original is covered by exactly one token
    covered = {i for m in morphs for i in range(m.start, m.end)}
    assert {i for i, ch in enumerate(raw) if not ch.isspace()} <= covered


def test_half_width_kana_token_spans_the_original_characters():
    raw = "ｼﾞｭｳﾐﾝﾋｮｳを"
    first = analyze(raw)[0]
    assert (first.start, first.end) == (0, 9)
    assert first.reading == "ジュウミンヒョウ"


NAUGHTY = [
    "😀😀😀",
    "🧑‍🧑‍🧒 家族の手続き",
    "ﾃｽﾄ\u3099\u309a",
    "A̐éö̲",  # combining marks
    "\u200b\u200d",  # zero-width characters
    "住民票" * 3000,  # very long input (Sudachi refuses single inputs this long)
    "。" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\x00\x01制御文字",
    "𠮷野家の𩸽",  # characters outside the BMP
    "ｶﾞｷﾞｸﾞｹﾞｺﾞ ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ",
]


@pytest.mark.parametrize("raw", NAUGHTY, ids=range(len(NAUGHTY)))
def test_naughty_strings_round_trip(raw):
    norm, starts, ends = normalize_with_offsets(raw)
    assert len(norm) == len(starts) == len(ends)
    assert all(0 <= s < e <= len(raw) for s, e in zip(starts, ends, strict=True))
    for m in analyze(raw):
        assert raw[m.start : m.end] == m.surface
        assert 0 <= m.start < m.end <= len(raw)


def test_long_input_is_analysed_completely():
    raw = "住民票を取りたい。" * 1000
    morphs = analyze(raw)
    assert sum(1 for m in morphs if m.lemma == "住民票") == 1000


def test_readings_make_kana_spellings_comparable():
    assert reading("住民票") == to_katakana("じゅうみんひょう") == "ジュウミンヒョウ"


def test_one_home_for_atomic_writes(tmp_path):
    """A failed write leaves the old file and no temporary file behind."""
    import pytest as _pytest

    from bot.files import atomic_write, atomic_write_bytes

    target = tmp_path / "sub" / "f.bin"
    atomic_write_bytes(target, b"old")

    def broken(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with _pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_bytes() == b"old" and [p.name for p in target.parent.iterdir()] == ["f.bin"]


def test_each_thread_gets_its_own_tokenizer_of_one_dictionary():
    """Sudachi refuses a tokenizer used by two threads at once: the servers tokenize on several."""
    import threading

    from bot.text import _dictionary, get_tokenizer

    here = get_tokenizer("C")
    assert get_tokenizer("C") is here
    other: list = []
    thread = threading.Thread(target=lambda: other.append(get_tokenizer("C")))
    thread.start()
    thread.join()
    assert other[0] is not here and _dictionary.cache_info().currsize >= 1
    surfaces = [[m.surface() for m in t.tokenize("住民票")] for t in (here, other[0])]
    assert surfaces[0] == surfaces[1]


def test_threads_may_analyse_text_at_once():
    # a SudachiPy tokenizer refuses a second thread ("Tokenizer is already in use"): the language desk
    # (channel) and the NLU thread of the Rasa process both analyse text
    import threading

    from bot.text import analyze, get_tokenizer

    errors: list[str] = []

    def work() -> None:
        try:
            for _ in range(200):
                analyze("住民票を取りたいのですが、どこに行けばいいですか。" * 4, "C")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(type(error).__name__)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert get_tokenizer("C") is get_tokenizer("C")
