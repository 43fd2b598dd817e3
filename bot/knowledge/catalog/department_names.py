"""The ways staff name a department (担当課) in the FAQ sheet, and finding the department they mean.

An FAQ row may name its 担当課 by id (``kosodate``), by full name (こども家庭課（こども家庭センター）) or by
the short form before the bracket (こども家庭課). The FAQ import accepts exactly these (anything else is an
error), the workbook offers the short forms as a drop-down list, and the bot shows the phone number of the
department found, as procedure cards do.
"""

from __future__ import annotations

import re
from typing import Iterable

from bot.knowledge.catalog.model import Catalog, Department

_BRACKET = re.compile(r"[（(]")


def short_name(department: Department) -> str:
    """The name without its bracketed note (こども家庭課（こども家庭センター） -> こども家庭課)."""
    return _BRACKET.split(department.name, maxsplit=1)[0].strip()


def names_of(department: Department) -> set[str]:
    """Every accepted spelling: id, full name, short name."""
    return {department.id, department.name, short_name(department)}


def accepted(departments: Iterable[Department]) -> set[str]:
    """Every accepted spelling of every department (the FAQ import's ``known_departments``)."""
    return {name for d in departments for name in names_of(d)}


def choices(catalog: Catalog) -> list[str]:
    """The drop-down values: short names, in the order of ``data/departments.yml``."""
    return list(dict.fromkeys(short_name(d) for d in catalog.departments.values()))


def find(catalog: Catalog, text: str) -> Department | None:
    """The department an FAQ entry's 担当課 names, or None."""
    text = (text or "").strip()
    if not text:
        return None
    return next((d for d in catalog.departments.values() if text in names_of(d)), None)
