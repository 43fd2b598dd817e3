"""What the actions read from: catalog, FAQ base, stores and message texts.

Everything is opened lazily on first use (never at import time) and kept for the process. The
catalog and the message texts are reloaded when their files change; the FAQ base reloads itself
after ``madoguchi faq import`` (see ``bot.knowledge.faq.base.LiveFaq``).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

import yaml

from bot import settings as settings_module
from bot.knowledge.catalog import Catalog, load_catalog

logger = logging.getLogger(__name__)

T = TypeVar("T")

_CHECK_INTERVAL = 2.0


class _Reloading(Generic[T]):
    """A value built from files, rebuilt when any of them changes (checked every few seconds)."""

    def __init__(self, build: Callable[[], T], paths: Callable[[], list[Path]]) -> None:
        self._build = build
        self._paths = paths
        self._lock = threading.Lock()
        self._value: T | None = None
        self._stamp: tuple = ()
        self._checked = 0.0

    def _current_stamp(self) -> tuple:
        stamp = []
        for path in self._paths():
            try:
                stat = path.stat()
                stamp.append((str(path), stat.st_mtime_ns, stat.st_size))
            except FileNotFoundError:
                stamp.append((str(path), None, None))
        return tuple(stamp)

    def get(self) -> T:
        now = time.monotonic()
        with self._lock:
            if self._value is not None and now - self._checked < _CHECK_INTERVAL:
                return self._value
            self._checked = now
            stamp = self._current_stamp()
            if self._value is None or stamp != self._stamp:
                try:
                    self._value = self._build()
                    self._stamp = stamp
                except Exception:
                    if self._value is None:
                        raise
                    # A broken edit must not take the running bot down: keep serving the last good copy.
                    logger.exception("reload failed; keeping the previous version")
            return self._value


class Messages:
    """Texts residents read that actions compose (``data/messages.yml``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def raw(self, path: str) -> Any:
        """Returns the raw value at a dotted path such as ``procedure.where_labels``."""
        node: Any = self._data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"data/messages.yml has no entry {path!r}")
            node = node[part]
        return node

    def text(self, path: str, **values: Any) -> str:
        """Returns the text at a dotted path with its {placeholders} filled in."""
        return str(self.raw(path)).format(**values)


def _settings():
    return settings_module.load()


def _catalog_paths() -> list[Path]:
    data_dir = _settings().data_dir
    return sorted((data_dir / "catalog").glob("*.yml")) + [
        data_dir / "departments.yml",
        data_dir / "life_events.yml",
    ]


def _load_messages() -> Messages:
    path = _settings().data_dir / "messages.yml"
    return Messages(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def _load_menu() -> list[str]:
    path = _settings().data_dir / "menu.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [str(pid) for pid in data.get("popular") or []]


def _data_file(name: str) -> Callable[[], list[Path]]:
    return lambda: [_settings().data_dir / name]


_catalog: _Reloading[Catalog]
_messages: _Reloading[Messages]
_menu: _Reloading[list[str]]


def _new_reloaders() -> None:
    """(Re)creates the file-backed values; nothing is read until first use."""
    global _catalog, _messages, _menu
    _catalog = _Reloading(lambda: load_catalog(_settings().data_dir), _catalog_paths)
    _messages = _Reloading(_load_messages, _data_file("messages.yml"))
    _menu = _Reloading(_load_menu, _data_file("menu.yml"))


_new_reloaders()
_singletons: dict[str, Any] = {}
_singleton_lock = threading.Lock()


def menu() -> list[str]:
    """Procedure ids offered when a resident asks for procedures without naming one (data/menu.yml)."""
    return _menu.get()


def catalog() -> Catalog:
    """The procedure catalog (reloaded when its files change)."""
    return _catalog.get()


def messages() -> Messages:
    """The message texts (reloaded when the file changes)."""
    return _messages.get()


def _singleton(name: str, factory: Callable[[], Any]) -> Any:
    with _singleton_lock:
        if name not in _singletons:
            _singletons[name] = factory()
        return _singletons[name]


def stores():
    """The stores (SQLite under var/, or Redis when REDIS_URL is set)."""
    from bot.stores import open_stores

    return _singleton("stores", lambda: open_stores(_settings()))


def faq_snapshot():
    """The current FAQ version (reloaded after ``madoguchi faq import``; empty before the first import)."""
    from bot.knowledge.faq.base import shared_live_faq

    return shared_live_faq(_settings().faq_dir).snapshot()


def reset() -> None:
    """Forgets everything opened so far (tests point the settings elsewhere, then call this)."""
    with _singleton_lock:
        stores_ = _singletons.pop("stores", None)
        if stores_ is not None:
            stores_.close()
        _singletons.clear()
    _new_reloaders()
