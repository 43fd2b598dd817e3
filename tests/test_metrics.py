"""Prometheus metrics: counted where turns happen, summed over processes, scraped after real turns.

The end-to-end half scrapes the runner's exporter (``METRICS_PORT``) before and after real turns of a
running madoguchi and compares the differences, so it holds whatever other tests sent before.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics, metrics_exporter

REPO = Path(__file__).resolve().parent.parent


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` of an exposition text."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 - loopback
        assert reply.status == 200
        return samples(reply.read().decode())


# --- counted where turns happen ------------------------------------------------------------------


def test_fallback_cards_make_the_outcome():
    fallback = [{"text": "..."}, {"custom": {"madoguchi": {"kind": "fallback"}}}]
    suggestions = [{"custom": {"madoguchi": {"kind": "suggestions", "options": []}}}]
    procedure = [{"custom": {"madoguchi": {"kind": "procedure"}}}, {"custom": "not a card"}]
    assert metrics.TurnRecord.of_answer("rest", fallback, 0.1).outcome == "fallback"
    assert metrics.TurnRecord.of_answer("rest", suggestions, 0.1).outcome == "suggestions"
    record = metrics.TurnRecord.of_answer("rest", procedure, 0.1)
    assert (record.outcome, record.kinds) == ("answered", ("procedure",))
    # a crisis answered from data stays that, whatever card it carries
    safety = [{"custom": {"madoguchi": {"kind": "fallback"}}}]
    assert metrics.TurnRecord.of_answer("rest", safety, 0.1, "crisis_from_data").outcome == "crisis_from_data"


def test_observe_turn_counts_outcome_latency_fallback_and_code():
    def read(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        read("madoguchi_turns_total", channel="unit", outcome="fallback"),
        read("madoguchi_fallbacks_total", channel="unit", kind="fallback"),
        read("madoguchi_turn_seconds_count", channel="unit"),
        read("madoguchi_errors_total", channel="unit", code="invalid_json"),
        read("madoguchi_turn_seconds_bucket", channel="unit", le="0.05"),
    )
    metrics.observe_turn(metrics.TurnRecord("unit", "fallback", 0.04))
    metrics.observe_turn(metrics.TurnRecord("unit", "refused", 0.0, "invalid_json"))
    after = (
        read("madoguchi_turns_total", channel="unit", outcome="fallback"),
        read("madoguchi_fallbacks_total", channel="unit", kind="fallback"),
        read("madoguchi_turn_seconds_count", channel="unit"),
        read("madoguchi_errors_total", channel="unit", code="invalid_json"),
        read("madoguchi_turn_seconds_bucket", channel="unit", le="0.05"),
    )
    # a refused body has no latency (it never reached the assistant)
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 1, 1]


# --- the exporter ----------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from bot import metrics
    for _ in range(int(sys.argv[1])):
        metrics.observe_turn(metrics.TurnRecord("rest", "answered", 0.2))
    metrics.count_line_events("received", 3)
    """
)


def test_exporter_sums_every_process_and_keeps_a_dead_ones_counts(tmp_path):
    folder = metrics_exporter.reset_dir(tmp_path / "metrics")
    env = {"PATH": "/usr/bin:/bin", metrics_exporter.MULTIPROC_ENV: str(folder)}
    for turns in (2, 5):  # two worker processes, both ended before the scrape
        subprocess.run([sys.executable, "-c", CHILD, str(turns)], cwd=REPO, env=env, check=True, timeout=60)
    runner = metrics_exporter.RunnerCollector(lambda: 4, lambda: {}, lambda: {"rasa-2": 1})
    found = samples(generate_latest(metrics_exporter.registry(folder, runner)).decode())
    assert value(found, "madoguchi_turns_total", channel="rest", outcome="answered") == 7
    assert value(found, "madoguchi_turn_seconds_bucket", channel="rest", le="0.25") == 7
    assert value(found, "madoguchi_line_events_total", result="received") == 6
    assert value(found, "madoguchi_open_callbacks") == 4
    assert value(found, "madoguchi_store_up") == 1
    assert value(found, "madoguchi_process_restarts_total", process="rasa-2") == 1
    # a new run starts from an empty folder
    assert list(metrics_exporter.reset_dir(folder).iterdir()) == []


def test_a_failing_store_does_not_break_the_scrape(tmp_path):
    def broken() -> int:
        raise ConnectionError("redis is down")

    folder = metrics_exporter.reset_dir(tmp_path / "metrics")
    own_pid = {"rasa-1": __import__("os").getpid()}
    runner = metrics_exporter.RunnerCollector(broken, lambda: own_pid, lambda: {})
    found = samples(generate_latest(metrics_exporter.registry(folder, runner)).decode())
    assert value(found, "madoguchi_store_up") == 0
    assert ("madoguchi_open_callbacks", ()) not in found
    assert value(found, "madoguchi_process_resident_bytes", process="rasa-1") > 10_000_000


# --- scraped after real turns ------------------------------------------------------------------------


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310 - loopback
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.e2e
def test_metrics_after_real_turns(running_bot):
    bot = running_bot
    before = scrape(bot.metrics_url)
    kinds = [m.get("kind") for m in bot.madoguchi("metrics-1", "住民票の写しがほしい")]
    assert "procedure" in kinds
    unclear = [m.get("kind") for m in bot.madoguchi("metrics-2", "ぬるぽ がっ ふもふも")]
    assert {"fallback", "suggestions"} & set(unclear), unclear
    assert _post(f"{bot.rasa_url}/webhooks/rest/webhook", b"{not json") == 400
    from bot.stores import open_stores

    with open_stores(__import__("bot.settings", fromlist=["load"]).load(bot.env)) as stores:
        stores.callbacks.add("090-1234-5678", None, "平日午前", "metrics test", None)
    after = scrape(bot.metrics_url)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    unclear_kind = "fallback" if "fallback" in unclear else "suggestions"
    assert delta("madoguchi_turns_total", channel="rest", outcome="answered") >= 1
    assert delta("madoguchi_turns_total", channel="rest", outcome=unclear_kind) == 1
    assert delta("madoguchi_fallbacks_total", channel="rest", kind=unclear_kind) == 1
    assert delta("madoguchi_turns_total", channel="rest", outcome="refused") == 1
    assert delta("madoguchi_errors_total", channel="rest", code="invalid_json") == 1
    assert delta("madoguchi_turn_seconds_count", channel="rest") == 2  # the refused body has no latency
    assert delta("madoguchi_turn_seconds_sum", channel="rest") > 0
    assert delta("madoguchi_open_callbacks") == 1
    assert value(after, "madoguchi_store_up") == 1
    for name in ("rasa", "actions", "widget", "staff"):
        assert value(after, "madoguchi_process_resident_bytes", process=name) > 1_000_000, name
    # never on the residents' port, and no resident text in any label
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{bot.rasa_url}/metrics", timeout=10)  # noqa: S310 - loopback
    text = urllib.request.urlopen(bot.metrics_url, timeout=10).read().decode()  # noqa: S310
    assert "住民票" not in text and "ぬるぽ" not in text and "metrics-1" not in text
