"""End to end through the real servers (Rasa + action server + widget site), on both storage paths.

The same conversation contract runs against the embedded default (SQLite under a throwaway var/)
and against Redis (REDIS_URL pointing at a throwaway redis-server): procedure answers, safety,
a callback request that lands in ``madoguchi callbacks list --json`` with the number as digits.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

from tests.servers import private_bot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def bot(request, bot_factory):
    if request.param == "sqlite":
        yield bot_factory()
        return
    redis_url = request.getfixturevalue("redis_url")
    with private_bot({"REDIS_URL": redis_url.rsplit("/", 1)[0] + "/3"}) as redis_bot:
        yield redis_bot


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex}"


def kinds(messages: list[dict]) -> list[dict]:
    return [m["custom"]["madoguchi"] for m in messages if (m.get("custom") or {}).get("madoguchi")]


def test_procedure_question_is_answered_from_the_catalog(bot):
    cards = bot.madoguchi(new_sender(), "住民票の写しを取りたいのですが")
    assert any(c["kind"] == "procedure" and c["procedure"] == "juminhyo" for c in cards)


def test_emergency_routes_to_119_at_once(bot):
    cards = bot.madoguchi(new_sender(), "家が燃えてる！助けて")
    assert cards[0]["kind"] == "safety" and "119" in cards[0]["phones"]


def test_a_pets_death_gets_the_dog_procedure_whatever_else_is_said(bot):
    # the classifier may read this as a crisis (crisis lines first); the dog's 死亡届 must still be there
    cards = bot.madoguchi(new_sender(), "飼っていた犬が死んでしまいました")
    assert any(c["kind"] == "procedure" and c["procedure"] == "inu_toroku" for c in cards), cards


def test_callback_request_lands_in_the_staff_queue(bot):
    sender = new_sender()
    bot.rest(sender, "折り返し電話をお願いしたいです")
    bot.rest(sender, "０９０ー１２３４ー５６７８")
    bot.rest(sender, "山田花子です")
    bot.rest(sender, '/inform{"time_slot":"weekday_pm"}')
    bot.rest(sender, "児童手当の申請について")
    done = bot.rest(sender, "/affirm")
    card = next(c for c in kinds(done) if c["kind"] == "callback")
    ticket = card["ticket"]
    # the resident is told the 受付番号 as it is read out: the day and its number of that day
    said = f"{card['received_label']}の {card['number']} 番"
    assert any(said in (m.get("text") or "") for m in done)
    assert card["number"] == ticket.rsplit("-", 1)[1] and card["received"].replace("-", "") in ticket

    listed = bot.madoguchi_cli("callbacks", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    request = next(r for r in json.loads(listed.stdout) if r["ticket"] == ticket)
    assert request["phone"] == "09012345678"
    assert request["status"] == "open"
    assert bot.madoguchi_cli("callbacks", "done", ticket).returncode == 0


def test_a_request_with_number_and_name_asks_only_what_is_missing(bot):
    sender = new_sender()
    first = bot.rest(sender, "折り返しお電話いただけますか。佐藤一郎、090-1234-5678です")
    # neither the number nor the name is asked again: the next question is the time slot
    assert [c.get("step") for c in kinds(first) if c["kind"] == "callback_form"] == ["slot"]
    bot.rest(sender, '/inform{"time_slot":"weekday_am"}')
    bot.rest(sender, "国民健康保険について")
    done = bot.rest(sender, "/affirm")
    ticket = next(c["ticket"] for c in kinds(done) if c["kind"] == "callback")
    listed = bot.madoguchi_cli("callbacks", "list", "--json")
    request = next(r for r in json.loads(listed.stdout) if r["ticket"] == ticket)
    assert (request["phone"], request["name"]) == ("09012345678", "佐藤一郎")
    assert bot.madoguchi_cli("callbacks", "done", ticket).returncode == 0


def texts(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages if m.get("text")]


def buttons(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in m.get("buttons") or []]


def steps(messages: list[dict]) -> list[str]:
    return [c.get("step") for c in kinds(messages) if c["kind"] == "callback_form"]


def test_answers_that_do_not_fit_re_ask_the_step_and_keep_the_form(bot):
    sender = new_sender()
    bot.rest(sender, "折り返し電話をお願いしたいです")
    # a question about the number asked for (read as ask_phone) asks for the number again
    assert steps(bot.rest(sender, "電話番号は何に使うんですか？")) == ["phone"]
    # the number and the name in one answer: the name is not asked again
    assert steps(bot.rest(sender, "山田です、03-1234-5678")) == ["slot"]
    assert steps(bot.rest(sender, "夜中がいいです")) == ["slot"]  # no such slot: the buttons again
    asked = bot.rest(sender, '/inform{"time_slot":"weekday_am"}')
    unsure = bot.rest(sender, "わからない")
    assert steps(unsure) == ["topic"] and texts(unsure) != texts(asked)  # asked again, saying why
    read_back = bot.rest(sender, "児童手当のこと")
    assert steps(read_back) == ["confirm"]
    # the number typed again at the read-back: read back again (with why), the form goes on
    again = bot.rest(sender, "03-1234-5678")
    assert steps(again) == ["confirm"], again
    assert texts(again) != texts(read_back) and any(b["payload"] == "/affirm" for b in buttons(again))
    done = bot.rest(sender, "/affirm")
    card = next(c for c in kinds(done) if c["kind"] == "callback")
    assert card["slot"] == "weekday_am"
    made = card["ticket"].split("-")[1]
    assert card["call_date"] > f"{made[:4]}-{made[4:6]}-{made[6:]}"  # the next business day, never the same
    listed = bot.madoguchi_cli("callbacks", "list", "--json")
    request = next(r for r in json.loads(listed.stdout) if r["ticket"] == card["ticket"])
    assert (request["phone"], request["name"]) == ("0312345678", "山田")
    assert bot.madoguchi_cli("callbacks", "done", card["ticket"]).returncode == 0


def test_a_crisis_at_the_read_back_is_answered_first_and_the_form_goes_on(bot):
    """A crisis inside the callback form gets its safety answer first; the form then asks its step
    again (data/rules.yml), so the resident who asked for a call still gets it by confirming."""
    sender = new_sender()
    bot.rest(sender, "折り返しお電話いただけますか。佐藤一郎、090-1234-5678です")
    bot.rest(sender, '/inform{"time_slot":"weekday_pm"}')
    assert steps(bot.rest(sender, "国民健康保険について")) == ["confirm"]
    reply = bot.rest(sender, "もう死にたい")
    first = kinds(reply)[0]
    assert (first["kind"], first["category"]) == ("safety", "self_harm")
    assert steps(reply) == ["confirm"]
    card = next(c for c in kinds(bot.rest(sender, "/affirm")) if c["kind"] == "callback")
    assert bot.madoguchi_cli("callbacks", "done", card["ticket"]).returncode == 0


def test_invalid_phone_is_re_asked_then_the_main_number_is_given(bot):
    sender = new_sender()
    bot.rest(sender, "電話をかけてほしい")
    for invalid in ("12345", "090-12"):
        assert bot.rest(sender, invalid)  # re-asked with an example
    last = bot.rest(sender, "0000")
    assert last, "the third invalid number must get an answer"
    # after giving up, nothing was queued and the conversation continues normally
    cards = bot.madoguchi(sender, "住民票の写しを取りたい")
    assert any(c.get("procedure") == "juminhyo" for c in cards)


def test_residents_text_never_reaches_the_logs(bot):
    secret = "09087654321"
    bot.rest(new_sender(), f"私の電話番号は{secret}です。住民票について")
    assert secret not in bot.log()


def test_malformed_request_gets_a_clear_error_not_an_empty_list(bot):
    request = urllib.request.Request(
        f"{bot.rasa_url}/webhooks/rest/webhook",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 - loopback
    assert error.value.code == 400
    assert "error" in json.loads(error.value.read())


def test_socketio_rejects_foreign_origins(bot):
    url = f"{bot.rasa_url}/socket.io/?EIO=4&transport=polling"

    def handshake(origin: str) -> int:
        request = urllib.request.Request(url, headers={"Origin": origin})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code

    assert handshake("https://evil.example") == 400
    widget_origin = bot.widget_url.replace("127.0.0.1", "localhost")
    assert handshake(widget_origin) == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/status"), ("POST", "/model/parse"), ("GET", "/conversations/x/tracker"), ("GET", "/version")],
)
def test_rasas_http_api_is_not_served(bot, method, path):
    """Rasa's HTTP API (``--enable-api``: its token compared non-constant-time, in the query string) is
    never started: its paths are unknown to the server."""
    body = b"{}" if method == "POST" else None
    request = urllib.request.Request(f"{bot.rasa_url}{path}", data=body, method=method)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 - loopback
    assert refused.value.code == 404
