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


def test_the_multi_machine_nginx_example_is_valid_and_exposes_only_the_residents_paths(tmp_path):
    """deploy/nginx/madoguchi.conf, as README shows it: nginx -t accepts it (TLS swapped for a plain
    port: the certificate files exist only on the city's server)."""
    import re
    import subprocess

    from bot import nginx_conf

    example = (REPO / "deploy" / "nginx" / "madoguchi.conf").read_text(encoding="utf-8")
    locations = set(re.findall(r"^\s*location\s+(?:=\s+)?(\S+)\s*\{", example, flags=re.M))
    assert locations == {"/webhooks/rest/webhook", "/webhooks/line/webhook", "/socket.io/", "/widget/", "/"}
    assert "hash $remote_addr consistent;" in example and "X-Forwarded-For" in example
    plain = re.sub(r"^\s*ssl_.*$", "", example, flags=re.M).replace("listen 443 ssl;", "listen 127.0.0.1:1;")
    (tmp_path / "madoguchi.conf").write_text(plain, encoding="utf-8")
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{ include {tmp_path}/madoguchi.conf; }}\n",
        encoding="utf-8",
    )
    check = subprocess.run(
        [*nginx_conf.command(nginx_conf.find_nginx(), main), "-t"], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stderr
