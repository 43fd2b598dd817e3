"""Import and export of the live base: read a staff table, validate it all, publish atomically.

A failed import changes nothing: the table is read and validated completely before the base is touched,
and publishing only swaps the ``current`` pointer once the new version is complete.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Collection

from bot.knowledge.faq import live_base
from bot.knowledge.faq.tables import Table, read_table, write_faq_table
from bot.knowledge.faq.validate import Report, validate

log = logging.getLogger(__name__)


class ImportFailed(Exception):
    """A table did not pass validation (``report`` holds every problem)."""

    def __init__(self, source: str, report: Report) -> None:
        super().__init__(f"{source}: {len(report.errors)} error(s); the FAQ base was not changed")
        self.report = report


@dataclass(frozen=True)
class ImportResult:
    """Outcome of :func:`import_file`.

    Attributes:
        table: the table read.
        report: validation errors, warnings and entries.
        version: the published version, or None (errors, or a dry run).
    """

    table: Table
    report: Report
    version: str | None


def import_file(
    path: str | os.PathLike[str],
    kb_dir: str | os.PathLike[str],
    *,
    dry_run: bool = False,
    known_departments: Collection[str] | None = None,
    ranker: live_base.Ranker | None = None,
    expected_version: str | None = None,
) -> ImportResult:
    """Validates a staff table and, when it has no errors, makes it the live base.

    Args:
        path: the staff table (.csv or .xlsx).
        kb_dir: the base directory.
        dry_run: validate only.
        known_departments: department names/ids for the "unknown department" warning (None = no check).
        ranker: index class (default: the project's ``FaqIndex``).
        expected_version: publish only if this is still the current version ("" = no base yet).

    Raises:
        TableError: the file cannot be read at all.
        VersionConflict: ``expected_version`` was given and is no longer current.
    """
    table = read_table(path)
    report = validate(table, known_departments=known_departments)
    if not report.ok or dry_run:
        return ImportResult(table, report, None)
    version = live_base.publish(
        report.entries, kb_dir, source=Path(path).name, ranker=ranker, expected_version=expected_version
    )
    return ImportResult(table, report, version)


def export_file(
    kb_dir: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    headers: str = "ja",
    encoding: str = "utf-8-sig",
    choices: dict[str, list[str]] | None = None,
) -> tuple[str, int]:
    """Writes the live base to a CSV or .xlsx file (by extension) -> (version, entries written).

    Raises:
        NoLiveBase: nothing was imported yet.
        TableError: unsupported extension, or a character the chosen CSV encoding cannot hold.
    """
    version, payload = live_base.read_entries(kb_dir)
    entries = [live_base.entry_from_json(d) for d in payload["entries"]]
    return version, write_faq_table(entries, path, headers=headers, encoding=encoding, choices=choices)


def ensure_live_base(
    kb_dir: str | os.PathLike[str],
    seed_csv: str | os.PathLike[str],
    *,
    ranker: live_base.Ranker | None = None,
) -> str | None:
    """Imports the seed table when no live base exists yet.

    Returns:
        the version created, or None when a base already existed.

    Raises:
        ImportFailed: the seed table has errors.
    """
    if live_base.current_version(kb_dir):
        return None
    try:
        result = import_file(seed_csv, kb_dir, ranker=ranker, expected_version="")
    except live_base.VersionConflict:
        return None  # another process seeded it at the same moment
    if result.version is None:
        raise ImportFailed(Path(seed_csv).name, result.report)
    log.info("seeded FAQ base %s from %s", result.version, Path(seed_csv).name)
    return result.version
