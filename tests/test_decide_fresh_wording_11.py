"""Fresh wording, eleventh understanding round (issue 10), by kind: a notice that arrived is the situation
(not the receiving of a card), everyday names of procedures, a move inside one building or estate, a death
told with 死んだ and a kin word, English bulky items and a marriage said in the progressive, and romaji that
uses the city's loanwords (mynumber, card). Words only (no encoder, no model): the structured fields the
reply is built from. Every sentence here is new (none is an evaluation question)."""

from __future__ import annotations

import pytest

from bot import language, romaji, settings
from bot.dialogue.resolve import resolve
from bot.knowledge.asked import load_asked_actions
from bot.knowledge.catalog import load_catalog

REAL_DATA = settings.load({}).data_dir


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(REAL_DATA)


@pytest.fixture(scope="module")
def asked(catalog):
    return load_asked_actions(REAL_DATA, catalog.procedures)


@pytest.fixture(scope="module")
def desk(catalog):
    return language.load_desk(REAL_DATA, catalog)


# ------------------------------------------------------------------ a notice that arrived is the situation


@pytest.mark.parametrize(
    ("text", "procedure", "action"),
    [
        ("電子証明書の更新のお知らせが届いたのですが", "mynumber_cert_renew", "renew"),
        ("署名用の電子証明書がもうすぐ期限切れという案内が届きました", "mynumber_cert_renew", "renew"),
        ("電子証明書について市から手紙が来た。更新は予約がいる？", "mynumber_cert_renew", "renew"),
        # the card's own notice is still the receiving
        ("交付通知書が届いたのでマイナンバーカードを受け取りたい", "mynumber_receive", "receive"),
        ("マイナンバーカードの交付通知書が届きました", "mynumber_receive", "receive"),
    ],
)
def test_a_notice_that_arrived_does_not_choose_the_receiving(catalog, asked, text, procedure, action):
    resolution = resolve(text, "ask_procedure", catalog, None, None, asked)
    assert resolution.kind == "procedure", (text, resolution.kind, resolution.reason)
    assert resolution.procedure.id == procedure, (text, resolution.procedure.id, resolution.reason)
    assert action in asked.found(text)


@pytest.mark.parametrize(
    "text",
    ["更新のお知らせが届いた", "市から案内が届いたんですが", "手紙が届きました"],
)
def test_a_notice_arriving_is_not_the_receive_action(asked, text):
    assert "receive" not in asked.found(text)


def test_a_notice_card_lost_is_still_lost(asked):
    # 通知 is not a notice of the situation: 通知カードをなくした is the card
    assert "lost" in asked.found("通知カードをなくしてしまった")


# ------------------------------------------------------------------------------------- everyday names


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("子ども手当の申し込みをしたい", "jido_teate"),
        ("こども手当はどこで手続きしますか", "jido_teate"),
        ("子育ての手当を受けたいです", "jido_teate"),
        ("一人暮らしの母に非常ボタンを付けてもらいたい", "koureisha_fukushi"),
        ("緊急通報ボタンを借りるにはどうすればいいですか", "koureisha_fukushi"),
        ("見守りボタンの申し込み", "koureisha_fukushi"),
    ],
)
def test_everyday_names_name_the_procedure(catalog, asked, text, procedure):
    resolution = resolve(text, "ask_procedure", catalog, None, None, asked)
    assert resolution.kind == "procedure", (text, resolution.kind, resolution.reason)
    assert resolution.procedure.id == procedure, (text, resolution.procedure.id, resolution.reason)


# ------------------------------------------------------------------------------------------ life events


@pytest.mark.parametrize(
    ("text", "event", "option"),
    [
        ("同じ団地の中で別の号棟に引っ越します", "moving", "within"),
        ("同じマンションの中で上の階へ引っ越す予定です", "moving", "within"),
        ("アパートの隣の部屋に移るだけなんですが届けはいりますか", "moving", "within"),
        ("隣の棟へ引っ越すことになりました", "moving", "within"),
        ("先週、祖母が死んでしまって何から手を付ければいいか", "death", None),
        ("うちのじいちゃんが死んだんで手続きを教えて", "death", None),
        ("夫が死んで一人になりました", "death", None),
    ],
)
def test_life_events_told_in_everyday_words(catalog, text, event, option):
    found = catalog.match_life_event(text)
    assert found is not None, text
    matched, chosen = found
    assert (matched.id, chosen.id if chosen else None) == (event, option)


@pytest.mark.parametrize(
    "text",
    [
        "隣の棟の駐車場はどこですか",  # a place, not a move
        "市内の病院を知りたい",
        "飼っていた犬が死んでしまいました",  # a pet is not the family's death checklist
    ],
)
def test_no_life_event_where_none_is_told(catalog, text):
    found = catalog.match_life_event(text)
    assert found is None or found[0].id != "death" and found[1] is None, (text, found)


# -------------------------------------------------------------------------------------------- English


def _card(messages):
    return messages[0]["custom"]["madoguchi"]


@pytest.mark.parametrize(
    "text",
    [
        "Where do I get rid of an old mattress?",
        "I have a broken wardrobe and a bookshelf to dispose of",
        "how to throw out a futon",
    ],
)
def test_english_bulky_items_get_the_oversized_garbage_card(desk, text):
    card = _card(desk.answer(text))
    assert (card["kind"], card["procedure"]) == ("procedure_en", "sodai_gomi")


@pytest.mark.parametrize(
    ("text", "event", "option"),
    [
        ("I am marrying my partner in spring, which papers does the city need?", "marriage", None),
        ("My fiancée and I are engaged to be married soon", "marriage", None),
        ("We are moving within the city to a bigger flat", "moving", "within"),
    ],
)
def test_english_life_events_in_other_tenses(desk, text, event, option):
    card = _card(desk.answer(text))
    assert (card["kind"], card["life_event"], card.get("option")) == ("checklist_en", event, option)


# ------------------------------------------------------------------------------ romaji with loanwords


@pytest.mark.parametrize(
    ("text", "kana"),
    [
        ("mynumber card wo otoshite shimaimashita", "マイナンバーカードをおとしてしまいました"),
        ("card ga wareta", "カードがわれた"),
        ("konbini de juuminhyou wo toritai", "コンビニでじゅうみんひょうをとりたい"),
    ],
)
def test_romaji_with_the_citys_loanwords_is_romaji(text, kana):
    assert romaji.looks_like_romaji(text)
    assert romaji.reading(text) == kana


@pytest.mark.parametrize("text", ["card", "mynumber card", "I lost my card", "konbini"])
def test_loanwords_alone_or_in_english_are_not_romaji(text):
    assert not romaji.looks_like_romaji(text)


def test_romaji_with_a_loanword_goes_to_the_japanese_turn_and_its_action(desk, catalog, asked):
    text = "mynumber card wo otoshite shimaimashita. mou ichido tsukuritai"
    assert desk.answer(text) is None  # the Japanese turn reads it in kana
    kana = romaji.reading(text)
    resolution = resolve(kana, "ask_procedure", catalog, None, None, asked)
    assert (resolution.kind, resolution.procedure.id) == ("procedure", "mynumber_lost"), resolution.reason


# ------------------------------------------------------------------------------------------- two questions


@pytest.mark.parametrize(
    ("text", "first"),
    [
        # the whole message's words name a third procedure (住所変更: 転居届); the first question is answered
        ("転出届の出し方を知りたい。それから、犬の登録の住所変更もそこで済みますか", "tenshutsu"),
        ("住民票の写しがほしいです。あと、犬の登録の住所変更もできますか", "juminhyo"),
    ],
)
def test_two_questions_answer_the_first_when_the_whole_names_another(catalog, asked, text, first):
    resolution = resolve(text, "ask_procedure", catalog, None, None, asked)
    assert (resolution.kind, resolution.procedure.id) == ("procedure", first), resolution.reason
