"""The runner's supervision: a process that dies is started again after a back-off, the others keep going.

Unit tests run the Supervisor over small Python processes with an injected clock and sleep (no waiting
for the back-off); the end-to-end test kills (SIGKILL) the action server and Rasa of a real instance.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from bot.runner import Backoff, Config, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def supervised(tmp_path):
    clock, lines = FakeClock(), []
    sup = Supervisor(
        Config.from_env({"MADOGUCHI_VAR": str(tmp_path)}),
        backoff=Backoff(first=1.0, longest=8.0, stable_after=60.0),
        clock=clock,
        sleep=lambda _: None,
        log=lines.append,
    )
    sup._argv = {"actions": SLEEPER, "rasa": SLEEPER}
    sup._env = dict(os.environ)
    for name in sup._argv:
        sup._spawn(name)
    yield sup, clock, lines
    sup.stop(grace=5)


def _kill(sup: Supervisor, name: str) -> int:
    process = sup.processes[name]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return process.pid


def test_backoff_doubles_up_to_the_longest_and_resets_after_a_stable_run():
    backoff = Backoff(first=1.0, longest=8.0, stable_after=60.0)
    assert [backoff.delay("rasa", ran_for=2) for _ in range(5)] == [1, 2, 4, 8, 8]
    assert backoff.delay("actions", ran_for=2) == 1  # per process
    assert backoff.delay("rasa", ran_for=61) == 1


def test_backoff_from_env():
    backoff = Backoff.from_env({"MADOGUCHI_RESTART_FIRST_DELAY": "0.2", "MADOGUCHI_RESTART_MAX_DELAY": "3"})
    assert (backoff.first, backoff.longest) == (0.2, 3.0)


def test_a_killed_process_is_started_again_after_the_backoff(supervised):
    sup, clock, lines = supervised
    other = sup.processes["rasa"]
    old_pid = _kill(sup, "actions")
    sup.check_once()
    assert lines == ["madoguchi: actions stopped (exit code -9); starting it again in 1.0 s"]
    clock.now += 0.5
    sup.check_once()
    assert sup.processes["actions"].pid == old_pid  # not yet: the back-off runs
    clock.now += 0.6
    sup.check_once()
    assert sup.processes["actions"].pid != old_pid and sup.processes["actions"].poll() is None
    assert lines[-1] == "madoguchi: starting actions again (restart 1)"
    assert sup.processes["rasa"] is other and other.poll() is None  # the others never stopped


def test_a_process_that_keeps_dying_waits_longer_each_time(supervised):
    sup, clock, lines = supervised
    delays = []
    for _ in range(4):
        _kill(sup, "rasa")
        sup.check_once()
        delays.append(lines[-1].rsplit("in ", 1)[1])
        clock.now += 10
        sup.check_once()
    assert delays == ["1.0 s", "2.0 s", "4.0 s", "8.0 s"]
    assert sup.restarts["rasa"] == 4


def test_a_signalled_child_gets_one_look_for_a_requested_stop(supervised):
    sup, clock, lines = supervised
    sup.processes["actions"].terminate()
    sup.processes["actions"].wait(timeout=10)
    sup.check_once()
    assert lines == []  # the runner's own SIGTERM handler may be about to mark a stop
    sup.stop(grace=5)
    sup.check_once()
    assert lines == [] and sup.processes["actions"].poll() is not None


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - loopback
            return reply.status
    except OSError:
        return 0


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _child_pid(runner_pid: int, marker: str) -> int:
    out = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(runner_pid)], capture_output=True, text=True
    )
    for line in out.stdout.splitlines():
        pid, args = line.strip().split(" ", 1)
        if marker in args:
            return int(pid)
    raise AssertionError(f"no child {marker!r} of {runner_pid}:\n{out.stdout}")


@pytest.mark.e2e
def test_kill_9_of_a_child_restarts_it_and_the_rest_keeps_serving():
    from tests.servers import start_bot, stop_bot

    bot = start_bot({"MADOGUCHI_RESTART_FIRST_DELAY": "0.1"})
    try:
        for name, marker, health in (
            ("actions", "bot.action_server", f"{bot.actions_url}/health"),
            ("rasa", "bot.rasa_server", f"{bot.rasa_url}/webhooks/rest/"),
        ):
            os.kill(_child_pid(bot.process.pid, marker), signal.SIGKILL)
            assert _get(f"{bot.widget_url}/") == 200  # the demo page stays
            assert _wait_for(lambda h=health: _get(h) == 200, 180), bot.log()[-3000:]
            assert bot.process.poll() is None
            assert f"madoguchi: {name} stopped (exit code -9); starting it again in 0.1 s" in bot.log()
            assert f"madoguchi: starting {name} again (restart 1)" in bot.log()
        answer = bot.rest("after-restart", "住民票の写しがほしい")
        assert any((m.get("custom") or {}).get("madoguchi", {}).get("kind") == "procedure" for m in answer)
    finally:
        stop_bot(bot)


def test_the_retention_purge_runs_on_its_schedule(supervised, tmp_path):
    from bot.runner import PURGE_FIRST_DELAY, PurgeSchedule

    sup, clock, lines = supervised
    marker = tmp_path / "purged"
    sup.purge = PurgeSchedule(every_seconds=86400, next_at=clock.now + PURGE_FIRST_DELAY)
    sup.purge.command = lambda: [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x')"]
    sup.check_purge()
    assert sup.purge.running is None and lines == []  # not yet due
    clock.now += PURGE_FIRST_DELAY
    sup.check_purge()
    assert lines == ["madoguchi: starting the retention purge (madoguchi data purge --yes)"]
    sup.purge.running.wait(timeout=30)
    sup.check_purge()
    assert marker.read_text() == "x" and sup.purge.running is None
    clock.now += 3600
    sup.check_purge()
    assert marker.read_text() == "x"  # once a day
    clock.now += 86400
    sup.check_purge()
    sup.purge.running.wait(timeout=30)
    assert marker.read_text() == "xx"


def test_the_purge_schedule_can_be_switched_off():
    from bot.runner import PurgeSchedule

    assert PurgeSchedule.from_env(0.0, {"MADOGUCHI_PURGE_EVERY_HOURS": "0"}) is None
    assert PurgeSchedule.from_env(0.0, {}).every_seconds == 86400
