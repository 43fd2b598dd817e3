"""``madoguchi faq`` — import, export, search and inspect the live FAQ base.

Examples::

    madoguchi faq import data/faq/sample_faq.csv          # validate everything, then swap in atomically
    madoguchi faq import faq.xlsx --dry-run               # only report problems and the diff
    madoguchi faq import faq.xlsx --yes                   # publish even if more than 3 entries disappear
    madoguchi faq export faq.xlsx                         # the live base as Excel (or .csv, UTF-8 with BOM)
    madoguchi faq search "住民票がほしい" --top 5
    madoguchi faq search --queries queries.jsonl --json   # one JSON line per query
    madoguchi faq status                                  # current version, entries, versions kept
    madoguchi faq rollback 20250401T093000123456Z         # back to a kept older version
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable, Iterator

from bot import settings as settings_mod
from bot.clock import jst_text, version_time
from bot.knowledge.faq import diff as diff_mod
from bot.knowledge.faq import live_base
from bot.knowledge.faq.import_export import ImportFailed, ensure_live_base, export_file, import_file
from bot.knowledge.faq.tables import TableError
from bot.knowledge.faq.validate import COLUMN_LABELS, issues_text
from bot.wordvec import table as wordvec_table

SEED_CSV = Path("faq") / "sample_faq.csv"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the ``faq`` command group."""
    parser = subparsers.add_parser("faq", help="FAQ の取り込み・書き出し・検索 / FAQ knowledge base")
    commands = parser.add_subparsers(dest="faq_command", metavar="SUBCOMMAND", required=True)

    p = commands.add_parser("import", help="CSV/xlsx を検証して公開 / validate and publish a table")
    p.add_argument("file", type=Path, help=".csv (UTF-8, UTF-8 BOM, Shift_JIS) or .xlsx")
    _kb_option(p)
    p.add_argument(
        "--dry-run", action="store_true", help="検証と差分の表示だけ行う / validate and show the diff only"
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help=f"{diff_mod.SILENT_REMOVALS} 件を超える削除も確認なしで公開 / publish even if many disappear",
    )
    p.set_defaults(func=cmd_import)

    p = commands.add_parser("export", help="公開中の FAQ を書き出す / write the live base")
    p.add_argument("file", type=Path, help=".csv (UTF-8 with BOM) or .xlsx")
    _kb_option(p)
    p.add_argument(
        "--headers", choices=("ja", "en"), default="ja", help="見出しの言語 (既定 ja) / header names"
    )
    p.add_argument(
        "--encoding",
        choices=("utf-8-sig", "utf-8", "cp932"),
        default="utf-8-sig",
        help="CSV の文字コード (既定 UTF-8 BOM 付き) / CSV encoding",
    )
    p.set_defaults(func=cmd_export)

    p = commands.add_parser("search", help="質問で検索 / rank entries for a question")
    p.add_argument("query", nargs="?", help="質問文 / the question")
    _kb_option(p)
    p.add_argument("--top", type=int, default=5, help="件数 / how many results (default 5)")
    p.add_argument("--queries", type=Path, help='JSONL file of {"id": ..., "text": ...} (batch mode)')
    p.add_argument("--json", action="store_true", help="JSON lines output")
    p.add_argument("--explain", metavar="FAQ_ID", help="なぜその点数か / why an entry scores what it scores")
    p.set_defaults(func=cmd_search)

    p = commands.add_parser("status", help="公開中の版と件数 / current version")
    _kb_option(p)
    p.set_defaults(func=cmd_status)

    p = commands.add_parser("rollback", help="前の版に戻す / make a kept older version current")
    p.add_argument("version", help="version id (see `madoguchi faq status`)")
    _kb_option(p)
    p.set_defaults(func=cmd_rollback)

    p = commands.add_parser("ensure", help="FAQ が未登録なら見本を取り込む / seed the base if empty")
    _kb_option(p)
    p.add_argument("--seed", type=Path, help="seed table (default: $MADOGUCHI_DATA/faq/sample_faq.csv)")
    p.set_defaults(func=cmd_ensure)


def _kb_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kb", type=Path, help="FAQ base directory (default: the running bot's, $MADOGUCHI_VAR/faq)"
    )


def _kb_dir(args: argparse.Namespace) -> Path:
    return args.kb if args.kb is not None else settings_mod.load().faq_dir


def known_departments(data_dir: Path) -> set[str] | None:
    """Department ids and names from ``data/departments.yml`` (None when the file does not exist).

    A name with a note in brackets ("こども家庭課（こども家庭センター）") is also known by its short form.
    """
    path = data_dir / "departments.yml"
    if not path.is_file():
        return None
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if isinstance(data, dict) and "departments" in data:
        data = data["departments"]
    items = data.items() if isinstance(data, dict) else enumerate(data if isinstance(data, list) else [])
    names: set[str] = set()
    for key, value in items:
        if isinstance(key, str):
            names.add(key)
        if isinstance(value, dict):
            names.update(str(value[k]) for k in ("id", "name") if value.get(k))
        elif isinstance(value, str):
            names.add(value)
    return names | {re.split(r"[（(]", name, maxsplit=1)[0].strip() for name in names}


#: Ids listed per kind in the diff the CLI prints (the console lists them all).
DIFF_LISTED = 20


def cmd_import(args: argparse.Namespace, ask: Callable[[str], str] | None = None) -> int:
    kb_dir = _kb_dir(args)
    departments = known_departments(settings_mod.load().data_dir)
    try:
        base_version = live_base.current_version(kb_dir) or ""
        result = import_file(args.file, kb_dir, dry_run=True, known_departments=departments)
    except TableError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        print("FAQ は変更していません / the FAQ base was not changed", file=sys.stderr)
        return 1
    report = result.report
    for line in issues_text(report.errors):
        print(f"エラー: {line}", file=sys.stderr)
    for line in issues_text(report.warnings):
        print(f"注意: {line}", file=sys.stderr)
    summary = f"エラー {len(report.errors)} 件、注意 {len(report.warnings)} 件（{result.table.encoding}）"
    if not report.ok:
        print(f"取り込みを中止しました。FAQ は変更していません / import aborted: {summary}", file=sys.stderr)
        return 1
    changes = diff_mod.diff(_live_entries(kb_dir, base_version), report.entries)
    _print_diff(changes)
    if args.dry_run:
        print(f"検証のみ: {len(report.entries)} 件は取り込めます / dry run OK: {summary}")
        return 0
    if changes.needs_confirmation and not args.yes and not _confirmed(changes, ask or input):
        print(
            f"公開しませんでした。{len(changes.removed)} 件が消えます。"
            "よければ --yes を付けて実行してください"
            " / not published: many entries would disappear (use --yes)",
            file=sys.stderr,
        )
        return 1
    try:
        version = live_base.publish(
            report.entries, kb_dir, source=Path(args.file).name, expected_version=base_version
        )
    except live_base.VersionConflict:
        print(
            "FAQ がほかの操作で更新されました。もう一度実行してください / the base changed meanwhile",
            file=sys.stderr,
        )
        return 1
    print(
        f"取り込みました: {len(report.entries)} 件、版 {version}（{version_time(version)}）: "
        f"{summary} -> {kb_dir}"
    )
    if wordvec_table.load_default() is None:
        print(
            "注意: 単語ベクトルがないため、言い換えに弱い検索になります (`make wordvec` で用意できます) / "
            "no word vector table: ranking without it, run `make wordvec`",
            file=sys.stderr,
        )
    return 0


def _live_entries(kb_dir: Path, version: str) -> list:
    if not version:
        return []
    _, payload = live_base.read_entries(kb_dir, version)
    return [live_base.entry_from_json(d) for d in payload["entries"]]


def _print_diff(changes: diff_mod.Diff) -> None:
    print(f"差分 / diff: {changes.summary()}")
    kinds = (
        ("追加", [e.id for e in changes.added]),
        (
            "変更",
            [f"{c.after.id}（{'・'.join(COLUMN_LABELS[k] for k in c.columns)}）" for c in changes.changed],
        ),
        ("削除", [e.id for e in changes.removed]),
    )
    for label, ids in kinds:
        if ids:
            more = f" ほか {len(ids) - DIFF_LISTED} 件" if len(ids) > DIFF_LISTED else ""
            print(f"  {label}: {', '.join(ids[:DIFF_LISTED])}{more}")


def _confirmed(changes: diff_mod.Diff, ask: Callable[[str], str]) -> bool:
    """Asks at a terminal; without one (a script) the answer is no."""
    if not sys.stdin.isatty():
        return False
    try:
        answer = ask(f"{len(changes.removed)} 件の FAQ が消えます。公開しますか / publish? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes", "はい")


def export_choices(data_dir: Path, kb_dir: Path) -> dict[str, list[str]]:
    """Drop-down lists of the workbook: 担当課 from the catalog, 分類 as the live base uses them."""
    from bot.knowledge.catalog import CatalogError, department_names, load_catalog

    out: dict[str, list[str]] = {}
    try:
        out["department"] = department_names.choices(load_catalog(data_dir))
    except CatalogError:
        pass  # a broken catalog is reported by `catalog check`; the export still works
    try:
        _, payload = live_base.read_entries(kb_dir)
        out["category"] = sorted({d.get("category", "") for d in payload["entries"]} - {""})
    except live_base.FaqBaseError:
        pass
    return out


def cmd_export(args: argparse.Namespace) -> int:
    kb_dir = _kb_dir(args)
    try:
        choices = export_choices(settings_mod.load().data_dir, kb_dir)
        version, count = export_file(
            kb_dir, args.file, headers=args.headers, encoding=args.encoding, choices=choices
        )
    except (live_base.FaqBaseError, TableError) as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 1
    print(f"書き出しました: {count} 件 (版 {version}) -> {args.file}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    if (args.query is None) == (args.queries is None):
        print("error: give a question or --queries FILE (not both)", file=sys.stderr)
        return 2
    if args.top < 1:
        print("error: --top must be at least 1", file=sys.stderr)
        return 2
    try:
        snapshot = live_base.load_current(_kb_dir(args))
        queries = list(_read_queries(args.queries)) if args.queries else [(None, args.query)]
    except (live_base.FaqBaseError, ValueError, OSError) as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 1
    if args.explain:
        return _explain(snapshot, args)
    for query_id, text in queries:
        found = snapshot.search(text, top_k=args.top)
        if args.json:
            results = [{"id": e.id, "score": round(float(s), 6)} for e, s in found]
            key = ("query_id", query_id) if args.queries else ("query", text)
            print(json.dumps({key[0]: key[1], "results": results}, ensure_ascii=False))
            continue
        print(f"# {query_id}: {text}" if args.queries else f"# {text}")
        print(f"  confidence: {_confidence(found)}")
        if not found:
            print("  (該当なし / no match)")
        for rank, (entry, score) in enumerate(found, start=1):
            print(f"{rank:>3}  {entry.id:<10} {score:8.4f}  {entry.question}")
    return 0


def _confidence(found: list) -> str:
    """The ranker's confidence class ("confident" / "close" / "none") — what the bot would do."""
    from bot.knowledge.faq.ranking import confidence

    return confidence([(entry.id, score) for entry, score in found])


def _explain(snapshot: live_base.Snapshot, args: argparse.Namespace) -> int:
    explain = getattr(snapshot.index, "explain", None)
    if args.query is None or explain is None:
        print("error: --explain needs one question (and a ranker that explains)", file=sys.stderr)
        return 2
    try:
        details = explain(args.query, args.explain)
    except KeyError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(details, ensure_ascii=False, indent=None if args.json else 2, default=str))
    return 0


def _read_queries(path: Path) -> Iterator[tuple[object, str]]:
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text = item["text"]
            except (ValueError, KeyError, TypeError):
                raise ValueError(f'{path}:{number}: expected {{"id": ..., "text": ...}}') from None
            if not isinstance(text, str):
                raise ValueError(f"{path}:{number}: text must be a string")
            yield item.get("id", number), text


def cmd_status(args: argparse.Namespace) -> int:
    kb_dir = _kb_dir(args)
    try:
        version, payload = live_base.read_entries(kb_dir)
    except live_base.FaqBaseError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 1
    print(f"保存先:     {kb_dir}")
    print(
        f"公開中の版: {version}（{jst_text(payload.get('created_at', ''))} 公開、"
        f"元ファイル {payload.get('source') or '-'}）"
    )
    print(f"件数:       {len(payload['entries'])} 件")
    print("保存している版（古い順、rollback で戻せます）:")
    for kept in live_base.list_versions(kb_dir):
        mark = " ← 公開中" if kept == version else ""
        print(f"  {kept}（{version_time(kept)}）{mark}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    kb_dir = _kb_dir(args)
    try:
        live_base.rollback(kb_dir, args.version)
    except live_base.FaqBaseError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 1
    print(f"版 {args.version} に戻しました / rolled back -> {kb_dir}")
    return 0


def cmd_ensure(args: argparse.Namespace) -> int:
    kb_dir = _kb_dir(args)
    seed = args.seed or settings_mod.load().data_dir / SEED_CSV
    try:
        version = ensure_live_base(kb_dir, seed)
    except ImportFailed as exc:
        for line in issues_text(exc.report.errors):
            print(f"エラー: {line}", file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except TableError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 1
    if version is None:
        print(f"FAQ base already present: {live_base.current_version(kb_dir)} ({kb_dir})")
    else:
        print(f"seeded FAQ base {version} from {seed} -> {kb_dir}")
    return 0
