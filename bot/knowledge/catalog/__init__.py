"""The city's procedure catalog: departments, procedures and life events, loaded from YAML.

Files (under the data directory):

- ``departments.yml`` — ``city:`` (name, main phone, address, default hours, callback slots) and
  ``departments:`` (id, name, phone, hours, location).
- ``catalog/*.yml`` — ``procedures:`` lists, one file per life area.
- ``life_events.yml`` — ``life_events:`` (引っ越し, 出産 …) with triggers, a checklist and, for some,
  a clarifying question with options.

:func:`load_catalog` validates everything and raises :class:`CatalogError` listing EVERY problem as
``file: entry id: field: what is wrong``. :meth:`Catalog.match` finds procedures from a resident's words
(aliases compared by surface, katakana reading and content lemmas, see :mod:`.matching`).
Plain Python: nothing here imports Rasa.

- :mod:`.model` — the dataclasses (:class:`Catalog`, :class:`Procedure`, :class:`LifeEvent` …).
- :mod:`.validation` — :class:`Problem`, :class:`CatalogError` and the checks of single values.
- :mod:`.parsing` — one entry at a time, from YAML mappings.
- :mod:`.loading` — :func:`load_catalog`: every file, duplicates, cross-file references.
- :mod:`.matching` — finding procedures and life events in a resident's words.
- :mod:`.yaml_files` — reading the YAML files the way staff mean them (``9:00`` stays text).
"""

from __future__ import annotations

from bot.knowledge.catalog.loading import load_catalog
from bot.knowledge.catalog.model import (
    CallbackSlot,
    Catalog,
    City,
    Department,
    LifeEvent,
    LifeEventOption,
    OnlineService,
    Procedure,
    Where,
)
from bot.knowledge.catalog.validation import CatalogError, Problem, is_valid_phone, is_valid_url

__all__ = [
    "CallbackSlot",
    "Catalog",
    "CatalogError",
    "City",
    "Department",
    "LifeEvent",
    "LifeEventOption",
    "OnlineService",
    "Problem",
    "Procedure",
    "Where",
    "is_valid_phone",
    "is_valid_url",
    "load_catalog",
]
