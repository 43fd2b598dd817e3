"""``make bench-load``: madoguchi as shipped beside a bare Rasa 3.6 ``rasa init`` bot, in one run.

Both are real servers on loopback, driven through their REST channel with the same Japanese turns:

* **closed loop** at 1 and 20 users: each user sends its next message as soon as the answer came (a new
  conversation every 8 turns) for ``--seconds`` seconds;
* **open loop** at 5, 10 and 20 messages/s: residents arrive at random (Poisson) at rate/8 per second,
  each sends 8 turns with ~2 s think time (exponential, mean 2 s) between an answer and the next message,
  for ``--seconds`` seconds of arrivals (then the residents under way finish);
* **long conversation**: one resident, 50 turns in one conversation: turn 50 against turn 1.

Per row: messages, errors (non-200 or no HTTP answer; their causes in the note: the channel's error
``code``, else the HTTP status or the client's exception), answers without a bot message, achieved msg/s,
p50/p95/p99 latency, and the RSS of the server's processes (sum over the process tree) at the start and
the end. Every simulated resident sends its own ``X-Forwarded-For`` address (:func:`resident_address`),
so that with ``--workers N`` nginx's sticky REST upstream spreads residents over the processes as it
would real ones (it hashes the first hop; from one loopback address all would reach one process). The
bare Rasa bot is built at bench time in a scratch venv from the same lock (``var/bench/bare-venv``;
``rasa init --no-prompt`` trains its model once, kept under ``var/bench/bare-bot``).

``--cpu N`` measures madoguchi alone instead: N varied messages from one resident, and per server
process (the Rasa process, the action server) the CPU time they cost (``/proc`` utime + stime, which
moves far less with the other sessions' load than wall time) and the sentence-encoder texts they asked
for and embedded (the ``madoguchi_encoder_texts`` metric), each per message.

``--rss N[,M...]`` (madoguchi alone): 20 residents in a closed loop until N (then M...) messages were
answered, and the RSS of the server's process tree at each count (``make bench-rss``: 1,000 and 10,000).

``--workers N`` / ``--redis-url URL`` start madoguchi as ``WORKERS=N REDIS_URL=URL make serve`` does
(nginx in front, Redis for conversations and locks; default: one process, SQLite).

``--profile`` first samples the running madoguchi Rasa process and action server with py-spy during a
20-user closed loop and prints the functions with the most samples of each (own time and inclusive).

The load generator is asyncio + aiohttp in this file (open loop with per-resident think time is direct
here; a closed-loop tool such as wrk cannot express it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "var" / "bench"
RESULTS = REPO / "results" / "bench_load.json"
PAGE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

#: The 8 turns of one resident's conversation (questions, follow-ups, a button, thanks), each in a few
#: phrasings. Residents do not send the same text over and over: every text a resident sends is one
#: phrasing with an opener and a closer drawn at random (:func:`phrase`: 984 distinct texts besides the
#: button), so per-text memories (the encoder's recent queries) catch only the
#: repeats real traffic would have, not every message after the first conversation.
TURNS: list[tuple[str, ...]] = [
    ("住民票の写しがほしいです", "住民票の写しを取りたい", "住民票が必要です"),
    ("必要なものは何ですか", "何を持っていけばいいですか", "持ち物を教えて"),
    ("引っ越しの手続きを知りたい", "引っ越しをするのですが手続きは", "転居の手続きについて"),
    ("/affirm",),
    (
        "マイナンバーカードの受け取りはどこですか",
        "マイナンバーカードはどこで受け取れますか",
        "マイナンバーカードを受け取りたい",
    ),
    ("児童手当の申請について教えて", "児童手当を申請したい", "児童手当の手続きは"),
    ("受付時間は？", "何時まで開いていますか", "窓口は何時からですか"),
    ("ありがとうございました", "ありがとう", "助かりました"),
]
OPENERS = (
    "",
    "すみません、",
    "あの、",
    "こんにちは。",
    "ちょっと聞きたいのですが、",
    "教えてください。",
    "えっと、",
    "質問です。",
)
CLOSERS = ("", "よろしくお願いします。", "お願いします。")


def phrase(turn: int, rng: random.Random) -> str:
    """The text of ``turn`` as one resident words it (a button payload as it is)."""
    text = rng.choice(TURNS[turn])
    if text.startswith("/"):
        return text
    ending = "" if text.endswith(("？", "。")) else rng.choice(("", "。"))
    return f"{rng.choice(OPENERS)}{text}{ending}{rng.choice(CLOSERS)}"


THINK_MEAN_S = 2.0
REQUEST_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_rss(pid: int) -> int:
    """RSS in bytes of a process and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * PAGE
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its living descendants."""
    ticks, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return ticks / CLOCK_TICKS


def _get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as reply:  # noqa: S310 - loopback
            return json.loads(reply.read())
    except (OSError, ValueError):
        return None


@dataclass
class Server:
    """A running bot: its REST base URL and the root process of its tree."""

    name: str
    url: str
    process: subprocess.Popen
    log: Path
    metrics_url: str = ""

    def rss(self) -> int:
        return tree_rss(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _start(name: str, argv: list[str], env: dict, cwd: Path, url: str, ready, timeout: float) -> Server:
    log = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command lines
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, url, process, log)
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} did not start; see {log}")
        time.sleep(1)
    return server


def start_madoguchi(
    var_dir: Path, timeout: float = 600, workers: int = 1, redis_url: str | None = None
) -> Server:
    """``python -m bot.runner`` as ``make serve`` starts it (SQLite under a throwaway var/; with
    ``workers`` > 1, nginx in front and ``redis_url`` for conversations and locks). Ready when
    ``/readyz`` answers 200 (model, stores and action server) and the REST channel says it is ready."""
    port = free_port()
    env = dict(os.environ, MADOGUCHI_VAR=str(var_dir), PYTHONUNBUFFERED="1", WORKERS=str(workers))
    env.pop("REDIS_URL", None)
    env.pop("ACTION_WORKERS", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    elif workers > 1:
        raise ValueError("--workers > 1 needs --redis-url (several instances share Redis)")
    for key in ("ACTIONS_PORT", "WIDGET_PORT", "STAFF_PORT", "METRICS_PORT"):
        env[key] = str(free_port())
    env["PORT"] = str(port)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        return (_get_json(f"{url}/readyz") or {}).get("ready") is True and (
            _get_json(f"{url}/webhooks/rest/") or {}
        ).get("ready") is True

    server = _start("madoguchi", [sys.executable, "-m", "bot.runner"], env, REPO, url, ready, timeout)
    server.metrics_url = f"http://127.0.0.1:{env['METRICS_PORT']}/metrics"
    return server


def bare_python() -> Path:
    """The scratch venv of the bare Rasa bot, installed from the same lock (built once)."""
    venv = BENCH_DIR / "bare-venv"
    stamp = venv / ".lock-installed"
    lock = REPO / "requirements" / "lock.txt"
    python = venv / "bin" / "python"
    if stamp.exists() and stamp.read_text() == lock.read_text():
        return python
    uv = REPO / ".venv" / "bin" / "uv"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([str(uv), "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    subprocess.run([str(uv), "pip", "install", "-q", "-p", str(python), "-r", str(lock)], check=True)
    stamp.write_text(lock.read_text())
    return python


def bare_bot(python: Path) -> Path:
    """``rasa init --no-prompt`` (its model trained once)."""
    folder = BENCH_DIR / "bare-bot"
    if not list((folder / "models").glob("*.tar.gz")):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        subprocess.run(
            [str(python), "-m", "rasa", "init", "--no-prompt", "--init-dir", str(folder)],
            cwd=folder,
            check=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
            stdout=subprocess.DEVNULL,
        )
    return folder


def start_bare(timeout: float = 600) -> Server:
    python = bare_python()
    folder = bare_bot(python)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [str(python), "-m", "rasa", "run", "--port", str(port), "--interface", "127.0.0.1"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")

    def loaded() -> bool:  # the REST channel answers once the model is loaded
        try:
            request = urllib.request.Request(
                f"{url}/webhooks/rest/webhook",
                data=json.dumps({"sender": "warmup", "message": "hello"}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback
                return bool(json.loads(reply.read()))
        except (OSError, ValueError):
            return False

    return _start("bare-rasa", argv, env, folder, url, loaded, timeout)


# --- load ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    empty: int = 0  # HTTP 200 with no bot message (bare Rasa's stories end some turns without one)
    by_turn: dict[int, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    causes: collections.Counter = field(default_factory=collections.Counter)  # error cause -> count

    def causes_note(self) -> str:
        """``errors: timeout 3, HTTP 502 1`` (most frequent first), or ``""``."""
        if not self.causes:
            return ""
        return "errors: " + ", ".join(f"{cause} {n}" for cause, n in self.causes.most_common())


def resident_address(sender: str) -> str:
    """A stable private address per simulated resident (its ``X-Forwarded-For``)."""
    digest = uuid.uuid5(uuid.NAMESPACE_OID, sender).bytes
    return f"10.{digest[0]}.{digest[1]}.{digest[2] or 1}"


def error_cause(status: int, body: bytes) -> str:
    """The channel's error ``code`` of a refused turn (``503 overloaded``), else its HTTP status."""
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        code = None
    return f"{status} {code}" if isinstance(code, str) else f"HTTP {status}"


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str, tally: Tally, turn: int):
    started = time.perf_counter()
    cause = None
    try:
        async with session.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={"X-Forwarded-For": resident_address(sender)},
        ) as reply:
            body = await reply.read()
            if reply.status != 200:
                cause = error_cause(reply.status, body)
            answered = reply.status == 200 and bool(json.loads(body))
    except asyncio.TimeoutError:
        cause = "client timeout"
    except (aiohttp.ClientError, ValueError) as error:
        cause = type(error).__name__
    elapsed = time.perf_counter() - started
    if cause is None:
        tally.latencies.append(elapsed)
        tally.by_turn[turn].append(elapsed)
        tally.empty += not answered
    else:
        tally.errors += 1
        tally.causes[cause] += 1


def _session(users: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        connector=aiohttp.TCPConnector(limit=max(users, 100)),
    )


async def closed_loop(
    url: str, users: int, seconds: float, tally: Tally | None = None, until: int | None = None
) -> tuple[Tally, float]:
    """``users`` residents back to back for ``seconds`` (or until ``tally`` holds ``until`` answers)."""
    tally = tally if tally is not None else Tally()
    stop_at = time.perf_counter() + seconds

    def done() -> bool:
        return time.perf_counter() >= stop_at or (until is not None and len(tally.latencies) >= until)

    async def user(n: int) -> None:
        rng = random.Random(n + len(tally.latencies))
        while not done():
            sender = f"closed-{n}-{uuid.uuid4().hex[:8]}"
            for turn in range(len(TURNS)):
                if done():
                    return
                await send(session, url, sender, phrase(turn, rng), tally, turn)

    started = time.perf_counter()
    async with _session(users) as session:
        await asyncio.gather(*(user(n) for n in range(users)))
    return tally, time.perf_counter() - started


async def open_loop(url: str, rate: float, seconds: float, seed: int = 13) -> tuple[Tally, float]:
    """Residents arrive (Poisson) at rate/len(TURNS) per second, each sends all turns with think time."""
    rng = random.Random(seed)
    tally = Tally()
    residents: list[asyncio.Task] = []

    async def resident(n: int) -> None:
        sender = f"open-{n}-{uuid.uuid4().hex[:8]}"
        for turn in range(len(TURNS)):
            if turn:
                await asyncio.sleep(rng.expovariate(1 / THINK_MEAN_S))
            await send(session, url, sender, phrase(turn, rng), tally, turn)

    started = time.perf_counter()
    async with _session(int(rate * 10)) as session:
        n, clock = 0, 0.0
        while clock < seconds:
            clock += rng.expovariate(rate / len(TURNS))
            delay = started + clock - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            residents.append(asyncio.ensure_future(resident(n)))
            n += 1
        await asyncio.gather(*residents)
    return tally, time.perf_counter() - started


async def long_conversation(url: str, turns: int = 50) -> tuple[Tally, float]:
    tally = Tally()
    sender = f"long-{uuid.uuid4().hex[:8]}"
    rng = random.Random(50)
    started = time.perf_counter()
    async with _session(1) as session:
        for turn in range(turns):
            await send(session, url, sender, phrase(turn % len(TURNS), rng), tally, turn)
    return tally, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


@dataclass
class Row:
    system: str
    scenario: str
    messages: int
    errors: int
    empty: int
    msg_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rss_start_mb: float
    rss_end_mb: float
    note: str = ""


def row(system: str, scenario: str, tally: Tally, elapsed: float, rss0: int, rss1: int, note="") -> Row:
    ms = [v * 1000 for v in tally.latencies]
    return Row(
        system,
        scenario,
        len(ms) + tally.errors,
        tally.errors,
        tally.empty,
        round(len(ms) / elapsed, 1) if elapsed else 0.0,
        round(percentile(ms, 50)),
        round(percentile(ms, 95)),
        round(percentile(ms, 99)),
        round(rss0 / 2**20),
        round(rss1 / 2**20),
        note,
    )


async def run_scenarios(server: Server, seconds: float, rates: list[float]) -> list[Row]:
    rows = []
    await closed_loop(server.url, 4, 5)  # warm-up (first turns load lazily), not reported

    async def measure(scenario: str, runner, note_of=None) -> None:
        rss0 = server.rss()
        tally, elapsed = await runner
        rss1 = server.rss()
        note = "; ".join(n for n in (note_of(tally) if note_of else "", tally.causes_note()) if n)
        rows.append(row(server.name, scenario, tally, elapsed, rss0, rss1, note))
        print(_format([rows[-1]], header=False), flush=True)  # noqa: T201

    await measure("closed loop, 1 user", closed_loop(server.url, 1, seconds))
    await measure("closed loop, 20 users", closed_loop(server.url, 20, seconds))
    for rate in rates:
        await measure(f"open loop, {rate:g} msg/s", open_loop(server.url, rate, seconds))

    def turn_ratio(tally: Tally) -> str:
        """Turns 46-50 against 1-5 (issue 13's measure), and turns 41-48 against 1-8: the same 8 kinds of
        turn (1-5 hold the cheap button turn, 46-50 do not), so only the conversation's length differs."""

        def p50(turns: range) -> float:
            return percentile([v for t in turns for v in tally.by_turn[t]], 50)

        kinds = len(TURNS)
        last_cycle = range(40, 40 + kinds)
        return (
            f"turns 46-50 / 1-5 (p50): {p50(range(45, 50)) / p50(range(0, 5)):.2f}x; "
            f"turns 41-48 / 1-8: {p50(last_cycle) / p50(range(kinds)):.2f}x"
        )

    await measure("one conversation, 50 turns", long_conversation(server.url), turn_ratio)
    return rows


def _format(rows: list[Row], header: bool = True) -> str:
    lines = []
    if header:
        lines += [
            "| system | scenario | messages | errors | no answer | msg/s | p50 ms | p95 ms | p99 ms "
            "| RSS MB start → end | note |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
    for r in rows:
        lines.append(
            f"| {r.system} | {r.scenario} | {r.messages} | {r.errors} | {r.empty} | {r.msg_per_s} | "
            f"{r.p50_ms} | {r.p95_ms} | {r.p99_ms} | {r.rss_start_mb} → {r.rss_end_mb} | {r.note} |"
        )
    return "\n".join(lines)


# --- profile ---------------------------------------------------------------------------------------


def rasa_pid(server: Server, module: bytes = b"bot.rasa_server") -> int:
    """The Rasa server process under the runner (the one that runs the NLU), or another child by module."""
    for task in Path(f"/proc/{server.process.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            if module in cmdline:
                return int(child)
    raise RuntimeError(f"no {module.decode()} process under the runner")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all its threads) one process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def encoder_counts(metrics_url: str) -> dict[tuple[str, str], float]:
    """``madoguchi_encoder_texts`` by (server, kind) from the runner's metrics exporter."""
    with urllib.request.urlopen(metrics_url, timeout=10) as reply:  # noqa: S310 - loopback
        text = reply.read().decode()
    out: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        if line.startswith("madoguchi_encoder_texts_total{"):
            labels, _, value = line.partition("} ")
            pairs = dict(p.split("=", 1) for p in labels.split("{", 1)[1].split(","))
            out[(pairs["server"].strip('"'), pairs["kind"].strip('"'))] = float(value)
    return out


async def one_resident(url: str, messages: int, seed: int = 40) -> Tally:
    """``messages`` turns of one resident, back to back, a new conversation every 8 turns."""
    tally, rng = Tally(), random.Random(seed)
    async with _session(1) as session:
        for n in range(messages):
            if n % len(TURNS) == 0:
                sender = f"cpu-{uuid.uuid4().hex[:8]}"
            await send(session, url, sender, phrase(n % len(TURNS), rng), tally, n % len(TURNS))
    return tally


def cpu_per_message(server: Server, messages: int) -> str:
    """CPU ms and encoder texts per message of the Rasa process and the action server (one resident)."""
    asyncio.run(closed_loop(server.url, 4, 5))  # warm-up (first turns load lazily), not counted
    pids = {"rasa": rasa_pid(server), "actions": rasa_pid(server, b"bot.action_server")}
    cpu0 = {name: process_cpu(pid) for name, pid in pids.items()}
    tree0 = tree_cpu(server.process.pid)
    counts0 = encoder_counts(server.metrics_url)
    load0 = os.getloadavg()[0]
    started = time.perf_counter()
    tally = asyncio.run(one_resident(server.url, messages))
    elapsed = time.perf_counter() - started
    cpu1 = {name: process_cpu(pid) for name, pid in pids.items()}
    tree1 = tree_cpu(server.process.pid)
    counts1 = encoder_counts(server.metrics_url)
    done = len(tally.latencies)
    lines = [
        f"{done} messages ({tally.errors} errors) in {elapsed:.1f} s, one resident; "
        f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f}",
        "",
        "| process | ms CPU / msg | texts asked / msg | texts embedded / msg | vectors given / msg |",
        "|---|---|---|---|---|",
    ]
    for name in pids:
        per = {
            kind: (counts1.get((name, kind), 0.0) - counts0.get((name, kind), 0.0)) / max(done, 1)
            for kind in ("asked", "embedded", "given")
        }
        lines.append(
            f"| {name} | {1000 * (cpu1[name] - cpu0[name]) / max(done, 1):.0f} | {per['asked']:.2f} "
            f"| {per['embedded']:.2f} | {per['given']:.2f} |"
        )
    lines.append(f"| all processes (runner's tree) | {1000 * (tree1 - tree0) / max(done, 1):.0f} | | | |")
    return "\n".join(lines)


#: The turns compared by ``--growth``: the same 8 kinds of turn at three lengths of one conversation.
GROWTH_WINDOWS = ((0, 8), (40, 48), (112, 120))


async def growth_conversation(
    url: str, turns: int, pids: dict[str, int], seed: int, at_turn=None
) -> dict[str, dict[int, float]]:
    """One resident's ``turns`` turns in one conversation, and per turn the CPU seconds of each process
    in ``pids`` (``/proc`` utime + stime, read before and after the turn) and the latency; ``at_turn(n)``
    is called before each turn."""
    tally = Tally()
    sender = f"growth-{uuid.uuid4().hex[:8]}"
    rng = random.Random(seed)
    per_turn: dict[str, dict[int, float]] = {name: {} for name in [*pids, "latency"]}
    async with _session(1) as session:
        for turn in range(turns):
            if at_turn is not None:
                at_turn(turn)
            before = {name: process_cpu(pid) for name, pid in pids.items()}
            await send(session, url, sender, phrase(turn % len(TURNS), rng), tally, turn)
            for name, pid in pids.items():
                per_turn[name][turn] = process_cpu(pid) - before[name]
            if tally.by_turn[turn]:
                per_turn["latency"][turn] = tally.by_turn[turn][-1]
    if tally.errors:
        raise RuntimeError(f"growth: {tally.errors} errors ({tally.causes_note()})")
    return per_turn


def growth(server: Server, turns: int = 120, conversations: int = 2, spy_from: int | None = None) -> str:
    """CPU ms of the Rasa process and of the action server per turn, and p50 latency, at turns 1-8,
    41-48 and 113-120 of ``conversations`` conversations of ``turns`` turns (one resident at a time): the
    growth along one conversation (issue 13). With ``spy_from``, py-spy samples the Rasa process from
    that turn to the end of the last conversation."""
    asyncio.run(closed_loop(server.url, 4, 5))  # warm-up (first turns load lazily), not counted
    pids = {"rasa": rasa_pid(server), "actions": rasa_pid(server, b"bot.action_server")}
    load0 = os.getloadavg()
    spied: list[subprocess.Popen] = []
    out = Path(tempfile.mkstemp(prefix="bench-pyspy-growth-", suffix=".txt")[1])

    def spy_at(turn: int) -> None:
        if turn == spy_from:
            spied.append(_spy(pids["rasa"], 3600, out))

    runs = []
    for n in range(conversations):
        last = n == conversations - 1 and spy_from is not None
        hook = spy_at if last else None
        runs.append(asyncio.run(growth_conversation(server.url, turns, pids, 60 + n, hook)))
    load1 = os.getloadavg()
    for spy in spied:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    windows = [(a, b) for a, b in GROWTH_WINDOWS if b <= turns]

    def mean_ms(name: str, first: int, last: int) -> float:
        values = [run[name][t] for run in runs for t in range(first, last)]
        return 1000 * sum(values) / len(values)

    def p50_ms(first: int, last: int) -> float:
        return 1000 * percentile([run["latency"][t] for run in runs for t in range(first, last)], 50)

    heads = ", ".join(f"{a + 1}-{b}" for a, b in windows)
    lines = [
        f"{conversations} conversations of {turns} turns, one resident; load average "
        f"{load0[0]:.1f} / {load0[1]:.1f} -> {load1[0]:.1f} / {load1[1]:.1f} (1 / 5 min)",
        "",
        f"| measure | {heads.replace(', ', ' | ')} | last / first |",
        "|---|" + "---|" * (len(windows) + 1),
    ]
    for label, of in (
        ("Rasa ms CPU / turn", lambda a, b: mean_ms("rasa", a, b)),
        ("action server ms CPU / turn", lambda a, b: mean_ms("actions", a, b)),
        ("p50 latency ms", p50_ms),
    ):
        values = [of(a, b) for a, b in windows]
        lines.append(
            f"| {label} | " + " | ".join(f"{v:.0f}" for v in values) + f" | {values[-1] / values[0]:.2f}x |"
        )
    if spied:
        lines += ["", _spy_table(f"Rasa process, turns {spy_from + 1}-{turns} of one conversation", out, 25)]
    return "\n".join(lines)


def rss_after(server: Server, counts: list[int], users: int = 20) -> str:
    """RSS of the server's process tree after each of ``counts`` answered messages (a closed loop of
    ``users`` residents, a new conversation every 8 turns)."""
    asyncio.run(closed_loop(server.url, 4, 5))  # warm-up (first turns load lazily), not counted
    load0 = os.getloadavg()[0]
    started = time.perf_counter()
    lines = [
        f"RSS of madoguchi's process tree, {users} residents in a closed loop; load average {load0:.1f}",
        "",
        "| messages answered | errors | RSS MB | vs the first count | elapsed s |",
        "|---|---|---|---|---|",
    ]
    tally, first = Tally(), None
    for count in sorted(counts):
        asyncio.run(closed_loop(server.url, users, float("inf"), tally=tally, until=count))
        rss = server.rss() / 2**20
        first = first or rss
        lines.append(
            f"| {len(tally.latencies)} | {tally.errors} | {rss:.0f} | {100 * (rss / first - 1):+.1f}% "
            f"| {time.perf_counter() - started:.0f} |"
        )
    lines.append(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    if tally.causes:
        lines.append(tally.causes_note())
    return "\n".join(lines)


def _spy(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [
            str(REPO / ".venv" / "bin" / "py-spy"),
            "record",
            "--format",
            "raw",
            "--rate",
            "50",
            "--duration",
            str(int(seconds)),
            "--nonblocking",
            "--pid",
            str(pid),
            "-o",
            str(out),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def profile(server: Server, seconds: float, top: int = 25) -> str:
    """py-spy samples of the Rasa process and of the action server during a 20-user closed loop: own and
    inclusive time of each."""
    processes = {"Rasa process": b"bot.rasa_server", "action server": b"bot.action_server"}
    outs = {name: Path(tempfile.mkstemp(prefix="bench-pyspy-", suffix=".txt")[1]) for name in processes}
    spies = [_spy(rasa_pid(server, module), seconds, outs[name]) for name, module in processes.items()]
    asyncio.run(closed_loop(server.url, 20, seconds))
    for spy in spies:
        spy.wait(timeout=seconds + 60)
    return "\n\n".join(
        _spy_table(f"{name}, 20 users closed loop, {seconds:g} s", out, top) for name, out in outs.items()
    )


def _spy_table(name: str, out: Path, top: int) -> str:
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    idle = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if _short(frames[-1]) in IDLE_LEAVES:
            idle += int(count)
            continue
        total += int(count)
        own[_short(frames[-1])] += int(count)
        for frame in {_short(f) for f in frames}:
            inclusive[frame] += int(count)
    total = max(total, 1)
    lines = [
        f"py-spy, {name}: {total} busy samples "
        f"({idle} idle ones — thread-pool workers and the event loop waiting — left out)",
        "",
    ]
    lines += ["| own % | function |", "|---|---|"]
    lines += [f"| {100 * c / total:.1f} | `{f}` |" for f, c in own.most_common(top)]
    lines += ["", "| inclusive % | function |", "|---|---|"]
    lines += [f"| {100 * c / total:.1f} | `{f}` |" for f, c in inclusive.most_common(top)]
    return "\n".join(lines)


#: Leaf frames of threads that wait (py-spy samples them too with --nonblocking).
IDLE_LEAVES = frozenset(
    {"_worker (thread.py)", "serve (runners.py)", "select (selectors.py)", "wait (threading.py)"}
)


def _short(frame: str) -> str:
    """``func (path/to/module.py:12)`` → ``func (module.py)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.split(':')[0]).name})" if where else name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="length of each closed/open loop")
    parser.add_argument("--rates", default="5,10,20", help="open-loop message rates")
    parser.add_argument("--profile", action="store_true", help="py-spy the madoguchi servers first")
    parser.add_argument("--only", choices=["madoguchi", "bare"], help="run one system")
    parser.add_argument(
        "--cpu", type=int, metavar="N", help="madoguchi only: CPU and encodings per message over N messages"
    )
    parser.add_argument(
        "--rss", metavar="N[,M]", help="madoguchi only: RSS after N (then M...) messages at 20 users"
    )
    parser.add_argument(
        "--workers",
        default="1",
        help="madoguchi's Rasa processes (WORKERS); a comma list (e.g. 1,2) runs madoguchi once per value, "
        "in that order, after bare Rasa in the same run",
    )
    parser.add_argument("--redis-url", help="madoguchi's REDIS_URL (needed with --workers > 1)")
    parser.add_argument(
        "--growth",
        type=int,
        metavar="TURNS",
        help="madoguchi only: CPU per turn of the Rasa process and the action server, and p50 latency, at "
        "turns 1-8, 41-48, 113-120 of two conversations of TURNS turns (with --profile: py-spy of the Rasa "
        "process from turn 61 of the second)",
    )
    args = parser.parse_args(argv)

    worker_counts = [int(n) for n in str(args.workers).split(",")]

    def madoguchi(var: str, workers: int | None = None) -> Server:
        workers = worker_counts[0] if workers is None else workers
        # in a comparison (--workers 1,2) one process runs as `make run` does (SQLite), the others on Redis
        redis_url = args.redis_url if workers > 1 or len(worker_counts) == 1 else None
        server = start_madoguchi(Path(var), workers=workers, redis_url=redis_url)
        if workers > 1:
            server.name = f"madoguchi WORKERS={workers}"
        return server

    if args.rss:
        with tempfile.TemporaryDirectory(prefix="bench-load-var-") as var:
            server = madoguchi(var)
            try:
                print(rss_after(server, [int(n) for n in args.rss.split(",")]), flush=True)  # noqa: T201
            finally:
                server.stop()
        return 0
    if args.growth:
        with tempfile.TemporaryDirectory(prefix="bench-load-var-") as var:
            server = madoguchi(var)
            try:
                spy_from = min(60, args.growth // 2) if args.profile else None
                print(growth(server, args.growth, spy_from=spy_from), flush=True)  # noqa: T201
            finally:
                server.stop()
        return 0
    if args.cpu:
        with tempfile.TemporaryDirectory(prefix="bench-load-var-") as var:
            server = madoguchi(var)
            try:
                print(cpu_per_message(server, args.cpu), flush=True)  # noqa: T201
                if args.profile:
                    print(profile(server, 20), flush=True)  # noqa: T201
            finally:
                server.stop()
        return 0
    rates = [float(r) for r in args.rates.split(",")]
    print(f"bench-load on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}", flush=True)  # noqa: T201
    rows: list[Row] = []
    systems: list[tuple[str, int]] = [] if args.only == "madoguchi" else [("bare", 1)]
    if args.only != "bare":
        systems += [("madoguchi", n) for n in worker_counts]
    for system, workers in systems:
        with tempfile.TemporaryDirectory(prefix="bench-load-var-") as var:
            server = start_bare() if system == "bare" else madoguchi(var, workers)
            try:
                if args.profile and system == "madoguchi":
                    print(profile(server, 20), flush=True)  # noqa: T201
                load0 = os.getloadavg()[0]
                rows += asyncio.run(run_scenarios(server, args.seconds, rates))
                print(f"{server.name}: load average {load0:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)  # noqa: T201
            finally:
                server.stop()
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}\n")  # noqa: T201
    print(_format(rows))  # noqa: T201
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
