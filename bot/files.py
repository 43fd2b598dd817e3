"""Data files: writing so that readers see either the old or the whole new content (temp file, fsync,
rename), and reading a YAML file staff edit with an error that names it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable

import yaml


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Calls ``write`` on a temporary file beside ``path``, makes it durable, then renames it over ``path``.

    The parent directory is created when missing. On any error the temporary file is removed and
    ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda handle: handle.write(data))


def read_yaml(path: Path, error: type[Exception], missing: str) -> Any:
    """The parsed content of a YAML data file.

    Raises:
        error: ``"{path}: {missing}"`` when the file does not exist, or naming the file and the YAML
            problem when it cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {missing}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
