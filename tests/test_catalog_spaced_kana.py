"""Procedure questions typed in kana with spaces between the words (issue 10): the catalog matcher and
the asked-action finder read the words the resident spaced; a text without such spacing is read as before."""

from __future__ import annotations

import pytest

from bot import settings
from bot.dialogue.resolve import resolve
from bot.knowledge.catalog.matching import analyse_query
from bot.text import spaced_kana_words

REAL_DATA = settings.load({}).data_dir


# (spaced kana, the procedure answered, the asked action found or None)
SPACED = [
    ("ぜいきん が はらえません", "nouzei_sodan", "cannot_pay"),
    ("ぜいきんが はらえません", "nouzei_sodan", "cannot_pay"),  # the particle written onto the word
    ("ぜいきん を はらう のが むずかしい", "nouzei_sodan", "cannot_pay"),
    ("じゅうみんぜい が はらえません", "nouzei_sodan", "cannot_pay"),  # the 市税 group's sibling
    ("こていしさんぜい を ぶんかつ で はらいたい", "nouzei_sodan", "cannot_pay"),
    ("けいじどうしゃぜい すこしずつ はらいたい", "nouzei_sodan", "cannot_pay"),
    ("ぜいきん の ぶんかつ を そうだん したい", "nouzei_sodan", "cannot_pay"),
    ("こくみんねんきん が はらえません", "nenkin_exemption", "cannot_pay"),
    ("じゅうみんひょう を とりたい です", "juminhyo", None),
    ("まいなんばーかーど を なくしました", "mynumber_lost", "lost"),
    ("ほけんしょう を なくしました", "hokensho_saikofu", "lost"),
    ("こくほ を やめたい です", "kokuho_leave", "leave"),
    ("こくみん けんこう ほけん に はいりたい", "kokuho_join", "join"),
    ("いんかん とうろく を したい", "inkan_toroku", None),
    ("いんかん しょうめい が ほしい", "inkan_shomei", None),
    ("てんにゅう とどけ を だしたい", "tennyu", None),
    ("そだい ごみ を だしたい", "sodai_gomi", None),
    ("こせき とうほん が ほしい です", "koseki", None),
]


@pytest.mark.parametrize(("text", "procedure", "action"), SPACED)
def test_spaced_kana_is_answered(catalog, asked, text, procedure, action):
    resolution = resolve(text, "ask_procedure", catalog, None, None, asked)
    assert resolution.kind == "procedure", (text, resolution.kind, resolution.reason)
    assert resolution.procedure.id == procedure, (text, resolution.procedure.id, resolution.reason)
    found = asked.found(text)
    if action is not None:
        assert action in found, (text, found)


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("ぜいきん が はらえません", "nouzei_sodan"),
        ("ぜいきん を はらう のが むずかしい", "nouzei_sodan"),
    ],
)
def test_the_words_name_the_procedure_surely(catalog, text, procedure):
    """Read before only as ぜ|いき|ん (nothing matched): now 税金が払えない by lemmas and readings."""
    best = catalog.match(text, top_k=1)
    assert best and best[0][0] == procedure and best[0][1] >= 0.8, (text, best)


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("まいなんばーかーど を なくしました", "death"),  # なくす read ナクス is not 亡くす
        ("ほけんしょう を なくしました", "death"),
        ("ぜいきん が はらえません", "death"),
    ],
)
def test_a_homophone_is_not_a_life_event(catalog, text, event):
    """A lemma found only by the reading Sudachi gives a piece of a word (ナクス) is not a phrase's rarest
    word: the card, not 家族が亡くなった's checklist beside it."""
    life = catalog.match_life_event_scored(text)
    assert life is None or life[0].id != event, (text, life)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ぜいきん が はらえません", ((0, "ぜいきん"), (7, "はらえません"))),
        ("じゅうみんひょう を とりたい", ((0, "じゅうみんひょう"), (11, "とりたい"))),
        ("住民票 を とりたい", ((6, "とりたい"),)),
    ],
)
def test_spaced_kana_words(text, words):
    assert spaced_kana_words(text) == words


@pytest.mark.parametrize(
    "text",
    [
        "税金が払えません",
        "ぜいきんがはらえません",
        "じゅうみんひょうをとりたいです",
        "住民票を取りたい",
        "国保をやめたい",
    ],
)
def test_text_without_spacing_is_read_as_before(catalog, asked, text):
    """No space: no spaced words, no extra readings (the answers stay what they were)."""
    assert spaced_kana_words(text) == ()
    query = analyse_query(text)
    assert query.kana_keys == frozenset() and query.kana_words == frozenset()


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("税金が払えません", "nouzei_sodan"),
        ("じゅうみんひょうをとりたいです", "juminhyo"),
        ("マイナンバーカードをなくしました", "mynumber_lost"),
        ("国保をやめたい", "kokuho_leave"),
    ],
)
def test_unspaced_answers(catalog, asked, text, procedure):
    resolution = resolve(text, "ask_procedure", catalog, None, None, asked)
    assert (resolution.kind, resolution.procedure.id if resolution.procedure else None) == (
        "procedure",
        procedure,
    )
