"""Life-event checklists: items with their own deadline wording, and the content checks a clerk would make.

A checklist in ``data/life_events.yml`` lists procedure ids. An item may instead be a mapping
``{id: kokuho_leave, deadline: 亡くなった日から14日以内}``: in this checklist the item shows that deadline
instead of the procedure's own (国民健康保険の脱退 after a death is counted from the death, not from joining
another insurance). :func:`parse_checklist` reads both forms.

:func:`deadline_problems` is the consistency check ``madoguchi catalog check`` runs: a checklist's own
deadline must not contradict the procedure it points to. Every time limit it names (14日, 15日, 1か月,
2年…) must also be named somewhere in that procedure's deadline, summary or details. A checklist that says
15日 for a procedure whose card says 14日 is reported. The same item listed twice in one checklist is
reported too. Plain Python: no Rasa.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable, Iterable, Mapping

#: A time limit in a deadline text: a number and its unit (日, 週間, か月, 年). Kanji numerals are not
#: used in the catalog; the check reads Arabic digits after NFKC (全角 １４日 counts as 14日).
_LIMIT = re.compile(r"(\d+)\s*(日|週間|週|か月|ヶ月|カ月|ヵ月|ケ月|箇月|年)")
_MONTH = {"ヶ月", "カ月", "ヵ月", "ケ月", "箇月"}


def time_limits(text: str) -> set[tuple[int, str]]:
    """The time limits a text names, as ``(number, unit)`` with units folded (``ヶ月`` → ``か月``)."""
    found = set()
    for number, unit in _LIMIT.findall(unicodedata.normalize("NFKC", text or "")):
        unit = "か月" if unit in _MONTH else ("週間" if unit == "週" else unit)
        found.add((int(number), unit))
    return found


def parse_checklist(
    value: Any, add: Callable[[str, str], None], key: str = "checklist"
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Reads a checklist: procedure ids, and the deadlines the list gives some of them.

    Args:
        value: the YAML value (a list of ids or ``{id, deadline}`` mappings).
        add: reports a problem as ``(field, message)``.
        key: the field name used in problems.

    Returns:
        ``(ids in order, ((id, deadline text), ...))``; problems are reported through ``add``.
    """
    if not isinstance(value, list) or not value:
        add(key, "must list at least one procedure id")
        return (), ()
    ids: list[str] = []
    deadlines: list[tuple[str, str]] = []
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if isinstance(item, Mapping):
            extra = sorted(str(k) for k in item if k not in ("id", "deadline"))
            if extra:
                add(where, f"unknown field(s) {', '.join(extra)}; allowed: id, deadline")
            pid, deadline = item.get("id"), item.get("deadline")
            if not isinstance(deadline, str) or not deadline.strip():
                add(f"{where}.deadline", "must be non-empty text (or list the id alone)")
                deadline = None
        else:
            pid, deadline = item, None
        if not isinstance(pid, str) or not pid.strip():
            add(where, f"must be a procedure id or {{id, deadline}}, got {item!r}")
            continue
        pid = pid.strip()
        if pid in ids:
            add(where, f"{pid!r} is listed twice")
            continue
        ids.append(pid)
        if deadline is not None:
            deadlines.append((pid, deadline.strip()))
    return tuple(ids), tuple(deadlines)


def deadline_problems(
    checklist_deadlines: Iterable[tuple[str, str, str]], procedures: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    """Checklist deadlines that contradict their procedure.

    Args:
        checklist_deadlines: ``(field, procedure id, deadline text)`` for every item with its own
            deadline (field names the checklist, e.g. ``options.out.checklist``).
        procedures: the catalog's procedures by id (objects with deadline, summary, details).

    Returns:
        ``(field, procedure id, message)`` for each time limit the checklist names that its procedure
        does not.
    """
    problems = []
    for field_name, pid, text in checklist_deadlines:
        procedure = procedures.get(pid)
        if procedure is None:
            continue  # reported as an unknown id elsewhere
        known = time_limits(
            " ".join(t for t in (procedure.deadline, procedure.summary, procedure.details) if t)
        )
        for number, unit in sorted(time_limits(text) - known):
            problems.append(
                (
                    field_name,
                    pid,
                    f"deadline {text!r} names {number}{unit}, which {pid!r} does not "
                    "(its deadline, summary and details must say the same time limit)",
                )
            )
    return problems


__all__ = ["deadline_problems", "parse_checklist", "time_limits"]
