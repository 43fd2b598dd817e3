"""Sentence-embedding field of the FAQ ranking: multilingual-e5-small (:mod:`bot.understanding.encoder`).

At import (index build) every question variant (question and paraphrases) and the opening of every answer
is embedded once; the vectors are saved with the index, so a staff edit is searchable as soon as it is
published, with nothing retrained and nothing downloaded. At search time only the resident's question is
embedded (``query: `` prefix, one call of the process's one encoder, the same instance the NLU's crisis
detector uses).

An entry's similarity is its best question variant's cosine to the question, or (``answer_share`` > 0)
that mixed with its answer opening's cosine. Unlike the latent and word-vector fields this one is *not*
gated by the words the entry shares with the question: a paraphrase that shares no content word can
still be found. e5 cosines crowd into a narrow band (a question scores about 0.82 against a typical
entry, with a spread of 0.02 over the entries; paraphrases 0.9 and up), and some questions are close to
everything, so :func:`fuse` adds ``weight`` x how far the entry stands out among the FAQ's entries for
this question (:func:`standardized`: its z-score above ``z0``, over :data:`Z_SPAN`) to the lexical score.
Settings were chosen on the tune half of the benchmark (``bench/README.md``, fifth round).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from bot.knowledge.faq.rank_latent import DISK_DTYPE, rounded

#: e5 prefixes: ``query`` for short texts compared with a question, ``passage`` for documents.
KINDS = ("query", "passage")
#: A z-score this far above the threshold adds the field's full weight (scale of :func:`standardized`).
Z_SPAN = 3.0
#: Typical e5 similarity of a question to an FAQ entry and its spread over a FAQ's entries, measured on
#: the shipped FAQ (``data/faq/sample_faq.csv``: its 368 paraphrases against its 164 entries, mean of the
#: question and answer-opening cosines): mean 0.8195, standard deviation over the entries 0.018.
PRIOR_MEAN = 0.82
PRIOR_STD = 0.018
#: How many typical entries the prior weighs as (negligible for a city FAQ of hundreds of entries).
PRIOR_ENTRIES = 30


class Encoder(Protocol):
    """What the field needs from a sentence encoder (``bot.understanding.encoder.E5Encoder``)."""

    model_id: str
    dim: int

    def query(self, texts): ...

    def passage(self, texts): ...


def standardized(cosine: np.ndarray, z0: float) -> np.ndarray:
    """How far each entry's cosine stands out among this FAQ's entries for this question, in ``[0, ...)``:
    ``max(0, z - z0) / Z_SPAN`` with ``z`` the cosine's z-score over the FAQ's entries.

    The mean and spread are shrunk towards :data:`PRIOR_MEAN` / :data:`PRIOR_STD` as if the FAQ had
    :data:`PRIOR_ENTRIES` more entries of typical similarity, so that a small FAQ (a handful of entries,
    where a z-score says nothing) is judged against e5's usual band instead.
    """
    c = np.asarray(cosine, dtype=np.float64)
    n, k = len(c), PRIOR_ENTRIES
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    mean = (c.sum() + k * PRIOR_MEAN) / (n + k)
    var = (((c - mean) ** 2).sum() + k * (PRIOR_STD**2 + (PRIOR_MEAN - mean) ** 2)) / (n + k)
    z = (c - mean) / np.sqrt(var)
    return (np.maximum(0.0, z - z0) / Z_SPAN).astype(np.float32)


def fuse(lexical: np.ndarray, cosine: np.ndarray, weight: float, z0: float) -> np.ndarray:
    """The hybrid score: ``lexical + weight x standardized(cosine, z0)`` for every entry.

    ``lexical`` is the rest of the ranking's score (BM25 fields, latent and word-vector fields; 0 for an
    entry that shares no word). An entry that shares no word is a candidate when its cosine stands out
    by more than ``z0``; ``weight`` 0 leaves the lexical ranking as it is.
    """
    lexical = np.asarray(lexical, dtype=np.float32)
    if weight == 0 or len(lexical) == 0:
        return lexical
    return (lexical + weight * standardized(cosine, z0)).astype(np.float32)


@dataclass
class DenseField:
    """Question variants and answer openings of every entry as e5 vectors.

    Attributes:
        model_id: the encoder's model id; questions must be embedded by the same model.
        question_vectors: one unit row per question variant.
        question_entry: the entry of each question row.
        answer_vectors: one unit row per entry (zero for an empty answer); None when answers are not used.
        answer_share: weight of the answer's cosine in an entry's similarity (0 = questions only).
    """

    model_id: str
    question_vectors: np.ndarray
    question_entry: np.ndarray
    answer_vectors: np.ndarray | None
    answer_share: float = 0.0

    @classmethod
    def build(
        cls,
        questions: Sequence[str],
        question_entry: Sequence[int],
        answers: Sequence[str],
        encoder: Encoder,
        *,
        question_kind: str = "query",
        answer_chars: int = 0,
        answer_share: float = 0.0,
        cache_dir: Path | None = None,
    ) -> DenseField:
        """Embeds every question variant and (``answer_share`` > 0) the first ``answer_chars`` of each answer.

        Args:
            questions: the text of each question variant.
            question_entry: the entry index of each variant.
            answers: each entry's answer, one per entry, in index order.
            encoder: the sentence encoder.
            question_kind: e5 prefix of the question variants (``"query"`` or ``"passage"``).
            answer_chars: how much of an answer's opening is embedded (its cost grows with the length).
            answer_share: weight of the answer cosine in an entry's similarity.
            cache_dir: vectors already computed for the same texts are read from here (content hash),
                so a re-import embeds only new or edited texts.

        Raises:
            ValueError: an unknown ``question_kind``; ``question_entry`` does not fit the answers.
        """
        from bot.understanding.cache import embed_cached

        if question_kind not in KINDS:
            raise ValueError(f"unknown e5 prefix kind {question_kind!r}")
        if len(questions) != len(question_entry):
            raise ValueError("one entry index per question variant is needed")
        if len(question_entry) and (min(question_entry) < 0 or max(question_entry) >= len(answers)):
            raise ValueError("question rows point outside the entries")
        q = embed_cached(encoder, list(questions), cache_dir, question_kind)
        a = None
        if answer_share > 0:
            heads = [text[:answer_chars] if answer_chars > 0 else text for text in answers]
            a = np.zeros((len(answers), encoder.dim), dtype=np.float32)
            filled = [i for i, h in enumerate(heads) if h.strip()]
            if filled:
                a[filled] = embed_cached(encoder, [heads[i] for i in filled], cache_dir, "passage")
            a = rounded(a)
        return cls(
            model_id=encoder.model_id,
            question_vectors=rounded(np.asarray(q, dtype=np.float32).reshape(len(questions), encoder.dim)),
            question_entry=np.asarray(question_entry, dtype=np.int32),
            answer_vectors=a,
            answer_share=float(answer_share),
        )

    @property
    def n_entries(self) -> int:
        """Number of entries (the highest entry of a question row + 1 when answers are not kept)."""
        if self.answer_vectors is not None:
            return len(self.answer_vectors)
        return int(self.question_entry.max()) + 1 if len(self.question_entry) else 0

    def cosines(self, query_vector: np.ndarray, n_entries: int | None = None) -> np.ndarray:
        """Per entry: the best question variant's cosine, mixed with the answer's by ``answer_share``.

        Args:
            query_vector: the question's unit ``query`` embedding.
            n_entries: entries of the index (entries without a question row get the answer part only).
        """
        n = self.n_entries if n_entries is None else n_entries
        v = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        best = np.full(n, -1.0, dtype=np.float32)
        if len(self.question_entry):
            np.maximum.at(best, self.question_entry, self.question_vectors @ v)
        best[best == -1.0] = 0.0
        if self.answer_vectors is None or self.answer_share <= 0:
            return best
        share = self.answer_share
        return ((1.0 - share) * best + share * (self.answer_vectors @ v)).astype(np.float32)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Arrays for ``numpy.savez``."""
        arrays = {
            f"{prefix}.questions": self.question_vectors.astype(DISK_DTYPE),
            f"{prefix}.question_entry": self.question_entry,
        }
        if self.answer_vectors is not None:
            arrays[f"{prefix}.answers"] = self.answer_vectors.astype(DISK_DTYPE)
        return arrays

    @classmethod
    def from_arrays(cls, prefix: str, arrays, model_id: str, answer_share: float) -> DenseField:
        """Rebuilds a field saved with :meth:`to_arrays`.

        Raises:
            ValueError: the arrays do not fit together.
        """
        qv, qe = arrays[f"{prefix}.questions"], arrays[f"{prefix}.question_entry"]
        av = arrays.get(f"{prefix}.answers") if hasattr(arrays, "get") else None
        if qv.ndim != 2 or len(qv) != len(qe) or (av is not None and av.shape[1:] != qv.shape[1:]):
            raise ValueError(f"dense field {prefix}: inconsistent arrays")
        if len(qe) and (qe.min() < 0 or (av is not None and qe.max() >= len(av))):
            raise ValueError(f"dense field {prefix}: question rows point outside the entries")
        if answer_share > 0 and av is None:
            raise ValueError(f"dense field {prefix}: answer vectors missing")
        return cls(
            model_id=model_id,
            question_vectors=qv.astype(np.float32),
            question_entry=qe.astype(np.int32),
            answer_vectors=av.astype(np.float32) if av is not None else None,
            answer_share=float(answer_share),
        )
