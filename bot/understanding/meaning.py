"""Nearest neighbours by meaning over the catalog: which procedures and life events a message is about.

Every procedure is represented by its name, aliases and summary, every life event by its name and
triggers (its options' triggers too), plus the example sentences of ``data/meaning.yml`` (new sentences
written for kinds of questions the words alone miss). Each text is embedded once with the e5 ``query:``
prefix (:mod:`bot.understanding.encoder`), cached on disk by content hash (:mod:`.cache`): a staff edit of
the catalog is embedded when the catalog reloads, without retraining anything.

A message's score for a key is the cosine of its vector with the key's nearest text (0..1 for e5, where
unrelated Japanese sentences sit around 0.75-0.80 and paraphrases above 0.88). The decision of what to do
with these scores is the conversation core's (:mod:`bot.dialogue.resolve`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import yaml

#: Key prefixes of the index rows.
PROCEDURE = "procedure"
LIFE_EVENT = "life_event"


@dataclass(frozen=True)
class Neighbours:
    """The keys nearest to one message, best first: ``(id, cosine)``."""

    procedures: tuple[tuple[str, float], ...] = ()
    life_events: tuple[tuple[str, float], ...] = ()

    def procedure_score(self, procedure_id: str) -> float:
        """The cosine of a procedure (0.0 when it is not among the neighbours)."""
        return dict(self.procedures).get(procedure_id, 0.0)

    def margin(self) -> float:
        """How much the best procedure leads the second (1.0 with a single one, 0.0 with none)."""
        if not self.procedures:
            return 0.0
        if len(self.procedures) == 1:
            return 1.0
        return self.procedures[0][1] - self.procedures[1][1]


@dataclass(frozen=True)
class MeaningIndex:
    """Rows of (kind, id, text) and their unit vectors."""

    kinds: tuple[str, ...]
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    vectors: np.ndarray

    def nearest(self, vector: np.ndarray, top_k: int = 5) -> Neighbours:
        """The ``top_k`` procedures and life events nearest to a message vector (max over their texts)."""
        if not self.ids:
            return Neighbours()
        sims = self.vectors @ np.asarray(vector, dtype=np.float32).reshape(-1)
        best: dict[tuple[str, str], float] = {}
        for kind, key, sim in zip(self.kinds, self.ids, sims.tolist(), strict=True):
            if sim > best.get((kind, key), -1.0):
                best[(kind, key)] = sim
        return Neighbours(
            procedures=_ranked(best, PROCEDURE, top_k), life_events=_ranked(best, LIFE_EVENT, top_k)
        )


def _ranked(best: Mapping[tuple[str, str], float], kind: str, top_k: int) -> tuple[tuple[str, float], ...]:
    items = sorted(((k, s) for (kd, k), s in best.items() if kd == kind), key=lambda x: (-x[1], x[0]))
    return tuple((k, round(float(s), 4)) for k, s in items[:top_k])


def catalog_rows(catalog, examples: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> list[tuple]:
    """(kind, id, text) for every procedure and life event of a catalog, plus the example sentences.

    Args:
        catalog: a :class:`bot.knowledge.catalog.Catalog`.
        examples: ``{"procedures": {id: [sentence…]}, "life_events": {id: [sentence…]}}``; ids the
            catalog does not have are left out (a deleted procedure's examples do nothing).
    """
    rows: list[tuple[str, str, str]] = []
    for p in catalog.procedures.values():
        rows += [(PROCEDURE, p.id, t) for t in _unique((p.name, *p.aliases, p.summary))]
    for e in catalog.life_events.values():
        option_triggers = [t for o in e.options for t in o.triggers]
        rows += [(LIFE_EVENT, e.id, t) for t in _unique((e.name, *e.triggers, *option_triggers))]
    examples = examples or {}
    for kind, known in ((PROCEDURE, catalog.procedures), (LIFE_EVENT, catalog.life_events)):
        for key, sentences in (examples.get(f"{kind}s") or {}).items():
            if key in known:
                rows += [(kind, key, t) for t in _unique(sentences)]
    return rows


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(t).strip() for t in texts if t and str(t).strip()))


def build_index(rows: Sequence[tuple[str, str, str]], encoder, cache_dir: Path | None = None) -> MeaningIndex:
    """Embeds the rows' texts (cached by content hash) into an index."""
    from bot.understanding.cache import embed_cached

    vectors = embed_cached(encoder, [r[2] for r in rows], cache_dir, "query")
    return MeaningIndex(
        tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows), vectors
    )


def load_examples(path: Path) -> dict:
    """Reads ``data/meaning.yml`` (``procedures:`` / ``life_events:`` id -> sentences); {} when absent.

    Raises ValueError naming the file when it is not such a mapping.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping with 'procedures' and 'life_events'")
    out: dict[str, dict[str, list[str]]] = {}
    for section in ("procedures", "life_events"):
        items = raw.get(section) or {}
        if not isinstance(items, dict):
            raise ValueError(f"{path}: '{section}' must map ids to lists of sentences")
        for key, sentences in items.items():
            if not isinstance(sentences, list):
                raise ValueError(f"{path}: {section}: {key}: expected a list of sentences")
        out[section] = {str(k): [str(s) for s in v] for k, v in items.items()}
    return out


class Meaning:
    """A message's neighbours in one index, with the last few message vectors kept (one embedding per
    message, however many times a turn asks)."""

    def __init__(
        self, index: MeaningIndex, encoder, remember: int = 8, cache_dir: Path | None = None
    ) -> None:
        self.index = index
        self._encoder = encoder
        self._cache_dir = cache_dir
        #: vectors of the FAQ questions compared so far (content, not residents' words)
        self._others: dict[str, np.ndarray] = {}
        self._remember = remember
        self._vectors: dict[str, np.ndarray] = {}

    def vector(self, text: str) -> np.ndarray:
        """The message's ``query`` vector."""
        found = self._vectors.get(text)
        if found is None:
            found = np.asarray(self._encoder.query(text), dtype=np.float32)
            if len(self._vectors) >= self._remember:
                self._vectors.pop(next(iter(self._vectors)))
            self._vectors[text] = found
        return found

    def similarity(self, text: str, other: str) -> float:
        """The cosine of a message with another text (an FAQ question: embedded once, cached on disk)."""
        from bot.understanding.cache import embed_cached

        if not text.strip() or not other.strip():
            return 0.0
        vector = self._others.get(other)
        if vector is None:
            vector = embed_cached(self._encoder, [other], self._cache_dir, "query")[0]
            self._others[other] = vector
        return round(float(self.vector(text) @ vector), 4)

    def neighbours(self, text: str, top_k: int = 5) -> Neighbours:
        """The procedures and life events nearest to a message (empty for empty text)."""
        if not text or not text.strip():
            return Neighbours()
        return self.index.nearest(self.vector(text), top_k)
