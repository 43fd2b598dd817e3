"""The runner's Prometheus endpoint: ``GET http://127.0.0.1:METRICS_PORT/metrics``.

Why one exporter in the runner with ``prometheus_client``'s multiprocess mode, not a port per process:
``WORKERS=N`` runs N Rasa processes and M action servers, and the supervisor restarts any of them. With
a port per process, Prometheus would need a target per process (a list that changes with ``WORKERS``),
and a restarted process would start its counters from zero. Here every child writes its values to
files under ``var/metrics`` (``PROMETHEUS_MULTIPROC_DIR``), and this exporter sums them: one target per
machine, totals over all workers, and a dead process's counts are kept. The folder is emptied when the
runner starts (stale files of an earlier run would be summed too).

Besides the children's counters (:mod:`bot.metrics`), each scrape reads, in this process:

* ``madoguchi_open_callbacks`` — open 折り返し requests in the callback queue (``madoguchi_store_up`` is
  0 and the gauge absent when the store does not answer);
* ``madoguchi_process_resident_bytes{process}`` and ``madoguchi_process_restarts{process}`` — each
  supervised process's RSS (from ``/proc``) and how often it was started again.

The endpoint is bound to 127.0.0.1 by default (``METRICS_HOST``): it is for the city's monitoring, not
for residents, and never on the residents' ports.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

#: Environment variable prometheus_client reads in each child (set by the runner, never by hand).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_PORT = 9105
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def reset_dir(path: Path) -> Path:
    """Empties (creates) the multiprocess folder; call before any child starts."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


def resident_bytes(pid: int) -> int | None:
    """The resident set size of a process (Linux ``/proc``), or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    return int(fields[1]) * PAGE_SIZE


class RunnerCollector:
    """Metrics only the runner knows: open callbacks (a store query), RSS and restarts of the children.

    Args:
        open_callbacks: returns the number of open callback requests (raises when the store fails).
        processes: returns ``{name: pid}`` of the running children.
        restarts: returns ``{name: restarts}``.
    """

    def __init__(
        self,
        open_callbacks: Callable[[], int],
        processes: Callable[[], Mapping[str, int]],
        restarts: Callable[[], Mapping[str, int]],
    ) -> None:
        self._open_callbacks = open_callbacks
        self._processes = processes
        self._restarts = restarts

    def collect(self) -> Iterator[Metric]:
        yield from self._callbacks()
        rss = GaugeMetricFamily(
            "madoguchi_process_resident_bytes", "RSS of each supervised process", labels=["process"]
        )
        for name, pid in sorted(self._processes().items()):
            size = resident_bytes(pid)
            if size is not None:
                rss.add_metric([name], size)
        yield rss
        restarts = CounterMetricFamily(
            "madoguchi_process_restarts", "How often the runner started a process again", labels=["process"]
        )
        for name, count in sorted(self._restarts().items()):
            restarts.add_metric([name], count)
        yield restarts

    def _callbacks(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("madoguchi_store_up", "1 when the callback store answered this scrape")
        try:
            count = self._open_callbacks()
        except Exception as error:  # noqa: BLE001 - a failing store must not break the scrape
            logger.warning("metrics: open callbacks not counted (%s)", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("madoguchi_open_callbacks", "Open callback requests (折り返し)", value=count)


def registry(multiproc_dir: Path, runner: RunnerCollector | None = None) -> CollectorRegistry:
    """The registry the exporter serves: the children's files summed, plus the runner's own metrics."""
    reg = CollectorRegistry()
    MultiProcessCollector(reg, path=str(multiproc_dir))
    if runner is not None:
        reg.register(runner)
    return reg


def serve(host: str, port: int, reg: CollectorRegistry):
    """Serves ``/metrics`` from a daemon thread; returns the server (``shutdown()`` stops it)."""
    server, _thread = start_http_server(port, addr=host, registry=reg)
    return server
