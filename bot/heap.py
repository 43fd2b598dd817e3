"""The servers' long-lived heap out of the garbage collector's way (``gc.freeze`` after start-up).

Each server process loads a large heap at start-up (the Rasa process: the trained model, Rasa's graph,
SudachiPy's Python side, the crisis classifier; the action server: the catalog, the FAQ index, the
meaning index) and keeps it for its lifetime. CPython's full (generation 2) collections traverse every
tracked object each time, that heap included, although none of it ever becomes garbage. :func:`freeze`
collects once, then moves everything alive into the permanent generation, so later collections only
look at what the turns allocate. Called once per process, after the model or the knowledge is loaded.

Measured (2026-12-02, the trained model loaded in one process, 16 messages parsed): 510,908 objects
tracked; a full collection took 466 ms (on the event loop, whenever CPython's threshold for one is
reached: a pause for every request of the process), 0.0 ms once frozen (510,252 objects frozen).
"""

from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)


def freeze(what: str) -> int:
    """Collects, then freezes every object alive now (see the module docstring); returns how many
    objects the collector will no longer traverse."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info(
        "%s: %d objects frozen out of the garbage collector (%.0f ms)",
        what,
        frozen,
        1000 * (time.perf_counter() - started),
    )
    return frozen
