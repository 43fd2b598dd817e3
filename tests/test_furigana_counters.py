"""Counters after an Arabic numeral are read as they sound after that number; the file is validated."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.furigana import segments
from bot.furigana_counters import CountersError, parse
from tests.furigana_table import notation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1分", "1分{ぷん}"),
        ("2分", "2分{ふん}"),
        ("3分", "3分{ぷん}"),
        ("5分", "5分{ふん}"),
        ("10分", "10分{ぷん}"),
        ("15分", "15分{ふん}"),
        ("30分", "30分{ぷん}"),
        ("1階", "1階{かい}"),
        ("3階", "3階{がい}"),
        ("1本", "1本{ぽん}"),
        ("3本", "3本{ぼん}"),
        ("2本", "2本{ほん}"),
        ("1日", "1日{にち}"),
        ("4月1日", "4月{がつ}1日{ついたち}"),
        ("毎月 1日", "毎月{まいつき} 1日{ついたち}"),
        ("1人1日3リットル", "1人{ひとり}1日{にち}3リットル"),
        ("2日", "2日{か}"),
        ("10日", "10日{か}"),
        ("11日", "11日{にち}"),
        ("14日", "14日{か}"),
        ("20日", "20日{はつか}"),
        ("24日", "24日{か}"),
        ("31日", "31日{にち}"),
        ("1人", "1人{ひとり}"),
        ("2人", "2人{ふたり}"),
        ("5人", "5人{にん}"),
        ("20歳", "20歳{はたち}"),
        ("18歳", "18歳{さい}"),
        ("3千", "3千{ぜん}"),
        ("8千", "8千{せん}"),
        ("1,200円", "1,200円{えん}"),
        ("１４日", "１４日{か}"),
        ("12か月", "12か月{げつ}"),
        ("9時", "9時{じ}"),
    ],
)
def test_counter_reading(text, expected):
    assert notation(segments(text)) == expected


def test_an_unknown_counter_in_one_word_with_its_number_gets_no_ruby():
    segs = segments("3ダース5匁")  # 匁 is not in the counters file
    assert all(reading is None for surface, reading in segs if "匁" in surface)


BAD = [
    ("[]", "expected a mapping 'counters'"),
    ("counters: {分: ふん}", "counters: 分: expected a mapping"),
    ("counters: {分: {reading: フン}}", "counters: 分: 'reading' must be hiragana"),
    (
        "counters: {分: {reading: ふん, endings: {12: ぷん}}}",
        "counters: 分: 'endings' key 12 must be a number 0-9",
    ),
    (
        "counters: {分: {reading: ふん, endings: {1: プン}}}",
        "counters: 分: 'endings' 1: reading must be hiragana",
    ),
    (
        "counters: {日: {reading: にち, words: [ついたち]}}",
        "counters: 日: 'words' must map numbers to readings",
    ),
    ("counters: {日: {reading: にち, after: {}}}", "counters: 日: expected a mapping with keys among"),
    ("counters: {}\nprefixes: {第: ダイ}", "prefixes: 第: reading must be hiragana"),
    (
        "counters: {日: {reading: にち, dates: {1: ツイタチ}}}",
        "counters: 日: 'dates' 1: reading must be hiragana",
    ),
]


@pytest.mark.parametrize(("text", "error"), BAD)
def test_a_malformed_counters_file_is_refused_naming_the_counter(text, error):
    with pytest.raises(CountersError, match="^" + re.escape(f"counters.yml: {error}")):
        parse(yaml.safe_load(text), "counters.yml")


def test_a_valid_counter_is_accepted():
    counters = parse(yaml.safe_load("counters: {分: {reading: ふん, endings: {1: ぷん}}}"), "counters.yml")
    assert counters.counters["分"].after(21) == ("ぷん", False)
    assert counters.counters["分"].after(22) == ("ふん", False)
