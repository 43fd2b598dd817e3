"""``python -m bot.staff`` as ``make run`` starts it: its own port, loopback, a session key kept 0600."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from servers import free_port

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60


def _get(url: str) -> tuple[int, str, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - loopback
        return reply.status, reply.read().decode("utf-8"), dict(reply.headers)


def test_the_console_serves_its_sign_in_page_on_staff_port(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "STAFF_SESSION_KEY")}
    env.update({"MADOGUCHI_VAR": str(tmp_path / "var"), "STAFF_PORT": str(port)})
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.staff"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                status, html, headers = _get(f"http://127.0.0.1:{port}/login")
                break
            except OSError:
                assert time.monotonic() < deadline, "the console did not answer"
                time.sleep(0.2)
        assert status == 200 and "ログイン" in html
        assert "SameSite=Strict" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
        key = tmp_path / "var" / "staff" / "session.key"
        assert key.stat().st_mode & 0o777 == 0o600
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0
