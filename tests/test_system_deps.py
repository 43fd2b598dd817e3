"""``scripts/system-deps.sh`` decides what `make test` installs on a fresh machine (issue 13: two
commands really do all set-up), tried with a PATH that holds only bash and stand-ins: ``id`` answering
root or not, an ``apt-get`` that records its calls and installs nothing, and the tools that are "there".

Nothing is really installed: ``MADOGUCHI_DEPS_DRY_RUN=1`` prints each command instead of running it, and
the one run without it calls the recording ``apt-get``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "system-deps.sh"
EVERYTHING = ("chromium", "redis-server", "fontconfig", "fonts-ipafont-gothic", "nginx", "npm")
JA_FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf: IPAGothic,IPAゴシック:style=Regular"


class Machine:
    """A fake machine: a bin folder with bash and the stand-ins, and the record of apt-get's calls."""

    def __init__(self, root: Path, uid: int, apt: bool, present: tuple[str, ...] = ()) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.sbin = root / "sbin"  # Debian's nginx folder: empty unless nginx is "there"
        self.sbin.mkdir()
        self.apt_log = root / "apt-calls"
        (self.bin / "bash").symlink_to(shutil.which("bash"))
        self._tool("id", f"echo {uid}")  # the script asks only `id -u`
        if apt:
            self._tool("apt-get", f'echo "$*" >> {self.apt_log}')
        for tool in present:
            body = f'echo "{JA_FONT}"' if tool == "fc-list-ja" else "exit 0"
            self._tool("fc-list" if tool.startswith("fc-list") else tool, body)

    def _tool(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        path.chmod(0o755)

    def run(self, dry_run: bool = True) -> subprocess.CompletedProcess:
        env = {"PATH": str(self.bin), "MADOGUCHI_DEPS_SBIN": str(self.sbin)}
        if dry_run:
            env["MADOGUCHI_DEPS_DRY_RUN"] = "1"
        return subprocess.run(
            [str(self.bin / "bash"), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
        )

    def apt_calls(self) -> list[str]:
        return self.apt_log.read_text(encoding="utf-8").splitlines() if self.apt_log.exists() else []


def test_root_with_apt_installs_everything_a_bare_machine_lacks(tmp_path):
    machine = Machine(tmp_path, uid=0, apt=True)
    done = machine.run()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"installing {' '.join(EVERYTHING)} (Debian packages; needed by the tests)",
        "would run: apt-get update -qq",
        f"would run: apt-get install -y -qq {' '.join(EVERYTHING)}",
    ]
    assert machine.apt_calls() == []


def test_root_with_apt_installs_only_what_is_missing(tmp_path):
    machine = Machine(tmp_path, uid=0, apt=True, present=("chromium", "nginx", "fc-list"))
    done = machine.run()
    assert done.returncode == 0, done.stderr
    assert "would run: apt-get install -y -qq redis-server fonts-ipafont-gothic npm" in done.stdout
    assert machine.apt_calls() == []  # a dry run calls nothing


def test_a_nginx_outside_path_counts_as_there(tmp_path):
    machine = Machine(tmp_path, uid=0, apt=True, present=("chromium", "redis-server", "fc-list-ja", "npm"))
    (machine.sbin / "nginx").symlink_to(machine.bin / "id")  # any executable file
    done = machine.run()
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_root_with_apt_runs_apt_and_fails_when_the_tools_are_still_missing(tmp_path):
    machine = Machine(tmp_path, uid=0, apt=True, present=("chromium", "redis-server", "fc-list-ja", "nginx"))
    done = machine.run(dry_run=False)
    assert machine.apt_calls() == ["update -qq", "install -y -qq npm"]
    assert done.returncode == 1 and "still missing after apt-get install: npm" in done.stderr


@pytest.mark.parametrize(("uid", "apt"), [(1000, True), (0, False)], ids=["not root", "root without apt"])
def test_where_it_cannot_install_it_prints_the_one_command_and_fails(tmp_path, uid, apt):
    machine = Machine(tmp_path, uid=uid, apt=apt, present=("nginx", "fc-list"))
    done = machine.run(dry_run=False)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "missing for the tests: chromium redis-server fonts-ipafont-gothic npm. "
        "Run once: sudo apt-get install -y chromium redis-server fonts-ipafont-gothic npm"
    )
    assert machine.apt_calls() == [] and "would run" not in done.stdout


def test_with_everything_there_it_does_nothing(tmp_path):
    present = ("chromium", "redis-server", "fc-list-ja", "nginx", "npm")
    machine = Machine(tmp_path, uid=0, apt=True, present=present)
    done = machine.run(dry_run=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert machine.apt_calls() == []
