"""Residents who read no Japanese: the detection rule, the answers from data/languages/, their checks,
and the REST channel answering them without the Japanese turn (real Sanic server, stand-in agent)."""

from __future__ import annotations

import copy
import json
import shutil
import socket
import uuid
from pathlib import Path

import aiohttp
import pytest
import yaml
from rasa.core.channels.channel import UserMessage, register
from rasa.server import configure_cors
from sanic import Sanic

from bot import language, settings
from bot.channels.web import MadoguchiRestInput
from bot.cli import main

REAL_DATA = settings.load({}).data_dir


@pytest.fixture(scope="module")
def desk(catalog):
    return language.load_desk(REAL_DATA, catalog)


# ------------------------------------------------------------------------------------------ detect


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("住民票の写しを取りたい", "ja"),
        ("住民票 手数料", "ja"),  # kanji only, but nothing Chinese about it
        ("転入届", "ja"),
        ("ｼﾞｭｳﾐﾝﾋｮｳ", "ja"),
        ("マイナンバーカード how", "ja"),  # any kana: the Japanese turn
        ('/ask_procedure{"procedure":"koseki"}', "ja"),  # a button's payload
        ("090-1234-5678", "ja"),
        ("Yamada Taro", "ja"),  # a name in romaji during a callback request
        ("", "ja"),
        ("I moved to this city. What should I do?", "en"),
        ("How can I get a residence certificate?", "en"),
        ("hello", "en"),
        ("我想办理住民票", "zh"),
        ("请问在哪里办理转入手续", "zh"),
        ("我想申請住民票", "zh"),  # traditional characters: the 简体 notice still helps
        ("주민표를 받고 싶어요", "ko"),
        ("Tôi muốn làm thủ tục chuyển nhà", "vi"),
        ("Toi can giup do, đăng ký", "vi"),
        ("Como faço para tirar o atestado de residência?", "pt"),
        ("Onde fica a prefeitura? Preciso de ajuda", "pt"),
        ("Paano po kumuha ng residence certificate?", "tl"),
        ("Saan ako pupunta para sa tulong?", "tl"),
        ("मलाई मद्दत चाहिन्छ", "ne"),
        ("Здравствуйте, мне нужна помощь", "other"),
    ],
)
def test_detect(text: str, lang: str) -> None:
    assert language.detect(text) == lang


def test_english_wins_a_tie_with_another_latin_language() -> None:
    assert language.detect("a sa") == "en"  # one English word, one Tagalog word


@pytest.mark.parametrize(
    ("text", "latin"),
    [("child allowance", True), ("Yamada", True), ("住民票", False), ("/affirm", False), ("123", False)],
)
def test_is_latin_only(text: str, latin: bool) -> None:
    assert language.is_latin_only(text) is latin


# ------------------------------------------------------------------------------------------ answers


def _kinds(messages) -> list[tuple[str, str | None]]:
    return [(m["custom"]["madoguchi"]["kind"], m["custom"]["madoguchi"].get("procedure")) for m in messages]


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("How can I get a residence certificate?", "juminhyo"),
        ("I lost my health insurance card", "hokensho_saikofu"),
        ("How do I join health insurance?", "kokuho_join"),
        ("Where do I report my new address for my residence card?", "zairyu_card_jusho"),
        ("I want to throw away a sofa", "sodai_gomi"),
        ("I need a tax certificate for my visa renewal", "kazei_shomei"),
        ("garbage collection days", "gomi_bunbetsu"),
        ("child allowance", "jido_teate"),  # no common English word, but it names a procedure
        ("I turned 75", "kouki_iryo"),
    ],
)
def test_english_questions_get_the_english_card(desk, text: str, procedure: str) -> None:
    assert _kinds(desk.answer(text)) == [("procedure_en", procedure)]


def test_an_english_hours_question_gets_the_hours_card_and_the_phone_answer(desk, catalog) -> None:
    """Hours count as a phone question: the number of the hours entry's department after its card."""
    messages = desk.answer("When is city hall open on Saturday?")
    assert _kinds(messages) == [("procedure_en", "kaichojikan"), ("phone", "kaichojikan")]
    phone = messages[1]["custom"]["madoguchi"]
    assert phone["phone"] == catalog.department_of("kaichojikan").phone
    assert phone["phone"] in messages[1]["text"]


def test_the_english_card_has_the_essentials_from_both_files(desk, catalog) -> None:
    [message] = desk.answer("How can I get a residence certificate?")
    card = message["custom"]["madoguchi"]
    juminhyo = catalog.get("juminhyo")
    english = desk.pack.procedures["juminhyo"]
    assert card["lang"] == "en" and card["name"] == english.name and card["name_ja"] == juminhyo.name
    assert card["bring"] == list(english.bring) and card["bring"]
    assert card["online"] == {"url": juminhyo.online.url, "requires_mynumber_card": True}
    assert card["department"]["phone"] == catalog.department("shimin").phone
    assert card["department"]["name"] == desk.pack.departments["shimin"]["name"]
    assert "by post" in card["where"] and "online" in card["where"]
    assert message["buttons"] == [{"title": desk.pack.messages["open_form"], "payload": juminhyo.online.url}]
    for item in english.bring:
        assert item in message["text"]
    assert catalog.city.phone in message["text"]  # help in person
    body = message["text"].split("\n")[1:-1]  # between the title (with the Japanese name) and the hint
    assert not any(language.detect(line) == "ja" and not language.is_latin_only(line) for line in body), body


def test_a_procedure_without_a_form_says_so(desk, catalog) -> None:
    [message] = desk.answer("moving-in notification")
    assert message["custom"]["madoguchi"]["online"] is None and message["buttons"] == []
    assert desk.pack.messages["no_online"] in message["text"]


def test_where_includes_the_phone_for_oversized_garbage(desk) -> None:
    [message] = desk.answer("oversized garbage")
    assert "by phone" in message["custom"]["madoguchi"]["where"]


def test_an_english_question_we_cannot_place_gets_the_phone_and_topics(desk, catalog) -> None:
    [message] = desk.answer("Hello, can you help me?")
    card = message["custom"]["madoguchi"]
    assert card == {"kind": "phone", "lang": "en", "phone": catalog.city.phone}
    assert catalog.city.phone in message["text"] and "119" in message["text"]
    titles = [b["title"] for b in message["buttons"]]
    assert titles == [desk.pack.procedures[pid].name for pid in desk.pack.menu]
    for button in message["buttons"]:  # each topic button, sent back as a message, gets its card
        assert _kinds(desk.answer(button["payload"]))[0][0] == "procedure_en"


@pytest.mark.parametrize("lang", language.NOTICE_LANGUAGES)
def test_each_notice_language_gets_its_notice_with_the_city_phone(desk, catalog, lang: str) -> None:
    samples = {
        "zh": "我想办理住民票",
        "ko": "주민표를 받고 싶어요",
        "vi": "Tôi muốn làm thủ tục chuyển nhà",
        "pt": "Onde fica a prefeitura? Preciso de ajuda",
        "tl": "Saan ako pupunta para sa tulong?",
        "ne": "मलाई मद्दत चाहिन्छ",
    }
    [message] = desk.answer(samples[lang])
    assert message["custom"]["madoguchi"] == {
        "kind": "phone",
        "lang": lang,
        "line_langs": [lang, "en"],  # the notice, then the same in English: one line each
        "phone": catalog.city.phone,
    }
    assert len(message["text"].split("\n")) == 2
    notice = desk.pack.notices[lang]["notice"].format(phone=catalog.city.phone)
    assert message["text"].startswith(notice)
    assert catalog.city.phone in notice and "119" in notice and "110" in notice


def test_a_notice_language_naming_a_procedure_in_english_also_gets_the_card(desk) -> None:
    assert _kinds(desk.answer("Paano po kumuha ng residence certificate?")) == [
        ("phone", None),
        ("procedure_en", "juminhyo"),
    ]


def test_other_scripts_get_the_english_notice_or_the_chosen_language(desk) -> None:
    assert desk.answer("Здравствуйте")[0]["custom"]["madoguchi"]["lang"] == "en"
    assert desk.answer("Здравствуйте", hint="pt")[0]["custom"]["madoguchi"]["lang"] == "pt"


def test_japanese_is_left_to_the_normal_turn(desk) -> None:
    for text in ("住民票の写しを取りたい", "Yamada Taro", "/affirm", "転入届"):
        assert desk.answer(text) is None


# ------------------------------------------------------------------------------------------- checks


def test_the_real_language_files_agree_with_the_catalog(catalog) -> None:
    assert language.check(REAL_DATA, catalog) == []
    pack = language.load_pack(REAL_DATA)
    assert set(pack.procedures) == set(catalog.procedures)
    assert set(pack.notices) == set(language.NOTICE_LANGUAGES)


def _copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(REAL_DATA, data, ignore=shutil.ignore_patterns("faq", "nlu", "line", "dictionary"))
    return data


def _edit(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        (
            "en.yml",
            lambda d: d["procedures"].pop("juminhyo"),
            "languages/en.yml: juminhyo: -: no English content",
        ),
        (
            "en.yml",
            lambda d: d["procedures"].update(
                nope=copy.deepcopy(d["procedures"]["koseki"]) | {"aliases": ["x y"]}
            ),
            "languages/en.yml: nope: -: unknown procedure id",
        ),
        (
            "en.yml",
            lambda d: d["procedures"]["koseki"].pop("name"),
            "languages/en.yml: koseki: name: missing",
        ),
        (
            "en.yml",
            lambda d: d["procedures"]["koseki"].update(bring=[]),
            "languages/en.yml: koseki: bring: empty",
        ),
        (
            "en.yml",
            lambda d: d["procedures"]["koseki"]["aliases"].append("Residence Certificates"),
            "languages/en.yml: koseki: aliases: 'Residence Certificates' is also an alias of 'juminhyo'",
        ),
        ("en.yml", lambda d: d["departments"].pop("kenko"), "languages/en.yml: departments: kenko: needs"),
        ("en.yml", lambda d: d["messages"].pop("title"), "languages/en.yml: messages: title: missing"),
        (
            "en.yml",
            lambda d: d["menu"].append("zzz"),
            "languages/en.yml: menu: -: unknown procedure id 'zzz'",
        ),
        (
            "notices.yml",
            lambda d: d["languages"]["ko"].update(notice="전화하십시오"),
            "languages/notices.yml: ko: notice: missing, or without the {phone} placeholder",
        ),
    ],
)
def test_catalog_check_reports_language_problems(tmp_path, capsys, file, change, expected: str) -> None:
    data = _copy(tmp_path)
    _edit(data / "languages" / file, change)
    assert main(["catalog", "check", "--data", str(data)]) == 1
    assert expected in capsys.readouterr().err


def test_catalog_check_reports_missing_language_files(tmp_path, capsys) -> None:
    data = _copy(tmp_path)
    shutil.rmtree(data / "languages")
    assert main(["catalog", "check", "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "languages/en.yml: (file): -: file not found" in err
    assert "languages/notices.yml: (file): -: file not found" in err


# --------------------------------------------------------------------------------------- REST channel


class _Agent:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.seen.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "日本語の答え"})

    def is_ready(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _sanic_test_mode(monkeypatch):
    monkeypatch.setattr(Sanic, "test_mode", True)


async def _post_all(
    channel: MadoguchiRestInput, agent: _Agent, bodies: list[dict]
) -> list[tuple[int, object]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = Sanic(f"language_test_{uuid.uuid4().hex}")
    app.ctx.agent = agent
    configure_cors(app, "*")
    register([channel], app, route="/webhooks/")
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.start_serving()
    results = []
    try:
        async with aiohttp.ClientSession() as session:
            for body in bodies:
                async with session.post(
                    f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                    data=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json"},
                ) as resp:
                    results.append((resp.status, await resp.json(content_type=None)))
    finally:
        server.close()
        await server.wait_closed()
    return results


async def test_rest_answers_english_and_notices_itself_and_japanese_goes_to_the_bot(catalog):
    agent = _Agent()
    (s1, english), (s2, korean), (s3, japanese) = await _post_all(
        MadoguchiRestInput(),
        agent,
        [
            {"sender": "a", "message": "How can I get a residence certificate?"},
            {"sender": "a", "message": "주민표를 받고 싶어요"},
            {"sender": "a", "message": "住民票がほしい"},
        ],
    )
    assert (s1, s2, s3) == (200, 200, 200)
    assert english[0]["recipient_id"] == "a"
    assert english[0]["custom"]["madoguchi"]["procedure"] == "juminhyo"
    assert korean[0]["custom"]["madoguchi"]["lang"] == "ko"
    assert japanese == [{"recipient_id": "a", "text": "日本語の答え"}]
    assert agent.seen == ["住民票がほしい"]


async def test_rest_gives_the_turn_a_romaji_message_in_kana():
    agent = _Agent()
    [(status, body)] = await _post_all(
        MadoguchiRestInput(), agent, [{"sender": "r", "message": "gomi no dashikata wo oshiete kudasai?"}]
    )
    assert status == 200 and body[0]["text"] == "日本語の答え"  # "no", "do" are not English here
    assert agent.seen == ["ごみのだしかたをおしえてください？"]


async def test_rest_uses_the_widget_language_as_a_hint_only_when_the_text_does_not_tell():
    agent = _Agent()
    [(_, body), (_, japanese)] = await _post_all(
        MadoguchiRestInput(),
        agent,
        [
            {"sender": "b", "message": "Здравствуйте", "metadata": {"lang": "vi"}},
            {"sender": "b", "message": "住民票", "metadata": {"lang": "en"}},
        ],
    )
    assert body[0]["custom"]["madoguchi"]["lang"] == "vi"
    assert japanese[0]["text"] == "日本語の答え"


async def test_rest_still_answers_japanese_when_the_language_files_are_broken(tmp_path, monkeypatch, caplog):
    data = _copy(tmp_path)
    (data / "languages" / "en.yml").write_text("procedures: [", encoding="utf-8")
    monkeypatch.setenv("MADOGUCHI_DATA", str(data))
    agent = _Agent()
    [(status, body)] = await _post_all(
        MadoguchiRestInput(), agent, [{"sender": "c", "message": "hello there"}]
    )
    assert status == 200 and body == [{"recipient_id": "c", "text": "日本語の答え"}]
    assert "languages_unavailable" in caplog.text


# -------------------------------------------------------------------------------------------- crisis


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I want to die", "self_harm"),
        ("I don't want to live anymore", "self_harm"),
        ("My husband hits me every night", "dv"),
        ("There is a fire next door!", "emergency"),
        ("my father is not breathing", "emergency"),
        ("Quero morrer, I want to kill myself", "self_harm"),  # before the Portuguese notice
    ],
)
def test_an_english_crisis_is_answered_first_with_its_numbers(desk, text: str, category: str) -> None:
    [message] = desk.answer(text)
    card = message["custom"]["madoguchi"]
    assert card["kind"] == "safety" and card["category"] == category and card["lang"] == "en"
    assert card["phones"] and all(phone in message["text"] for phone in card["phones"])


@pytest.mark.parametrize(
    "text", ["my grandmother collapsed", "My father fainted and will not wake up", "grandpa passed out!"]
)
def test_a_collapse_in_english_gets_119_even_when_the_classifier_reads_elder_abuse(catalog, text) -> None:
    # the meaning classifier (trained mostly on Japanese) once read "my grandmother collapsed" as the abuse
    # of an elder; the English emergency words decide the kind, the judge still decides that it is sure
    desk = language.LanguageDesk(
        catalog, language.load_pack(REAL_DATA), crisis_judge=lambda _: ("abuse", True)
    )
    [message] = desk.answer(text)
    card = message["custom"]["madoguchi"]
    assert (card["kind"], card["category"], card["lang"]) == ("safety", "emergency", "en")
    assert "119" in card["phones"]


def test_the_judges_kind_stands_when_the_english_words_name_no_emergency(catalog) -> None:
    desk = language.LanguageDesk(catalog, language.load_pack(REAL_DATA), crisis_judge=lambda _: ("dv", True))
    [message] = desk.answer("My husband hits me every night")
    assert message["custom"]["madoguchi"]["category"] == "dv"


def test_an_emergency_alarm_is_a_service_not_an_emergency(desk) -> None:
    assert _kinds(desk.answer("emergency alarm for my mother who lives alone")) == [
        ("procedure_en", "koureisha_fukushi")
    ]


def test_english_crisis_numbers_are_those_of_the_japanese_answers() -> None:
    domain = yaml.safe_load((REAL_DATA.parent / "domain.yml").read_text(encoding="utf-8"))
    pack = language.load_pack(REAL_DATA)
    for kind, (_, _, phones) in pack.crisis.items():
        japanese = domain["responses"][f"utter_{kind}"][0]["custom"]["madoguchi"]["phones"]
        assert set(phones) <= set(japanese), kind


def test_catalog_check_reports_a_crisis_text_without_its_number(tmp_path, capsys) -> None:
    data = _copy(tmp_path)
    _edit(data / "languages" / "en.yml", lambda d: d["crisis"]["dv"].update(text="Please call for help."))
    assert main(["catalog", "check", "--data", str(data)]) == 1
    assert "languages/en.yml: crisis: dv: the text does not give 0120-279-889" in capsys.readouterr().err


# --------------------------------------------------------------------------------------- life events


@pytest.mark.parametrize(
    ("text", "event", "option"),
    [
        ("I moved to this city. What should I do?", "moving", "in"),
        ("I am moving out of the city next month", "moving", "out"),
        ("We had a baby last week", "birth", None),
        ("My father passed away", "death", None),
    ],
)
def test_an_english_life_event_gets_the_checklist_with_english_names(
    desk, catalog, text, event, option
) -> None:
    [message] = desk.answer(text)
    card = message["custom"]["madoguchi"]
    assert (card["kind"], card["life_event"], card["option"]) == ("checklist_en", event, option)
    life_event = catalog.life_event(event)
    expected = (life_event.option(option) if option else life_event).checklist
    assert card["procedures"] == list(expected)
    assert [b["title"] for b in message["buttons"]] == [desk.pack.procedures[p].name for p in expected]
    assert (desk.pack.messages["condolence"] in message["text"]) == (event == "death")


def test_every_english_name_leads_back_to_its_own_card(desk) -> None:
    for pid, english in desk.pack.procedures.items():
        assert _kinds(desk.answer(english.name)) == [("procedure_en", pid)], english.name


def test_catalog_check_reports_an_english_life_event_pointing_nowhere(tmp_path, capsys) -> None:
    data = _copy(tmp_path)
    _edit(data / "languages" / "en.yml", lambda d: d["life_events"]["birth"].update(option="in"))
    _edit(data / "languages" / "en.yml", lambda d: d["life_events"]["death"].update(event="funeral"))
    assert main(["catalog", "check", "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "languages/en.yml: life_events: birth: option must be one of the event's (none)" in err
    assert "languages/en.yml: life_events: death: unknown life event 'funeral'" in err


def test_the_chosen_language_decides_only_where_the_text_does_not(desk) -> None:
    """The widget's language switch (hint): kanji-only text is Chinese for a 中文 reader, unaccented
    Latin text is Vietnamese for a Vietnamese reader; kana, payloads and English choices are not moved."""
    assert desk.answer("住民票", hint="zh")[0]["custom"]["madoguchi"]["lang"] == "zh"
    assert desk.answer("giay xac nhan cu tru", hint="vi")[0]["custom"]["madoguchi"]["lang"] == "vi"
    for text, hint in (
        ("住民票", None),
        ("住民票", "en"),
        ("住民票がほしい", "zh"),
        ("/affirm", "zh"),
        ("Yamada Taro", "en"),
    ):
        assert desk.answer(text, hint=hint) is None, (text, hint)


def test_romaji_naming_a_procedure_in_kana_goes_to_the_japanese_turn(desk):
    # the Japanese turn reads it in kana with the action asked (kokuho wo yameru: the leaving)
    assert desk.answer("kokuho wo yameru tetsuzuki wo shitai") is None
    assert desk.answer("tenkyo todoke wa online de dekimasu ka") is None
    # English alias words without a common English word still get the English card
    assert desk.answer("child allowance")[0]["custom"]["madoguchi"]["procedure"] == "jido_teate"


@pytest.mark.parametrize(
    "text, event",
    [
        ("I was laid off last week, what do I need to do?", "job_loss"),
        ("We are getting married in June", "marriage"),
        ("I will retire next spring", "retirement"),
        ("I'm pregnant with my first child", "pregnancy"),
        ("We got divorced and I live alone with my son", "divorce"),
    ],
)
def test_english_life_events_get_their_checklist(desk, text, event):
    card = desk.answer(text)[0]["custom"]["madoguchi"]
    assert (card["kind"], card["life_event"]) == ("checklist_en", event)


def test_english_phone_requests_in_other_words(desk):
    card = desk.answer("Can someone who speaks English phone me?")[0]["custom"]["madoguchi"]
    assert card["kind"] == "phone"
