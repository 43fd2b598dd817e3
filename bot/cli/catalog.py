"""``madoguchi catalog``: check the procedure catalog, show one procedure, try the matcher.

Staff run ``madoguchi catalog check`` after editing ``data/departments.yml``, ``data/catalog/*.yml``,
``data/life_events.yml`` or ``data/furigana/*.yml``; it lists every problem (``file: entry id: field:
what is wrong``) and exits with status 1, or prints a summary.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from bot import language, settings
from bot.knowledge.catalog import Catalog, CatalogError, Procedure, load_catalog


def register(subparsers) -> None:
    """Adds the ``catalog`` command group."""
    parser = subparsers.add_parser(
        "catalog", help="手続きカタログの確認 / check and browse the procedure catalog"
    )
    commands = parser.add_subparsers(dest="catalog_command", metavar="SUBCOMMAND", required=True)

    check = commands.add_parser("check", help="validate every catalog file and print a summary")
    _data_option(check)
    check.set_defaults(func=run_check)

    show = commands.add_parser("show", help="print one procedure as residents will see it")
    show.add_argument("id", help="procedure id, e.g. juminhyo")
    _data_option(show)
    show.set_defaults(func=run_show)

    match = commands.add_parser("match", help="which procedures a resident's sentence matches")
    match.add_argument("text", help="the sentence, e.g. 住民票取りたい")
    match.add_argument("--top", type=int, default=3, help="how many procedures to list (default 3)")
    _data_option(match)
    match.set_defaults(func=run_match)


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, default=None, help="data directory (default: $MADOGUCHI_DATA or data/)"
    )


def _load(args: argparse.Namespace) -> Catalog | None:
    data_dir = args.data or settings.load().data_dir
    try:
        return load_catalog(data_dir)
    except CatalogError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in {data_dir}", file=sys.stderr)
        return None


def run_check(args: argparse.Namespace) -> int:
    """Validates the catalog; exit status 1 when anything is wrong."""
    catalog = _load(args)
    if catalog is None:
        return 1
    data_dir = args.data or settings.load().data_dir
    problems = language.check(data_dir, catalog) + _check_semantic_data(data_dir, catalog)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {data_dir}", file=sys.stderr)
        return 1
    procedures = catalog.procedures.values()
    by_category = Counter(p.category for p in procedures)
    online = sum(1 for p in procedures if p.where.online)
    aliases = sum(len(p.aliases) for p in procedures)
    print(f"OK: {len(catalog.procedures)} procedures, {aliases} aliases, {online} online")
    print(f"    {len(catalog.departments)} departments, {len(catalog.life_events)} life events")
    print(
        f"    English content for all {len(catalog.procedures)} procedures; notices: "
        + ", ".join(language.NOTICE_LANGUAGES)
    )
    for category, count in sorted(by_category.items(), key=lambda x: (-x[1], x[0])):
        print(f"    {category}: {count}")
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
    sizes = f"{len(fixes.phrases)} phrases, {len(fixes.words)} word rules, {len(counters.counters)} counters"
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
            f"unknown procedure id {args.id!r}; known ids: {', '.join(sorted(catalog.procedures))}",
            file=sys.stderr,
        )
        return 1
    print(format_procedure(catalog, procedure))
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
        print(f"life event: {life_event.id}" + (f" / {option.id}" if option else ""))
    return 0
