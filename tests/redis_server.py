"""Throwaway ``redis-server`` processes on loopback for tests (and fault injection: pause, stop, restart)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

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


def start_redis(port: int | None = None, debug_command: bool = False) -> tuple[subprocess.Popen, int]:
    """Starts a throwaway ``redis-server`` (no persistence) on loopback; returns (process, port).

    ``debug_command``: allow ``DEBUG SLEEP`` from loopback (a server that hangs, then runs what it got)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not on PATH; install it (apt-get install redis-server) to run these tests"
        )
    port = port or _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    if debug_command:
        command += ["--enable-debug-command", "local"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_redis(port, process)
    except BaseException:
        stop_redis(process)
        raise
    return process, port


def stop_redis(process: subprocess.Popen) -> None:
    """Stops a server from :func:`start_redis`."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
