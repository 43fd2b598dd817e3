"""A multinomial logistic regression over sentence vectors, fitted with scikit-learn, applied in numpy.

Stored as plain arrays (``to_arrays`` / ``from_arrays``) so a trained model can live inside the Rasa
model or a cache file without pickles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class LinearClassifier:
    """Standardised features, then softmax(x @ coef.T + intercept)."""

    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: Sequence[str], c: float, seed: int = 42) -> LinearClassifier:
        """Fits on ``vectors`` (n, dim) with ``labels``; classes weighted to balance (recall of rare ones)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(vectors)
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
        model.fit(scaler.transform(vectors), list(labels))
        coef, intercept = model.coef_, model.intercept_
        if coef.shape[0] == 1:  # two classes: sigmoid(z) = softmax([0, z])
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([[0.0], intercept])
        return cls(
            tuple(str(x) for x in model.classes_),
            scaler.mean_.astype(np.float32),
            scaler.scale_.astype(np.float32),
            coef.astype(np.float32),
            intercept.astype(np.float32),
        )

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities for (n, dim) vectors (or (classes,) for one vector)."""
        x = (np.asarray(vectors, dtype=np.float32) - self.mean) / self.scale
        logits = x @ self.coef.T + self.intercept
        logits = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=-1, keepdims=True)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The classifier as named arrays (for ``np.savez``)."""
        return {
            "classes": np.array(self.classes),
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
        }

    @classmethod
    def from_arrays(cls, arrays) -> LinearClassifier:
        """Inverse of :meth:`to_arrays`."""
        return cls(
            tuple(str(x) for x in arrays["classes"]),
            *(np.asarray(arrays[k], dtype=np.float32) for k in ("mean", "scale", "coef", "intercept")),
        )
