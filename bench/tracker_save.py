"""Cost of one tracker save on the SQLite tracker store: ``python -m bench.tracker_save``.

Builds ``OffLoopSQLTrackerStore`` on a scratch file (as endpoints.yml configures it), then runs
``--conversations`` conversations of ``--turns`` turns each (a user message, an action, a bot answer:
what one resident turn appends), saving after every turn, and prints the median and p95 milliseconds
per save and how many database connections were opened (SQLAlchemy ``connect`` events) — once as
shipped (one connection kept per thread, WAL journal) and once with Rasa's own engine (``NullPool``: a
connection per session; rollback journal), alternating ``--rounds`` times so both see the same load.
Machine: whatever runs it (the figures in bot/rasa_sql.py name theirs).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from bot.rasa_sql import OffLoopSQLTrackerStore


async def _run(db: Path, conversations: int, turns: int, rasa_engine: bool) -> tuple[list[float], int]:
    store = OffLoopSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(db))
    if rasa_engine:  # what Rasa's SQLTrackerStore builds for a SQLite file under SQLAlchemy 1.4
        store.engine.dispose()
        store.engine = sa.create_engine(store.engine.url, poolclass=NullPool)
        store.sessionmaker = sa.orm.session.sessionmaker(bind=store.engine)
    opened = [0]
    event.listen(store.engine, "connect", lambda *_: opened.__setitem__(0, opened[0] + 1))
    took = []
    try:
        for number in range(conversations):
            tracker = DialogueStateTracker.from_events(f"bench{number}", [ActionExecuted("action_listen")])
            for turn in range(turns):
                for e in (
                    UserUttered(f"住民票の写しがほしい {turn}", {"name": "ask_procedure", "confidence": 0.9}),
                    ActionExecuted("utter_procedure"),
                    BotUttered("住民票の写しは市民課で取れます。"),
                    ActionExecuted("action_listen"),
                ):
                    tracker.update(e)
                started = time.perf_counter()
                await store.save(tracker)
                took.append((time.perf_counter() - started) * 1000)
    finally:
        await store.close_connections()
    return took, opened[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[str, tuple[list[float], int]] = {"as shipped": ([], 0), "Rasa's engine": ([], 0)}
    for _ in range(args.rounds):
        for name, rasa_engine in (("as shipped", False), ("Rasa's engine", True)):
            with tempfile.TemporaryDirectory() as scratch:
                db = Path(scratch) / "conversations.db"
                took, opened = asyncio.run(_run(db, args.conversations, args.turns, rasa_engine))
            results[name] = (results[name][0] + took, results[name][1] + opened)
    for name, (took, opened) in results.items():
        p95 = statistics.quantiles(took, n=20)[-1]
        print(  # noqa: T201
            f"{name:16} {len(took)} saves: median {statistics.median(took):.2f} ms, p95 {p95:.2f} ms "
            f"per save; {opened} connections opened"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
