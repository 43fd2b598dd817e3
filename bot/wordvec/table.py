"""The word vector table the FAQ ranking reads: one ``.npz`` file written by :mod:`bot.wordvec.fetch`.

Layout (``numpy.savez``, no pickles): ``keys`` (uint64, sorted spaCy word hashes, see
:func:`bot.wordvec.spacy_vectors.spacy_hash`), ``rows`` (uint32, vector row of each key), ``vectors``
(float16, unit length) and ``meta`` (a JSON string: format, source, dims, licence). Words are looked up by
hash with a binary search, so the table needs no word list in memory: about 17 MB loaded.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.wordvec.spacy_vectors import spacy_hash

log = logging.getLogger(__name__)

#: Version of the table file layout.
FORMAT = 1


@dataclass(frozen=True)
class WordVectors:
    """Unit word vectors looked up by word.

    Attributes:
        source: what the vectors are (``"chiVe via ja-ginza 5.3.0"``): an index built with one table is
            only ever queried with the same table.
        keys: sorted word hashes.
        rows: the vector row of each key.
        vectors: rows x dims, unit length, float32.
    """

    source: str
    keys: np.ndarray
    rows: np.ndarray
    vectors: np.ndarray

    @property
    def dims(self) -> int:
        """Number of dimensions."""
        return int(self.vectors.shape[1])

    @classmethod
    def from_words(cls, words: Mapping[str, Iterable[float]], source: str = "test") -> WordVectors:
        """A table from ``word -> vector`` (tests and small experiments); vectors are made unit length."""
        if not words:
            raise ValueError("a word vector table needs at least one word")
        keys = np.array([spacy_hash(w) for w in words], dtype=np.uint64)
        matrix = np.array([list(v) for v in words.values()], dtype=np.float32)
        order = np.argsort(keys, kind="stable")
        return cls(source, keys[order], order.astype(np.uint32), unit_rows(matrix))

    @classmethod
    def load(cls, path: str | Path) -> WordVectors:
        """Reads a table file.

        Raises:
            FileNotFoundError: no file there.
            ValueError: not a table of this format.
        """
        with np.load(Path(path), allow_pickle=False) as npz:
            try:
                meta = json.loads(str(npz["meta"]))
                keys, rows, vectors = npz["keys"], npz["rows"], npz["vectors"]
            except KeyError as exc:
                raise ValueError(f"{path}: not a word vector table ({exc})") from None
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: word vector table format {meta.get('format')!r}, expected {FORMAT}")
        if len(keys) != len(rows) or vectors.ndim != 2 or (len(rows) and rows.max() >= len(vectors)):
            raise ValueError(f"{path}: inconsistent word vector table")
        return cls(str(meta["source"]), keys, rows, vectors.astype(np.float32))

    def save(self, path: str | Path, extra_meta: Mapping[str, object] | None = None) -> None:
        """Writes the table (float16 vectors) to ``path`` atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "source": self.source, "dims": self.dims, **(extra_meta or {})}
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:
            np.savez(
                f,
                keys=self.keys,
                rows=self.rows,
                vectors=self.vectors.astype(np.float16),
                meta=np.array(json.dumps(meta, ensure_ascii=False)),
            )
        tmp.replace(path)

    def row(self, word: str) -> int | None:
        """The vector row of a word, or None when the table does not know it."""
        return _row(self, word)

    def __contains__(self, word: str) -> bool:
        return self.row(word) is not None

    def vector(self, word: str) -> np.ndarray | None:
        """The unit vector of a word (None when unknown)."""
        r = self.row(word)
        return None if r is None else self.vectors[r]

    def mean(self, words: Iterable[str], weights: Mapping[str, float] | None = None, default: float = 1.0):
        """Weighted mean of the unit vectors of the known words (each occurrence counts).

        Args:
            words: the words (unknown ones are skipped).
            weights: word -> weight (e.g. idf); words not in it weigh ``default``.
            default: weight of a word missing from ``weights``.

        Returns:
            The mean vector (not unit length), or None when no word is known.
        """
        acc, total = self.weighted_sum(words, weights, default)
        return acc / total if total > 0 else None

    def weighted_sum(
        self, words: Iterable[str], weights: Mapping[str, float] | None = None, default: float = 1.0
    ) -> tuple[np.ndarray, float]:
        """(sum of weight x unit vector, sum of weights) over the known words; see :meth:`mean`.

        Sums of parts add up to the sum of the whole, so a text's mean can be had from its pieces'.
        """
        acc = np.zeros(self.dims, dtype=np.float32)
        total = 0.0
        for w in words:
            r = self.row(w)
            if r is None:
                continue
            weight = default if weights is None else weights.get(w, default)
            acc += weight * self.vectors[r]
            total += weight
        return acc, total


def _row(table: WordVectors, word: str) -> int | None:
    key = np.uint64(_cached_hash(word))
    i = int(np.searchsorted(table.keys, key))
    if i < len(table.keys) and table.keys[i] == key:
        return int(table.rows[i])
    return None


@functools.lru_cache(maxsize=65536)
def _cached_hash(word: str) -> int:
    return spacy_hash(word)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32 (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


_loaded: dict[Path, WordVectors | None] = {}
_lock = threading.Lock()


def default_path() -> Path:
    """Where the table is: ``$MADOGUCHI_WORDVEC``, else ``models/wordvec/`` of the installation."""
    from bot import settings

    return settings.load().wordvec_path


def load_default(path: str | Path | None = None) -> WordVectors | None:
    """The table at ``path`` (default :func:`default_path`), loaded once per process.

    Returns:
        The table, or None (logged once) when the file is missing or unreadable: the FAQ ranking then
        works without vectors, less well; ``make wordvec`` creates the file.
    """
    path = Path(path) if path is not None else default_path()
    with _lock:
        if path not in _loaded:
            try:
                _loaded[path] = WordVectors.load(path)
            except FileNotFoundError:
                log.warning("no word vector table at %s (run `make wordvec`): FAQ ranking without it", path)
                _loaded[path] = None
            except (OSError, ValueError) as exc:
                log.warning("word vector table %s unreadable (%s): FAQ ranking without it", path, exc)
                _loaded[path] = None
        return _loaded[path]
