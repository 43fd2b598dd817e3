"""``make run``: starts the Rasa server, the action server and the widget demo site together.

Ports come from ``PORT`` (Rasa, 5005), ``ACTIONS_PORT`` (5055), ``WIDGET_PORT`` (8080) and ``STAFF_PORT``
(the staff console, 5080, on ``STAFF_HOST``, 127.0.0.1 by default) and ``METRICS_PORT`` (Prometheus,
9105, on ``METRICS_HOST``, 127.0.0.1 by default; 0 switches it off). Storage is SQLite under ``var/`` unless
``REDIS_URL`` is set. Ctrl-C or SIGTERM stops every process cleanly. A process that dies after start-up is
started again after a back-off (1 s, doubling up to 30 s; back to 1 s once it has run for a minute) with a
log line; the others keep serving meanwhile. The retention purge runs by itself every day
(``MADOGUCHI_PURGE_EVERY_HOURS``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import yaml

from bot import metrics_exporter, nginx_conf
from bot import settings as settings_module
from bot.training import model_path
from bot.understanding import worker as understanding
from bot.understanding.encoder import EncoderUnavailable, check_cpu

READY_TIMEOUT = float(os.environ.get("MADOGUCHI_READY_TIMEOUT", 180))
#: How often the supervisor looks at its processes.
WATCH_INTERVAL = 0.5
#: Retention purge (`madoguchi data purge --yes`): first run this long after start, then every
#: ``MADOGUCHI_PURGE_EVERY_HOURS`` hours (default 24; 0 switches it off, e.g. when a systemd timer runs it).
PURGE_FIRST_DELAY = 600.0
DEFAULT_PURGE_EVERY_HOURS = 24.0


@dataclass
class PurgeSchedule:
    """When the runner starts the next retention purge (a child process, so a slow store never blocks
    the supervision)."""

    every_seconds: float
    next_at: float
    running: subprocess.Popen | None = None

    @classmethod
    def from_env(cls, now: float, env: dict[str, str] | None = None) -> PurgeSchedule | None:
        env = os.environ if env is None else env
        hours = float(env.get("MADOGUCHI_PURGE_EVERY_HOURS") or DEFAULT_PURGE_EVERY_HOURS)
        if hours <= 0:
            return None
        return cls(every_seconds=hours * 3600, next_at=now + PURGE_FIRST_DELAY)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bot.cli", "data", "purge", "--yes"]


@dataclass
class Backoff:
    """Delay before restarting a process that died: ``first``, doubling up to ``longest``.

    A process that ran for ``stable_after`` seconds before dying starts again from ``first``. 1 s first
    (Rasa needs ~30 s to load its model, so a quick retry costs little), 30 s at most (a process that
    crashes at once, e.g. a broken model, then retries twice a minute instead of spinning).
    """

    first: float = 1.0
    longest: float = 30.0
    stable_after: float = 60.0
    _next: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Backoff:
        env = os.environ if env is None else env
        first = float(env.get("MADOGUCHI_RESTART_FIRST_DELAY") or 1.0)
        return cls(first=first, longest=max(first, float(env.get("MADOGUCHI_RESTART_MAX_DELAY") or 30.0)))

    def delay(self, name: str, ran_for: float) -> float:
        """The wait before the next start of ``name``, which just died after ``ran_for`` seconds."""
        if ran_for >= self.stable_after:
            self._next.pop(name, None)
        delay = self._next.get(name, self.first)
        self._next[name] = min(delay * 2, self.longest)
        return delay


@dataclass(frozen=True)
class Config:
    """Everything the runner needs, read from the environment."""

    rasa_port: int
    actions_port: int
    widget_port: int
    host: str
    staff_port: int
    staff_host: str
    cors_origins: list[str]
    settings: settings_module.Settings
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    rasa_ports: tuple[int, ...] = ()
    action_ports: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.several and not self.settings.redis_url:
            raise ValueError(
                f"WORKERS={len(self.rasa_ports)}: several instances share conversations and locks in Redis; "
                "set REDIS_URL (e.g. redis://127.0.0.1:6379/0)"
            )
        taken = [self.rasa_port, self.actions_port, *self.rasa_ports, *self.action_ports]
        if len(set(taken)) != len(taken):
            raise ValueError(f"PORT, ACTIONS_PORT and the instance ports overlap: {taken}")
        residents = (self.rasa_port, self.actions_port, self.widget_port)
        if self.staff_port in residents:
            raise ValueError(
                f"STAFF_PORT {self.staff_port}: the staff console never shares the residents' ports"
            )
        if self.metrics_port and self.metrics_port in (*residents, self.staff_port):
            raise ValueError(f"METRICS_PORT {self.metrics_port}: metrics never share another server's port")

    @property
    def several(self) -> bool:
        """Several Rasa processes or action servers behind nginx (``WORKERS``, ``ACTION_WORKERS``)."""
        return len(self.rasa_ports) > 1 or len(self.action_ports) > 1

    @property
    def metrics_dir(self) -> Path:
        """Where the children write their metric values (``PROMETHEUS_MULTIPROC_DIR``)."""
        return self.settings.var_dir / "metrics"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        widget_port = int(env.get("WIDGET_PORT") or 8080)
        default_origins = f"http://localhost:{widget_port} http://127.0.0.1:{widget_port}"
        rasa_port = int(env.get("PORT") or 5005)
        actions_port = int(env.get("ACTIONS_PORT") or 5055)
        workers = int(env.get("WORKERS") or 1)
        action_workers = int(env.get("ACTION_WORKERS") or (workers + 1) // 2)
        if min(workers, action_workers) < 1:
            raise ValueError("WORKERS and ACTION_WORKERS must be at least 1")
        several = workers > 1 or action_workers > 1
        understanding.threads_setting(env)  # a bad MADOGUCHI_UNDERSTANDING_THREADS stops the start here
        return cls(
            rasa_port=rasa_port,
            actions_port=actions_port,
            rasa_ports=_instance_ports(env.get("WORKER_PORTS"), rasa_port, workers) if several else (),
            action_ports=(
                _instance_ports(env.get("ACTION_WORKER_PORTS"), actions_port, action_workers)
                if several
                else ()
            ),
            widget_port=widget_port,
            host=env.get("HOST") or "127.0.0.1",
            staff_port=int(env.get("STAFF_PORT") or 5080),
            staff_host=env.get("STAFF_HOST") or "127.0.0.1",
            cors_origins=(env.get("CORS_ORIGINS") or default_origins).replace(",", " ").split(),
            settings=settings_module.load(env),
            metrics_port=int(env.get("METRICS_PORT") or metrics_exporter.DEFAULT_PORT),
            metrics_host=env.get("METRICS_HOST") or "127.0.0.1",
        )


#: With ``WORKERS`` > 1, instance i (from 1) listens on the public port + INSTANCE_PORT_OFFSET + i (5106,
#: 5107 … for Rasa; 5156 … for the action servers) unless ``WORKER_PORTS`` / ``ACTION_WORKER_PORTS`` say.
INSTANCE_PORT_OFFSET = 100
#: numpy's OpenBLAS threads in every server (``OPENBLAS_NUM_THREADS``, unless the environment sets it).
#: The servers' matrix products are small (a message's vectors against a few thousand), and a second
#: BLAS thread on 2 shared cores only waits for the other: the crisis classifier's neighbour vote over a
#: message's 8 sentence vectors took 1.05-1.30 ms of CPU with 2 threads, 0.68-0.70 ms with 1 (load ~5,
#: 2026-12-02); its vote and margin were 15% of the Rasa process's busy samples at 20 users.
BLAS_THREADS = 1


def _instance_ports(listed: str | None, public_port: int, count: int) -> tuple[int, ...]:
    if listed:
        ports = tuple(int(p) for p in listed.replace(",", " ").split())
        if len(ports) != count:
            raise ValueError(f"{len(ports)} instance ports listed for {count} instances: {listed}")
        return ports
    return tuple(public_port + INSTANCE_PORT_OFFSET + i for i in range(1, count + 1))


def redis_endpoint(url: str, store_type: str) -> dict:
    """An endpoints.yml entry for one of our Redis stores, from a ``redis://`` URL."""
    parts = urllib.parse.urlparse(url)
    entry = {
        "type": store_type,
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int((parts.path or "/0").lstrip("/") or 0),
        "use_ssl": parts.scheme == "rediss",
    }
    if parts.password:
        entry["password"] = urllib.parse.unquote(parts.password)
    return entry


def child_env(environ: Mapping[str, str], config: Config) -> dict[str, str]:
    """The environment of the servers the runner starts."""
    env = dict(environ, CORS_ORIGINS=" ".join(config.cors_origins), TF_CPP_MIN_LOG_LEVEL="2")
    env.setdefault("OPENBLAS_NUM_THREADS", str(BLAS_THREADS))
    return env


def endpoints(config: Config) -> dict:
    """The endpoints.yml content: action server, tracker store and lock store."""
    data: dict = {"action_endpoint": {"url": f"http://127.0.0.1:{config.actions_port}/webhook"}}
    if config.settings.redis_url:
        url = config.settings.redis_url
        tracker = redis_endpoint(url, "bot.rasa_stores.TimeoutRedisTrackerStore")
        # conversations expire by themselves after the retention period
        tracker["record_exp"] = config.settings.retention_days * 86400
        data["tracker_store"] = tracker
        data["lock_store"] = redis_endpoint(url, "bot.rasa_stores.AtomicRedisLockStore")
    else:
        db = config.settings.conversations_db
        data["tracker_store"] = {
            "type": "bot.rasa_sql.OffLoopSQLTrackerStore",
            "dialect": "sqlite",
            "db": str(db),
        }
        # one process: turns of a conversation wait for each other without Rasa's 1 s polling
        data["lock_store"] = {"type": "bot.rasa_lock.LocalLockStore"}
    return data


def write_endpoints(config: Config) -> Path:
    """Writes ``var/endpoints.yml`` (generated; never edit it by hand)."""
    path = config.settings.var_dir / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# generated by bot/runner.py from the environment; do not edit\n"
        + yaml.safe_dump(endpoints(config), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def _rasa_command(config: Config, endpoints_path: Path, port: int, interface: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bot.rasa_server",
        "run",
        "--model",
        str(model_path()),
        "--port",
        str(port),
        "--interface",
        interface,
        "--endpoints",
        str(endpoints_path),
        "--credentials",
        os.path.join(str(settings_module.REPO_ROOT), "credentials.yml"),
        "--cors",
        *config.cors_origins,
    ]  # fmt: skip


def _actions_command(port: int) -> list[str]:
    return [sys.executable, "-m", "bot.action_server", "--port", str(port)]


def nginx_layout(config: Config) -> nginx_conf.Layout:
    """Where nginx and the instances listen (``WORKERS`` > 1)."""
    return nginx_conf.Layout(
        host=config.host,
        port=config.rasa_port,
        rasa_ports=config.rasa_ports,
        actions_port=config.actions_port,
        action_ports=config.action_ports,
        prefix=config.settings.var_dir / "nginx",
    )


def commands(config: Config, endpoints_path: Path) -> dict[str, list[str]]:
    """The command line of each process (``rasa-1`` … ``actions-1`` … and ``nginx`` with ``WORKERS`` > 1)."""
    python = sys.executable
    out: dict[str, list[str]] = {}
    if config.several:
        for i, port in enumerate(config.action_ports, start=1):
            out[f"actions-{i}"] = _actions_command(port)
        for i, port in enumerate(config.rasa_ports, start=1):
            out[f"rasa-{i}"] = _rasa_command(config, endpoints_path, port, "127.0.0.1")
        conf = nginx_conf.write(nginx_layout(config))
        out["nginx"] = nginx_conf.command(nginx_conf.find_nginx(), conf)
    else:
        out["actions"] = _actions_command(config.actions_port)
        out["rasa"] = _rasa_command(config, endpoints_path, config.rasa_port, config.host)
    out["widget"] = [
        python,
        "-m",
        "bot.channels.widget_site",
        "--port",
        str(config.widget_port),
        "--host",
        config.host,
        "--rasa-url",
        f"http://localhost:{config.rasa_port}",
    ]  # fmt: skip
    out["staff"] = [python, "-m", "bot.staff", "--host", config.staff_host, "--port", str(config.staff_port)]
    return out


def ready_urls(config: Config) -> dict[str, str]:
    """A URL per process that answers 200 once it is ready."""
    urls = {
        "widget": f"http://127.0.0.1:{config.widget_port}/",
        "staff": f"http://127.0.0.1:{config.staff_port}/healthz",
    }
    if not config.several:
        urls["actions"] = f"http://127.0.0.1:{config.actions_port}/health"
        urls["rasa"] = f"http://127.0.0.1:{config.rasa_port}/webhooks/rest/"
        return urls
    for i, port in enumerate(config.action_ports, start=1):
        urls[f"actions-{i}"] = f"http://127.0.0.1:{port}/health"
    for i, port in enumerate(config.rasa_ports, start=1):
        urls[f"rasa-{i}"] = f"http://127.0.0.1:{port}/webhooks/rest/"
    urls["nginx"] = f"http://127.0.0.1:{config.rasa_port}/healthz"
    return urls


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - loopback only
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Supervisor:
    """Starts the processes in their own process group, restarts one that dies, stops them together.

    ``clock`` and ``sleep`` are injectable (tests run the back-off without waiting for it).
    """

    def __init__(
        self,
        config: Config,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.processes: dict[str, subprocess.Popen] = {}
        self.restarts: dict[str, int] = {}
        self.backoff = backoff or Backoff.from_env()
        self._clock = clock
        self._sleep = sleep
        self._log = log or (lambda line: sys.stderr.write(line + "\n"))
        self._stopping = False
        self._argv: dict[str, list[str]] = {}
        self._env: dict[str, str] = {}
        self._started_at: dict[str, float] = {}
        self._due: dict[str, float] = {}  # name -> when to start it again
        self._signalled: set[str] = set()
        self.purge = PurgeSchedule.from_env(clock())
        self.metrics_server = None

    def start(self) -> None:
        endpoints_path = write_endpoints(self.config)
        self._env = child_env(os.environ, self.config)
        self._env.pop(metrics_exporter.MULTIPROC_ENV, None)
        if self.config.metrics_port:
            metrics_dir = metrics_exporter.reset_dir(self.config.metrics_dir)
            self._env[metrics_exporter.MULTIPROC_ENV] = str(metrics_dir)
        self._argv = commands(self.config, endpoints_path)
        for name in self._argv:
            self._spawn(name)
        if self.config.metrics_port:
            self.start_metrics()

    def start_metrics(self) -> None:
        """Serves the children's summed metrics and the runner's own on ``METRICS_PORT``."""
        collector = metrics_exporter.RunnerCollector(
            open_callbacks=lambda: open_callbacks(self.config.settings),
            processes=lambda: {n: p.pid for n, p in self.processes.items() if p.poll() is None},
            restarts=lambda: dict(self.restarts),
        )
        registry = metrics_exporter.registry(self.config.metrics_dir, collector)
        try:
            self.metrics_server = metrics_exporter.serve(
                self.config.metrics_host, self.config.metrics_port, registry
            )
        except OSError as error:  # the residents are still served; say loudly that monitoring is off
            self._log(f"madoguchi: metrics are OFF: port {self.config.metrics_port} ({error.strerror})")

    def _spawn(self, name: str) -> None:
        self.processes[name] = subprocess.Popen(
            self._argv[name], cwd=settings_module.REPO_ROOT, env=self._env
        )
        self._started_at[name] = self._clock()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Blocks until every process answers, or raises when one dies or time runs out.

        Returns early, without raising, when a stop was requested meanwhile (Ctrl-C during start-up).
        """
        deadline = time.monotonic() + timeout
        pending = dict(ready_urls(self.config))
        while pending and not self._stopping:
            for name in list(pending):
                if self._stopping:
                    return  # the processes end because we stopped them, not because they failed
                if self.processes[name].poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with code {self.processes[name].returncode} during start"
                    )
                if name == "nginx" and len(pending) > 1:
                    continue  # asked once the instances behind it answer (no error lines meanwhile)
                if _answers(pending[name]):
                    del pending[name]
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            time.sleep(0.5)

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested (a signal)."""
        return self._stopping

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM to every process, SIGKILL to those still running after ``grace`` seconds."""
        self._stopping = True
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def check_once(self) -> None:
        """One look at every process: schedules a restart for the dead, starts those that are due."""
        now = self._clock()
        for name, process in self.processes.items():
            if name in self._due:
                if now >= self._due[name] and not self._stopping:
                    del self._due[name]
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self._log(f"madoguchi: starting {name} again (restart {self.restarts[name]})")
                    self._spawn(name)
                continue
            code = process.poll()
            if code is None or self._stopping:
                continue
            if code in (-signal.SIGTERM, -signal.SIGINT) and name not in self._signalled:
                # Ctrl-C / SIGTERM to the process group reaches the children too: give our own
                # handler one look to mark this as a requested stop rather than a crash.
                self._signalled.add(name)
                continue
            self._signalled.discard(name)
            delay = self.backoff.delay(name, now - self._started_at[name])
            self._due[name] = now + delay
            self._log(f"madoguchi: {name} stopped (exit code {code}); starting it again in {delay:.1f} s")

    def check_purge(self) -> None:
        """Starts the retention purge when it is due; logs how the last one ended."""
        schedule = self.purge
        if schedule is None or self._stopping:
            return
        if schedule.running is not None:
            code = schedule.running.poll()
            if code is None:
                return
            schedule.running = None
            if code != 0:
                self._log(
                    f"madoguchi: retention purge failed (exit code {code}); next try in the next period"
                )
        now = self._clock()
        if now >= schedule.next_at:
            schedule.next_at = now + schedule.every_seconds
            self._log("madoguchi: starting the retention purge (madoguchi data purge --yes)")
            schedule.running = subprocess.Popen(  # noqa: S603 - our own command line
                schedule.command(),
                cwd=settings_module.REPO_ROOT,
                env=self._env or None,
                stdin=subprocess.DEVNULL,
            )

    def watch(self) -> int:
        """Supervises until a signal stops us; returns the exit code to use (0)."""
        while not self._stopping:
            self.check_once()
            self.check_purge()
            self._sleep(WATCH_INTERVAL)
        return 0


def open_callbacks(settings: settings_module.Settings) -> int:
    """Open callback requests in the queue (for the metrics; opens and closes the stores each time)."""
    from bot.stores import open_stores

    with open_stores(settings) as stores:
        return int(stores.callbacks.counts().get("open", 0))


def prepare(config: Config) -> None:
    """Creates var/ and imports the sample FAQ when there is no live knowledge base yet."""
    from bot.knowledge.faq.import_export import ensure_live_base

    config.settings.var_dir.mkdir(parents=True, exist_ok=True)
    ensure_live_base(config.settings.faq_dir, config.settings.data_dir / "faq" / "sample_faq.csv")


def metrics_url(config: Config) -> str:
    """Where Prometheus scrapes this machine."""
    return f"http://{config.metrics_host}:{config.metrics_port}/metrics"


def banner(config: Config) -> str:
    """The URLs printed once everything is up."""
    storage = "Redis (REDIS_URL)" if config.settings.redis_url else f"SQLite under {config.settings.var_dir}"
    instances = (
        [
            f"  instances          {len(config.rasa_ports)} Rasa, {len(config.action_ports)} action servers "
            f"behind nginx (var/nginx/nginx.conf)"
        ]
        if config.several
        else []
    )
    return "\n".join(
        [
            "",
            "madoguchi is running:",
            f"  widget demo page   http://localhost:{config.widget_port}/",
            f"  REST channel       http://localhost:{config.rasa_port}/webhooks/rest/webhook",
            f"  socket.io          http://localhost:{config.rasa_port}/socket.io",
            f"  LINE webhook       http://localhost:{config.rasa_port}/webhooks/line/webhook",
            f"  action server      http://127.0.0.1:{config.actions_port}/webhook",
            f"  staff console      http://{config.staff_host}:{config.staff_port}/  (職員用画面)",
            f"  health             http://localhost:{config.rasa_port}/healthz  /readyz",
            *([f"  metrics            {metrics_url(config)}  (Prometheus)"] if config.metrics_port else []),
            f"  storage            {storage}",
            *instances,
            "Press Ctrl-C to stop.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        config = Config.from_env()
        if config.several:
            nginx_conf.find_nginx()
    except (ValueError, nginx_conf.NginxMissing) as error:
        sys.stderr.write(f"madoguchi: {error}\n")
        return 2
    os.umask(0o077)  # conversations and requests under var/ are readable by the service user only
    if not model_path().exists():
        sys.stderr.write("no trained model: run `make run` (it trains one) or `python -m bot.training`\n")
        return 2
    try:
        check_cpu()  # the sentence encoder needs AVX2: say so now, not on the first message
    except EncoderUnavailable as error:
        sys.stderr.write(f"madoguchi: {error}\n")
        return 2
    supervisor = Supervisor(config)

    def on_signal(signum, _frame):
        supervisor.stop()

    # Before the (slow) preparation, so that a Ctrl-C during it is a clean stop too.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    prepare(config)
    if supervisor.stopping:
        return 0
    supervisor.start()
    try:
        supervisor.wait_ready()
    except (RuntimeError, TimeoutError) as error:
        if supervisor.stopping:
            return 0  # a child ended because the stop reached it first
        sys.stderr.write(f"madoguchi: {error}\n")
        supervisor.stop()
        return 1
    if supervisor.stopping:
        return 0  # stopped (Ctrl-C / SIGTERM) while starting
    print(banner(config), flush=True)  # noqa: T201 - the URLs are this command's output
    return supervisor.watch()


if __name__ == "__main__":
    sys.exit(main())
