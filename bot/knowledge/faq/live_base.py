"""The live FAQ base on disk: immutable versions, an atomic ``current`` pointer, hot reload.

Layout of ``kb_dir`` (``settings.load().faq_dir``, i.e. ``var/faq``)::

    versions/<version-id>/entries.json   the entries (format 1)
    versions/<version-id>/index/         the search index (``FaqIndex.save``)
    current -> versions/<version-id>     symlink, replaced atomically with os.replace
    .lock                                fcntl lock held while publishing

A version directory is complete before ``current`` points at it (built under ``versions/.tmp-*`` and
renamed), so a reader never sees half a base. Old versions are pruned, keeping the newest ``KEEP_VERSIONS``
and always the current one. A reader that holds a :class:`Snapshot` keeps it for as long as it wants:
snapshots are plain in-memory objects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

from bot.knowledge.faq.entry import FaqEntry

log = logging.getLogger(__name__)

ENTRIES_FILE = "entries.json"
INDEX_DIR = "index"
CURRENT = "current"
VERSIONS = "versions"
LOCK_FILE = ".lock"
KEEP_VERSIONS = 5
FORMAT = 1


class Index(Protocol):
    """What the base needs from a search index (``bot.knowledge.faq.ranking.FaqIndex``)."""

    def search(self, query: str, top_k: int = 10) -> list[tuple[str, float]]: ...

    def save(self, directory: Path) -> None: ...


class Ranker(Protocol):
    """The index class: builds and loads indexes."""

    def build(self, entries: list[FaqEntry]) -> Index: ...

    def load(self, directory: Path) -> Index: ...


class FaqBaseError(Exception):
    """The live base cannot be read or written."""


class NoLiveBase(FaqBaseError):
    """There is no live base yet (nothing imported)."""


class VersionConflict(FaqBaseError):
    """Someone published another version between reading the base and publishing a change to it."""


def default_ranker() -> Ranker:
    """The project's ranker class (imported lazily: it loads the Japanese analyser)."""
    from bot.knowledge.faq.ranking import FaqIndex

    return FaqIndex


@dataclass(frozen=True)
class Snapshot:
    """One version of the base, fully in memory.

    Attributes:
        version: version id ("" for the empty snapshot used when nothing was imported yet).
        entries: id -> entry, in table order.
        index: the search index, or None for the empty snapshot.
        created_at: ISO time the version was published.
        source: file name it was imported from.
    """

    version: str
    entries: Mapping[str, FaqEntry]
    index: Any = None
    created_at: str = ""
    source: str = ""

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, top_k: int = 10) -> list[tuple[FaqEntry, float]]:
        """Ranked entries for a question (best first)."""
        if self.index is None or not self.entries:
            return []
        found = self.index.search(query, top_k=top_k)
        return [(self.entries[faq_id], score) for faq_id, score in found if faq_id in self.entries]

    def get(self, faq_id: str) -> FaqEntry | None:
        """The entry with this id, if any."""
        return self.entries.get(faq_id)


class _EmptyIndex:
    """The index of the empty snapshot: finds nothing."""

    def search(self, query: str, top_k: int = 10) -> list[tuple[str, float]]:
        return []

    def explain(self, query: str, faq_id: str) -> dict:
        raise KeyError(f"unknown FAQ id {faq_id!r} (the FAQ base is empty)")


#: What :meth:`LiveFaq.snapshot` returns before anything was imported (no entries; searches find nothing).
EMPTY_SNAPSHOT = Snapshot(version="", entries=MappingProxyType({}), index=_EmptyIndex())


# --------------------------------------------------------------------------------------------- writing


@contextlib.contextmanager
def base_lock(kb_dir: Path) -> Iterator[None]:
    """Holds the base's exclusive file lock (two imports never interleave, across processes)."""
    kb_dir.mkdir(parents=True, exist_ok=True)
    with open(kb_dir / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def publish(
    entries: Sequence[FaqEntry],
    kb_dir: str | os.PathLike[str],
    *,
    source: str = "",
    expected_version: str | None = None,
    ranker: Ranker | None = None,
    keep: int = KEEP_VERSIONS,
) -> str:
    """Writes a new version with its index and makes it current atomically.

    Args:
        entries: the complete, validated entry list (replaces the previous content).
        kb_dir: the base directory.
        source: file name the entries came from (kept for staff, e.g. in ``faq status``).
        expected_version: when given, publish only if the current version is still this one
            (read-modify-write callers such as the review import); "" means "no base yet".
        ranker: index class (default: :func:`default_ranker`).
        keep: how many versions to keep on disk.

    Returns:
        the new version id.

    Raises:
        VersionConflict: ``expected_version`` is no longer current.
    """
    kb_dir = Path(kb_dir)
    ranker = ranker or default_ranker()
    index = ranker.build(list(entries))  # the slow part, done before taking the lock
    with base_lock(kb_dir):
        if expected_version is not None and (current_version(kb_dir) or "") != expected_version:
            raise VersionConflict(
                f"the base changed meanwhile (now {current_version(kb_dir)}, expected {expected_version})"
            )
        versions = kb_dir / VERSIONS
        versions.mkdir(exist_ok=True)
        version = _new_version_id(versions)
        staging = versions / f".tmp-{version}"
        try:
            _write_version(staging, version, entries, index, source)
            os.rename(staging, versions / version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _fsync_dir(versions)
        _point_current(kb_dir, version)
        _prune(kb_dir, keep)
    log.info("faq base %s published: %d entries", version, len(entries))
    return version


def rollback(kb_dir: str | os.PathLike[str], version: str) -> None:
    """Makes a kept older version current again (atomically, under the lock).

    Raises:
        FaqBaseError: the version is not on disk (only the last :data:`KEEP_VERSIONS` are kept).
    """
    kb_dir = Path(kb_dir)
    with base_lock(kb_dir):
        if version not in list_versions(kb_dir):
            raise FaqBaseError(f"version {version!r} is not kept in {kb_dir}; kept: {list_versions(kb_dir)}")
        read_entries(kb_dir, version)  # refuse a damaged version
        _point_current(kb_dir, version)
    log.info("faq base rolled back to %s", version)


def _new_version_id(versions: Path) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    existing = {p.name for p in versions.iterdir()}
    version, n = stamp, 1
    while version in existing:
        version, n = f"{stamp}-{n}", n + 1
    return version


def _write_version(
    staging: Path, version: str, entries: Sequence[FaqEntry], index: Index, source: str
) -> None:
    staging.mkdir()
    payload = {
        "format": FORMAT,
        "version": version,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "entries": [entry_to_json(e) for e in entries],
    }
    with open(staging / ENTRIES_FILE, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    (staging / INDEX_DIR).mkdir()
    index.save(staging / INDEX_DIR)
    _fsync_dir(staging)


def _point_current(kb_dir: Path, version: str) -> None:
    link = kb_dir / f".{CURRENT}-{uuid.uuid4().hex}"
    os.symlink(f"{VERSIONS}/{version}", link)
    try:
        os.replace(link, kb_dir / CURRENT)
    except BaseException:
        link.unlink(missing_ok=True)
        raise
    _fsync_dir(kb_dir)


def _prune(kb_dir: Path, keep: int) -> None:
    versions = kb_dir / VERSIONS
    current = current_version(kb_dir)
    for stale in versions.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a crashed import (we hold the lock)
    for old in list_versions(kb_dir)[: -max(keep, 1)]:
        if old != current:
            shutil.rmtree(versions / old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def entry_to_json(entry: FaqEntry) -> dict:
    """JSON form of an entry (paraphrases as a list)."""
    data = asdict(entry)
    data["paraphrases"] = list(entry.paraphrases)
    return data


def entry_from_json(data: Mapping[str, Any]) -> FaqEntry:
    """Entry from its JSON form."""
    return FaqEntry(
        id=data["id"],
        question=data["question"],
        answer=data["answer"],
        category=data.get("category", ""),
        paraphrases=tuple(data.get("paraphrases", ())),
        department=data.get("department", ""),
        url=data.get("url", ""),
        verified_on=data.get("verified_on", ""),
    )


# --------------------------------------------------------------------------------------------- reading


def current_version(kb_dir: str | os.PathLike[str]) -> str | None:
    """The current version id, or None when nothing was published."""
    try:
        target = os.readlink(Path(kb_dir) / CURRENT)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FaqBaseError(f"{Path(kb_dir) / CURRENT} is not a version pointer (symlink): {exc}") from exc
    return Path(target).name


def list_versions(kb_dir: str | os.PathLike[str]) -> list[str]:
    """Complete versions on disk, oldest first."""
    versions = Path(kb_dir) / VERSIONS
    if not versions.is_dir():
        return []
    return sorted(p.name for p in versions.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_entries(kb_dir: str | os.PathLike[str], version: str | None = None) -> tuple[str, dict]:
    """Reads ``entries.json`` of a version (default: current) -> (version, payload)."""
    kb_dir = Path(kb_dir)
    version = version or current_version(kb_dir)
    if not version:
        raise NoLiveBase(f"no FAQ base in {kb_dir} (run `madoguchi faq import FILE` first)")
    path = kb_dir / VERSIONS / version / ENTRIES_FILE
    try:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, ValueError) as exc:
        raise FaqBaseError(f"cannot read {path}: {exc}") from exc
    if payload.get("format") != FORMAT:
        raise FaqBaseError(f"{path}: unknown format {payload.get('format')!r}")
    return version, payload


def load_current(kb_dir: str | os.PathLike[str], *, ranker: Ranker | None = None) -> Snapshot:
    """Loads the current version: entries and index.

    Raises:
        NoLiveBase: nothing was published yet.
        FaqBaseError: the version on disk is unreadable.
    """
    for _ in range(3):
        version = current_version(kb_dir)
        try:
            return load_version(kb_dir, version, ranker=ranker)
        except NoLiveBase:
            raise
        except FaqBaseError:
            if current_version(kb_dir) == version:
                raise
            # pruned under our feet by later publishes: read the newer current version
    return load_version(kb_dir, None, ranker=ranker)


def load_version(
    kb_dir: str | os.PathLike[str], version: str | None, *, ranker: Ranker | None = None
) -> Snapshot:
    """Loads one version (None = current)."""
    kb_dir = Path(kb_dir)
    version, payload = read_entries(kb_dir, version)
    entries = {e.id: e for e in (entry_from_json(d) for d in payload["entries"])}
    ranker = ranker or default_ranker()
    index_dir = kb_dir / VERSIONS / version / INDEX_DIR
    try:
        index = ranker.load(index_dir)
    except Exception:
        # An index written by an older ranker: rebuild from the entries rather than stop answering.
        log.warning("faq base %s: saved index unreadable, rebuilding it", version, exc_info=True)
        index = ranker.build(list(entries.values()))
        _store_rebuilt(kb_dir, version, index)
    return Snapshot(
        version=version,
        entries=MappingProxyType(entries),
        index=index,
        created_at=payload.get("created_at", ""),
        source=payload.get("source", ""),
    )


def _store_rebuilt(kb_dir: Path, version: str, index: Index) -> None:
    """Replaces a version's unreadable index with the rebuilt one, so the next load reads it in milliseconds.

    The entries (what staff published) are untouched; the new index is written beside the old one and
    swapped in by two renames under the base lock. A reader between the renames finds no index and
    rebuilds in memory, as before. Best effort: a read-only base keeps being rebuilt at each load (logged).
    """
    version_dir = kb_dir / VERSIONS / version
    tag = uuid.uuid4().hex
    fresh, stale = version_dir / f".{INDEX_DIR}-{tag}", version_dir / f".{INDEX_DIR}-old-{tag}"
    try:
        with base_lock(kb_dir):
            if not version_dir.is_dir():
                return  # pruned meanwhile
            fresh.mkdir()
            index.save(fresh)
            _fsync_dir(fresh)
            current = version_dir / INDEX_DIR
            if current.exists():
                os.rename(current, stale)
            os.rename(fresh, current)
            _fsync_dir(version_dir)
        shutil.rmtree(stale, ignore_errors=True)
        log.info("faq base %s: rebuilt index saved", version)
    except OSError as exc:
        shutil.rmtree(fresh, ignore_errors=True)
        log.warning("faq base %s: rebuilt index not saved (%s); it is rebuilt at each load", version, exc)


@dataclass
class LiveFaq:
    """The base as a running server sees it: call :meth:`snapshot` once per request.

    ``snapshot()`` looks at the ``current`` pointer at most every ``check_interval`` seconds (one readlink)
    and loads a new version when it changed. A request keeps the snapshot it got, so a swap never changes
    an answer half-way. Thread-safe; while one thread loads a new version, the others keep getting the
    previous snapshot instead of waiting. When no base exists yet the snapshot is empty (no entries).

    Attributes:
        kb_dir: the base directory.
        check_interval: seconds between checks of the pointer.
        ranker: index class (default: the project's ``FaqIndex``).
        clock: monotonic clock (tests).
    """

    kb_dir: Path
    check_interval: float = 2.0
    ranker: Ranker | None = None
    clock: Callable[[], float] = time.monotonic
    _snapshot: Snapshot | None = field(default=None, init=False, repr=False)
    _target: str | None = field(default=None, init=False, repr=False)
    _next_check: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.kb_dir = Path(self.kb_dir)

    def snapshot(self) -> Snapshot:
        """The current snapshot, reloaded if the base changed since the last check."""
        held = self._snapshot
        if held is not None and self.clock() < self._next_check:
            return held
        if held is not None and not self._lock.acquire(blocking=False):
            return held  # another thread is checking/loading right now
        if held is None:
            self._lock.acquire()
        try:
            return self._refresh_locked()
        finally:
            self._lock.release()

    def refresh(self) -> Snapshot:
        """Checks the pointer now (ignoring the interval) and returns the snapshot."""
        with self._lock:
            self._next_check = 0.0
            return self._refresh_locked()

    def _refresh_locked(self) -> Snapshot:
        if self._snapshot is not None and self.clock() < self._next_check:
            return self._snapshot
        self._next_check = self.clock() + self.check_interval
        target = current_version(self.kb_dir)
        if self._snapshot is not None and target == self._target:
            return self._snapshot
        if target is None:
            log.warning("no FAQ base in %s yet: answering without FAQ", self.kb_dir)
            self._snapshot, self._target = EMPTY_SNAPSHOT, None
            return self._snapshot
        try:
            snapshot = load_version(self.kb_dir, target, ranker=self.ranker)
        except FaqBaseError:
            if self._snapshot is None:
                raise
            log.exception("faq base %s unreadable; keeping version %s", target, self._snapshot.version)
            return self._snapshot
        log.info("faq base %s loaded (%d entries)", snapshot.version, len(snapshot))
        self._snapshot, self._target = snapshot, target
        return snapshot
