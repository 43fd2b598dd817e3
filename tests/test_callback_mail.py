"""The staff e-mail of a new callback request, through a real SMTP server (aiosmtpd) in the test process."""

from __future__ import annotations

import asyncio
import email
import logging
import socket
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.callback import ActionSubmitCallback
from actions.context import Context
from bot import settings as settings_module
from bot.callback_mail import CODE_CONFIG, CODE_CONNECT, CallbackMailer, MailConfigError, MailSettings
from tests.servers import free_port

PHONE = "09012345678"
NAME = "山田太郎"
TOPIC = "児童手当のこと"
#: Generous bound for a mail handed to a local server (it takes milliseconds).
DELIVERY_TIMEOUT_S = 20


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture()
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def mail_env(port: int, **extra: str) -> dict[str, str]:
    return {
        "MADOGUCHI_SMTP_HOST": "127.0.0.1",
        "MADOGUCHI_SMTP_PORT": str(port),
        "MADOGUCHI_SMTP_FROM": "madoguchi@city.example.lg.jp",
        "MADOGUCHI_SMTP_TO": "callback-team@city.example.lg.jp, kodomo@city.example.lg.jp",
        "STAFF_URL": "https://staff.city.example.lg.jp/",
        **extra,
    }


class Recording(Context):
    """The real context, keeping the futures of the mails it queued (to wait for them)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.queued = []

    def notify_callback(self, notice):
        future = super().notify_callback(notice)
        self.queued.append(future)
        return future


@pytest.fixture()
def make_context(tmp_path):
    made = []

    def make(env: dict[str, str] | None) -> Recording:
        settings = settings_module.load({"MADOGUCHI_VAR": str(tmp_path / f"var{len(made)}")})
        ctx = Recording(settings, mailer=CallbackMailer.from_env(settings.data_dir, env or {}))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


def submit(ctx: Context):
    """A confirmed request about 児童手当 (子育て支援課), as the form leaves it."""
    slots = {
        "callback_phone": PHONE,
        "callback_name": NAME,
        "callback_slot": ctx.knowledge.catalog().city.callback_slots[0].id,
        "callback_topic": TOPIC,
        "callback_confirmed": True,
        "procedure": "jido_teate",
    }
    tracker = Tracker(
        sender_id="test",
        slots=slots,
        latest_message={"text": "/affirm", "intent": {"name": "affirm", "confidence": 1.0}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSubmitCallback(ctx).run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def delivered(ctx: Recording) -> list[bool]:
    return [future.result(timeout=DELIVERY_TIMEOUT_S) for future in ctx.queued if future is not None]


def test_each_new_request_sends_one_mail_without_personal_data(smtp_server, make_context):
    inbox, port = smtp_server
    ctx = make_context(mail_env(port))
    first, _ = submit(ctx)
    second, _ = submit(ctx)
    assert delivered(ctx) == [True, True]
    tickets = [first[0]["ticket"], second[0]["ticket"]]
    assert len(inbox.messages) == 2 and tickets[0] != tickets[1]
    catalog = ctx.knowledge.catalog()
    department = catalog.department(catalog.get("jido_teate").department).name
    slot = catalog.city.callback_slots[0].label
    for (recipients, raw), ticket in zip(inbox.messages, tickets, strict=True):
        assert recipients == ["callback-team@city.example.lg.jp", "kodomo@city.example.lg.jp"]
        message = email.message_from_bytes(raw, policy=policy.default)
        body = message.get_content()
        assert ticket in message["Subject"] and department in message["Subject"]
        assert ticket in body and department in body and slot in body
        assert f"https://staff.city.example.lg.jp/callbacks/{ticket}" in body
        text = message["Subject"] + body
        for personal in (PHONE, "090-1234-5678", "1234-5678", NAME, "山田", TOPIC):
            assert personal not in text
        assert PHONE.encode() not in raw
        # the request itself is stored as usual
        assert ctx.stores().callbacks.get(ticket).phone == PHONE


def test_no_mail_when_not_configured(smtp_server, make_context):
    inbox, _ = smtp_server
    ctx = make_context(None)
    messages, _ = submit(ctx)
    assert messages[0]["response"] == "utter_callback_done"
    assert ctx.queued == [None] and inbox.messages == []


def test_relay_down_still_stores_and_answers_the_same(make_context, caplog):
    baseline, baseline_events = submit(make_context(None))
    ctx = make_context(mail_env(free_port()))  # nobody listens there
    with caplog.at_level(logging.INFO, logger="bot.callback_mail"):
        messages, events = submit(ctx)
        assert delivered(ctx) == [False]
    assert messages == baseline and events == baseline_events
    assert ctx.stores().callbacks.get(messages[0]["ticket"]).phone == PHONE
    failures = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert len(failures) == 1 and f"code={CODE_CONNECT}" in failures[0]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PHONE not in logged and NAME not in logged and "city.example" not in logged


def test_a_hung_relay_does_not_hold_the_turn(make_context, caplog):
    with socket.socket() as silent:  # accepts connections (backlog) and never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        ctx = make_context(mail_env(silent.getsockname()[1], MADOGUCHI_SMTP_TIMEOUT="3"))
        messages, _ = submit(ctx)
        [future] = ctx.queued
        # the resident has the 受付番号 while the mail still waits for the relay's greeting
        assert messages[0]["response"] == "utter_callback_done" and not future.done()
        with caplog.at_level(logging.WARNING, logger="bot.callback_mail"):
            assert future.result(timeout=DELIVERY_TIMEOUT_S) is False
    assert f"code={CODE_CONNECT}" in caplog.text


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MADOGUCHI_SMTP_HOST": "relay", "MADOGUCHI_SMTP_TO": "a@example.jp"}, "MADOGUCHI_SMTP_FROM"),
        ({"MADOGUCHI_SMTP_HOST": "relay", "MADOGUCHI_SMTP_FROM": "a@example.jp"}, "MADOGUCHI_SMTP_TO"),
        ({**mail_env(25), "MADOGUCHI_SMTP_PORT": "twenty-five"}, "MADOGUCHI_SMTP_PORT"),
        ({**mail_env(25), "MADOGUCHI_SMTP_USER": "bot"}, "MADOGUCHI_SMTP_STARTTLS"),
    ],
)
def test_incomplete_configuration_is_a_coded_error_and_turns_mail_off(env, variable, caplog):
    with pytest.raises(MailConfigError, match=variable):
        MailSettings.from_env(env)
    with caplog.at_level(logging.ERROR, logger="bot.callback_mail"):
        mailer = CallbackMailer.from_env(Path("data"), env)
    assert mailer.settings is None and f"code={CODE_CONFIG}" in caplog.text


def test_defaults_follow_the_console_and_starttls():
    plain = MailSettings.from_env(
        {**mail_env(25), "MADOGUCHI_SMTP_PORT": "", "STAFF_URL": "", "STAFF_PORT": "5099"}
    )
    assert plain.port == 25 and plain.staff_url == "http://127.0.0.1:5099" and not plain.starttls
    tls = MailSettings.from_env({**mail_env(25), "MADOGUCHI_SMTP_PORT": "", "MADOGUCHI_SMTP_STARTTLS": "1"})
    assert tls.port == 587 and tls.starttls
    assert MailSettings.from_env({}) is None


def test_the_mail_test_command_sends_one_mail_and_reports_a_down_relay(smtp_server, monkeypatch, capsys):
    from bot.cli import main

    inbox, port = smtp_server
    for key, value in mail_env(port).items():
        monkeypatch.setenv(key, value)
    assert main(["callbacks", "mail-test"]) == 0
    [(_, raw)] = inbox.messages
    message = email.message_from_bytes(raw, policy=policy.default)
    assert "CB-00000000-0000" in message["Subject"] and "試験送信" in message.get_content()
    monkeypatch.setenv("MADOGUCHI_SMTP_PORT", str(free_port()))
    assert main(["callbacks", "mail-test"]) == 1
    assert f"{CODE_CONNECT}" in capsys.readouterr().err
    monkeypatch.delenv("MADOGUCHI_SMTP_TO")
    assert main(["callbacks", "mail-test"]) == 2
    assert f"{CODE_CONFIG}" in capsys.readouterr().err and len(inbox.messages) == 1
