"""Per-conversation ordering of background jobs."""

from __future__ import annotations

import asyncio

from bot.channels.line.serial import SerialJobs


def _job(log: list, name: str, delay: float = 0.0, fail: bool = False):
    async def run() -> None:
        log.append(("start", name))
        await asyncio.sleep(delay)
        if fail:
            raise RuntimeError("job failed")
        log.append(("end", name))

    return run


async def test_jobs_of_one_key_run_one_at_a_time_in_order():
    jobs, log = SerialJobs(), []
    jobs.submit("a", _job(log, "a1", 0.05))
    jobs.submit("a", _job(log, "a2"))
    jobs.submit("a", _job(log, "a3"))
    await jobs.join()
    assert log == [
        ("start", "a1"),
        ("end", "a1"),
        ("start", "a2"),
        ("end", "a2"),
        ("start", "a3"),
        ("end", "a3"),
    ]
    assert jobs.busy == 0


async def test_keys_run_in_parallel():
    jobs, log = SerialJobs(), []
    jobs.submit("a", _job(log, "a1", 0.1))
    jobs.submit("b", _job(log, "b1"))
    await jobs.join()
    assert log.index(("end", "b1")) < log.index(("end", "a1"))


async def test_a_failing_job_is_logged_and_the_next_runs(caplog):
    jobs, log = SerialJobs(), []
    jobs.submit("a", _job(log, "bad", fail=True))
    jobs.submit("a", _job(log, "good"))
    await jobs.join()
    assert ("end", "good") in log
    assert any("background job failed" in r.getMessage() for r in caplog.records)


async def test_flood_guard_drops_beyond_the_limit():
    jobs, log = SerialJobs(max_pending=2), []
    accepted = [jobs.submit("a", _job(log, f"j{i}", 0.01)) for i in range(4)]
    assert accepted == [True, True, False, False]
    await jobs.join()
    assert [name for kind, name in log if kind == "end"] == ["j0", "j1"]


async def test_new_work_after_a_queue_drained_starts_a_new_worker():
    jobs, log = SerialJobs(), []
    jobs.submit("a", _job(log, "first"))
    await jobs.join()
    jobs.submit("a", _job(log, "second"))
    await jobs.join()
    assert [name for kind, name in log if kind == "end"] == ["first", "second"]


async def test_cancel_stops_running_work():
    jobs, log = SerialJobs(), []
    jobs.submit("a", _job(log, "long", 5))
    jobs.submit("a", _job(log, "never"))
    await asyncio.sleep(0.01)
    await jobs.cancel()
    assert log == [("start", "long")] and jobs.busy == 0


async def test_at_most_max_running_jobs_run_at_once_over_all_keys():
    jobs = SerialJobs(max_pending=5, max_running=2)
    running, peak = 0, 0
    release = asyncio.Event()

    async def job() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    for key in ("a", "b", "c", "d"):
        assert jobs.submit(key, job)
    for _ in range(5):
        await asyncio.sleep(0)
    assert (running, peak) == (2, 2)  # c and d wait for a slot
    release.set()
    await jobs.join()
    assert (running, peak) == (0, 2)
