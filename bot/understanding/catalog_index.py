"""Procedures and life events by meaning: the catalog's own words, embedded, as nearest neighbours.

Rows: each procedure's name, aliases and summary (label = procedure id) and each life event's name and
triggers, also of its options (label = ``life_event:<id>``). Built from the live catalog, so staff edits
count without retraining; the vectors are cached on disk under a content hash (:mod:`.cache`), so only new
or changed texts are embedded when the catalog reloads.
"""

from __future__ import annotations

from pathlib import Path

from bot.understanding.cache import embed_cached
from bot.understanding.neighbours import LabelledIndex

#: A label's score is the mean similarity of its closest this-many rows.
TOP_K = 2
LIFE_EVENT_PREFIX = "life_event:"


def catalog_rows(catalog) -> tuple[list[str], list[str]]:
    """(labels, texts) of a :class:`bot.knowledge.catalog.Catalog`."""
    labels: list[str] = []
    texts: list[str] = []
    for procedure in catalog.procedures.values():
        for text in dict.fromkeys((procedure.name, *procedure.aliases, procedure.summary)):
            if text and text.strip():
                labels.append(procedure.id)
                texts.append(text.strip())
    for event in catalog.life_events.values():
        words = [event.name, *event.triggers]
        for option in event.options:
            words += list(option.triggers)
        for text in dict.fromkeys(words):
            if text and text.strip():
                labels.append(LIFE_EVENT_PREFIX + event.id)
                texts.append(text.strip())
    return labels, texts


class CatalogSemantics:
    """Ranks procedures and life events by meaning for one catalog version."""

    def __init__(self, index: LabelledIndex, encoder) -> None:
        self._index = index
        self._encoder = encoder

    @classmethod
    def build(cls, catalog, encoder, cache_dir: Path | None = None) -> CatalogSemantics:
        """Embeds the catalog's texts (from the cache when unchanged)."""
        labels, texts = catalog_rows(catalog)
        return cls(LabelledIndex(labels, texts, embed_cached(encoder, texts, cache_dir, "query")), encoder)

    def rank(self, text: str, top_k: int = 5) -> list[tuple[str, float]]:
        """(label, score) best first: procedure ids and ``life_event:<id>``."""
        if not text or not text.strip() or not len(self._index):
            return []
        scores = self._index.top_mean_by_label(self._encoder.query(text), TOP_K)
        return sorted(scores.items(), key=lambda kv: -kv[1])[:top_k]
