"""``madoguchi staff add`` / ``list`` on both back ends (env fixture of test_cli_callbacks)."""

from __future__ import annotations

import io

import pytest
from test_cli_callbacks import env  # noqa: F401 - the both-back-ends environment fixture

from bot import settings as settings_module
from bot.cli import main
from bot.staff.passwords import default_hasher, verify
from bot.stores import open_stores


def _account(env: dict[str, str], name: str):  # noqa: F811
    with open_stores(settings_module.load(env)) as stores:
        return stores.accounts.get(name), stores.audit.entries()


def test_add_reads_the_password_from_stdin(env, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin passphrase\n"))
    assert main(["staff", "add", "Sato", "--role", "admin", "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "sato" in out and "passphrase" not in out
    account, audit = _account(env, "sato")
    assert (account.role, account.department, account.must_change) == ("admin", None, False)
    assert account.password_hash.startswith("$argon2id$")
    assert verify(default_hasher(), account.password_hash, "a long admin passphrase")
    assert [(e.action, e.target) for e in audit] == [("account.add", "sato")]


def test_add_without_stdin_prints_a_one_time_password(env, capsys):  # noqa: F811
    assert main(["staff", "add", "tanaka", "--role", "callback", "--department", "kaigo"]) == 0
    password = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    account, _ = _account(env, "tanaka")
    assert account.must_change is True and account.department == "kaigo"
    assert len(password) == 16 and verify(default_hasher(), account.password_hash, password)
    assert main(["staff", "list"]) == 0
    assert "tanaka\tcallback\tkaigo (初回パスワード未変更)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["staff", "add", "x", "--role", "callback", "--department", "nowhere"], "", "担当課"),
        (["staff", "add", "x", "--role", "admin", "--password-stdin"], "short\n", "12文字以上"),
        (["staff", "add", "山田", "--role", "admin"], "", "ユーザー名"),
    ],
)
def test_add_refuses_bad_input(env, monkeypatch, capsys, argv, stdin, message):  # noqa: F811
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert _account(env, "x")[0] is None


def test_add_refuses_a_second_account_of_the_same_name(env, monkeypatch, capsys):  # noqa: F811
    assert main(["staff", "add", "sato", "--role", "admin"]) == 0
    assert main(["staff", "add", "SATO", "--role", "viewer"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert _account(env, "sato")[0].role == "admin"


def test_reset_issues_a_new_one_time_password_and_delete_removes(env, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin passphrase\n"))
    assert main(["staff", "add", "sato", "--role", "admin", "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["staff", "reset", "SATO"]) == 0
    password = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    account, _ = _account(env, "sato")
    assert account.must_change is True and verify(default_hasher(), account.password_hash, password)
    assert main(["staff", "delete", "sato"]) == 0
    account, audit = _account(env, "sato")
    assert account is None
    assert [e.action for e in audit][:2] == ["account.delete", "account.reset"]
    assert main(["staff", "delete", "sato"]) == 1 and main(["staff", "reset", "sato"]) == 1
