"""Reads the word vector table of a spaCy pipeline package (a wheel) without installing spaCy.

spaCy keeps vectors as ``vocab/vectors`` (a NumPy array, one row per distinct vector) and
``vocab/key2row`` (msgpack: 64-bit word hash -> row). The hash of a word is MurmurHash64A of its UTF-8
bytes with seed 1 (``spacy.strings.hash_string``), reimplemented in :func:`spacy_hash` because the
``murmurhash`` package exposes only the 32-bit variant to Python.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import msgpack
import numpy as np

_M = 0xC6A4A7935BD1E995
_R = 47
_MASK = (1 << 64) - 1
_SEED = 1


def spacy_hash(word: str) -> int:
    """spaCy's 64-bit hash of a string (MurmurHash64A, seed 1); ``spacy_hash("coffee")`` is
    3197928453018144401, the value spaCy's documentation shows."""
    data = word.encode("utf-8")
    n = len(data)
    h = (_SEED ^ (n * _M)) & _MASK
    end = n - n % 8
    for i in range(0, end, 8):
        k = (int.from_bytes(data[i : i + 8], "little") * _M) & _MASK
        k ^= k >> _R
        h ^= (k * _M) & _MASK
        h = (h * _M) & _MASK
    if n % 8:
        h ^= int.from_bytes(data[end:], "little")
        h = (h * _M) & _MASK
    h ^= h >> _R
    h = (h * _M) & _MASK
    h ^= h >> _R
    return h


@dataclass(frozen=True)
class SpacyVectors:
    """A spaCy vector table: sorted word hashes, the row of each, and the rows.

    Attributes:
        keys: word hashes (uint64), sorted ascending.
        rows: the vector row of each key (same order).
        vectors: rows x dims, as stored.
        package: the pipeline directory the table came from (``ja_ginza/ja_ginza-5.3.0``).
    """

    keys: np.ndarray
    rows: np.ndarray
    vectors: np.ndarray
    package: str


class VectorSourceError(ValueError):
    """The file is not a spaCy pipeline wheel with a usable vector table."""


def read_wheel(path: str | Path) -> SpacyVectors:
    """Reads the vector table of the (single) pipeline inside a spaCy model wheel.

    Raises:
        VectorSourceError: no or several vector tables, or tables that do not fit together.
    """
    with zipfile.ZipFile(path) as wheel:
        names = [n for n in wheel.namelist() if n.endswith("/vocab/key2row")]
        if len(names) != 1:
            raise VectorSourceError(f"{path}: expected one vocab/key2row, found {len(names)}")
        vocab = names[0][: -len("key2row")]
        key2row = msgpack.unpackb(wheel.read(vocab + "key2row"), strict_map_key=False)
        vectors = np.load(io.BytesIO(wheel.read(vocab + "vectors")), allow_pickle=False)
    if vectors.ndim != 2 or not len(key2row):
        raise VectorSourceError(f"{path}: empty or malformed vector table")
    keys = np.fromiter(key2row.keys(), dtype=np.uint64, count=len(key2row))
    rows = np.fromiter(key2row.values(), dtype=np.int64, count=len(key2row))
    if rows.min() < 0 or rows.max() >= len(vectors):
        raise VectorSourceError(f"{path}: key2row points outside the {len(vectors)} vectors")
    order = np.argsort(keys, kind="stable")
    return SpacyVectors(keys[order], rows[order], vectors, vocab.rstrip("/").removesuffix("/vocab"))
