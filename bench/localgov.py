"""The localgovFAQ evaluation set (Amagasaki City FAQ + resident questions), read from outside the repo.

Evaluation only: the data is never copied into the project and never used to fit shipped parameters
beyond choosing among a handful of settings on the "tune" half (see ``bench/README.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench.splits import half as half  # the dev questions are split by query id
from bot.knowledge.faq.entry import FaqEntry

#: Default location: ``shared/datasets/localgovfaq`` beside the repository.
DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "localgovfaq"


@dataclass(frozen=True)
class Dataset:
    """Corpus, dev questions and graded relevance judgements."""

    entries: list[FaqEntry]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def parse_corpus_text(text: str) -> tuple[str, str]:
    """Splits ``"Question: ...\\nAnswer: ..."`` into (question, answer)."""
    head, sep, answer = text.partition("\nAnswer:")
    question = head.removeprefix("Question:").strip()
    if not sep:
        return question, ""
    return question, answer.strip()


def load(directory: Path = DEFAULT_DIR) -> Dataset:
    """Reads ``corpus.json``, ``queries.dev.json`` and ``qrels.dev.json``.

    Raises:
        FileNotFoundError: the dataset is not there.
    """
    directory = Path(directory)
    corpus = json.loads((directory / "corpus.json").read_text(encoding="utf-8"))
    queries = json.loads((directory / "queries.dev.json").read_text(encoding="utf-8"))
    qrels = json.loads((directory / "qrels.dev.json").read_text(encoding="utf-8"))
    entries = []
    for faq_id, text in corpus.items():
        question, answer = parse_corpus_text(text)
        entries.append(FaqEntry(id=str(faq_id), question=question, answer=answer))
    qrels = {str(q): {str(d): int(g) for d, g in rel.items()} for q, rel in qrels.items()}
    return Dataset(entries=entries, queries={str(k): v for k, v in queries.items()}, qrels=qrels)
