"""The live base: atomic publish, failures change nothing, readers during swaps, hot reload, lock, pruning."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from bot.knowledge.faq import live_base
from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.import_export import ImportFailed, ensure_live_base, export_file, import_file


class TinyIndex:
    """Stand-in ranker for storage tests: scores by shared characters; persists ids and texts as JSON."""

    loads = 0

    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs

    @classmethod
    def build(cls, entries: list[FaqEntry]) -> TinyIndex:
        return cls({e.id: e.question + "".join(e.paraphrases) for e in entries})

    def search(self, query: str, top_k: int = 10) -> list[tuple[str, float]]:
        scored = [(i, len(set(query) & set(t)) / max(len(set(query)), 1)) for i, t in self.docs.items()]
        return sorted([s for s in scored if s[1] > 0], key=lambda s: -s[1])[:top_k]

    def save(self, directory: Path) -> None:
        (directory / "tiny.json").write_text(json.dumps(self.docs, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> TinyIndex:
        cls.loads += 1
        return cls(json.loads((directory / "tiny.json").read_text(encoding="utf-8")))


class FailingIndex(TinyIndex):
    def save(self, directory: Path) -> None:
        (directory / "partial").write_text("half")
        raise OSError("disk full")


def _entries(tag: str, n: int = 3) -> list[FaqEntry]:
    return [
        FaqEntry(id=f"F{i:04d}", question=f"質問{i} {tag}", answer=f"回答 {tag}") for i in range(1, n + 1)
    ]


def _state(kb: Path) -> tuple[str, bytes]:
    target = os.readlink(kb / "current")
    return target, (kb / target / "entries.json").read_bytes()


def test_publish_then_load(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    version = live_base.publish(_entries("v1"), kb, source="a.csv", ranker=TinyIndex)
    assert (kb / "current").is_symlink() and os.readlink(kb / "current") == f"versions/{version}"
    snap = live_base.load_current(kb, ranker=TinyIndex)
    assert snap.version == version and snap.source == "a.csv"
    assert list(snap.entries) == ["F0001", "F0002", "F0003"]
    assert snap.search("質問2", top_k=1)[0][0].id == "F0002"
    assert (kb / "versions" / version / "index" / "tiny.json").is_file()


def test_no_base_yet(tmp_path: Path) -> None:
    with pytest.raises(live_base.NoLiveBase):
        live_base.load_current(tmp_path / "kb", ranker=TinyIndex)
    live = live_base.LiveFaq(tmp_path / "kb", ranker=TinyIndex)
    assert live.snapshot() is live_base.EMPTY_SNAPSHOT and live.snapshot().search("住民票") == []
    assert live.snapshot().index.search("住民票", top_k=3) == []


def test_bad_import_leaves_live_base_byte_identical(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    good = tmp_path / "good.csv"
    good.write_text("id,question,answer\nF1,q1,a1\nF2,q2,a2\n", encoding="utf-8")
    assert import_file(good, kb, ranker=TinyIndex).version
    before, listing = _state(kb), sorted(os.listdir(kb / "versions"))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,question,answer\nF1,q1,a1\nF1,,a2\n", encoding="utf-8")
    result = import_file(bad, kb, ranker=TinyIndex)
    assert result.version is None and not result.report.ok
    assert _state(kb) == before and sorted(os.listdir(kb / "versions")) == listing


def test_failure_while_writing_a_version_changes_nothing(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    live_base.publish(_entries("v1"), kb, ranker=TinyIndex)
    before, listing = _state(kb), sorted(os.listdir(kb / "versions"))
    with pytest.raises(OSError, match="disk full"):
        live_base.publish(_entries("v2"), kb, ranker=FailingIndex)
    assert _state(kb) == before and sorted(os.listdir(kb / "versions")) == listing


def test_old_versions_are_pruned_keeping_five(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    versions = [live_base.publish(_entries(f"v{i}"), kb, ranker=TinyIndex) for i in range(8)]
    assert versions == sorted(versions) and len(set(versions)) == 8
    assert live_base.list_versions(kb) == versions[-5:]
    assert live_base.current_version(kb) == versions[-1]


def test_readers_never_see_a_mixed_or_missing_base_during_swaps(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    live_base.publish(_entries("v0", 20), kb, ranker=TinyIndex)
    live = live_base.LiveFaq(kb, check_interval=0.0, ranker=TinyIndex)
    stop = threading.Event()
    problems: list[str] = []
    seen: set[str] = set()

    def reader() -> None:
        while not stop.is_set():
            try:
                for snap in (live.snapshot(), live_base.load_current(kb, ranker=TinyIndex)):
                    tags = {e.answer for e in snap.entries.values()}
                    if len(snap.entries) != 20 or len(tags) != 1:
                        problems.append(f"mixed snapshot {snap.version}: {tags}")
                    seen.update(tags)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                problems.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(1, 12):
        live_base.publish(_entries(f"v{i}", 20), kb, ranker=TinyIndex)
    stop.set()
    for thread in threads:
        thread.join()
    assert problems == []
    assert len(seen) > 1  # the readers really ran across swaps


def test_live_faq_reloads_within_check_interval_and_keeps_held_snapshots(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    live_base.publish(_entries("old"), kb, ranker=TinyIndex)
    live = live_base.LiveFaq(kb, check_interval=0.3, ranker=TinyIndex)
    held = live.snapshot()  # a request in progress holds this one
    assert live.snapshot() is held  # no reload while nothing changed
    new_version = live_base.publish(_entries("new"), kb, ranker=TinyIndex)
    deadline = time.monotonic() + 0.3 + 2.0
    while live.snapshot().version != new_version:
        assert time.monotonic() < deadline, "the new version was not picked up"
        time.sleep(0.05)
    assert live.snapshot().get("F0001").answer == "回答 new"
    assert held.get("F0001").answer == "回答 old" and held.search("質問1")[0][0].answer == "回答 old"


def test_live_faq_checks_the_pointer_only_every_interval(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    live_base.publish(_entries("a"), kb, ranker=TinyIndex)
    now = [100.0]
    live = live_base.LiveFaq(kb, check_interval=2.0, ranker=TinyIndex, clock=lambda: now[0])
    first = live.snapshot()
    version = live_base.publish(_entries("b"), kb, ranker=TinyIndex)
    now[0] += 1.9
    assert live.snapshot() is first
    now[0] += 0.2
    assert live.snapshot().version == version


def test_live_faq_keeps_serving_when_a_new_version_is_unreadable(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    live_base.publish(_entries("a"), kb, ranker=TinyIndex)
    live = live_base.LiveFaq(kb, check_interval=0.0, ranker=TinyIndex)
    first = live.snapshot()
    version = live_base.publish(_entries("b"), kb, ranker=TinyIndex)
    (kb / "versions" / version / "entries.json").write_text("{broken", encoding="utf-8")
    assert live.snapshot() is first


def test_unreadable_index_is_rebuilt_from_entries(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    version = live_base.publish(_entries("a"), kb, ranker=TinyIndex)
    (kb / "versions" / version / "index" / "tiny.json").unlink()
    snap = live_base.load_current(kb, ranker=TinyIndex)
    assert snap.search("質問3", top_k=1)[0][0].id == "F0003"


def test_lock_serializes_publishers(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    live_base.publish(_entries("a"), kb, ranker=TinyIndex)
    done = threading.Event()

    def publish() -> None:
        live_base.publish(_entries("b"), kb, ranker=TinyIndex)
        done.set()

    with live_base.base_lock(kb):
        thread = threading.Thread(target=publish)
        thread.start()
        assert not done.wait(0.5), "publish must wait for the lock"
        assert live_base.load_current(kb, ranker=TinyIndex).get("F0001").answer == "回答 a"
    thread.join(10)
    assert done.is_set()
    assert live_base.load_current(kb, ranker=TinyIndex).get("F0001").answer == "回答 b"


def test_expected_version_detects_a_concurrent_change(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    first = live_base.publish(_entries("a"), kb, ranker=TinyIndex)
    live_base.publish(_entries("b"), kb, ranker=TinyIndex)
    with pytest.raises(live_base.VersionConflict):
        live_base.publish(_entries("c"), kb, expected_version=first, ranker=TinyIndex)
    assert live_base.load_current(kb, ranker=TinyIndex).get("F0001").answer == "回答 b"


def test_ensure_live_base_seeds_only_once(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    seed = tmp_path / "seed.csv"
    seed.write_text("id,question,answer\nS1,q,a\n", encoding="utf-8")
    version = ensure_live_base(kb, seed, ranker=TinyIndex)
    assert version and live_base.current_version(kb) == version
    assert ensure_live_base(kb, seed, ranker=TinyIndex) is None
    bad = tmp_path / "bad.csv"
    bad.write_text("id,question\nS1,q\n", encoding="utf-8")
    with pytest.raises(ImportFailed):
        ensure_live_base(tmp_path / "other", bad, ranker=TinyIndex)
    assert live_base.current_version(tmp_path / "other") is None


def test_export_of_missing_base_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(live_base.NoLiveBase, match="madoguchi faq import"):
        export_file(tmp_path / "kb", tmp_path / "out.csv")


def test_rollback_to_a_kept_version(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    first = live_base.publish(_entries("a"), kb, ranker=TinyIndex)
    live_base.publish(_entries("b"), kb, ranker=TinyIndex)
    live_base.rollback(kb, first)
    assert live_base.current_version(kb) == first
    assert live_base.load_current(kb, ranker=TinyIndex).get("F0001").answer == "回答 a"
    with pytest.raises(live_base.FaqBaseError, match="not kept"):
        live_base.rollback(kb, "19990101T000000000000Z")
    assert live_base.current_version(kb) == first


def test_current_that_is_not_a_pointer_is_a_clear_error(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "current").write_text("oops")
    with pytest.raises(live_base.FaqBaseError, match="not a version pointer"):
        live_base.load_current(kb, ranker=TinyIndex)
