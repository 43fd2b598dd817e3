"""The crisis classifier: a logistic regression blended with the nearest example sentences.

The logistic regression (:class:`bot.understanding.linear.LinearClassifier`) draws one straight border per
class through the whole vector space; with a few hundred crisis examples among a thousand ordinary ones it
is pulled towards the common wording and gives the rarer kinds the wrong class (a child who swallowed
something read as abuse because "a child" dominates the abuse examples). The nearest neighbours keep each
example's own pull: the ``k`` training sentences most similar to the message vote with weights
``exp((cos - cos_best) / temperature)``. The two distributions are averaged with ``weight`` on the
regression. Both are plain arrays (no pickle), stored in the trained model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from bot.understanding.linear import LinearClassifier


@dataclass(frozen=True)
class NeighbourBlend:
    """``weight`` x the regression's probabilities + (1 - ``weight``) x the neighbours' vote."""

    linear: LinearClassifier
    #: (n, dim) L2-normalised vectors of the training sentences.
    vectors: np.ndarray
    #: (n,) index into ``linear.classes`` of each training sentence's label.
    labels: np.ndarray
    k: int
    temperature: float
    weight: float
    #: (m, dim) the kana readings of training sentences (:func:`bot.text.kana_reading`) and (m,) their
    #: labels: they vote only in ``judge(..., readings=True)`` (a message written in kana only), never in
    #: a plain :meth:`judge`. Empty for a model trained before them.
    reading_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    reading_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        labels: Sequence[str],
        c: float,
        *,
        k: int,
        temperature: float,
        weight: float,
        neighbours_only: tuple[np.ndarray, Sequence[str]] | None = None,
        readings: tuple[np.ndarray, Sequence[str]] | None = None,
    ) -> NeighbourBlend:
        """Fits the regression on ``vectors`` / ``labels`` and keeps them as the neighbours, with the
        ``neighbours_only`` (vectors, labels of classes the regression knows), which join the vote only,
        and the ``readings`` (the same), which join it only when :meth:`judge` is asked ``readings``."""
        if k < 1 or temperature <= 0 or not 0.0 <= weight <= 1.0:
            raise ValueError(f"bad blend settings: k={k}, temperature={temperature}, weight={weight}")
        # kept as stored (float16), so that a trained model judges exactly as the detector that was measured
        vectors = np.asarray(vectors, dtype=np.float16).astype(np.float32)
        linear = LinearClassifier.fit(vectors, labels, c)
        index = {name: i for i, name in enumerate(linear.classes)}
        if neighbours_only is not None and len(neighbours_only[1]):
            extra = np.asarray(neighbours_only[0], dtype=np.float16).astype(np.float32)
            vectors, labels = np.vstack([vectors, extra]), [*labels, *neighbours_only[1]]
        read_vectors = np.zeros((0, vectors.shape[1]), dtype=np.float32)
        read_labels = np.zeros(0, dtype=np.int32)
        if readings is not None and len(readings[1]):
            read_vectors = np.asarray(readings[0], dtype=np.float16).astype(np.float32)
            read_labels = np.array([index[label] for label in readings[1]], dtype=np.int32)
        return cls(
            linear,
            vectors,
            np.array([index[label] for label in labels], dtype=np.int32),
            int(k),
            float(temperature),
            float(weight),
            read_vectors,
            read_labels,
        )

    @property
    def has_readings(self) -> bool:
        """Whether kana readings were trained in (``judge(..., readings=True)`` differs from
        :meth:`judge`)."""
        return len(self.reading_labels) > 0

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names (as the regression's)."""
        return self.linear.classes

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities for (n, dim) vectors (or (classes,) for one vector)."""
        x = np.asarray(vectors, dtype=np.float32)
        blended, _ = self.judge(x.reshape(-1, self.vectors.shape[1]))
        return blended[0] if x.ndim == 1 else blended

    def judge(self, vectors: np.ndarray, readings: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(blended probabilities, the neighbours' vote), each (n, classes): the vote computed once
        (``readings``: the kana readings of the training sentences vote too, see :meth:`vote`)."""
        x = np.asarray(vectors, dtype=np.float32).reshape(-1, self.vectors.shape[1])
        vote = self.vote(x, readings=readings)
        return self.weight * self.linear.probabilities(x) + (1.0 - self.weight) * vote, vote

    def vote(self, x: np.ndarray, readings: bool = False) -> np.ndarray:
        """(n, classes) the nearest training sentences' similarity-weighted vote (``readings``: their kana
        readings among them)."""
        similarity = x @ self.vectors.T
        labels = self.labels
        if readings and self.has_readings:
            similarity = np.hstack([similarity, x @ self.reading_vectors.T])
            labels = np.concatenate([labels, self.reading_labels])
        k = min(self.k, similarity.shape[1])
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        cos = np.take_along_axis(similarity, nearest, axis=1)
        weights = np.exp((cos - cos.max(axis=1, keepdims=True)) / self.temperature)
        votes = np.zeros((x.shape[0], len(self.classes)), dtype=np.float32)
        np.add.at(votes, (np.arange(x.shape[0])[:, None], labels[nearest]), weights)
        return votes / votes.sum(axis=1, keepdims=True)

    def margin(self, x: np.ndarray, ordinary: str) -> np.ndarray:
        """(n,) how much nearer each vector is to its nearest crisis example than to its nearest example
        of ``ordinary`` (cosine; negative: an ordinary sentence is nearer than any crisis one)."""
        x = np.asarray(x, dtype=np.float32).reshape(-1, self.vectors.shape[1])
        similarity = x @ self.vectors.T
        is_ordinary = self.labels == self.classes.index(ordinary)
        crisis = np.where(is_ordinary, -np.inf, similarity).max(axis=1)
        plain = np.where(is_ordinary, similarity, -np.inf).max(axis=1)
        return crisis - plain

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The classifier as named arrays (for ``np.savez``)."""
        return {
            **self.linear.to_arrays(),
            "neighbour_vectors": self.vectors.astype(np.float16),
            "neighbour_labels": self.labels,
            "blend": np.array([self.k, self.temperature, self.weight], dtype=np.float64),
            "reading_vectors": self.reading_vectors.astype(np.float16),
            "reading_labels": self.reading_labels,
        }

    @classmethod
    def from_arrays(cls, arrays) -> NeighbourBlend:
        """Inverse of :meth:`to_arrays`."""
        k, temperature, weight = (float(v) for v in arrays["blend"])
        vectors = np.asarray(arrays["neighbour_vectors"], dtype=np.float32)
        names = getattr(arrays, "files", arrays)
        if "reading_vectors" in names:  # a model trained before the readings has none
            read_vectors = np.asarray(arrays["reading_vectors"], dtype=np.float32)
            read_vectors = read_vectors.reshape(-1, vectors.shape[1])
            read_labels = np.asarray(arrays["reading_labels"], dtype=np.int32)
        else:
            read_vectors = np.zeros((0, vectors.shape[1]), dtype=np.float32)
            read_labels = np.zeros(0, dtype=np.int32)
        return cls(
            LinearClassifier.from_arrays(arrays),
            vectors,
            np.asarray(arrays["neighbour_labels"], dtype=np.int32),
            int(k),
            temperature,
            weight,
            read_vectors,
            read_labels,
        )
