"""Nearest neighbours over labelled sentences: which label's examples is a text closest to?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Neighbour:
    """One labelled example close to a query."""

    label: str
    text: str
    score: float


class LabelledIndex:
    """Example sentences with labels and their (L2-normalised) vectors."""

    def __init__(self, labels: Sequence[str], texts: Sequence[str], vectors: np.ndarray) -> None:
        if not (len(labels) == len(texts) == len(vectors)):
            raise ValueError("labels, texts and vectors differ in length")
        self.labels = list(labels)
        self.texts = list(texts)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self._label_ids = {label: i for i, label in enumerate(dict.fromkeys(self.labels))}
        self._row_label = np.array([self._label_ids[label] for label in self.labels], dtype=np.int32)
        self._rows = {label: np.flatnonzero(self._row_label == i) for label, i in self._label_ids.items()}

    def __len__(self) -> int:
        return len(self.labels)

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Cosine of the query with every example."""
        if not len(self):
            return np.zeros(0, dtype=np.float32)
        return self.vectors @ np.asarray(query, dtype=np.float32)

    def best_by_label(self, query: np.ndarray) -> dict[str, float]:
        """For each label, the similarity of its closest example."""
        sims = self.similarities(query)
        best = np.full(len(self._label_ids), -1.0, dtype=np.float32)
        np.maximum.at(best, self._row_label, sims)
        return {label: float(best[i]) for label, i in self._label_ids.items()}

    def top_mean_by_label(self, query: np.ndarray, k: int) -> dict[str, float]:
        """For each label, the mean similarity of its ``k`` closest examples (fewer if it has fewer)."""
        sims = self.similarities(query)
        out = {}
        for label, rows in self._rows.items():
            own = sims[rows]
            best = own if len(own) <= k else np.partition(own, len(own) - k)[-k:]
            out[label] = float(best.mean())
        return out

    def nearest(self, query: np.ndarray, k: int = 5) -> list[Neighbour]:
        """The ``k`` closest examples, best first."""
        sims = self.similarities(query)
        order = np.argsort(-sims)[:k]
        return [Neighbour(self.labels[i], self.texts[i], float(sims[i])) for i in order]
