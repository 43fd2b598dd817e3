"""The action server front (bot/action_server.py): a failing action becomes an apology, never silence,
and nothing the resident wrote reaches the log or the response."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot import settings
from bot.crisis import city_phone

REPO = Path(__file__).resolve().parent.parent
SECRET = "山田太郎 090-3333-4444"

#: The city's main number the apology carries (data/departments.yml).
CITY_PHONE = city_phone(settings.load({}).data_dir)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("actions") / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.action_server",
                "--port",
                str(port),
                "--actions",
                "tests.action_fixtures",
            ],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)  # noqa: S310 - loopback
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"action server did not start:\n{log.read_text()}")
            time.sleep(0.3)
    yield url, log
    process.terminate()
    process.wait(timeout=30)


def call(url: str, action: str, body: bytes | None = None, text: str = SECRET) -> tuple[int, dict]:
    payload = (
        body
        or json.dumps(
            {
                "next_action": action,
                "sender_id": "s1",
                "version": "3.6.21",
                "domain": {},
                "tracker": {
                    "sender_id": "s1",
                    "slots": {},
                    "latest_message": {"text": text, "intent": {}, "entities": []},
                    "events": [],
                    "paused": False,
                    "followup_action": None,
                    "active_loop": {},
                    "latest_action_name": "action_listen",
                },
            }
        ).encode()
    )
    request = urllib.request.Request(
        f"{url}/webhook", data=payload, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_is_answered_while_an_action_holds_its_thread(server, tmp_path):
    """Actions run on their own thread's event loop: one that computes (here: holds its thread until the
    test creates a file) does not stop the server's loop from answering ``/health``."""
    import concurrent.futures

    url, _ = server
    gate = tmp_path / "gate"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        held = pool.submit(call, url, "action_held", None, str(gate))
        deadline = time.monotonic() + 20
        while not Path(f"{gate}.started").exists():
            assert time.monotonic() < deadline and not held.done(), "the held action never started"
            time.sleep(0.05)
        for _ in range(3):  # the action is still holding its thread: it cannot end before the gate exists
            with urllib.request.urlopen(f"{url}/health", timeout=5) as reply:  # noqa: S310 - loopback
                assert reply.status == 200
        assert not held.done()
        gate.touch()
        status, body = held.result(timeout=30)
    assert status == 200 and body["responses"][0]["text"] == "released"


def test_working_action_answers_normally(server):
    url, _ = server
    status, body = call(url, "action_echo")
    assert status == 200
    assert body["responses"][0]["text"] == "ok"


def test_failing_action_becomes_an_apology_with_a_way_to_a_person(server):
    url, log = server
    status, body = call(url, "action_broken")
    assert status == 200
    assert body == {
        "events": [],
        "responses": [{"response": "utter_action_failed", "main_phone": CITY_PHONE}],
    }
    # No waiting: the server logs the failure (a flushed StreamHandler write) before it answers.
    text = log.read_text()
    assert "action_broken" in text and "KeyError" in text
    assert "090-3333-4444" not in text and "山田" not in text


def test_unknown_action_and_bad_body_are_clear_errors_without_echo(server):
    url, _ = server
    status, body = call(url, "action_missing")
    assert status == 404 and body["action_name"] == "action_missing"
    assert SECRET not in json.dumps(body, ensure_ascii=False)
    status, body = call(url, "", body=b"{not json")
    assert status == 400 and "error" in body


def _post_raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(f"{url}/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_deflate_bomb_is_refused_before_it_is_inflated(server):
    import zlib

    from bot.action_server import MAX_BODY, BodyTooLarge, inflate

    url, _ = server
    bomb = zlib.compress(b"0" * (64 * 1024 * 1024), 9)  # ~64 KB that inflate to 64 MB
    assert len(bomb) < 100 * 1024
    with pytest.raises(BodyTooLarge):
        inflate(bomb)
    assert inflate(zlib.compress(b"{}")) == b"{}"
    status, body = _post_raw(url, bomb, {"Content-Type": "application/json", "Content-Encoding": "deflate"})
    assert (status, body["error"]) == (413, "action call too large")
    assert MAX_BODY < 64 * 1024 * 1024


def test_unknown_paths_are_404_without_an_error_line(server):
    url, log = server
    try:
        urllib.request.urlopen(f"{url}/no-such-path", timeout=10)  # noqa: S310 - loopback
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 404
    assert "action server error: NotFound" not in log.read_text()  # logged before the answer, if at all


async def test_rasa_fills_the_apology_with_the_city_number():
    """What Rasa 3.6 makes of :func:`failure_result`'s response (its own NLG over our domain.yml)."""
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.action_server import failure_result

    domain = Domain.load(str(REPO / "domain.yml"))
    [response] = failure_result(CITY_PHONE)["responses"]
    kwargs = {k: v for k, v in response.items() if k != "response"}
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    tracker = DialogueStateTracker("s", domain.slots)
    message = await nlg.generate(response["response"], tracker, "rest", **kwargs)
    assert CITY_PHONE in message["text"] and "{" not in message["text"]
    assert message["custom"]["madoguchi"] == {"kind": "phone", "phone": CITY_PHONE}
