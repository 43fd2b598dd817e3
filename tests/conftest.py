"""Shared fixtures.

``redis_url``: a throwaway ``redis-server`` (no persistence) on a free port for the whole session;
fails loudly when the binary is missing (tests that need Redis must not be skipped).
``stores``: :class:`bot.stores.Stores` over each back end (SQLite in a temporary directory, Redis
with a unique key prefix that is deleted afterwards).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from redis_server import start_redis, stop_redis

from bot import settings as settings_module
from bot.settings import Settings

#: Compiled bytecode of everything the tests and the servers they start import (Rasa, TensorFlow, ...),
#: kept outside the checkout (the Makefile's PYTHONDONTWRITEBYTECODE keeps ``__pycache__`` out of it, and
#: the venv is installed without bytecode): without it every Python process a test starts (each bot
#: instance's Rasa, action server and staff console, each restart, each CLI call) compiled its imports
#: from source again, ~8 s of CPU per Rasa start. Set before the heavy imports; children inherit it.
PYCACHE = Path(__file__).resolve().parents[1] / "var" / "pycache"
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]
sys.dont_write_bytecode = False


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (``kill``, a CI time-out) ends the run as Ctrl-C does, so that session and module
    fixtures stop the servers they started instead of leaving them running with no parent."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a private ``redis-server`` (``redis://127.0.0.1:PORT/0``) for the test session."""
    process, port = start_redis()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_redis(process)


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


@pytest.fixture(autouse=True)
def analytics_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Channels built in-process without a recorder write their analytics into a private SQLite store,
    never into the checkout's ``var/`` (servers started by tests get their own ``MADOGUCHI_VAR``)."""
    from bot.analytics import recorder

    def open_private():
        from bot.stores import open_stores

        var_dir = tmp_path_factory.mktemp("analytics-var")
        return open_stores(make_settings(var_dir)).analytics, b"test-salt"

    monkeypatch.setattr(recorder, "_default_log", open_private)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The city's own data directory, as ``make run`` reads it."""
    return settings_module.load({}).data_dir


@pytest.fixture(scope="session")
def catalog(real_data: Path):
    """The city's procedure catalog (frozen: shared by every test that reads it)."""
    from bot.knowledge.catalog import load_catalog

    return load_catalog(real_data)


@pytest.fixture(scope="session")
def asked(real_data: Path, catalog):
    """The asked-action finder of the city's data (``data/asked_actions.yml``) over its catalog."""
    from bot.knowledge.asked import load_asked_actions

    return load_asked_actions(real_data, catalog.procedures)


@pytest.fixture(scope="module")
def seeded_faq(tmp_path_factory) -> Path:
    """A live FAQ base imported once per module from the sample FAQ (copied by ``kb_dir``)."""
    from bot.knowledge.faq import import_export

    kb = tmp_path_factory.mktemp("faq") / "seed"
    repo = Path(__file__).resolve().parents[1]
    import_export.ensure_live_base(kb, repo / "data" / "faq" / "sample_faq.csv")
    return kb


@pytest.fixture
def kb_dir(seeded_faq: Path, tmp_path: Path) -> Path:
    """A test's own copy of the sample FAQ base (publishing in it touches no other test's)."""
    kb = tmp_path / "faq"
    shutil.copytree(seeded_faq, kb, symlinks=True)
    return kb


@pytest.fixture
def clocked(store_settings, clock):
    """The stores of ``store_settings`` on the test module's ``clock`` fixture (contract suites)."""
    from bot.stores import open_stores

    settings, prefix = store_settings
    opened = open_stores(settings, prefix=prefix, clock=clock)
    yield opened
    opened.close()
