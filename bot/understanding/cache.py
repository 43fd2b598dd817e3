"""Embeddings of known texts (catalog, life events, examples), cached on disk under content hashes.

A set of texts is stored under the SHA-256 of the model id, the prefix kind and the texts in order: an
unchanged set is read back in milliseconds. Each text's vector is also kept in a per-model pool keyed by
the hash of that text, so an edit by staff (one alias more) embeds only the new texts. Files are written
atomically (temporary file + ``os.replace``): processes that race only duplicate work.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np


def content_key(model_id: str, kind: str, texts: Sequence[str]) -> str:
    """The cache key of ``texts`` embedded by ``model_id`` with prefix ``kind`` ("query"/"passage")."""
    digest = hashlib.sha256()
    for part in (model_id, kind, *texts):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def embed_cached(encoder, texts: Sequence[str], cache_dir: Path | None, kind: str = "query") -> np.ndarray:
    """``(len(texts), dim)`` vectors of ``texts``, from ``cache_dir`` when they were embedded before.

    Args:
        encoder: an object with ``model_id``, ``dim``, ``query(list)`` and ``passage(list)``.
        cache_dir: where cached vectors live (None: no cache).
        kind: ``"query"`` or ``"passage"``.
    """
    texts = list(texts)
    if not texts:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    embed = getattr(encoder, kind)
    if cache_dir is None:
        return _as_matrix(embed(texts), len(texts), encoder.dim)
    cache_dir = Path(cache_dir)
    path = cache_dir / f"{content_key(encoder.model_id, kind, texts)}.npy"
    cached = _read(path, len(texts), encoder.dim)
    if cached is not None:
        return cached
    pool_path = cache_dir / f"pool-{content_key(encoder.model_id, kind, [])[:16]}.npz"
    pool = _read_pool(pool_path, encoder.dim)
    keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in pool))
    if missing:
        fresh = _as_matrix(embed(missing), len(missing), encoder.dim)
        pool.update(
            (hashlib.sha256(t.encode("utf-8")).hexdigest(), v) for t, v in zip(missing, fresh, strict=True)
        )
        _write_pool(pool_path, pool)
    vectors = np.stack([pool[k] for k in keys]).astype(np.float32)
    _write(path, vectors)
    return vectors


def _as_matrix(vectors, rows: int, dim: int) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).reshape(rows, dim)


def _read(path: Path, rows: int, dim: int) -> np.ndarray | None:
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return vectors if vectors.shape == (rows, dim) and vectors.dtype == np.float32 else None


def _read_pool(path: Path, dim: int) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, vectors = data["keys"], data["vectors"]
    except (OSError, ValueError, KeyError):
        return {}
    if vectors.ndim != 2 or vectors.shape[1] != dim or len(keys) != len(vectors):
        return {}
    return {str(k): v for k, v in zip(keys, vectors.astype(np.float32), strict=True)}


def _write_pool(path: Path, pool: dict[str, np.ndarray]) -> None:
    keys = list(pool)
    _atomic(
        path, ".npz", lambda h: np.savez(h, keys=np.array(keys), vectors=np.stack([pool[k] for k in keys]))
    )


def _write(path: Path, vectors: np.ndarray) -> None:
    _atomic(path, ".npy", lambda h: np.save(h, vectors, allow_pickle=False))


def _atomic(path: Path, suffix: str, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".emb-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
