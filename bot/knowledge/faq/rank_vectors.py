"""Word-vector field of the FAQ ranking: meaning from static Japanese word vectors (:mod:`bot.wordvec`).

An entry and a question are each the idf-weighted mean of their words' unit vectors (``lem`` words:
Sudachi mode-A normalized forms, the forms chiVe was trained on), minus the mean over the FAQ's entries
(centering, so that what every municipal text shares — 市, 手続き, 申請 — does not make everything look
alike). The field's score for an entry is the mean of two cosines: the question to the entry's best
question variant, and the question to its answer. 保育園 meets 保育所, 引っ越し meets 転居, 捨てる meets
処分 even when the entry shares only some of the question's words.

idf comes from the FAQ itself (``log((n + 1) / (df + 0.5))`` over entries); a word the FAQ does not use
weighs the largest idf. Nothing is learned from residents' questions.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from bot.knowledge.faq.rank_latent import DISK_DTYPE, rounded
from bot.wordvec.table import WordVectors, unit_rows


@dataclass
class VectorField:
    """Entries as centered mean word vectors.

    Attributes:
        source: the word vector table's ``source``; queries must be embedded with the same table.
        idf: FAQ word -> idf (the weights of the means).
        default_idf: weight of a word the FAQ does not contain.
        center: the mean entry vector subtracted from every vector.
        question_vectors: one unit row per question variant (zero when it has no known word).
        question_entry: the entry of each question row.
        answer_vectors: one unit row per entry.
    """

    source: str
    idf: dict[str, float]
    default_idf: float
    center: np.ndarray
    question_vectors: np.ndarray
    question_entry: np.ndarray
    answer_vectors: np.ndarray

    @classmethod
    def build(
        cls,
        questions: list[list[str]],
        question_entry: list[int],
        answers: list[list[str]],
        table: WordVectors,
    ) -> VectorField | None:
        """Embeds every question variant and answer.

        Args:
            questions: the words of each question variant (question and paraphrases).
            question_entry: the entry index of each variant.
            answers: the words of each entry's answer, one list per entry, in index order.
            table: the word vectors.

        Returns:
            The field, or None when the table knows no word of the FAQ.
        """
        n = len(answers)
        words: list[set[str]] = [set(a) for a in answers]
        for q, e in zip(questions, question_entry, strict=True):
            words[e].update(q)
        df = Counter(w for ws in words for w in ws)
        idf = {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}
        default_idf = math.log(n + 1)
        q_sums = [table.weighted_sum(q, idf, default_idf) for q in questions]
        a_sums = [table.weighted_sum(a, idf, default_idf) for a in answers]
        # an entry's whole text (answer + every question variant): the sum of its parts' sums
        whole_acc = [acc.copy() for acc, _ in a_sums]
        whole_total = [total for _, total in a_sums]
        for (acc, total), e in zip(q_sums, question_entry, strict=True):
            whole_acc[e] += acc
            whole_total[e] += total
        known = [acc / total for acc, total in zip(whole_acc, whole_total, strict=True) if total > 0]
        if not known:
            return None
        center = np.mean(known, axis=0).astype(np.float32)

        def centered_rows(sums: list[tuple[np.ndarray, float]]) -> np.ndarray:
            rows = np.zeros((len(sums), table.dims), dtype=np.float32)
            for i, (acc, total) in enumerate(sums):
                if total > 0:
                    rows[i] = acc / total - center
            return rounded(unit_rows(rows))

        return cls(
            source=table.source,
            idf=idf,
            default_idf=default_idf,
            center=center,
            question_vectors=centered_rows(q_sums),
            question_entry=np.asarray(question_entry, dtype=np.int32),
            answer_vectors=centered_rows(a_sums),
        )

    @property
    def n_entries(self) -> int:
        """Number of entries."""
        return len(self.answer_vectors)

    def query_vector(self, terms: list[str], table: WordVectors) -> np.ndarray | None:
        """Unit centered vector of a question's words (None when the table knows none)."""
        m = table.mean(terms, self.idf, self.default_idf)
        if m is None:
            return None
        v = m - self.center
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else None

    def scores(self, terms: list[str], table: WordVectors) -> np.ndarray:
        """Per entry: (cosine to the best question variant + cosine to the answer) / 2, in [-1, 1]."""
        v = self.query_vector(terms, table)
        if v is None:
            return np.zeros(self.n_entries, dtype=np.float32)
        best_q = np.full(self.n_entries, -1.0, dtype=np.float32)
        np.maximum.at(best_q, self.question_entry, self.question_vectors @ v)
        best_q[best_q == -1.0] = 0.0  # an entry without a question row
        return ((best_q + self.answer_vectors @ v) / 2).astype(np.float32)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Arrays for ``numpy.savez`` (the idf words are kept apart, as JSON)."""
        return {
            f"{prefix}.idf": np.array(list(self.idf.values()), dtype=np.float32),
            f"{prefix}.center": self.center,
            f"{prefix}.questions": self.question_vectors.astype(DISK_DTYPE),
            f"{prefix}.question_entry": self.question_entry,
            f"{prefix}.answers": self.answer_vectors.astype(DISK_DTYPE),
        }

    def words(self) -> list[str]:
        """The idf words, in the order of the ``idf`` array."""
        return list(self.idf)

    @classmethod
    def from_arrays(
        cls, prefix: str, arrays, words: list[str], source: str, default_idf: float
    ) -> VectorField:
        """Rebuilds a field saved with :meth:`to_arrays`.

        Raises:
            ValueError: the arrays do not fit together.
        """
        idf = arrays[f"{prefix}.idf"]
        qv, qe, av = (
            arrays[f"{prefix}.questions"],
            arrays[f"{prefix}.question_entry"],
            arrays[f"{prefix}.answers"],
        )
        center = arrays[f"{prefix}.center"]
        if len(words) != len(idf) or len(qv) != len(qe) or qv.shape[1:] != av.shape[1:] != center.shape:
            raise ValueError(f"vector field {prefix}: inconsistent arrays")
        if len(qe) and (qe.min() < 0 or qe.max() >= len(av)):
            raise ValueError(f"vector field {prefix}: question rows point outside the entries")
        return cls(
            source=source,
            idf={w: float(x) for w, x in zip(words, idf, strict=True)},
            default_idf=default_idf,
            center=center.astype(np.float32),
            question_vectors=qv.astype(np.float32),
            question_entry=qe.astype(np.int32),
            answer_vectors=av.astype(np.float32),
        )
