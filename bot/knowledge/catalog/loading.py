"""Loading the catalog from the data directory: every file, duplicates and cross-file references."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from bot.knowledge import checklists
from bot.knowledge.catalog import matching
from bot.knowledge.catalog.model import (
    CATALOG_DIR,
    DEPARTMENTS_FILE,
    LIFE_EVENTS_FILE,
    Catalog,
    Department,
    LifeEvent,
    Procedure,
)
from bot.knowledge.catalog.parsing import parse_city, parse_department, parse_life_event, parse_procedure
from bot.knowledge.catalog.validation import CatalogError, EntryChecker, Problem
from bot.knowledge.catalog.yaml_files import YamlError, load_yaml


def _load(path: Path, rel: str, problems: list[Problem]) -> Any:
    try:
        return load_yaml(path)
    except FileNotFoundError:
        problems.append(Problem(rel, "(file)", "-", "file not found"))
    except YamlError as exc:
        problems.append(Problem(rel, "(file)", "-", str(exc)))
    return None


def _section(doc: Any, key: str, rel: str, problems: list[Problem]) -> list:
    if doc is None:
        return []
    if not isinstance(doc, Mapping) or not isinstance(doc.get(key), list):
        problems.append(Problem(rel, "(file)", key, f"the file must have a top-level '{key}:' list"))
        return []
    return doc[key]


def _collect(entries: list, rel: str, parse, problems: list[Problem], into: dict, kind: str) -> set[str]:
    """Parses entries into ``into`` by id, reporting duplicates (also across files).

    Returns:
        Every id the entries declare, valid or not, so that references to a broken entry are not
        reported a second time as unknown.
    """
    declared: set[str] = set()
    for i, data in enumerate(entries):
        ctx = EntryChecker(rel, f"#{i + 1}", problems)
        if isinstance(data, Mapping) and isinstance(data.get("id"), str):
            declared.add(data["id"])
        item = parse(data, ctx)
        if item is None:
            continue
        if item.id in into:
            other = getattr(into[item.id], "source", "") or rel
            ctx.add("id", f"duplicate {kind} id (also defined in {other})")
            continue
        into[item.id] = item
    return declared


def load_catalog(data_dir: Path) -> Catalog:
    """Loads and validates the catalog under a data directory.

    Raises:
        CatalogError: listing every problem found, as ``file: entry id: field: what is wrong``.
    """
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    doc = _load(data_dir / DEPARTMENTS_FILE, DEPARTMENTS_FILE, problems)
    city = None
    departments: dict[str, Department] = {}
    department_ids: set[str] | None = None  # None: departments.yml unreadable, do not check references
    if doc is not None:
        city_data = doc.get("city") if isinstance(doc, Mapping) else None
        city = parse_city(city_data, EntryChecker(DEPARTMENTS_FILE, "city", problems))
        entries = _section(doc, "departments", DEPARTMENTS_FILE, problems)
        department_ids = _collect(
            entries, DEPARTMENTS_FILE, parse_department, problems, departments, "department"
        )

    procedures: dict[str, Procedure] = {}
    procedure_ids: set[str] = set()
    files = sorted((data_dir / CATALOG_DIR).glob("*.yml"))
    if not files:
        problems.append(Problem(f"{CATALOG_DIR}/", "(dir)", "-", "no *.yml procedure files found"))
    for path in files:
        rel = f"{CATALOG_DIR}/{path.name}"
        entries = _section(_load(path, rel, problems), "procedures", rel, problems)
        procedure_ids |= _collect(entries, rel, parse_procedure, problems, procedures, "procedure")

    life_events: dict[str, LifeEvent] = {}
    doc = _load(data_dir / LIFE_EVENTS_FILE, LIFE_EVENTS_FILE, problems)
    entries = _section(doc, "life_events", LIFE_EVENTS_FILE, problems)
    _collect(entries, LIFE_EVENTS_FILE, parse_life_event, problems, life_events, "life event")

    problems.extend(_check_references(department_ids, procedure_ids, procedures, life_events))
    if problems or city is None:
        raise CatalogError(problems or [Problem(DEPARTMENTS_FILE, "city", "-", "missing")])
    return Catalog(city, departments, procedures, life_events)


def _check_references(
    department_ids: set[str] | None,
    procedure_ids: set[str],
    procedures: Mapping[str, Procedure],
    life_events: Mapping[str, LifeEvent],
) -> list[Problem]:
    """Cross-file checks: departments, related ids, checklists and aliases shared by two procedures."""
    problems: list[Problem] = []
    alias_owner: dict[str, str] = {}
    for p in procedures.values():
        if department_ids is not None and p.department not in department_ids:
            problems.append(Problem(p.source, p.id, "department", f"unknown department {p.department!r}"))
        for rid in p.related:
            if rid == p.id:
                problems.append(Problem(p.source, p.id, "related", "a procedure cannot be related to itself"))
            elif rid not in procedure_ids:
                problems.append(Problem(p.source, p.id, "related", f"unknown procedure id {rid!r}"))
        for alias in (p.name, *p.aliases):
            owner = alias_owner.setdefault(matching.fold(alias), p.id)
            if owner != p.id:
                problems.append(
                    Problem(p.source, p.id, "aliases", f"{alias!r} is also a name or alias of {owner!r}")
                )
    for event in life_events.values():
        lists = [("checklist", event.checklist)]
        lists += [(f"options.{o.id}.checklist", o.checklist) for o in event.options if o is not None]
        for field_name, ids in lists:
            for pid in ids:
                if pid not in procedure_ids:
                    problems.append(
                        Problem(LIFE_EVENTS_FILE, event.id, field_name, f"unknown procedure id {pid!r}")
                    )
    for event in life_events.values():
        for other in event.includes:
            if other == event.id or other not in life_events:
                problems.append(
                    Problem(LIFE_EVENTS_FILE, event.id, "includes", f"not another life event's id: {other!r}")
                )
    for event in life_events.values():
        own = [("checklist", pid, text) for pid, text in event.deadlines]
        own += [(f"options.{o.id}.checklist", pid, text) for o in event.options for pid, text in o.deadlines]
        for field_name, _pid, message in checklists.deadline_problems(own, procedures):
            problems.append(Problem(LIFE_EVENTS_FILE, event.id, field_name, message))
    return problems
