"""Shared fixtures.

``redis_url``: a throwaway ``redis-server`` (no persistence) on a free port for the whole session;
fails loudly when the binary is missing (tests that need Redis must not be skipped).
``stores``: :class:`bot.stores.Stores` over each back end (SQLite in a temporary directory, Redis
with a unique key prefix that is deleted afterwards).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from bot import settings as settings_module
from bot.settings import Settings

_REDIS_START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_redis(port: int, process: subprocess.Popen) -> None:
    import redis

    deadline = time.monotonic() + _REDIS_START_TIMEOUT
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {process.returncode}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {port} within {_REDIS_START_TIMEOUT}s")
    finally:
        client.close()


@contextlib.contextmanager
def private_redis() -> Iterator[tuple[str, subprocess.Popen]]:
    """A throwaway ``redis-server`` (no persistence) on a free port: its URL and its process."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not on PATH; install it (apt-get install redis-server) to run these tests"
        )
    port = _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_redis(port, process)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a private ``redis-server`` (``redis://127.0.0.1:PORT/0``) for the test session."""
    with private_redis() as (url, _):
        yield url


def make_settings(var_dir: Path, redis_url: str | None = None, retention_days: int = 90) -> Settings:
    """Settings pointing at a private var dir (and optionally Redis), for tests."""
    env = {"MADOGUCHI_VAR": str(var_dir), "MADOGUCHI_RETENTION_DAYS": str(retention_days)}
    if redis_url:
        env["REDIS_URL"] = redis_url
    return settings_module.load(env)


def drop_redis_prefix(url: str, prefix: str) -> None:
    """Deletes every key under ``prefix``."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["sqlite", "redis"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, str | None]]:
    """(settings, redis key prefix or None) for each back end."""
    if request.param == "sqlite":
        yield make_settings(tmp_path / "var"), None
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex}:"
    try:
        yield make_settings(tmp_path / "var", url), prefix
    finally:
        drop_redis_prefix(url, prefix)


@pytest.fixture
def stores(store_settings: tuple[Settings, str | None]):
    """Open :class:`bot.stores.Stores` on each back end (``stores.backend`` says which)."""
    from bot.stores import open_stores

    settings, prefix = store_settings
    opened = open_stores(settings, prefix=prefix)
    try:
        yield opened
    finally:
        opened.close()
