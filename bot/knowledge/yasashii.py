"""やさしい日本語 for every field of a procedure card (``data/yasashii.yml``), written by staff.

The summary sentence in やさしい日本語 lives with the procedure (``summary_easy`` in ``data/catalog/``);
this file holds the rest of the card: per procedure the deadline, what to bring and the fee, per
department the name residents see (with where it is), and the labels of the places a procedure can be
done. :func:`load` reads it; :func:`check` lists every procedure, department or place that lacks its
やさしい text (``madoguchi catalog check``). Plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from bot.knowledge.catalog import Catalog
from bot.knowledge.catalog.yaml_files import YamlError, load_yaml

EASY_FILE = "yasashii.yml"
WHERE_KEYS = ("counter", "mail", "convenience_store", "online", "phone")
PROCEDURE_KEYS = ("deadline", "bring", "fee")


@dataclass(frozen=True)
class EasyProcedure:
    """The やさしい日本語 of one procedure's card fields (``deadline`` None: the procedure has none)."""

    deadline: str | None
    bring: tuple[str, ...]
    fee: str


@dataclass(frozen=True)
class EasyJapanese:
    """The contents of ``data/yasashii.yml``."""

    where_labels: Mapping[str, str]
    departments: Mapping[str, str]
    procedures: Mapping[str, EasyProcedure]


class EasyJapaneseError(Exception):
    """The file is not usable; ``problems`` lists every problem as ``file: entry: field: …``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in {EASY_FILE}:\n" + "\n".join(problems))


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(_text(v) for v in value):
        return None
    return tuple(v.strip() for v in value)


def _labels(doc: Mapping, key: str, problems: list[str]) -> dict[str, str]:
    value = doc.get(key)
    if not isinstance(value, Mapping):
        problems.append(f"{EASY_FILE}: (file): {key}: must be a mapping of ids to text")
        return {}
    out = {}
    for name, text in value.items():
        if _text(text) is None:
            problems.append(f"{EASY_FILE}: {key}: {name}: must be non-empty text")
        else:
            out[str(name)] = _text(text)
    return out


def _procedure(pid: str, entry: Any, problems: list[str]) -> EasyProcedure | None:
    where = f"{EASY_FILE}: {pid}"
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: -: must be a mapping {{deadline, bring, fee}}")
        return None
    before = len(problems)
    extra = sorted(str(k) for k in entry if k not in PROCEDURE_KEYS)
    if extra:
        problems.append(
            f"{where}: {', '.join(extra)}: unknown field(s); allowed: {', '.join(PROCEDURE_KEYS)}"
        )
    deadline = entry.get("deadline")
    if deadline is not None and _text(deadline) is None:
        problems.append(f"{where}: deadline: must be non-empty text or left out")
    bring = _texts(entry.get("bring"))
    if bring is None:
        problems.append(f"{where}: bring: must be a list of non-empty texts ([] when nothing is needed)")
    fee = _text(entry.get("fee"))
    if fee is None:
        problems.append(f"{where}: fee: missing やさしい日本語")
    if len(problems) > before:
        return None
    return EasyProcedure(deadline=_text(deadline), bring=bring or (), fee=fee or "")


def parse(doc: Any) -> EasyJapanese:
    """The pack from a parsed YAML document; raises :class:`EasyJapaneseError` listing every problem."""
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise EasyJapaneseError([f"{EASY_FILE}: (file): -: must be a mapping"])
    where_labels = _labels(doc, "where_labels", problems)
    departments = _labels(doc, "departments", problems)
    entries = doc.get("procedures")
    procedures: dict[str, EasyProcedure] = {}
    if not isinstance(entries, Mapping):
        problems.append(f"{EASY_FILE}: (file): procedures: must map procedure ids to their やさしい日本語")
    else:
        for pid, entry in entries.items():
            parsed = _procedure(str(pid), entry, problems)
            if parsed is not None:
                procedures[str(pid)] = parsed
    if problems:
        raise EasyJapaneseError(problems)
    return EasyJapanese(where_labels, departments, procedures)


def load(data_dir: Path) -> EasyJapanese:
    """Reads ``data/yasashii.yml``; raises :class:`EasyJapaneseError` when it is missing or wrong."""
    try:
        doc = load_yaml(Path(data_dir) / EASY_FILE)
    except FileNotFoundError:
        raise EasyJapaneseError([f"{EASY_FILE}: (file): -: file not found"]) from None
    except YamlError as exc:
        raise EasyJapaneseError([f"{EASY_FILE}: (file): -: {exc}"]) from None
    return parse(doc)


def check(data_dir: Path, catalog: Catalog) -> list[str]:
    """Every problem of the file, including its agreement with the catalog: each procedure has the
    やさしい text of each field its card shows, each department and place its やさしい name."""
    try:
        pack = load(data_dir)
    except EasyJapaneseError as exc:
        return exc.problems
    return agreement(pack, catalog)


def agreement(pack: EasyJapanese, catalog: Catalog) -> list[str]:
    """Problems between a parsed pack and the catalog (see :func:`check`)."""
    problems = []
    for pid, procedure in catalog.procedures.items():
        easy = pack.procedures.get(pid)
        if easy is None:
            problems.append(f"{EASY_FILE}: {pid}: -: no やさしい日本語 (deadline, bring, fee)")
            continue
        if procedure.deadline and not easy.deadline:
            problems.append(
                f"{EASY_FILE}: {pid}: deadline: missing やさしい日本語 (the card shows a deadline)"
            )
        if easy.deadline and not procedure.deadline:
            problems.append(f"{EASY_FILE}: {pid}: deadline: the procedure has no deadline; leave it out")
        if procedure.bring and not easy.bring:
            problems.append(
                f"{EASY_FILE}: {pid}: bring: missing やさしい日本語 (the card lists what to bring)"
            )
        if easy.bring and not procedure.bring:
            problems.append(f"{EASY_FILE}: {pid}: bring: the procedure lists nothing to bring; write []")
    problems += [
        f"{EASY_FILE}: {pid}: -: unknown procedure id"
        for pid in pack.procedures
        if pid not in catalog.procedures
    ]
    problems += [
        f"{EASY_FILE}: departments: {did}: missing やさしい日本語"
        for did in catalog.departments
        if did not in pack.departments
    ]
    problems += [
        f"{EASY_FILE}: departments: {did}: unknown department id"
        for did in pack.departments
        if did not in catalog.departments
    ]
    problems += [
        f"{EASY_FILE}: where_labels: {key}: missing やさしい日本語"
        for key in WHERE_KEYS
        if key not in pack.where_labels
    ]
    return problems
