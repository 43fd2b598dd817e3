"""English and romaji questions understood by meaning (bot/english_meaning.py, bot/language.py,
bot/romaji.py), with the real encoder and the trained model's crisis classifier (bot/crisis.py).

Every sentence here was written for these tests (none is from an evaluation set)."""

from __future__ import annotations

import pytest

from bot import english_meaning, language, romaji, settings
from bot.crisis import load_desk as load_crisis_desk
from bot.dialogue.resolve import resolve
from bot.training import model_path

REAL_DATA = settings.load({}).data_dir


@pytest.fixture(scope="module")
def crisis():
    if not model_path().exists():
        pytest.fail(f"no trained model at {model_path()}: run `make model` first")
    desk = load_crisis_desk(REAL_DATA, REAL_DATA.parent / "domain.yml", model_path())
    assert desk.semantic, "the crisis desk must judge meaning (encoder and stored classifier)"
    return desk


@pytest.fixture(scope="module")
def desk(crisis, catalog):
    return language.load_desk(REAL_DATA, catalog, **english_meaning.desk_options(crisis))


@pytest.fixture(scope="module")
def words_only(catalog):
    return language.load_desk(REAL_DATA, catalog)


def _cards(messages):
    return [m["custom"]["madoguchi"] for m in messages or [] if "custom" in m]


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("My new employer covers my health insurance, so how do I quit the city's plan?", "kokuho_leave"),
        ("How do I get my personal seal registered?", "inkan_toroku"),
    ],
)
def test_an_english_question_gets_the_card_of_the_procedure_it_means(desk, words_only, text, procedure):
    [card] = _cards(desk.answer(text))
    assert (card["kind"], card["procedure"], card["lang"]) == ("procedure_en", procedure, "en")
    # the alias words alone do not find it: the meaning does
    assert [c.get("procedure") for c in _cards(words_only.answer(text))] != [procedure]


def test_small_talk_in_english_gets_no_card_but_the_phone(desk):
    [card] = _cards(desk.answer("The weather is lovely today, isn't it?"))
    assert (card["kind"], card["lang"]) == ("phone", "en")


def test_english_asking_for_a_person_gets_the_departments_phone(desk, catalog):
    [card] = _cards(desk.answer("Could someone from the garbage section call me back tomorrow?"))
    assert (card["kind"], card["lang"]) == ("phone", "en")
    assert card["phone"] == catalog.department_of(card["procedure"]).phone


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Smoke is pouring out of the flat upstairs and nobody answers the door", "emergency"),
        ("Everyone would be better off if I just disappeared for good", "self_harm"),
        ("My husband will not let me leave the house and keeps all of my salary", "dv"),
    ],
)
def test_an_english_crisis_without_crisis_words_gets_the_crisis_answer(desk, words_only, text, category):
    messages = desk.answer(text)
    card = _cards(messages)[0]
    assert (card["kind"], card["category"], card["lang"]) == ("safety", category, "en")
    assert all(phone in messages[0]["text"] for phone in card["phones"])
    assert _cards(words_only.answer(text))[0]["kind"] != "safety"  # the word list alone missed it


def test_an_english_question_that_the_detector_also_reads_as_a_crisis_keeps_its_card(desk):
    """Recall first: crisis words the judge does not confirm go first, the question is still answered."""
    cards = _cards(desk.answer("Where can I get the papers for my fire insurance claim?"))
    assert cards[0]["kind"] == "safety" and len(cards) == 2


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("sodai gomi wo dashitai desu. reizouko wa ikura?", "sodai_gomi"),
        ("mainanbaa kaado wo nakushite shimaimashita", "mynumber_lost"),
    ],
)
def test_a_romaji_question_read_in_kana_gets_its_card(catalog, text, procedure):
    r = resolve(romaji.reading(text), "ask_procedure", catalog)
    assert (r.kind, r.procedure.id) == ("procedure", procedure)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("tasukete! ie ga moete imasu", "emergency"),  # the 「たすけて！」 rule needs the "!"
        ("kanojo ni tatakarete kowai desu", "dv"),
        ("mou shinitai. ikiru imi ga nai", "self_harm"),
    ],
)
def test_a_romaji_crisis_read_in_kana_gets_the_crisis_answer(crisis, text, category):
    [message] = crisis.answer(romaji.reading(text))
    assert message["custom"]["madoguchi"]["category"] == category


@pytest.mark.parametrize(
    ("text", "kana"),
    [
        ("juuminhyou wa doko de moraemasu ka", "じゅうみんひょうはどこでもらえますか"),
        ("mainanbaa kaado no juusho henkou", "マイナンバーカードのじゅうしょへんこう"),
        ("080-1111-2222 ni denwa shite kudasai", "080-1111-2222にでんわしてください"),
        ("shiyakusho e ikitai", "しやくしょへいきたい"),
    ],
)
def test_romaji_particles_loanwords_and_numbers(text, kana):
    assert romaji.looks_like_romaji(text)
    assert romaji.reading(text) == kana


@pytest.mark.parametrize("text", ["card", "my number card", "garbage schedule"])
def test_english_loanwords_alone_are_not_romaji(text):
    assert not romaji.looks_like_romaji(text)


def test_english_words_inside_romaji_stay_as_written():
    assert romaji.reading("hoikuen no schedule wo oshiete") == "ほいくえんの schedule をおしえて"
