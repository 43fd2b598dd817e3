"""Request latency while Redis hangs (issue 13, item 1): ``python -m bench.redis_pause [--pause-ms 5000]``.

Starts a throwaway redis-server and the real servers on it, sends one turn to warm up, then
``CLIENT PAUSE <ms> ALL`` and, during the pause, one REST turn of a known and one of a new
conversation while the health URL is polled every 50 ms. Prints each latency (machine: whatever runs it).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from redis_server import start_redis, stop_redis  # noqa: E402
from servers import start_bot, stop_bot  # noqa: E402
from test_e2e_redis_faults import _health_while, _post  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pause-ms", type=int, default=5000)
    args = parser.parse_args(argv)
    process, port = start_redis()
    bot = start_bot({"REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    try:
        _post(bot, "warm", "住民票の写しがほしい")
        admin = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
        admin.execute_command("CLIENT", "PAUSE", args.pause_ms, "ALL")
        with ThreadPoolExecutor(4) as pool:
            turns = {name: pool.submit(_post, bot, name, "住民票の写しがほしい") for name in ("warm", "new")}
            health = _health_while(bot, turns["warm"])
        for name, turn in turns.items():
            status, body, took = turn.result()
            code = body.get("code") if isinstance(body, dict) else "answer"
            print(f"turn ({name} conversation): {status} {code} in {took * 1000:.0f} ms")  # noqa: T201
        print(  # noqa: T201
            f"health during the pause: {len(health)} requests, max {max(health) * 1000:.0f} ms, "
            f"median {sorted(health)[len(health) // 2] * 1000:.0f} ms"
        )
    finally:
        stop_bot(bot)
        stop_redis(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
