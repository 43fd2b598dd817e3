"""The NLU off the event loop (issue 13): Rasa's parse runs on the understanding threads.

:mod:`bot.understanding.worker` is tested alone (order, errors, the bounded queue, a given-up call), then
through a real Sanic server with the REST channel and ``/healthz`` registered as Rasa registers them:
while a parse is held on the understanding thread (a gate the test opens, no sleeps, no clock), the
health check and other requests are answered, and the held turn still gets its answer afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import uuid

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.core.processor import MessageProcessor
from sanic import Sanic

from bot import rasa_nlu_thread, runner
from bot.channels import desks
from bot.channels.health import HealthInput
from bot.channels.web import MadoguchiRestInput
from bot.understanding import worker as worker_module
from bot.understanding.worker import (
    THREAD_NAME,
    THREADS_ENV,
    UnderstandingBusy,
    UnderstandingWorker,
    threads_setting,
)

#: Longest any step of these tests waits (a bound against hanging, never a measurement).
WAIT_S = 20


# --- the worker alone --------------------------------------------------------------------------------


async def test_calls_run_on_one_named_thread_in_order_with_results_and_errors():
    worker = UnderstandingWorker()
    seen: list[tuple[str, int]] = []

    def call(n: int) -> int:
        seen.append((threading.current_thread().name, n))
        if n == 3:
            raise ValueError("three")
        return n * 10

    results = await asyncio.gather(*(worker.run(call, n) for n in range(5)), return_exceptions=True)
    assert results[:3] == [0, 10, 20] and isinstance(results[3], ValueError) and results[4] == 40
    assert [n for _, n in seen] == [0, 1, 2, 3, 4]
    assert {name for name, _ in seen} == {THREAD_NAME}


def test_a_full_queue_refuses_at_once():
    worker, gate = UnderstandingWorker(max_waiting=2), threading.Event()
    started = threading.Event()

    def held() -> None:
        started.set()
        assert gate.wait(WAIT_S)

    running = worker.submit(held)
    assert started.wait(WAIT_S)  # the thread is busy with it: the queue is empty again
    waiting = [worker.submit(lambda: "later") for _ in range(2)]
    with pytest.raises(UnderstandingBusy):
        worker.submit(lambda: "one too many")
    gate.set()
    assert running.result(WAIT_S) is None and [f.result(WAIT_S) for f in waiting] == ["later", "later"]


async def test_a_call_given_up_before_it_started_never_runs():
    worker, gate, ran = UnderstandingWorker(), threading.Event(), []
    started = threading.Event()

    def held() -> None:
        started.set()
        assert gate.wait(WAIT_S)

    holding = asyncio.ensure_future(worker.run(held))
    assert await asyncio.to_thread(started.wait, WAIT_S)
    given_up = asyncio.ensure_future(worker.run(ran.append, "given up"))
    await asyncio.sleep(0)  # let it be queued
    given_up.cancel()
    # the cancellation reaches the thread's future through the loop: let it arrive before the thread
    # is free (else the thread may take the call first: seen once in a clean-clone run)
    with contextlib.suppress(asyncio.CancelledError):
        await given_up
    gate.set()
    await holding
    assert await worker.run(ran.append, "next") is None
    assert ran == ["next"]


# --- through a real server -----------------------------------------------------------------------------


class _HeldProcessor(MessageProcessor):
    """A Rasa ``MessageProcessor`` whose NLU graph is held until ``gate`` opens (the real parse_message
    of :mod:`bot.rasa_nlu_thread` around it)."""

    def __init__(self, gate: threading.Event) -> None:  # noqa: D107 — no model: only the parse is used
        self.http_interpreter = None
        self.gate = gate
        self.started = threading.Event()
        self.threads: list[str] = []

    def _parse_message_with_graph(self, message, tracker, only_output_properties=True):
        self.threads.append(threading.current_thread().name)
        self.started.set()
        assert self.gate.wait(WAIT_S), "the test never opened the gate"
        return {"text": message.text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}

    def _check_for_unseen_features(self, parse_data) -> None:
        pass


class _Agent:
    """Stands in for a loaded agent: each message is parsed by ``processor`` and answered with its intent."""

    def __init__(self, processor: MessageProcessor) -> None:
        self.processor = processor

    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message: UserMessage) -> None:
        parsed = await self.processor.parse_message(message)
        await message.output_channel.send_text_message(message.sender_id, parsed["intent"]["name"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def off_loop(monkeypatch):
    """``MessageProcessor.parse_message`` as :func:`bot.rasa_nlu_thread.install` makes it (undone after)."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setattr(
        MessageProcessor,
        "parse_message",
        rasa_nlu_thread.off_loop_parse_message(MessageProcessor.parse_message),
    )


async def _serving(agent):
    app = Sanic(f"nlu_thread_test_{uuid.uuid4().hex}")
    app.ctx.agent = agent
    register([MadoguchiRestInput(), HealthInput()], app, route="/webhooks/")
    port = _free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.start_serving()
    return server, f"http://127.0.0.1:{port}"


async def test_health_and_other_requests_are_answered_while_a_parse_is_held(off_loop):
    gate = threading.Event()
    processor = _HeldProcessor(gate)
    server, url = await _serving(_Agent(processor))
    timeout = aiohttp.ClientTimeout(total=WAIT_S / 2)  # shorter than the gate's own bound
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            turn = asyncio.ensure_future(
                session.post(f"{url}/webhooks/rest/webhook", json={"sender": "held", "message": "こんにちは"})
            )
            assert await asyncio.to_thread(processor.started.wait, WAIT_S), "the parse never started"
            # the parse is running now, on the understanding thread, and cannot end before the gate opens
            for _ in range(5):
                async with session.get(f"{url}/healthz") as reply:
                    assert reply.status == 200 and (await reply.json()) == {"status": "ok"}
                async with session.get(f"{url}/webhooks/rest/") as reply:
                    assert reply.status == 200
            assert not gate.is_set() and not turn.done()
            gate.set()
            async with await turn as reply:
                assert reply.status == 200
                assert [m["text"] for m in await reply.json()] == ["greet"]
    finally:
        gate.set()
        server.close()
        await server.wait_closed()
    # the default worker has two threads (THREADS): the parse ran on one of them, never on the loop
    assert len(processor.threads) == 1
    assert re.fullmatch(rf"{THREAD_NAME}(-[0-9]+)?", processor.threads[0]), processor.threads


async def test_a_full_understanding_queue_is_an_honest_503_and_a_crisis_still_gets_its_answer(
    off_loop, monkeypatch
):
    gate, small = threading.Event(), UnderstandingWorker(max_waiting=1)
    monkeypatch.setattr(worker_module, "default_worker", lambda: small)
    monkeypatch.setattr(desks, "default_worker", lambda: small)
    monkeypatch.setattr(rasa_nlu_thread, "default_worker", lambda: small)
    started = threading.Event()

    def held() -> None:
        started.set()
        assert gate.wait(WAIT_S)

    small.submit(held)
    assert started.wait(WAIT_S)
    small.submit(lambda: None)  # the one place in the queue is taken
    server, url = await _serving(_Agent(_HeldProcessor(gate)))
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT_S / 2)) as session:
            body = {"sender": "busy", "message": "住民票の写しがほしい"}
            async with session.post(f"{url}/webhooks/rest/webhook", json=body) as reply:
                assert reply.status == 503
                answer = await reply.json()
                assert answer["code"] == "overloaded" and answer["phone"] and "119" in answer["emergency"]
            body = {"sender": "busy", "message": "家が燃えてる！助けて"}
            async with session.post(f"{url}/webhooks/rest/webhook", json=body) as reply:
                assert reply.status == 200  # judged by the rules, on the loop, while the thread is full
                [card] = [m["custom"]["madoguchi"] for m in await reply.json() if m.get("custom")]
                assert card["category"] == "emergency" and "119" in card["phones"]
    finally:
        gate.set()
        server.close()
        await server.wait_closed()


# --- how many threads --------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "threads"), [(None, 2), ("", 2), (" 1 ", 1), ("3", 3), ("16", 16)])
def test_the_threads_setting_is_read_with_two_by_default(raw, threads):
    env = {} if raw is None else {THREADS_ENV: raw}
    assert threads_setting(env) == threads


@pytest.mark.parametrize("raw", ["0", "-1", "17", "two", "1.5"])
def test_a_bad_threads_setting_is_refused_naming_the_variable(raw):
    with pytest.raises(ValueError, match=f"{THREADS_ENV}='{re.escape(raw)}': expected a whole number"):
        threads_setting({THREADS_ENV: raw})


def test_the_runner_refuses_a_bad_threads_setting_at_start():
    with pytest.raises(ValueError, match=THREADS_ENV):
        runner.Config.from_env({THREADS_ENV: "none"})


async def test_two_threads_run_two_calls_at_once():
    """The second call starts while the first is held on the other thread (events, no timing)."""
    worker, gate, both = UnderstandingWorker(threads=2), threading.Event(), threading.Barrier(2)
    names: list[str] = []

    def held() -> None:
        names.append(threading.current_thread().name)
        both.wait(WAIT_S)  # both calls must be running at once to get past this
        assert gate.wait(WAIT_S)

    first, second = worker.submit(held), worker.submit(held)
    gate.set()
    await asyncio.gather(asyncio.wrap_future(first), asyncio.wrap_future(second))
    assert sorted(names) == [THREAD_NAME, f"{THREAD_NAME}-2"] and worker.threads == 2


def test_the_nlu_tokenizer_gives_each_thread_its_own_sudachi():
    from bot.nlu.sudachi_tokenizer import SudachiTokenizer

    tokenizer = SudachiTokenizer.create(
        SudachiTokenizer.get_default_config(), None, None, None
    )  # no model storage needed without a user dictionary
    mine = tokenizer._sudachi()
    other: list = []
    thread = threading.Thread(target=lambda: other.append(tokenizer._sudachi()))
    thread.start()
    thread.join(WAIT_S)
    assert other and other[0] is not mine and tokenizer._sudachi() is mine
