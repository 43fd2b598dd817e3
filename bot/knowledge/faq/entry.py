"""The FAQ entry as staff keep it in their spreadsheet."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FaqEntry:
    """One question-and-answer pair of the FAQ knowledge base.

    Attributes:
        id: stable identifier staff use (e.g. "F0012" or a city's own number).
        question: the question as staff wrote it.
        answer: the answer residents read.
        category: optional grouping (分類).
        paraphrases: other ways residents ask the same thing (言い換え), one per item.
        department: department id or name (担当課).
        url: page with more information (https).
        verified_on: date staff last checked the answer (確認日), ISO "YYYY-MM-DD" or "".
    """

    id: str
    question: str
    answer: str
    category: str = ""
    paraphrases: tuple[str, ...] = field(default_factory=tuple)
    department: str = ""
    url: str = ""
    verified_on: str = ""
