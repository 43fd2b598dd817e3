"""Rendering bot messages into LINE message objects within LINE's limits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from line_bench import PROCEDURE_CARD

from bot.channels.line.flex import call_phones, procedure_bubble, procedure_card, tel_uri
from bot.channels.line.render import (
    MAX_TEXT,
    batches,
    button_action,
    cut_label,
    merge_texts,
    quick_reply,
    render_turn,
    split_text,
    utf16_len,
)
from bot.channels.line.texts import load_texts

LABELS = load_texts(Path(__file__).parents[2] / "data" / "line").card


def test_short_text_is_one_message():
    assert split_text("こんにちは") == ["こんにちは"]


def test_long_text_splits_at_a_line_break_near_the_limit():
    text = "一" * 4000 + "\n" + "二" * 3000
    assert split_text(text) == ["一" * 4000, "二" * 3000]


def test_text_without_breaks_is_cut_hard_and_nothing_is_lost():
    text = "".join(chr(0x3042 + i % 80) for i in range(12345))
    parts = split_text(text)
    assert [len(p) for p in parts] == [5000, 5000, 2345]
    assert "".join(parts) == text


def test_emoji_count_as_two_units_and_are_never_cut_in_half():
    text = "😀" * 2600  # 5,200 UTF-16 units
    parts = split_text(text)
    assert all(utf16_len(p) <= MAX_TEXT for p in parts)
    assert "".join(parts) == text and len(parts) == 2


def test_merge_only_when_over_the_limit():
    texts = [{"type": "text", "text": f"t{i}"} for i in range(4)]
    assert merge_texts(texts, 5) == texts
    merged = merge_texts(texts * 2, 5)
    assert len(merged) == 1 and merged[0]["text"].count("\n\n") == 7


def test_merge_respects_the_text_limit_and_keeps_other_types_in_place():
    big = {"type": "text", "text": "a" * 3000}
    flex = {"type": "flex", "altText": "x", "contents": {}}
    merged = merge_texts([big, big, flex, big, big, big], 5)
    assert [m["type"] for m in merged] == ["text", "text", "flex", "text", "text", "text"]
    assert all(utf16_len(m.get("text", "")) <= MAX_TEXT for m in merged)


def test_batches_of_five():
    objects = [{"type": "text", "text": str(i)} for i in range(11)]
    assert [len(b) for b in batches(objects)] == [5, 5, 1]
    assert batches([]) == []


def test_buttons_become_postback_or_uri_actions():
    assert button_action({"title": "はい", "payload": "/affirm"}) == {
        "type": "postback",
        "label": "はい",
        "data": "/affirm",
        "displayText": "はい",
    }
    assert button_action({"title": "電子申請", "payload": "https://e.example.jp/x"}) == {
        "type": "uri",
        "label": "電子申請",
        "uri": "https://e.example.jp/x",
    }
    assert button_action({"title": "地図", "url": "https://map.example.jp/"})["type"] == "uri"
    assert button_action({"title": "", "payload": "/x"}) is None
    assert button_action({"title": "x"}) is None
    assert button_action({"title": "長い", "payload": "/x" + "a" * 300}) is None


def test_quick_reply_limits_and_duplicates():
    buttons = [{"title": f"選択肢{i}", "payload": f"/p{i}"} for i in range(20)]
    quick = quick_reply(buttons + buttons)
    assert len(quick["items"]) == 13
    assert [i["action"]["data"] for i in quick["items"]] == [f"/p{i}" for i in range(13)]
    assert quick_reply([]) is None


def test_labels_are_cut_to_twenty_characters():
    assert (
        cut_label("住民票の写しを取りたいときの持ち物と手数料", 20)
        == "住民票の写しを取りたいときの持ち物と手…"
    )
    assert len(cut_label("x" * 50, 20)) == 20
    assert cut_label("短い", 20) == "短い"


def test_turn_buttons_gather_on_the_last_message():
    messages = [
        {"text": "一つ目", "buttons": [{"title": "A", "payload": "/a"}]},
        {"text": "二つ目", "buttons": [{"title": "B", "payload": "/b"}, {"title": "A", "payload": "/a"}]},
    ]
    objects = render_turn(messages, LABELS)
    assert [o["text"] for o in objects] == ["一つ目", "二つ目"]
    assert "quickReply" not in objects[0]
    assert [i["action"]["data"] for i in objects[1]["quickReply"]["items"]] == ["/a", "/b"]


def test_images_passthrough_and_empty_turns():
    objects = render_turn(
        [
            {"text": "地図です", "image": "https://city.example.jp/map.png"},
            {"text": "", "custom": {"line": {"type": "sticker", "packageId": "446", "stickerId": "1988"}}},
            {"text": None, "image": "http://insecure.example.jp/a.png"},
        ],
        LABELS,
    )
    assert [o["type"] for o in objects] == ["text", "image", "sticker", "text"]
    assert objects[1]["originalContentUrl"] == "https://city.example.jp/map.png"
    assert objects[3]["text"] == "http://insecure.example.jp/a.png"
    assert render_turn([], LABELS) == []
    assert render_turn([{"text": "   "}], LABELS) == []


def test_procedure_card_content():
    message = {"text": "住民票の写しについて", "custom": {"madoguchi": PROCEDURE_CARD}}
    [flex] = render_turn([message], LABELS)
    bubble = flex["contents"]
    assert flex["altText"] == "住民票の写しについて"
    assert bubble["header"]["contents"][0]["text"] == "住民票の写しの交付"
    rows = {
        row["contents"][0]["text"]: row["contents"][1]["text"]
        for row in bubble["body"]["contents"]
        if row["type"] == "box"
    }
    assert rows == {
        LABELS["bring"]: "本人確認書類(運転免許証など)\n手数料",
        LABELS["fee"]: "1通300円",
        LABELS["where"]: "市民課の窓口 / コンビニ / オンライン",
    }
    assert LABELS["deadline"] not in rows  # no deadline, no empty row
    notes = [c["text"] for c in bubble["body"]["contents"] if c["type"] == "text"]
    assert LABELS["mynumber_card"] in notes
    actions = [b["action"] for b in bubble["footer"]["contents"]]
    assert actions[0] == {"type": "uri", "label": LABELS["online"], "uri": PROCEDURE_CARD["online"]["url"]}
    assert actions[1]["uri"] == "tel:0120000123" and "0120-000-123" in actions[1]["label"]


def test_card_without_online_or_phone_has_no_footer_and_flat_fields_work():
    card = {
        "kind": "procedure",
        "name": "粗大ごみの申込み",
        "summary_easy": "電話で申し込みます。",
        "fee": 500,
    }
    bubble = procedure_bubble(card, LABELS, "")["contents"]
    assert "footer" not in bubble
    flat = {"kind": "procedure", "name": "x", "online_url": "https://e.example.jp/", "phone": "03-1234-5678"}
    footer = procedure_bubble(flat, LABELS, "x")["contents"]["footer"]["contents"]
    assert [b["action"]["uri"] for b in footer] == ["https://e.example.jp/", "tel:0312345678"]
    assert procedure_bubble(card, LABELS, "")["altText"] == "粗大ごみの申込み"


def test_only_procedure_kind_with_a_name_is_a_card():
    assert procedure_card({"madoguchi": {"kind": "faq", "name": "x"}}) is None
    assert procedure_card({"madoguchi": {"kind": "procedure"}}) is None
    assert procedure_card("text") is None
    assert render_turn([{"text": "本文", "custom": {"madoguchi": {"kind": "faq"}}}], LABELS) == [
        {"type": "text", "text": "本文"}
    ]


def test_alt_text_is_limited():
    message = {"text": "あ" * 2000, "custom": {"madoguchi": PROCEDURE_CARD}}
    [flex] = render_turn([message], LABELS)
    assert len(flex["altText"]) == 1500


def test_easy_japanese_summary_when_the_card_asks_for_it():
    card = dict(PROCEDURE_CARD, summary_easy="じゅうみんひょうは じゅうしょを しょうめいする かみです。")
    plain = procedure_bubble(card, LABELS, "x")["contents"]["body"]["contents"][0]["text"]
    easy = procedure_bubble(dict(card, easy=True), LABELS, "x")["contents"]["body"]["contents"][0]["text"]
    assert (plain, easy) == (PROCEDURE_CARD["summary"], card["summary_easy"])


def _rows(flex: dict) -> list[tuple[str, str]]:
    body = flex["contents"]["body"]["contents"]
    return [
        (r["contents"][0]["text"], r["contents"][1]["text"]) for r in body if r.get("layout") == "baseline"
    ]


def test_easy_japanese_card_shows_every_field_from_the_real_data():
    """The real core's card (data/yasashii.yml): with easy on, each row is the easy label and value."""
    from bot import settings
    from bot.dialogue import compose
    from bot.dialogue.live import LiveKnowledge

    knowledge = LiveKnowledge(settings.load({}), faq=lambda: None).now()
    procedure = knowledge.catalog.get("tennyu")
    card = compose.procedure_card(knowledge, procedure, easy=True).to_json()
    easy = card["easy_fields"]
    rows = _rows(procedure_bubble(card, LABELS, "x"))
    assert rows == [
        (LABELS["deadline_easy"], easy["deadline"]),
        (LABELS["bring_easy"], "\n".join(easy["bring"])),
        (LABELS["fee_easy"], easy["fee"]),
        (LABELS["where_easy"], " / ".join(easy["where"])),
    ]
    standard = _rows(procedure_bubble(dict(card, easy=False), LABELS, "x"))
    assert standard[0] == (LABELS["deadline"], card["deadline"]) and standard[2] == (
        LABELS["fee"],
        card["fee"],
    )


# --- call buttons: safety answers and phone answers ---------------------------------------------------

DOMAIN = yaml.safe_load((Path(__file__).parents[2] / "domain.yml").read_text(encoding="utf-8"))
SAFETY = ("utter_emergency", "utter_self_harm", "utter_dv")


def _footer_actions(flex: dict) -> list[dict]:
    return [b["action"] for b in flex["contents"]["footer"]["contents"]]


@pytest.mark.parametrize("response", SAFETY)
def test_safety_answer_carries_a_tel_button_per_number(response):
    message = dict(DOMAIN["responses"][response][0])  # text + custom, as the LINE collector keeps it
    phones = message["custom"]["madoguchi"]["phones"]
    [flex] = render_turn([message], LABELS)
    assert flex["type"] == "flex"
    assert flex["altText"] == message["text"]
    assert flex["contents"]["body"]["contents"][0]["text"] == message["text"]
    actions = _footer_actions(flex)
    assert [a["type"] for a in actions] == ["uri"] * len(phones)
    assert [a["uri"] for a in actions] == ["tel:" + p.replace("-", "").replace("#", "%23") for p in phones]
    assert [a["label"] for a in actions] == [LABELS["call"].format(phone=p) for p in phones]
    assert all(len(a["label"]) <= 40 for a in actions)


def test_dv_short_number_is_percent_encoded():
    assert tel_uri("#8008") == "tel:%238008"
    assert tel_uri("0570-783-556") == "tel:0570783556"
    assert tel_uri("119") == "tel:119"
    assert tel_uri("javascript:alert(1)") is None
    assert tel_uri("12 34") is None


def test_phone_answer_keeps_its_tel_button_and_quick_replies():
    message = {
        "text": "市民課の電話番号は 012-345-6701 です。",
        "buttons": [{"title": "折り返し電話を申し込む", "payload": "/request_callback"}],
        "custom": {"madoguchi": {"kind": "phone", "department": "市民課", "phone": "012-345-6701"}},
    }
    [flex] = render_turn([message], LABELS)
    assert _footer_actions(flex) == [
        {"type": "uri", "label": LABELS["call"].format(phone="012-345-6701"), "uri": "tel:0123456701"}
    ]
    assert flex["quickReply"]["items"][0]["action"]["data"] == "/request_callback"


def test_procedure_card_phone_button_is_a_tel_uri():
    [flex] = render_turn([{"text": "x", "custom": {"madoguchi": PROCEDURE_CARD}}], LABELS)
    tel = [a for a in _footer_actions(flex) if a["uri"].startswith("tel:")]
    assert len(tel) == 1 and tel[0]["uri"] == "tel:" + PROCEDURE_CARD["department"]["phone"].replace("-", "")


def test_unusable_phones_leave_a_plain_text():
    bad = {"kind": "safety", "phones": ["javascript:x", 119, None]}
    assert render_turn([{"text": "本文", "custom": {"madoguchi": bad}}], LABELS) == [
        {"type": "text", "text": "本文"}
    ]
    assert call_phones({"madoguchi": {"kind": "faq", "phones": ["119"]}}) == []
    assert call_phones({"madoguchi": {"kind": "safety", "phones": "119"}}) == []
