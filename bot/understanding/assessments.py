"""One crisis assessment per message text, shared by the channel's crisis check and the NLU.

A REST, socket.io or LINE turn judges the message twice in the Rasa process: the channel's crisis desk
(:mod:`bot.crisis`, to know how long the turn may take before the desk answers from data) and then the
NLU's safety component (:mod:`bot.nlu.safety`), each with its own
:class:`~bot.understanding.crisis.CrisisDetector` built from the same classifier stored in the trained
model. The encoder's memory of recent queries already spared the second embedding, not the second
judgement (the classifier's probabilities, the neighbour vote and margins, the sentences and clauses of a
longer message, each asking the encoder again). :class:`AssessmentMemo` keeps the last
:data:`RECENT_ASSESSMENTS` assessments, keyed by the detector (its :func:`fingerprint` of classifier,
rules and encoder model, and its thresholds as they are at the call: two detectors share an entry only
when they would judge alike) and by the SHA-256 of the text (no resident text is kept). Assessments are
immutable (:class:`~bot.understanding.crisis.Assessment` is a frozen dataclass), so both callers may hold
the same one.

Plain Python; nothing is built at import time (:func:`default_memo` on first use).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, Sequence

#: Assessments kept: a message is judged again within one turn (channel, then NLU, then the desk's
#: answer when the turn fails), so the last few dozen texts of the process cover every turn in flight
#: (the understanding thread admits at most 64 waiting calls).
RECENT_ASSESSMENTS = 128


def classifier_id(classifier: bytes, meta: str) -> str:
    """Names a stored crisis classifier by its content (its arrays and its meta file)."""
    return hashlib.sha256(classifier + b"\0" + meta.encode("utf-8")).hexdigest()


def fingerprint(classifier: str, rules: Sequence[Any], model_id: str) -> str:
    """What makes two detectors judge alike, besides their thresholds: the stored classifier
    (:func:`classifier_id`), the rules (their intents, patterns and exceptions) and the encoder model."""
    plain = [
        [
            getattr(rule, "intent", None),
            [p.pattern for p in getattr(rule, "patterns", ())],
            [p.pattern for p in getattr(rule, "exceptions", ())],
        ]
        for rule in rules
    ]
    parts = (classifier, json.dumps(plain, ensure_ascii=False), model_id)
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


class AssessmentMemo:
    """The last ``size`` assessments by (detector fingerprint, text); thread-safe."""

    def __init__(self, size: int = RECENT_ASSESSMENTS) -> None:
        self._size = size
        self._recent: OrderedDict[tuple[Hashable, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._recent)

    def assess(self, detector_key: Hashable, text: str, compute: Callable[[], Any]) -> Any:
        """The assessment of ``text`` by the detector ``detector_key`` (its :func:`fingerprint` and its
        thresholds): remembered, or ``compute()``.

        A failing ``compute`` raises and remembers nothing. Two threads asking for the same new text at
        once may both compute it (the same result); no lock is held while computing.
        """
        key = (detector_key, hashlib.sha256(text.encode("utf-8", "replace")).hexdigest())
        with self._lock:
            found = self._recent.get(key)
            if found is not None:
                self._recent.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        found = compute()
        with self._lock:
            self._recent[key] = found
            self._recent.move_to_end(key)
            while len(self._recent) > self._size:
                self._recent.popitem(last=False)
        return found


@functools.lru_cache(maxsize=1)
def default_memo() -> AssessmentMemo:
    """The process's one memo (shared by the crisis desk's detector and the NLU's)."""
    return AssessmentMemo()
