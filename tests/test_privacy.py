"""mask() table tests, naughty strings, and the logging filter."""

from __future__ import annotations

import io
import logging
import time

import pytest

from bot import privacy
from bot.privacy import ADDRESS, EMAIL, NAME, NUMBER, PHONE, POSTAL, PiiSafeFilter, install_log_masking, mask

MASKED = [
    # phone numbers
    ("電話は090-1234-5678です", f"電話は{PHONE}です"),
    ("０９０ー１２３４ー５６７８にお願いします", f"{PHONE}にお願いします"),
    ("０９０－１２３４－５６７８", PHONE),
    ("09012345678", PHONE),
    ("090 1234 5678まで", f"{PHONE}まで"),
    ("(03)1234-5678", PHONE),
    ("03(1234)5678", PHONE),
    ("０３（１２３４）５６７８", PHONE),
    ("+81 90 1234 5678", PHONE),
    ("+81(0)90-1234-5678", PHONE),
    ("0466-12-3456", PHONE),
    ("フリーダイヤル0120-123-456", f"フリーダイヤル{PHONE}"),
    ("窓口（0120-000-000）", f"窓口（{PHONE}）"),
    ("ﾃﾞﾝﾜ 090-1111-2222", f"ﾃﾞﾝﾜ {PHONE}"),
    # e-mail
    ("メールはtaro.yamada@example.co.jpです", f"メールは{EMAIL}です"),
    ("ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ", EMAIL),
    # postal codes
    ("〒123-4567 サンプル市", f"{POSTAL} サンプル市"),
    ("〒１２３ー４５６７", POSTAL),
    ("郵便番号は123-4567です", f"郵便番号は{POSTAL}です"),
    # My Number-like runs
    ("マイナンバーは123456789012です", f"マイナンバーは{NUMBER}です"),
    ("1234 5678 9012", NUMBER),
    ("１２３４－５６７８－９０１２", NUMBER),
    # names
    ("名前は山田太郎です", f"名前は{NAME}です"),
    ("私の名前はマリアです", f"私の名前は{NAME}です"),
    ("氏名：山田 太郎", f"氏名：{NAME}"),
    ("氏名山田太郎", f"氏名{NAME}"),
    ("お名前は やまだ たろう です", f"お名前は {NAME} です"),
    ("山田花子と申します", f"{NAME}と申します"),
    ("こんにちは、山田と申します", f"こんにちは、{NAME}と申します"),
    ("ジョン・スミスといいます", f"{NAME}といいます"),
    ("私は山田です", f"私は{NAME}です"),
    # addresses
    ("住所はサンプル市中央町1丁目2番3号です", f"住所は{ADDRESS}です"),
    ("中央町三丁目に住んでいます", f"{ADDRESS}に住んでいます"),
    ("本町2-3-4に引っ越しました", f"{ADDRESS}に引っ越しました"),
    ("中央町1-2-3 101号室", ADDRESS),
    ("サンプル市緑町5番地の2", ADDRESS),
    ("２番３号", ADDRESS),
    # several at once
    (
        "山田太郎と申します。090-1234-5678、taro@example.jp、〒123-4567 中央町1丁目",
        f"{NAME}と申します。{PHONE}、{EMAIL}、{POSTAL} {ADDRESS}",
    ),
]

UNCHANGED = [
    "住民票の写しを取りたい",
    "119に電話すればいいですか",
    "110番",
    "児童手当は2024年10月から変わりましたか",
    "令和6年4月1日に転入しました",
    "手数料は1,000円ですか",
    "午前8時30分から午後5時15分まで",
    "私は学生です",
    "氏名変更の届けを出したい",
    "名前を変えたい",
    "子どもの名前の漢字",
    "私は外国人です",
    "私は65歳です",
    "3人家族です",
    "マイナンバーカードの更新",
    "ｼﾞｭｳﾐﾝﾋｮｳ",
    "",
    "🙂🙂🙂 住民票 👨‍👩‍👧",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_masks(text: str, expected: str):
    assert mask(text) == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_leaves_ordinary_text_alone(text: str):
    assert mask(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "📞090-1234-5678📞",
        "\u200b090-1234-5678\u200b",
        "090-1234-5678\n\n\t",
        "ﾃﾞﾝﾜﾊﾞﾝｺﾞｳﾊ０９０ｰ１２３４ｰ５６７８ﾃﾞｽ",
        "👨‍👩‍👧‍👦 〒123-4567 👨‍👩‍👧‍👦",
        "ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ😀",
        "e\u0301 090-1234-5678 e\u0301",
        "ｶﾞｷﾞｸﾞ 090-1234-5678 ﾊﾟﾋﾟﾌﾟ",
    ],
)
def test_naughty_strings_keep_surroundings_and_hide_numbers(text: str):
    masked = mask(text)
    digits = "".join(ch for ch in masked if ch.isdigit())
    assert digits == "", masked
    assert masked.count("[") == 1


def test_surrounding_text_is_kept_exactly():
    text = "ｺﾝﾆﾁﾊ　住民票🙂。電話は０９０ー１２３４ー５６７８！　よろしく"
    assert mask(text) == f"ｺﾝﾆﾁﾊ　住民票🙂。電話は{PHONE}！　よろしく"


@pytest.mark.parametrize(
    "text",
    [
        "住民票を取りたいです。" * 10000,
        "1" * 100_000,
        "0-" * 50_000,
        "名前は" + "あ" * 100_000,
        "あ" * 100_000 + "と申します",
        "a" * 100_000 + "@",
        "1丁目" * 30_000,
        "(0" * 50_000,
    ],
)
def test_very_long_text_is_linear(text: str):
    started = time.perf_counter()
    mask(text)
    assert time.perf_counter() - started < 10


def test_long_text_with_many_items():
    text = "電話は090-1234-5678、住所は中央町1丁目2番3号。" * 2000
    masked = mask(text)
    assert masked.count(PHONE) == 2000 and masked.count(ADDRESS) == 2000
    assert "090" not in masked


def test_name_check_fails_closed(monkeypatch: pytest.MonkeyPatch):
    def broken(_: str):
        raise RuntimeError("tokenizer unavailable")

    monkeypatch.setattr(privacy, "analyze", broken)
    assert mask("私は学生です") == f"私は{NAME}です"


# --- logging ---------------------------------------------------------------------------------------


def _logger(name: str) -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream, handler


def test_filter_masks_message_and_args():
    logger, stream, handler = _logger("test.privacy.args")
    handler.addFilter(PiiSafeFilter())
    logger.info("callback for %s at %s", "山田太郎と申します", "090-1234-5678")
    logger.warning("raw text: 名前は山田太郎です、 taro@example.jp")
    out = stream.getvalue()
    assert "090" not in out and "山田" not in out and "taro@" not in out
    assert PHONE in out and NAME in out and EMAIL in out


def test_filter_masks_tracebacks_and_bad_format_strings():
    logger, stream, handler = _logger("test.privacy.exc")
    handler.addFilter(PiiSafeFilter())
    try:
        raise ValueError("bad phone 090-1234-5678")
    except ValueError:
        logger.exception("failed")
    logger.info("broken %d format", "090-1234-5678")
    out = stream.getvalue()
    assert "Traceback" in out and "ValueError" in out
    assert "090-1234-5678" not in out


def test_install_log_masking_covers_child_loggers_once():
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        assert install_log_masking() >= 1
        assert install_log_masking() == 0
        assert sum(isinstance(f, PiiSafeFilter) for f in handler.filters) == 1
        logging.getLogger("rasa.some.child").info("user said %s", "電話は03-1234-5678")
        assert "03-1234-5678" not in stream.getvalue() and PHONE in stream.getvalue()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for other in root.handlers:
            for f in [f for f in other.filters if isinstance(f, PiiSafeFilter)]:
                other.removeFilter(f)


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_masking_twice_changes_nothing(text: str, expected: str):
    assert mask(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "私は山田",
        "山田です。折り返しください",
        "担当の方から折り返しお電話いただけますか。山田太郎、090-0000-1234です",
        "佐藤花子といいます。電話をかけ直してほしいです",
        "折り返し電話ください、きむらです",
    ],
)
def test_every_name_the_callback_form_would_take_is_masked(text):
    from actions.callback import introduced_name

    name = introduced_name(text)
    assert name, "the callback form takes a name from this text"
    masked = mask(text)
    assert name not in masked and NAME in masked


def test_someone_elses_name_is_not_an_introduction():
    assert mask("高橋さんに折り返してほしい") == "高橋さんに折り返してほしい"
