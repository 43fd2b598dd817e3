"""`make run`'s runner: generated endpoints for both storage paths, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml

from bot.runner import Config, banner, commands, endpoints, ready_urls, write_endpoints


def config(env: dict[str, str], tmp_path) -> Config:
    return Config.from_env({"MADOGUCHI_VAR": str(tmp_path), **env})


def test_embedded_default_uses_sqlite_under_var(tmp_path):
    data = endpoints(config({}, tmp_path))
    assert data["tracker_store"] == {
        "type": "bot.rasa_sql.OffLoopSQLTrackerStore",
        "dialect": "sqlite",
        "db": str(tmp_path / "conversations.db"),
    }
    # one Rasa process: an in-memory lock store, waking the next turn at once (no 1 s polling)
    assert data["lock_store"] == {"type": "bot.rasa_lock.LocalLockStore"}
    assert data["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"


def test_redis_url_switches_tracker_and_lock_store(tmp_path):
    env = {"REDIS_URL": "redis://:s%40cret@redis.internal:6380/2", "MADOGUCHI_RETENTION_DAYS": "30"}
    data = endpoints(config(env, tmp_path))
    tracker, lock = data["tracker_store"], data["lock_store"]
    assert tracker["type"] == "bot.rasa_stores.TimeoutRedisTrackerStore"
    assert lock["type"] == "bot.rasa_stores.AtomicRedisLockStore"
    for entry in (tracker, lock):
        assert (entry["url"], entry["port"], entry["db"], entry["password"]) == (
            "redis.internal",
            6380,
            2,
            "s@cret",
        )
    assert tracker["record_exp"] == 30 * 86400


def test_ports_and_origins_come_from_the_environment(tmp_path):
    cfg = config({"PORT": "6000", "ACTIONS_PORT": "6001", "WIDGET_PORT": "6002"}, tmp_path)
    assert (cfg.rasa_port, cfg.actions_port, cfg.widget_port) == (6000, 6001, 6002)
    assert cfg.cors_origins == ["http://localhost:6002", "http://127.0.0.1:6002"]
    path = write_endpoints(cfg)
    assert yaml.safe_load(path.read_text())["action_endpoint"]["url"].endswith(":6001/webhook")


def test_the_staff_console_has_its_own_port_on_loopback(tmp_path):
    cfg = config({}, tmp_path)
    assert (cfg.staff_host, cfg.staff_port) == ("127.0.0.1", 5080)
    cfg = config({"STAFF_PORT": "6003", "STAFF_HOST": "10.0.0.5"}, tmp_path)
    assert commands(cfg, tmp_path / "endpoints.yml")["staff"][-4:] == ["--host", "10.0.0.5", "--port", "6003"]
    assert ready_urls(cfg)["staff"] == "http://127.0.0.1:6003/healthz"
    assert "http://10.0.0.5:6003/" in banner(cfg)
    for residents in ("PORT", "WIDGET_PORT", "ACTIONS_PORT"):
        with pytest.raises(ValueError, match="STAFF_PORT"):
            config({"STAFF_PORT": "7000", residents: "7000"}, tmp_path)


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _wait_for_children(pid: int, count: int, timeout: float = 120.0) -> None:
    """Until the runner has started ``count`` servers (a condition, not a fixed wait)."""
    deadline = time.monotonic() + timeout
    while len(_children(pid)) < count:
        assert time.monotonic() < deadline, f"the runner started {len(_children(pid))} of {count} servers"
        time.sleep(0.1)


def _listening(url: str) -> bool:
    parts = urllib.parse.urlparse(url)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((parts.hostname, parts.port)) == 0


@pytest.mark.e2e
def test_sigterm_to_the_process_group_stops_everything():
    from tests.servers import start_bot, stop_bot

    bot = start_bot()
    try:
        urls = [bot.rasa_url, bot.actions_url, bot.widget_url, bot.staff_url]
        assert all(_listening(u) for u in urls)
        os.killpg(bot.process.pid, signal.SIGTERM)
        code = bot.process.wait(timeout=60)
        assert code == 0, f"exit code {code}; the servers' output:\n{bot.log()[-4000:]}"
        assert not any(_listening(u) for u in urls)
    finally:
        stop_bot(bot)


@pytest.mark.e2e
def test_sigterm_while_starting_is_a_clean_stop():
    """Ctrl-C before the servers are ready (the runner still polling them) stops with exit code 0."""
    from tests.servers import start_bot, stop_bot

    bot = start_bot(wait=False)
    try:
        _wait_for_children(bot.process.pid, 4)  # started; Rasa needs far longer to load its model
        assert bot.process.poll() is None, bot.log()[-4000:]
        os.killpg(bot.process.pid, signal.SIGTERM)
        code = bot.process.wait(timeout=60)
        assert code == 0, f"exit code {code}; the servers' output:\n{bot.log()[-4000:]}"
        assert "madoguchi is running" not in bot.log()
    finally:
        stop_bot(bot)


def test_workers_start_instances_behind_nginx(tmp_path):
    env = {"WORKERS": "3", "ACTION_WORKERS": "2", "REDIS_URL": "redis://127.0.0.1:6379/0", "PORT": "7000"}
    cfg = config(env, tmp_path)
    assert cfg.several and cfg.rasa_ports == (7101, 7102, 7103) and cfg.action_ports == (5156, 5157)
    argv = commands(cfg, tmp_path / "endpoints.yml")
    assert set(argv) == {"rasa-1", "rasa-2", "rasa-3", "actions-1", "actions-2", "nginx", "widget", "staff"}
    assert argv["rasa-2"][argv["rasa-2"].index("--port") + 1] == "7102"
    assert argv["rasa-2"][argv["rasa-2"].index("--interface") + 1] == "127.0.0.1"  # only nginx faces out
    conf = (tmp_path / "nginx" / "nginx.conf").read_text()
    assert "listen 127.0.0.1:7000;" in conf and "listen 127.0.0.1:5055;" in conf
    for port in (7101, 7102, 7103, 5156, 5157):
        assert f"server 127.0.0.1:{port} " in conf
    assert ready_urls(cfg)["nginx"] == "http://127.0.0.1:7000/healthz"
    # Rasa still calls the actions on ACTIONS_PORT: nginx's side of the action servers
    assert endpoints(cfg)["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"


def test_workers_default_to_half_as_many_action_servers_and_listed_ports(tmp_path):
    env = {"WORKERS": "2", "REDIS_URL": "redis://x:6379/0", "WORKER_PORTS": "9001,9002"}
    cfg = config(env, tmp_path)
    assert cfg.rasa_ports == (9001, 9002) and cfg.action_ports == (5156,)
    assert not config({}, tmp_path).several


@pytest.mark.parametrize(
    "env, words",
    [
        ({"WORKERS": "2"}, "REDIS_URL"),  # several processes need shared conversations and locks
        ({"WORKERS": "2", "REDIS_URL": "redis://x/0", "WORKER_PORTS": "9001"}, "1 instance ports"),
        ({"WORKERS": "2", "REDIS_URL": "redis://x/0", "WORKER_PORTS": "5005 9002"}, "overlap"),
        ({"WORKERS": "0"}, "at least 1"),
    ],
)
def test_bad_worker_settings_are_refused_with_a_reason(tmp_path, env, words):
    with pytest.raises(ValueError, match=words):
        config(env, tmp_path)


def test_a_missing_nginx_names_the_command(monkeypatch):
    from bot import nginx_conf

    monkeypatch.setattr(nginx_conf.shutil, "which", lambda _: None)
    monkeypatch.setattr(nginx_conf, "DEBIAN_NGINX", "/nonexistent/nginx")
    with pytest.raises(nginx_conf.NginxMissing, match="apt-get install -y nginx"):
        nginx_conf.find_nginx()


def test_the_generated_nginx_config_is_valid(tmp_path):
    """nginx itself checks the file (``nginx -t``), as the runner would start it."""
    import subprocess

    from bot import nginx_conf

    layout = nginx_conf.Layout("127.0.0.1", 7000, (7101, 7102), 7055, (7156,), tmp_path / "nginx")
    conf = nginx_conf.write(layout)
    check = subprocess.run(
        [*nginx_conf.command(nginx_conf.find_nginx(), conf), "-t"], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stderr
    text = conf.read_text()
    assert "hash $sticky_client consistent;" in text  # socket.io sticky
    assert "access_log off;" in text and "return 404;" in text
