"""The knowledge of a running process: data files reloaded when they change, the live FAQ, the clock.

One :class:`LiveKnowledge` is built per process (the action server makes it on first use, tests make
their own); :meth:`LiveKnowledge.now` gives each turn a fixed :class:`~bot.dialogue.knowledge.Knowledge`.
Nothing is read until first use. A broken edit of a data file never takes the bot down: the last good
version keeps being served.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

import yaml

from bot.clock import Clock, now_jst
from bot.dialogue.knowledge import Knowledge, Messages
from bot.knowledge import yasashii
from bot.knowledge.asked import ACTIONS_FILE, AskedActions, load_asked_actions
from bot.knowledge.catalog import Catalog, load_catalog
from bot.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Example sentences of the semantic layer (data/meaning.yml), embedded with the catalog.
MEANING_FILE = "meaning.yml"
#: Seconds between looks at a data file's size and modification time (staff edits are live within this).
CHECK_INTERVAL = 2.0


class Reloading(Generic[T]):
    """A value built from files, rebuilt when any of them changes (checked every few seconds)."""

    def __init__(
        self,
        build: Callable[[], T],
        paths: Callable[[], list[Path]],
        check_interval: float = CHECK_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._build = build
        self._paths = paths
        self._interval = check_interval
        self._monotonic = monotonic
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
        """The value, rebuilt first when a file changed since the last look."""
        now = self._monotonic()
        with self._lock:
            if self._value is not None and now - self._checked < self._interval:
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
                    logger.exception("reload failed; keeping the previous version")
            return self._value


def _read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


class LiveKnowledge:
    """Catalog, message texts, menu and FAQ as the files are now, and the clock."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock = now_jst,
        faq: Callable[[], Any] | None = None,
        encoder: Any = None,
    ) -> None:
        """``faq``: returns the FAQ snapshot of a turn (default: the live base under ``settings.faq_dir``).

        ``encoder``: the sentence encoder of the semantic layer (:mod:`bot.understanding.encoder`); the
        catalog's texts are embedded with it whenever the catalog reloads (cached under
        ``settings.embeddings_dir``: ``$MADOGUCHI_EMBEDDINGS``, else ``var/embeddings``). None: words only.
        """
        data = settings.data_dir
        self.settings = settings
        self.clock = clock
        self._catalog = Reloading(lambda: load_catalog(data), lambda: catalog_files(data))
        self._messages = Reloading(
            lambda: Messages(_read_yaml(data / "messages.yml")), lambda: [data / "messages.yml"]
        )
        self._menu = Reloading(
            lambda: tuple(str(pid) for pid in _read_yaml(data / "menu.yml").get("popular") or []),
            lambda: [data / "menu.yml"],
        )
        self._easy = Reloading(lambda: yasashii.load(data), lambda: [data / yasashii.EASY_FILE])
        self._faq = faq or _live_faq(settings)
        self._asked = Reloading(
            lambda: load_asked_actions(data, self.catalog().procedures),
            lambda: [data / ACTIONS_FILE, *catalog_files(data)],
        )
        self._meaning = (
            Reloading(
                lambda: _meaning(self.catalog(), data / MEANING_FILE, encoder, settings.embeddings_dir),
                lambda: [data / MEANING_FILE, *catalog_files(data)],
            )
            if encoder is not None
            else None
        )

    def catalog(self) -> Catalog:
        """The procedure catalog (reloaded when its files change)."""
        return self._catalog.get()

    def messages(self) -> Messages:
        """The message texts (reloaded when the file changes)."""
        return self._messages.get()

    def menu(self) -> tuple[str, ...]:
        """Procedure ids offered when nothing is named (data/menu.yml)."""
        return self._menu.get()

    def easy(self) -> yasashii.EasyJapanese:
        """やさしい日本語 of the card fields (reloaded when data/yasashii.yml changes)."""
        return self._easy.get()

    def faq(self) -> Any:
        """The current FAQ version (reloaded after ``madoguchi faq import``; empty before the first)."""
        return self._faq()

    def asked(self) -> AskedActions:
        """The action vocabulary (reloaded when it or the catalog changes)."""
        return self._asked.get()

    def meaning(self):
        """The semantic index of the catalog (:class:`bot.understanding.meaning.Meaning`), or None."""
        return self._meaning.get() if self._meaning is not None else None

    def now(self) -> Knowledge:
        """Everything one turn is decided from, fixed for the turn."""
        meaning = self.meaning()
        return Knowledge(
            catalog=self.catalog(),
            faq=self.faq(),
            messages=self.messages(),
            menu=self.menu(),
            now=self.clock(),
            easy=self.easy(),
            meaning=meaning.neighbours if meaning is not None else None,
            similarity=meaning.similarity if meaning is not None else None,
            asked=self.asked(),
        )


def _meaning(catalog: Catalog, examples: Path, encoder: Any, cache: Path):
    from bot.understanding.meaning import Meaning, build_index, catalog_rows, load_examples

    rows = catalog_rows(catalog, load_examples(examples))
    return Meaning(build_index(rows, encoder, cache), encoder, cache_dir=cache)


def _live_faq(settings: Settings) -> Callable[[], Any]:
    from bot.knowledge.faq.live_base import LiveFaq

    return LiveFaq(settings.faq_dir, check_interval=CHECK_INTERVAL).snapshot


def catalog_files(data_dir: Path) -> list[Path]:
    """The files the catalog is built from (watched for changes)."""
    return sorted((data_dir / "catalog").glob("*.yml")) + [
        data_dir / "departments.yml",
        data_dir / "life_events.yml",
    ]
