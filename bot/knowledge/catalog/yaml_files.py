"""Reading the catalog's YAML files the way staff mean them.

PyYAML follows YAML 1.1, where an unquoted ``9:00`` is the number 540 (base 60), ``0120`` is octal and
``no`` / ``on`` are booleans. Staff editing hours or phone numbers should not have to know that, so
this loader keeps such values as text: only ``true``/``false``, ``null``/``~`` and plain decimal
integers are converted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class YamlError(ValueError):
    """A file that is not valid YAML; the message gives the line and column."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML-1.2-like scalars: no base-60, octal, yes/no booleans or timestamps."""


_REMOVED = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REMOVED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)


def load_yaml(path: Path) -> Any:
    """Parses one YAML file (UTF-8).

    Raises:
        FileNotFoundError: if the file does not exist.
        YamlError: if it is not valid YAML or not UTF-8.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"invalid YAML: {where}{problem}") from exc
