"""Latent semantic field of the FAQ ranking, learned from the city's own FAQ when it is imported.

Words that answer the same questions occur in the same FAQ entries (転入 beside 住民票, 異動, 届出 …). A
truncated singular value decomposition of the entries' tf-idf matrix (latent semantic analysis) maps
words and entries into a few hundred dimensions in which an entry sits near a question that shares few of
its words but many of its neighbours. Nothing is learned from residents' questions: only the FAQ text
(questions, paraphrases and answers) goes into the decomposition, at import time.

The decomposition is deterministic (exact up to rounding): the eigenvectors of the entries' Gram matrix
(entries x entries, dense) for bases up to :data:`GRAM_LIMIT` entries, ARPACK (``scipy.sparse.linalg.svds``,
fixed start vector) above that.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse

#: Up to this many entries the decomposition goes through the dense Gram matrix (exact, a few seconds).
GRAM_LIMIT = 4000
#: Vectors (of this field and of rank_vectors) are kept at half precision on disk (cosines move by < 0.001;
#: an index of 2,000 entries and 600 dimensions stays near 11 MB); in memory they are float32 rounded the
#: same way, so a loaded index ranks exactly like the one that was built.
DISK_DTYPE = np.float16
#: Singular values below this share of the largest are noise and are dropped.
_RELATIVE_EPS = 1e-6


def _tf_matrix(docs: list[list[str]], vocab: dict[str, int]) -> sparse.csr_matrix:
    """Sublinear term frequencies (1 + log tf), documents x terms; unknown terms are skipped."""
    rows, cols, vals = [], [], []
    for r, tokens in enumerate(docs):
        for term, tf in Counter(tokens).items():
            j = vocab.get(term)
            if j is not None:
                rows.append(r)
                cols.append(j)
                vals.append(1.0 + math.log(tf))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(vocab)), dtype=np.float64)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    return matrix / norms[:, None]


def rounded(matrix: np.ndarray) -> np.ndarray:
    """float32 copy holding exactly the values that the on-disk half precision keeps."""
    return matrix.astype(DISK_DTYPE).astype(np.float32)


def _decompose(x: sparse.csr_matrix, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``dims`` left singular vectors and singular values of x (largest first)."""
    n = x.shape[0]
    if n <= GRAM_LIMIT:
        gram = (x @ x.T).toarray()
        values, vectors = linalg.eigh(gram, subset_by_index=[n - dims, n - 1])
        values = np.sqrt(np.clip(values[::-1], 0.0, None))
        return vectors[:, ::-1], values
    from scipy.sparse.linalg import svds

    v0 = np.full(min(x.shape), 1.0 / math.sqrt(min(x.shape)))
    u, s, _ = svds(x.tocsc(), k=dims, v0=v0)
    order = np.argsort(-s)
    return u[:, order], s[order]


@dataclass
class LatentField:
    """Words and FAQ entries as vectors of one latent space.

    Attributes:
        vocab: term -> row of ``term_vectors``.
        idf: idf of every term (smoothed: ``log((1 + n) / (1 + df)) + 1``).
        term_vectors: terms x dims; a query's vector is the tf-idf weighted sum of its terms' rows.
        entry_vectors: entries x dims, unit length (zero for an entry without words).
    """

    vocab: dict[str, int]
    idf: np.ndarray
    term_vectors: np.ndarray
    entry_vectors: np.ndarray

    @property
    def dims(self) -> int:
        """Number of latent dimensions."""
        return int(self.entry_vectors.shape[1])

    @classmethod
    def build(cls, docs: list[list[str]], dims: int) -> LatentField | None:
        """Decomposes the entries' words.

        Args:
            docs: the words of every FAQ entry (question, paraphrases and answer together), one list
                per entry, in index order.
            dims: wanted number of dimensions (fewer when the FAQ is small).

        Returns:
            The field, or None when the FAQ has too few entries or words for even one dimension.
        """
        vocab: dict[str, int] = {}
        for tokens in docs:
            for term in tokens:
                vocab.setdefault(term, len(vocab))
        dims = min(dims, len(docs) - 1, len(vocab) - 1)
        if dims < 1:
            return None
        tf = _tf_matrix(docs, vocab)
        df = np.bincount(tf.indices, minlength=len(vocab))
        idf = np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0
        x = tf @ sparse.diags(idf)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        x = sparse.diags(1.0 / norms) @ x
        u, s = _decompose(x.tocsr(), dims)
        keep = s > _RELATIVE_EPS * (s[0] if len(s) else 0.0)
        if not keep.any():
            return None
        u, s = u[:, keep], s[keep]
        # Fold-in: a document's coordinates are x @ V = U * S, with V = X^T U / S.
        term_vectors = np.asarray((x.T @ u) / s[None, :])
        return cls(
            vocab=vocab,
            idf=idf.astype(np.float32),
            term_vectors=rounded(term_vectors),
            entry_vectors=rounded(_unit_rows(u * s[None, :])),
        )

    def query_vector(self, terms: list[str]) -> np.ndarray | None:
        """Unit latent vector of a query's words (None when it knows none of them)."""
        counts = Counter(t for t in terms if t in self.vocab)
        if not counts:
            return None
        ids = [self.vocab[t] for t in counts]
        weights = np.array(
            [(1.0 + math.log(c)) * self.idf[i] for i, c in zip(ids, counts.values(), strict=True)]
        )
        z = weights.astype(np.float32) @ self.term_vectors[ids]
        norm = float(np.linalg.norm(z))
        return z / norm if norm > 0 else None

    def scores(self, terms: list[str]) -> np.ndarray:
        """Cosine between the query and every entry, negative values cut to 0."""
        z = self.query_vector(terms)
        if z is None:
            return np.zeros(len(self.entry_vectors), dtype=np.float32)
        return np.maximum(self.entry_vectors @ z, 0.0).astype(np.float32)

    def terms(self) -> list[str]:
        """Vocabulary as a list ordered by row."""
        out = [""] * len(self.vocab)
        for t, i in self.vocab.items():
            out[i] = t
        return out

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Arrays for ``numpy.savez`` (the vocabulary is kept apart, as JSON)."""
        return {
            f"{prefix}.idf": self.idf,
            f"{prefix}.terms": self.term_vectors.astype(DISK_DTYPE),
            f"{prefix}.entries": self.entry_vectors.astype(DISK_DTYPE),
        }

    @classmethod
    def from_arrays(cls, prefix: str, arrays, terms: list[str]) -> LatentField:
        """Rebuilds a field saved with :meth:`to_arrays`.

        Raises:
            ValueError: the arrays do not fit together.
        """
        idf, tv, ev = arrays[f"{prefix}.idf"], arrays[f"{prefix}.terms"], arrays[f"{prefix}.entries"]
        if not (len(terms) == len(idf) == tv.shape[0]) or tv.shape[1] != ev.shape[1]:
            raise ValueError(f"latent field {prefix}: inconsistent arrays")
        return cls(
            vocab={t: i for i, t in enumerate(terms)},
            idf=idf,
            term_vectors=tv.astype(np.float32),
            entry_vectors=ev.astype(np.float32),
        )
