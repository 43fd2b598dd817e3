"""The reference BM25 baseline of the localgovFAQ protocol.

BM25 (k1 1.5, b 0.75) over SudachiPy core, split mode A, normalized forms of content words, question and
answer as one text. Built with the same sparse BM25 code as the product's index.
"""

from __future__ import annotations

import numpy as np

from bot.knowledge.faq.entry import FaqEntry
from bot.knowledge.faq.rank_bm25 import BM25Field
from bot.text import content_lemmas


class BaselineBM25:
    """Single-field BM25 over question + answer."""

    def __init__(self, entries: list[FaqEntry], k1: float = 1.5, b: float = 0.75):
        self.ids = [e.id for e in entries]
        docs = [content_lemmas(f"{e.question}\n{e.answer}", mode="A") for e in entries]
        self.field = BM25Field.build(docs, list(range(len(entries))), len(entries), k1=k1, b=b)

    def search(self, query: str, top_k: int = 10) -> list[tuple[str, float]]:
        """Top entries by BM25 score (query terms counted once each)."""
        scores = self.field.entry_scores(content_lemmas(query, mode="A"))
        order = np.lexsort((np.arange(len(scores)), -scores))[:top_k]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]
