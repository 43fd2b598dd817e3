"""One BM25 field as a precomputed sparse matrix: fast to score, fast to save and load.

Rows are "documents" (an FAQ question, one of its paraphrases, or an answer); several rows may belong to
one FAQ entry, and an entry scores the best of its rows. The matrix stores, for every (term, row), the
full BM25 term weight ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen))``, so that scoring a
query is a sum of a few sparse rows.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse


def bm25_idf(n_docs: int, df: np.ndarray) -> np.ndarray:
    """Lucene's non-negative BM25 idf."""
    return np.log1p((n_docs - df + 0.5) / (df + 0.5))


@dataclass
class BM25Field:
    """A BM25-weighted term-by-row matrix.

    Attributes:
        vocab: term -> matrix row.
        weights: CSR matrix, terms x rows, BM25 term weights.
        row_entry: for every row, the index of the FAQ entry it belongs to (non-decreasing).
        n_entries: number of FAQ entries.
        unknown_idf: idf given to a query term the field has never seen (for score normalization).
    """

    vocab: dict[str, int]
    weights: sparse.csr_matrix
    idf: np.ndarray
    row_entry: np.ndarray
    n_entries: int
    unknown_idf: float
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def build(
        cls, docs: list[list[str]], row_entry: list[int], n_entries: int, k1: float = 1.5, b: float = 0.75
    ) -> BM25Field:
        """Builds the field from tokenized rows.

        Args:
            docs: tokens of every row.
            row_entry: entry index of every row, non-decreasing; every entry should own at least one row.
            n_entries: number of entries.
            k1: term frequency saturation.
            b: length normalization.
        """
        if len(docs) != len(row_entry):
            raise ValueError("docs and row_entry differ in length")
        if any(later < earlier for earlier, later in zip(row_entry[:-1], row_entry[1:], strict=True)):
            raise ValueError("row_entry must be non-decreasing")
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        for r, tokens in enumerate(docs):
            for term, tf in Counter(tokens).items():
                rows.append(vocab.setdefault(term, len(vocab)))
                cols.append(r)
                tfs.append(tf)
        n_rows = len(docs)
        rows_a = np.array(rows, dtype=np.int64)
        cols_a = np.array(cols, dtype=np.int64)
        tf_a = np.array(tfs, dtype=np.float64)
        df = np.bincount(rows_a, minlength=len(vocab)).astype(np.float64)
        idf = bm25_idf(n_rows, df)
        filled = lengths[lengths > 0]
        avg = float(filled.mean()) if len(filled) else 1.0  # empty rows must not shrink the average
        norm = k1 * (1.0 - b + b * lengths[cols_a] / avg)
        data = idf[rows_a] * tf_a * (k1 + 1.0) / (tf_a + norm)
        weights = sparse.csr_matrix(
            (data.astype(np.float32), (rows_a, cols_a)), shape=(len(vocab), n_rows), dtype=np.float32
        )
        return cls(
            vocab=vocab,
            weights=weights,
            idf=idf.astype(np.float32),
            row_entry=np.asarray(row_entry, dtype=np.int32),
            n_entries=n_entries,
            unknown_idf=float(bm25_idf(max(n_rows, 1), np.array([0.0]))[0]),
        )

    def term_ids(self, terms: list[str]) -> list[int]:
        """Vocabulary rows of the distinct known terms, in first-seen order."""
        seen: dict[int, None] = {}
        for t in terms:
            i = self.vocab.get(t)
            if i is not None:
                seen.setdefault(i, None)
        return list(seen)

    def query_mass(self, terms: list[str]) -> float:
        """Sum of the idf of the distinct query terms (unknown terms count as the rarest)."""
        return float(
            sum(self.idf[self.vocab[t]] if t in self.vocab else self.unknown_idf for t in set(terms))
        )

    def row_scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every row for the distinct query terms."""
        return self._sum_rows(self.term_ids(terms), None)

    def _sum_rows(self, term_ids: list[int], query_weights: np.ndarray | None) -> np.ndarray:
        """Weighted sum of matrix rows, straight from the CSR arrays (scipy's slicing costs more)."""
        n_rows = self.weights.shape[1]
        if not term_ids:
            return np.zeros(n_rows, dtype=np.float32)
        w = self.weights
        parts = [slice(w.indptr[i], w.indptr[i + 1]) for i in term_ids]
        cols = np.concatenate([w.indices[p] for p in parts])
        data = [w.data[p] for p in parts]
        if query_weights is not None:
            data = [d * float(q) for d, q in zip(data, query_weights, strict=True)]
        return np.bincount(cols, weights=np.concatenate(data), minlength=n_rows).astype(np.float32)

    def entries_with(self, term_id: int) -> np.ndarray:
        """Entries that have the term in at least one of their rows (may repeat an entry)."""
        w = self.weights
        return self.row_entry[w.indices[w.indptr[term_id] : w.indptr[term_id + 1]]]

    def weighted_row_scores(self, term_ids: list[int], weights: np.ndarray) -> np.ndarray:
        """Row scores for term ids with per-term query weights."""
        return self._sum_rows(term_ids, weights)

    def feedback_terms(self, entries: list[int], exclude: list[int], n: int) -> tuple[list[int], np.ndarray]:
        """The n terms weighing most in the rows of some entries (pseudo-relevance feedback).

        Returns:
            term ids and their weights, scaled so that the heaviest is 1.
        """
        rows = np.flatnonzero(np.isin(self.row_entry, entries))
        if not len(rows) or n <= 0:
            return [], np.zeros(0, dtype=np.float32)
        mass = np.asarray(self._by_row()[rows].sum(axis=0)).ravel()
        mass[exclude] = 0
        top = np.argsort(-mass, kind="stable")[:n]
        top = top[mass[top] > 0]
        if not len(top):
            return [], np.zeros(0, dtype=np.float32)
        return top.tolist(), (mass[top] / mass[top[0]]).astype(np.float32)

    def _by_row(self) -> sparse.csr_matrix:
        if "by_row" not in self._cache:
            self._cache["by_row"] = self.weights.T.tocsr()
        return self._cache["by_row"]

    def entry_scores(self, terms: list[str]) -> np.ndarray:
        """Score of every entry: the best score among its rows."""
        return self.best_per_entry(self.row_scores(terms))

    def best_per_entry(self, row_scores: np.ndarray) -> np.ndarray:
        """Reduces row scores to entry scores (max over an entry's rows)."""
        if len(self.row_entry) == self.n_entries and self._one_row_each():
            return row_scores.astype(np.float32, copy=False)
        out = np.zeros(self.n_entries, dtype=np.float32)
        if len(row_scores):
            owners, starts = self._groups()
            out[owners] = np.maximum.reduceat(row_scores, starts)
        return out

    def _groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Entries that own rows, and the first row of each (row_entry is non-decreasing)."""
        if "groups" not in self._cache:
            self._cache["groups"] = np.unique(self.row_entry, return_index=True)
        return self._cache["groups"]

    def _one_row_each(self) -> bool:
        if "identity" not in self._cache:
            self._cache["identity"] = bool(np.array_equal(self.row_entry, np.arange(self.n_entries)))
        return self._cache["identity"]

    def best_row(self, entry: int, terms: list[str]) -> int | None:
        """The row of an entry that scores best for the query (None when the entry has no rows)."""
        rows = np.flatnonzero(self.row_entry == entry)
        if not len(rows):
            return None
        scores = self.row_scores(terms)[rows]
        return int(rows[int(np.argmax(scores))])

    def contributions(self, row: int, terms: list[str]) -> dict[str, float]:
        """Per-term BM25 weight of the query terms found in one row."""
        out: dict[str, float] = {}
        for t in dict.fromkeys(terms):
            i = self.vocab.get(t)
            if i is None:
                continue
            w = float(self.weights[i, row])
            if w > 0:
                out[t] = round(w, 4)
        return out

    # -- persistence -------------------------------------------------------------------------------

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Arrays for ``numpy.savez`` (the vocabulary is kept apart, as JSON)."""
        w = self.weights
        return {
            f"{prefix}.data": w.data,
            f"{prefix}.indices": w.indices,
            f"{prefix}.indptr": w.indptr,
            f"{prefix}.shape": np.array(w.shape, dtype=np.int64),
            f"{prefix}.idf": self.idf,
            f"{prefix}.row_entry": self.row_entry,
            f"{prefix}.meta": np.array([self.n_entries, self.unknown_idf], dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, prefix: str, arrays, terms: list[str]) -> BM25Field:
        """Rebuilds a field saved with :meth:`to_arrays` and its vocabulary list."""
        shape = tuple(int(x) for x in arrays[f"{prefix}.shape"])
        weights = sparse.csr_matrix(
            (arrays[f"{prefix}.data"], arrays[f"{prefix}.indices"], arrays[f"{prefix}.indptr"]), shape=shape
        )
        if len(terms) != shape[0]:
            raise ValueError(f"field {prefix}: vocabulary has {len(terms)} terms, matrix {shape[0]} rows")
        meta = arrays[f"{prefix}.meta"]
        if not math.isfinite(float(meta[1])):
            raise ValueError(f"field {prefix}: corrupt metadata")
        return cls(
            vocab={t: i for i, t in enumerate(terms)},
            weights=weights,
            idf=arrays[f"{prefix}.idf"],
            row_entry=arrays[f"{prefix}.row_entry"],
            n_entries=int(meta[0]),
            unknown_idf=float(meta[1]),
        )

    def terms(self) -> list[str]:
        """Vocabulary as a list ordered by matrix row."""
        out = [""] * len(self.vocab)
        for t, i in self.vocab.items():
            out[i] = t
        return out
