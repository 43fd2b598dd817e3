"""What an import would change in the live base: entries added, changed (which columns) and removed.

Staff see this before anything is published (``madoguchi faq import`` and the console's upload page), and
must confirm explicitly when more than :data:`SILENT_REMOVALS` entries would disappear — a sheet with most
of its rows deleted by accident then never replaces the base with "0 warnings".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Iterable

from bot.knowledge.faq.entry import FaqEntry

#: Removals above this need an explicit confirmation ("more than a few"): editing the FAQ by hand
#: retires one or two entries at a time; three is still a deliberate clean-up someone can read in the
#: diff, more is what an accidental row deletion or a wrong file looks like.
SILENT_REMOVALS = 3


@dataclass(frozen=True)
class Change:
    """One entry present before and after, with the columns whose content differs."""

    before: FaqEntry
    after: FaqEntry
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Diff:
    """The difference between the live entries and a new set."""

    added: tuple[FaqEntry, ...]
    changed: tuple[Change, ...]
    removed: tuple[FaqEntry, ...]
    unchanged: int

    @property
    def empty(self) -> bool:
        """True when publishing would change nothing."""
        return not (self.added or self.changed or self.removed)

    @property
    def needs_confirmation(self) -> bool:
        """True when more than :data:`SILENT_REMOVALS` entries would disappear."""
        return len(self.removed) > SILENT_REMOVALS

    def summary(self) -> str:
        """One line for staff: 追加 2 件・変更 1 件・削除 0 件（変更なし 161 件）."""
        return (
            f"追加 {len(self.added)} 件・変更 {len(self.changed)} 件・削除 {len(self.removed)} 件"
            f"（変更なし {self.unchanged} 件）"
        )


_COLUMNS = tuple(f.name for f in fields(FaqEntry))


def diff(before: Iterable[FaqEntry], after: Iterable[FaqEntry]) -> Diff:
    """Compares two entry lists by id (in the order of ``after``, removals in the order of ``before``)."""
    old = {e.id: e for e in before}
    new = {e.id: e for e in after}
    added, changed, unchanged = [], [], 0
    for faq_id, entry in new.items():
        previous = old.get(faq_id)
        if previous is None:
            added.append(entry)
            continue
        columns = tuple(c for c in _COLUMNS if getattr(previous, c) != getattr(entry, c))
        if columns:
            changed.append(Change(previous, entry, columns))
        else:
            unchanged += 1
    removed = tuple(e for faq_id, e in old.items() if faq_id not in new)
    return Diff(tuple(added), tuple(changed), removed, unchanged)
