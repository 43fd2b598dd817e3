"""Pytest plugin: the real madoguchi servers (Rasa + action server + widget site) for end-to-end tests.

``running_bot`` starts ``python -m bot.runner`` once per session on free ports with a throwaway var/
folder; ``bot_factory(env)`` starts another instance with extra environment, kept for the session;
``private_bot(env)`` one that a single module needs (e.g. LINE variables pointing at the module's
stand-in platform, or REDIS_URL), stopped when the module is done. The trained model must exist
(``make model``): a missing model fails the tests, it never skips them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 240


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningBot:
    """A running madoguchi with its URLs."""

    rasa_url: str
    actions_url: str
    widget_url: str
    var_dir: Path
    env: dict[str, str]
    process: subprocess.Popen = field(repr=False)
    log_path: Path = field(repr=False)
    staff_url: str = ""
    metrics_url: str = ""

    def rest(
        self, sender: str, message: str, metadata: dict | None = None, timeout: float = 60
    ) -> list[dict]:
        """Sends one message through the REST channel and returns the bot's messages."""
        body = json.dumps({"sender": sender, "message": message, "metadata": metadata or {}}).encode()
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - loopback
            return json.loads(reply.read())

    def madoguchi(self, sender: str, message: str, **kwargs) -> list[dict]:
        """The ``custom.madoguchi`` parts of the bot's answer."""
        out = []
        for m in self.rest(sender, message, **kwargs):
            custom = m.get("custom") or {}
            if isinstance(custom, dict) and "madoguchi" in custom:
                out.append(custom["madoguchi"])
        return out

    def madoguchi_cli(self, *args: str) -> subprocess.CompletedProcess:
        """Runs the staff CLI against this instance's storage."""
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def log(self) -> str:
        """Everything the servers printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - loopback
            return reply.status == 200
    except OSError:
        return False


def start_bot(
    extra_env: dict[str, str] | None = None, wait: bool = True, timeout: float = START_TIMEOUT
) -> RunningBot:
    """Starts the servers and (unless ``wait`` is False) waits until every one answers (``timeout`` s)."""
    from bot.training import model_path

    if not model_path().exists():
        pytest.fail(f"no trained model at {model_path()}: run `make model` first (make test does)")
    var_dir = Path(tempfile.mkdtemp(prefix="madoguchi-e2e-"))
    ports = {
        "PORT": free_port(),
        "ACTIONS_PORT": free_port(),
        "WIDGET_PORT": free_port(),
        "STAFF_PORT": free_port(),
        "METRICS_PORT": free_port(),
    }
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LINE_CHANNEL_SECRET")}
    env.update({k: str(v) for k, v in ports.items()})
    env.update({"MADOGUCHI_VAR": str(var_dir), "PYTHONUNBUFFERED": "1"})
    # the e5 vectors of the shipped FAQ are a cache by content hash: shared with `make run` and other runs
    env.setdefault("MADOGUCHI_EMBEDDINGS", str(REPO / "var" / "embeddings"))
    env.update(extra_env or {})
    log_path = var_dir / "servers.log"
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.runner"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    bot = RunningBot(
        rasa_url=f"http://127.0.0.1:{ports['PORT']}",
        actions_url=f"http://127.0.0.1:{ports['ACTIONS_PORT']}",
        widget_url=f"http://127.0.0.1:{ports['WIDGET_PORT']}",
        var_dir=var_dir,
        env=env,
        process=process,
        log_path=log_path,
        staff_url=f"http://127.0.0.1:{ports['STAFF_PORT']}",
        metrics_url=f"http://127.0.0.1:{ports['METRICS_PORT']}/metrics",
    )
    deadline = time.monotonic() + timeout
    urls = [
        f"{bot.rasa_url}/webhooks/rest/",
        f"{bot.actions_url}/health",
        f"{bot.widget_url}/",
        f"{bot.staff_url}/login",
    ]
    while wait and not all(_ready(u) for u in urls):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_bot(bot, keep_files=True)  # keep the log for whoever investigates
            pytest.fail(f"madoguchi did not start (exit {process.returncode}):\n{bot.log()[-4000:]}")
        time.sleep(0.25)
    return bot


def stop_bot(bot: RunningBot, keep_files: bool = False) -> None:
    """SIGTERM to the runner's process group, as Ctrl-C would; then removes its throwaway var/."""
    if bot.process.poll() is None:
        os.killpg(bot.process.pid, signal.SIGTERM)
        try:
            bot.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(bot.process.pid, signal.SIGKILL)
            bot.process.wait()
    if not keep_files:
        shutil.rmtree(bot.var_dir, ignore_errors=True)


@contextmanager
def private_bot(extra_env: dict[str, str] | None = None) -> Iterator[RunningBot]:
    """An instance for one module (or package) only, stopped as soon as it is done with it (an instance
    of ``bot_factory`` lives until the end of the session)."""
    bot = start_bot(extra_env)
    try:
        yield bot
    finally:
        stop_bot(bot)


@pytest.fixture(scope="session")
def bot_factory():
    """Starts madoguchi instances with extra environment; each distinct env is started once."""
    started: dict[tuple, RunningBot] = {}

    def factory(extra_env: dict[str, str] | None = None) -> RunningBot:
        key = tuple(sorted((extra_env or {}).items()))
        if key not in started:
            started[key] = start_bot(extra_env)
        return started[key]

    yield factory
    for bot in started.values():
        stop_bot(bot)


@pytest.fixture(scope="session")
def running_bot(bot_factory) -> RunningBot:
    """The default instance: SQLite storage under a throwaway var/ folder."""
    return bot_factory()
