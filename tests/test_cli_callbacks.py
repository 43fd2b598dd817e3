"""``madoguchi callbacks`` and ``madoguchi data`` on both back ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from bot import settings as settings_module
from bot.cli import main
from bot.stores import open_stores
from bot.stores.records import ticket_parts

ROOT = Path(__file__).resolve().parent.parent
#: The CLI uses the default key prefix, so its Redis tests get a database of their own.
CLI_REDIS_DB = 7


@pytest.fixture(params=["sqlite", "redis"])
def env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"MADOGUCHI_VAR": str(tmp_path / "var"), "MADOGUCHI_RETENTION_DAYS": "90"}
    monkeypatch.delenv("REDIS_URL", raising=False)
    if request.param == "redis":
        url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + f"/{CLI_REDIS_DB}"
        client = redis.Redis.from_url(url)
        client.flushdb()
        request.addfinalizer(lambda: (client.flushdb(), client.close()))
        values["REDIS_URL"] = url
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def _seed(env: dict[str, str]) -> list[str]:
    with open_stores(settings_module.load(env)) as stores:
        first = stores.callbacks.add("090-1234-5678", "山田 太郎", "平日午前", "juminhyo", "shimin")
        second = stores.callbacks.add("03-1234-5678", None, "平日午後", "粗大ごみの収集日について", None)
    return [first.ticket, second.ticket]


def test_list_empty(env, capsys):
    assert main(["callbacks", "list"]) == 0
    assert "no requests" in capsys.readouterr().out


def test_list_table_and_status_filter(env, capsys):
    first, second = _seed(env)
    assert main(["callbacks", "done", first]) == 0
    capsys.readouterr()
    assert main(["callbacks", "list"]) == 0
    out = capsys.readouterr().out
    assert second in out and first not in out
    assert "受付番号" in out.splitlines()[0] and "0312345678" in out
    assert main(["callbacks", "list", "--status", "all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith(first) and lines[2].startswith(second)  # oldest first
    assert main(["callbacks", "list", "--status", "done"]) == 0
    out = capsys.readouterr().out
    assert first in out and second not in out


def test_list_json(env, capsys):
    first, second = _seed(env)
    assert main(["callbacks", "list", "--json", "--status", "all"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["ticket"] for d in data] == [first, second]
    assert data[0]["phone"] == "09012345678" and data[0]["name"] == "山田 太郎"
    assert data[1]["department"] is None and data[1]["status"] == "open"
    assert set(data[0]) == {
        "ticket",
        "phone",
        "name",
        "slot",
        "topic",
        "department",
        "status",
        "created_at",
        "done_at",
    }


def test_done_unknown_ticket_exits_1(env, capsys):
    assert main(["callbacks", "done", "CB-20000101-0001"]) == 1
    err = capsys.readouterr().err
    assert "CB-20000101-0001" in err and "unknown ticket" in err


def test_done_twice_and_full_width_ticket(env, capsys):
    first, _ = _seed(env)
    full_width = first.replace("CB", "ｃｂ").replace("-", "－")
    assert main(["callbacks", "done", full_width]) == 0
    assert "marked done" in capsys.readouterr().out
    assert main(["callbacks", "done", first]) == 0
    assert "already done" in capsys.readouterr().out
    with open_stores(settings_module.load(env)) as stores:
        assert stores.callbacks.get(first).status == "done"


def test_done_with_the_day_and_number_the_resident_reads_out(env, capsys):
    first, second = _seed(env)
    day, number = ticket_parts(second)
    assert main(["callbacks", "done", f"{day.month}月{day.day}日の{number:04d}"]) == 0
    assert second in capsys.readouterr().out
    with open_stores(settings_module.load(env)) as stores:
        assert stores.callbacks.get(second).status == "done" and stores.callbacks.get(first).status == "open"


def test_delete(env, capsys):
    first, second = _seed(env)
    assert main(["callbacks", "delete", first]) == 0
    assert main(["callbacks", "delete", first]) == 1
    assert "unknown ticket" in capsys.readouterr().err
    with open_stores(settings_module.load(env)) as stores:
        assert [r.ticket for r in stores.callbacks.list()] == [second]


def test_data_stats_and_purge(env, capsys):
    first, second = _seed(env)
    with open_stores(settings_module.load(env)) as stores:
        stores.callbacks.mark_done(first)
        stores.review.record("住民票", "fallback", [])
        stores.feedback.record(True, None, "juminhyo")
    assert main(["data", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["callbacks"] == {"open": 1, "done": 1}
    assert stats["review"] == {"records": 1, "distinct": 1}
    assert stats["feedback"]["total"] == 1
    assert main(["data", "stats"]) == 0
    assert "未対応 1 件" in capsys.readouterr().out

    assert main(["data", "purge"]) == 0  # 90 days: nothing is that old
    assert "0 件" in capsys.readouterr().out
    with open_stores(settings_module.load(env)) as stores:
        assert stores.purge_expired(now=stores.clock() + timedelta(days=91)) == {
            "callbacks": 1,
            "review": 1,
            "feedback": 1,
            "callback_work": 0,
            "analytics": 0,
            "audit": 0,
        }
        assert [r.ticket for r in stores.callbacks.list()] == [second]


def test_data_purge_days_zero(env, capsys):
    first, second = _seed(env)
    with open_stores(settings_module.load(env)) as stores:
        stores.callbacks.mark_done(first)
    assert main(["data", "purge", "--days", "0"]) == 1  # a script without --yes: counts, nothing deleted
    out = capsys.readouterr().out
    assert "削除対象" in out and "(対応済) 1 件" in out and "--yes" in out
    with open_stores(settings_module.load(env)) as stores:
        assert len(stores.callbacks.list()) == 2
    assert main(["data", "purge", "--days", "0", "--yes"]) == 0
    assert "(対応済) 1 件" in capsys.readouterr().out
    with open_stores(settings_module.load(env)) as stores:
        assert [r.ticket for r in stores.callbacks.list()] == [second]


@pytest.mark.parametrize("bad", ["-1", "x"])
def test_data_purge_rejects_bad_days(env, capsys, bad):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "purge", "--days", bad])
    assert exit_info.value.code == 2
    assert "--days" in capsys.readouterr().err


def test_console_script_runs(env):
    _seed(env)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "callbacks", "list", "--json"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2


class _Terminal:
    """stdin as a person at a terminal."""

    def isatty(self) -> bool:
        return True


def _one_done_request(env) -> str:
    first, _ = _seed(env)
    with open_stores(settings_module.load(env)) as stores:
        stores.callbacks.mark_done(first)
    return first


def _tickets(env) -> list[str]:
    with open_stores(settings_module.load(env)) as stores:
        return [r.ticket for r in stores.callbacks.list()]


def test_data_purge_dry_run_deletes_nothing(env, capsys):
    first = _one_done_request(env)
    assert main(["data", "purge", "--days", "0", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "削除対象 / would delete: 折り返し依頼 (対応済) 1 件" in out and "削除しました" not in out
    assert first in _tickets(env)


@pytest.mark.parametrize(("answer", "code", "kept"), [("n", 1, True), ("", 1, True), ("y", 0, False)])
def test_data_purge_at_a_terminal_asks_first(env, capsys, monkeypatch, answer, code, kept):
    first = _one_done_request(env)
    monkeypatch.setattr("sys.stdin", _Terminal())
    questions = []
    monkeypatch.setattr("builtins.input", lambda prompt: questions.append(prompt) or answer)
    assert main(["data", "purge", "--days", "0"]) == code
    assert len(questions) == 1
    out = capsys.readouterr().out
    assert "削除対象 / would delete: 折り返し依頼 (対応済) 1 件" in out
    assert (first in _tickets(env)) is kept


def test_data_purge_yes_does_not_ask(env, monkeypatch):
    first = _one_done_request(env)
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail("asked although --yes was given"))
    assert main(["data", "purge", "--days", "0", "--yes"]) == 0
    assert first not in _tickets(env)


def test_reopen_a_done_request_for_a_clerk(env, capsys):
    from datetime import datetime

    from bot.stores import JST, StaffAccount

    first, second = _seed(env)
    with open_stores(settings_module.load(env)) as stores:
        stores.accounts.create(
            StaffAccount("tanaka", "callback", None, "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA", False,
                         datetime(2026, 11, 1, tzinfo=JST))
        )  # fmt: skip
    assert main(["callbacks", "reopen", first, "--clerk", "tanaka"]) == 1
    assert "not done" in capsys.readouterr().err
    assert main(["callbacks", "done", first]) == 0
    assert main(["callbacks", "reopen", first, "--clerk", "nobody"]) == 1
    assert "unknown account" in capsys.readouterr().err
    assert main(["callbacks", "reopen", first, "--clerk", "tanaka", "--note", "再連絡"]) == 0
    assert "reopened" in capsys.readouterr().out
    with open_stores(settings_module.load(env)) as stores:
        assert stores.callbacks.get(first).status == "open"
        assert (stores.work.get(first).status, stores.work.get(first).holder) == ("in_progress", "tanaka")
        assert stores.audit.entries()[0].action == "callback.reopen"
    assert main(["callbacks", "reopen", "CB-20000101-0001", "--clerk", "tanaka"]) == 1
