"""``madoguchi catalog``: check the procedure catalog, show one procedure, try the matcher.

Staff run ``madoguchi catalog check`` after editing ``data/departments.yml``, ``data/catalog/*.yml``,
``data/life_events.yml``, ``data/languages/*.yml``, ``data/yasashii.yml`` or ``data/furigana/*.yml``;
it lists every problem (``file: entry id: field: what is wrong``) and exits with status 1, or prints a
summary.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from bot import language, settings
from bot.knowledge import yasashii
from bot.knowledge.catalog import Catalog, CatalogError, Procedure, load_catalog, sheet


def register(subparsers) -> None:
    """Adds the ``catalog`` command group."""
    parser = subparsers.add_parser(
        "catalog", help="手続きカタログの確認 / check and browse the procedure catalog"
    )
    commands = parser.add_subparsers(dest="catalog_command", metavar="SUBCOMMAND", required=True)

    check = commands.add_parser(
        "check", help="カタログの全ファイルを確認して集計を表示 / validate the catalog"
    )
    _data_option(check)
    check.set_defaults(func=run_check)

    show = commands.add_parser("show", help="1つの手続きを表示 / show one procedure")
    show.add_argument("id", help="手続きの id（例 juminhyo） / procedure id")
    _data_option(show)
    show.set_defaults(func=run_show)

    match = commands.add_parser("match", help="住民の言い方がどの手続きに当たるか / try the matcher")
    match.add_argument("text", help="住民の言い方（例 住民票取りたい） / the sentence")
    match.add_argument("--top", type=int, default=3, help="表示する件数（既定 3） / how many")
    _data_option(match)
    match.set_defaults(func=run_match)

    export = commands.add_parser("export", help="手続き情報を Excel に書き出す / write the catalog as .xlsx")
    export.add_argument("file", type=Path, help="workbook to write (.xlsx)")
    _data_option(export)
    export.set_defaults(func=run_export)

    imp = commands.add_parser(
        "import", help="編集した Excel を確かめて YAML に反映 / apply an edited workbook"
    )
    imp.add_argument("file", type=Path, help=".xlsx (or .csv) with the export's columns")
    _data_option(imp)
    imp.add_argument("--dry-run", action="store_true", help="確認と差分の表示だけ / check and show the diff")
    imp.add_argument("--yes", action="store_true", help="多くの削除も確認なしで反映 / even if many disappear")
    imp.set_defaults(func=run_import)


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="データのフォルダ（既定 $MADOGUCHI_DATA または data/） / data directory",
    )


def _load(args: argparse.Namespace) -> Catalog | None:
    data_dir = args.data or settings.load().data_dir
    try:
        return load_catalog(data_dir)
    except CatalogError as exc:
        for problem in exc.problems:
            print(sheet.with_japanese(str(problem)), file=sys.stderr)
        print(f"問題 {len(exc.problems)} 件 / problem(s): {data_dir}", file=sys.stderr)
        return None


def run_check(args: argparse.Namespace) -> int:
    """Validates the catalog; exit status 1 when anything is wrong."""
    catalog = _load(args)
    if catalog is None:
        return 1
    data_dir = args.data or settings.load().data_dir
    problems = (
        language.check(data_dir, catalog)
        + yasashii.check(data_dir, catalog)
        + _check_semantic_data(data_dir, catalog)
    )
    for problem in problems:
        print(sheet.with_japanese(str(problem)), file=sys.stderr)
    if problems:
        print(f"問題 {len(problems)} 件 / problem(s): {data_dir}", file=sys.stderr)
        return 1
    procedures = catalog.procedures.values()
    by_category = Counter(p.category for p in procedures)
    online = sum(1 for p in procedures if p.where.online)
    aliases = sum(len(p.aliases) for p in procedures)
    print(
        f"問題ありません / OK: 手続き {len(catalog.procedures)} 件、別名 {aliases} 件、"
        f"オンライン申請 {online} 件"
    )
    print(f"    担当課 {len(catalog.departments)}、ライフイベント {len(catalog.life_events)}")
    print(
        f"    英語の内容: 全 {len(catalog.procedures)} 件、お知らせの言語: "
        + ", ".join(language.NOTICE_LANGUAGES)
    )
    easy = f"every card field of all {len(catalog.procedures)} procedures ({yasashii.EASY_FILE})"
    print(f"    やさしい日本語: {easy}")
    for category, count in sorted(by_category.items(), key=lambda x: (-x[1], x[0])):
        print(f"    {category}: {count} 件")
    return _check_furigana((args.data or settings.load().data_dir) / "furigana")


def _check_semantic_data(data_dir: Path, catalog: Catalog) -> list[str]:
    """Problems of ``data/asked_actions.yml`` (procedure ids, actions) and ``data/meaning.yml``."""
    from bot.knowledge.asked import AskedActionsError, load_asked_actions
    from bot.understanding.meaning import load_examples

    problems: list[str] = []
    try:
        load_asked_actions(data_dir, catalog.procedures)
    except AskedActionsError as exc:
        problems += str(exc).splitlines()
    try:
        examples = load_examples(data_dir / "meaning.yml")
    except ValueError as exc:
        return problems + [str(exc)]
    for section, known in (("procedures", catalog.procedures), ("life_events", catalog.life_events)):
        problems += [
            f"{data_dir / 'meaning.yml'}: {section}: {key}: no such id in the catalog"
            for key in examples.get(section, {})
            if key not in known
        ]
    return problems


def _check_furigana(folder: Path) -> int:
    """Validates the ふりがな corrections and counters (read by the web channel on first use)."""
    from bot import furigana, furigana_corrections, furigana_counters

    try:
        fixes = furigana_corrections.load(folder / furigana.CORRECTIONS_FILE)
        counters = furigana_counters.load(folder / furigana.COUNTERS_FILE)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    sizes = f"語句 {len(fixes.phrases)}、単語の規則 {len(fixes.words)}、助数詞 {len(counters.counters)}"
    print(f"    ふりがな: {sizes}")
    return 0


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def format_procedure(catalog: Catalog, procedure: Procedure) -> str:
    """A plain-text page for one procedure (field names in English, content from the data)."""
    dept = catalog.department(procedure.department)
    where = procedure.where
    lines = [
        f"{procedure.name} [{procedure.id}]  ({procedure.category}; {procedure.source})",
        f"summary:      {procedure.summary}",
        f"summary_easy: {procedure.summary_easy}",
        f"who:          {procedure.who}",
        f"deadline:     {procedure.deadline or '-'}",
        f"fee:          {procedure.fee}",
        "bring:",
        *(f"  - {item}" for item in procedure.bring),
        f"where:        counter={_yes_no(where.counter)} mail={_yes_no(where.mail)} "
        f"convenience_store={_yes_no(where.convenience_store)} online={_yes_no(where.online)} "
        f"phone={_yes_no(where.phone)}",
    ]
    if procedure.online:
        card = _yes_no(procedure.online.requires_mynumber_card)
        lines += [
            f"online:       {procedure.online.url} (My Number card: {card})",
            f"              {procedure.online.note}",
        ]
    lines += [
        f"alternatives: {procedure.alternatives}",
        f"department:   {dept.name} {dept.phone} / {dept.location}"
        if dept
        else f"department:   {procedure.department}",
        f"details:      {procedure.details}",
        f"related:      {', '.join(procedure.related) or '-'}",
        f"aliases:      {' / '.join(procedure.aliases)}",
    ]
    return "\n".join(lines)


def run_show(args: argparse.Namespace) -> int:
    """Prints one procedure; exit status 1 if the id is unknown."""
    catalog = _load(args)
    if catalog is None:
        return 1
    procedure = catalog.get(args.id)
    if procedure is None:
        print(
            f"手続き {args.id!r} はありません / unknown procedure id; "
            f"ある id: {', '.join(sorted(catalog.procedures))}",
            file=sys.stderr,
        )
        return 1
    print(format_procedure(catalog, procedure))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Writes the catalog as the workbook staff edit (the console's download)."""
    from bot.files import atomic_write_bytes

    catalog = _load(args)
    if catalog is None:
        return 1
    atomic_write_bytes(args.file, sheet.workbook_bytes(catalog))
    print(f"書き出しました / wrote: 手続き {len(catalog.procedures)} 件 -> {args.file}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Checks an edited workbook like the console's upload; writes the changed YAML files when clean."""
    from bot.knowledge.faq.diff import SILENT_REMOVALS
    from bot.knowledge.faq.tables import TableError
    from bot.knowledge.faq.validate import issues_text

    data_dir = args.data or settings.load().data_dir
    catalog = _load(args)
    if catalog is None:
        return 1
    base = sheet.stamp(data_dir)
    try:
        check = sheet.check_sheet(sheet.read_sheet(args.file), catalog, data_dir, language.check)
    except TableError as exc:
        print(f"エラー / error: {exc}", file=sys.stderr)
        return 1
    for line in issues_text(check.issues):
        print(f"エラー: {line}", file=sys.stderr)
    if not check.ok:
        print(
            f"反映を中止しました（問題 {len(check.issues)} 件）。何も変えていません / aborted",
            file=sys.stderr,
        )
        return 1
    changes = sheet.diff(catalog, check.catalog)
    print(f"差分 / diff: {changes.summary()}")
    for label, ids in (
        ("追加", changes.added),
        ("変更", [f"{pid}（{'・'.join(cols)}）" for pid, cols in changes.changed]),
        ("削除", changes.removed),
    ):
        if ids:
            print(f"  {label}: {', '.join(ids)}")
    if args.dry_run:
        return 0
    if len(changes.removed) > SILENT_REMOVALS and not args.yes:
        print(
            f"反映しませんでした。{len(changes.removed)} 件が消えます。よければ --yes を付けてください",
            file=sys.stderr,
        )
        return 1
    try:
        touched = sheet.publish(check.files, data_dir, base, settings.load().var_dir / "staff", catalog)
    except sheet.CatalogChanged:
        print("手続き情報がほかの操作で更新されました。もう一度実行してください", file=sys.stderr)
        return 1
    print(f"反映しました / published: {len(touched)} ファイル ({', '.join(touched) or '変更なし'})")
    return 0


def run_match(args: argparse.Namespace) -> int:
    """Prints the best matching procedures and life event for a sentence."""
    catalog = _load(args)
    if catalog is None:
        return 1
    for pid, score in catalog.match(args.text, top_k=args.top):
        print(f"{score:.3f}  {pid}  {catalog.get(pid).name}")
    event = catalog.match_life_event(args.text)
    if event is not None:
        life_event, option = event
        print(f"ライフイベント / life event: {life_event.id}" + (f" / {option.id}" if option else ""))
    return 0
