"""``madoguchi review`` — questions the bot could not answer, out to staff and back into the FAQ.

Examples::

    madoguchi review export review.xlsx      # one row per distinct unanswered question
    # staff fill FAQ番号 (existing entry) or 新しい質問/新しい回答/分類/担当課 in Excel
    madoguchi review import review.xlsx      # validated, then published atomically
    madoguchi review import review.xlsx --dry-run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot import settings as settings_mod
from bot.knowledge.faq import live_base
from bot.knowledge.faq.review import apply_review, read_review_workbook, write_review_workbook
from bot.knowledge.faq.tables import TableError
from bot.knowledge.faq.validate import issues_text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the ``review`` command group."""
    parser = subparsers.add_parser(
        "review", help="答えられなかった質問の見直し / review unanswered questions"
    )
    commands = parser.add_subparsers(dest="review_command", metavar="SUBCOMMAND", required=True)

    p = commands.add_parser("export", help="見直し用の Excel を書き出す / write the review workbook")
    p.add_argument("file", type=Path, help="review workbook (.xlsx)")
    _kb_option(p)
    p.set_defaults(func=cmd_export)

    p = commands.add_parser("import", help="記入済みの Excel を FAQ に反映 / apply the filled-in workbook")
    p.add_argument("file", type=Path, help="review workbook (.xlsx)")
    _kb_option(p)
    p.add_argument("--dry-run", action="store_true", help="検証だけ行う / validate only")
    p.set_defaults(func=cmd_import)


def _kb_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kb", type=Path, help="FAQ base directory (default: $MADOGUCHI_VAR/faq)")


def cmd_export(args: argparse.Namespace) -> int:
    if args.file.suffix.lower() != ".xlsx":
        print("error: the review workbook must be .xlsx", file=sys.stderr)
        return 2
    settings = settings_mod.load()
    kb_dir = args.kb if args.kb is not None else settings.faq_dir
    from bot.stores import open_stores  # imported lazily: opens SQLite/Redis only for this command

    stores = open_stores(settings)
    try:
        groups = stores.review.distinct()
    finally:
        stores.close()
    snapshot = _snapshot(kb_dir)
    written, skipped = write_review_workbook(groups, args.file, snapshot, _procedure_names(settings.data_dir))
    print(f"書き出しました: {written} 件 (解決済み {skipped} 件は除外) -> {args.file}")
    return 0


def _dismiss(wordings: list[str]) -> None:
    """対象外 rows: their questions leave the review log (and are not recorded again)."""
    if not wordings:
        return
    from bot.stores import open_stores
    from bot.text import normalize

    with open_stores(settings_mod.load()) as stores:
        for wording in wordings:
            stores.review.dismiss(normalize(wording))


def _procedure_names(data_dir: Path) -> dict[str, str]:
    """Procedure id -> name, to show the bot's guessed procedures by name ({} when the catalog is broken)."""
    from bot.knowledge.catalog import CatalogError, load_catalog

    try:
        return {p.id: p.name for p in load_catalog(data_dir).procedures.values()}
    except CatalogError:
        return {}


def _snapshot(kb_dir: Path) -> live_base.Snapshot:
    try:
        return live_base.load_current(kb_dir)
    except live_base.NoLiveBase:
        return live_base.EMPTY_SNAPSHOT


def cmd_import(args: argparse.Namespace) -> int:
    kb_dir = args.kb if args.kb is not None else settings_mod.load().faq_dir
    try:
        table = read_review_workbook(args.file)
        snapshot = _snapshot(kb_dir)
    except (TableError, live_base.FaqBaseError) as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 1
    outcome = apply_review(table, list(snapshot.entries.values()))
    report = outcome.report
    for line in issues_text(report.errors):
        print(f"エラー: {line}", file=sys.stderr)
    for line in issues_text(report.warnings):
        print(f"注意: {line}", file=sys.stderr)
    summary = (
        f"言い換え追加 {len(outcome.paraphrases_added)} 件, 新規 {len(outcome.created)} 件, "
        f"既知 {outcome.unchanged} 件, 対象外 {len(outcome.dismissed)} 件, 未記入 {outcome.undecided} 件"
    )
    if not report.ok:
        print(f"反映を中止しました。FAQ は変更していません / aborted ({summary})", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"検証のみ: {summary}")
        return 0
    _dismiss(outcome.dismissed)
    if not outcome.changed:
        print(f"FAQ の変更なし: {summary}")
        return 0
    try:
        version = live_base.publish(
            outcome.entries, kb_dir, source=args.file.name, expected_version=snapshot.version
        )
    except live_base.VersionConflict as exc:
        print(f"エラー: FAQ が同時に更新されました。もう一度実行してください / {exc}", file=sys.stderr)
        return 1
    print(f"反映しました: {summary}; 版 {version}, 全 {len(outcome.entries)} 件")
    return 0
