"""Problems in the catalog files, and the checks of single values (ids, phone numbers, links)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from bot.hours import HoursError, OfficeHours
from bot.links import link_problem

#: An entry id: lower-case ascii letters, digits and _ (juminhyo).
ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Japanese numbers as residents read them: 0 + area code, hyphen-separated, 10 digits (or 0120/0570 + 6).
_PHONE = re.compile(r"^0\d{1,4}-\d{1,4}-\d{3,4}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the data files."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: {self.message}"


class CatalogError(Exception):
    """The catalog data is not usable; the message lists every problem, one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the catalog data:\n{lines}")


@dataclass
class EntryChecker:
    """Where we are while validating: file and entry, and the shared list of problems."""

    file: str
    entry: str
    problems: list[Problem]

    def add(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.entry, field_name, message))

    def text(self, data: Mapping, key: str, nullable: bool = False) -> str | None:
        """A required non-empty string field (None allowed only if nullable)."""
        if key not in data:
            self.add(key, "missing" + (" (write null if it does not apply)" if nullable else ""))
            return None
        value = data[key]
        if value is None and nullable:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.add(key, f"must be non-empty text, got {value!r}")
            return None
        return value.strip()

    def texts(self, data: Mapping, key: str, allow_empty: bool = True) -> tuple[str, ...]:
        """A required list of non-empty strings."""
        if key not in data:
            self.add(key, "missing (write [] if there is nothing)" if allow_empty else "missing")
            return ()
        value = data[key]
        if value is None and allow_empty:
            return ()
        if not isinstance(value, list):
            self.add(key, f"must be a list, got {type(value).__name__}")
            return ()
        items = []
        for i, item in enumerate(value):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                self.add(f"{key}[{i}]", f"must be non-empty text, got {item!r}")
            else:
                items.append(item.strip())
        if not items and not allow_empty:
            self.add(key, "must list at least one item")
        return tuple(items)

    def flag(self, data: Mapping, key: str, prefix: str = "") -> bool:
        """A required true/false field."""
        if key not in data:
            self.add(prefix + key, "missing (true or false)")
            return False
        if not isinstance(data[key], bool):
            self.add(prefix + key, f"must be true or false, got {data[key]!r}")
            return False
        return data[key]

    def ident(self, data: Mapping) -> str | None:
        """The entry's id, checked for form; also renames the context to it."""
        value = data.get("id")
        if not isinstance(value, str) or not ID.match(value):
            self.add("id", f"{value!r} must be lower-case ascii letters, digits and _ (e.g. juminhyo)")
            return None
        self.entry = value
        return value

    def unknown_keys(self, data: Mapping, allowed: tuple[str, ...]) -> None:
        extra = sorted(str(k) for k in data if k not in allowed)
        if extra:
            self.add(", ".join(extra), f"unknown field(s); allowed: {', '.join(allowed)}")

    def hours(self, data: Mapping, key: str = "hours") -> OfficeHours | None:
        if key not in data:
            self.add(key, "missing")
            return None
        try:
            return OfficeHours.from_mapping(data[key])
        except HoursError as exc:
            for where, message in exc.problems:
                self.add(where, message)
            return None

    def phone(self, data: Mapping, key: str = "phone") -> str | None:
        value = self.text(data, key)
        if value is not None and not is_valid_phone(value):
            self.add(key, f"{value!r} is not a Japanese phone number written like 0XX-XXX-XXXX")
            return None
        return value


def is_valid_phone(value: str) -> bool:
    """Whether a number is a valid Japanese number written with hyphens (e.g. 012-345-6789)."""
    if not _PHONE.match(value):
        return False
    import phonenumbers  # imported lazily: only needed when validating

    try:
        parsed = phonenumbers.parse(value, "JP")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


def is_valid_url(value: str) -> bool:
    """Whether a link is usable for an online form: the rule of :mod:`bot.links`, https only."""
    return link_problem(value, https_only=True) is None
