"""The systemd examples and ``make serve`` start what the README says (issue 13: production start)."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case sensitive
    parser.read(REPO / "deploy" / name, encoding="utf-8")
    return parser


def test_service_runs_the_runner_and_restarts_it():
    service = _unit("madoguchi.service")["Service"]
    assert service["ExecStart"].endswith("-m bot.runner")
    assert service["Restart"] == "on-failure" and service["KillMode"] == "mixed"
    assert service["UMask"] == "0077"


def test_purge_timer_runs_a_purge_that_needs_no_terminal():
    assert _unit("madoguchi-purge.timer")["Timer"]["OnCalendar"]
    command = _unit("madoguchi-purge.service")["Service"]["ExecStart"].split()
    assert command[-3:] == ["data", "purge", "--yes"]


def test_make_serve_neither_builds_nor_trains():
    plan = subprocess.run(
        ["make", "-n", "serve"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "bot.runner" in plan
    assert "pip install" not in plan and "bot.training" not in plan
