"""``madoguchi data`` — retention and counts of what the bot keeps about residents.

Examples::

    madoguchi data stats              # callbacks by status, review records, feedback totals
    madoguchi data stats --json
    madoguchi data purge              # delete what is older than MADOGUCHI_RETENTION_DAYS (90)
    madoguchi data purge --days 30
    madoguchi data purge --dry-run    # what would be deleted, deleting nothing
    madoguchi data purge --yes        # no question (scripts and deploy/madoguchi-purge.timer)

Purging deletes done callback requests, review records, feedback and analytics events older than the period.
Open callback requests are never purged: staff close them with ``madoguchi callbacks done``.
``purge`` always shows the counts first. At a terminal it then asks; without a terminal (a script) it
deletes only with ``--yes`` (the nightly timer passes it), otherwise it is a dry run.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from bot import settings as settings_mod


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the ``data`` command group."""
    parser = subparsers.add_parser("data", help="保存データの件数と削除 / stored data: stats and retention")
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    p = commands.add_parser("purge", help="保存期間を過ぎたデータを削除 / delete expired records")
    p.add_argument("--days", type=_days, help="保存日数 (既定 MADOGUCHI_RETENTION_DAYS) / retention in days")
    p.add_argument("--dry-run", action="store_true", help="削除せず件数だけ表示 / only show what would go")
    p.add_argument("--yes", action="store_true", help="確認しない / do not ask")
    p.set_defaults(func=cmd_purge)

    p = commands.add_parser("stats", help="保存件数 / counts")
    p.add_argument("--json", action="store_true", help="JSON で出力 / print JSON")
    p.set_defaults(func=cmd_stats)


def _days(raw: str) -> int:
    try:
        days = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--days: expected a whole number, got {raw!r}") from None
    if days < 0:
        raise argparse.ArgumentTypeError("--days: must be zero or more")
    return days


def _open():
    from bot.stores import open_stores  # opens SQLite/Redis only when a command runs

    return open_stores(settings_mod.load())


def _summary(days: int, counts: dict[str, int], conversations: int, audit_days: int) -> str:
    return (
        f"折り返し依頼 (対応済) {counts['callbacks']} 件, 見直し記録 {counts['review']} 件, "
        f"評価 {counts['feedback']} 件, 利用状況の記録 {counts['analytics']} 件, 会話 {conversations} 件, "
        f"監査ログ {counts['audit']} 件 (保存期間 {audit_days} 日) "
        f"({days} 日より古いもの / older than {days} days)"
    )


def _conversations(settings, days: int, dry_run: bool) -> int:
    from datetime import datetime, timedelta, timezone

    from bot.stores.conversations import purge_conversations

    if settings.redis_url:  # Redis expires conversations itself (record_exp)
        return 0
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    return purge_conversations(settings.conversations_db, cutoff, dry_run=dry_run)


def _confirmed(ask: Callable[[str], str]) -> bool:
    try:
        return ask("削除しますか / delete these? [y/N] ").strip().lower() in ("y", "yes", "はい")
    except EOFError:
        return False


def cmd_purge(args: argparse.Namespace, ask: Callable[[str], str] | None = None) -> int:
    settings = settings_mod.load()
    ask = ask or input
    with _open() as stores:
        days = stores.retention_days if args.days is None else args.days
        if not args.yes or args.dry_run:
            would = stores.count_expired(days=days)
            conversations = _conversations(settings, days, True)
            summary = _summary(days, would, conversations, settings.audit_retention_days)
            print(f"削除対象 / would delete: {summary}")
            if args.dry_run or not (any(would.values()) or conversations):
                return 0
            if not sys.stdin.isatty():
                print("削除していません。削除するには --yes を付けてください / nothing deleted (use --yes)")
                return 1
            if not _confirmed(ask):
                print("削除しませんでした / nothing deleted")
                return 1
        deleted = stores.purge_expired(days=days)
    conversations = _conversations(settings, days, False)
    print(f"削除しました / purged: {_summary(days, deleted, conversations, settings.audit_retention_days)}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with _open() as stores:
        stats = stores.stats()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
        return 0
    callbacks, review, feedback = stats["callbacks"], stats["review"], stats["feedback"]
    rate = "-" if feedback["helpful_rate"] is None else f"{feedback['helpful_rate']:.0%}"
    print(f"保存先 / backend: {stats['backend']} (保存期間 {stats['retention_days']} 日)")
    print(f"折り返し依頼 / callbacks: 未対応 {callbacks['open']} 件, 対応済 {callbacks['done']} 件")
    print(f"見直し記録 / review: {review['records']} 件 (異なる質問 {review['distinct']} 件)")
    print(
        f"評価 / feedback: {feedback['total']} 件 "
        f"(役に立った {feedback['helpful']}, 立たなかった {feedback['unhelpful']}, {rate})"
    )
    return 0
