"""One encode per message: the NLU's e5 vector travels to the action server in the parse data.

The format is checked strictly (model, dimension, dtype, size, finite, unit length): anything else is
ignored and the action server embeds the text itself. The tracker stores never keep the vector. End to
end, through the real servers: the action server is given the vector and embeds nothing for the message.
"""

from __future__ import annotations

import base64
import uuid

import numpy as np
import pytest
from test_encoder_memo import CountingEngine, counting_encoder

from bench.load import encoder_counts
from bot.action_server import take_handed_vector
from bot.stores.anonymize import anonymize_events
from bot.understanding import encoder as enc
from bot.understanding import handover

DIM = enc.E5Encoder.dim
MODEL = enc.MODEL_ID


def _unit(seed: int = 1) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _encoder() -> tuple[enc.E5Encoder, CountingEngine]:
    return counting_encoder(lambda text: _unit(len(text)))


def test_a_packed_vector_comes_back_bit_for_bit():
    vector = _unit()
    packed = handover.pack(vector, MODEL)
    assert packed["dim"] == DIM and packed["dtype"] == "float32" and len(packed["b64"]) == 2048
    back = handover.unpack(packed, MODEL, DIM)
    assert back is not None and back.dtype == np.float32 and np.array_equal(back, vector)


def _with(**changes) -> dict:
    return {**handover.pack(_unit(), MODEL), **changes}


@pytest.mark.parametrize(
    "value",
    [
        None,
        "not a mapping",
        _with(model="another-model"),
        _with(dim=DIM // 2),
        _with(dtype="float16"),
        _with(b64=base64.b64encode(np.zeros(DIM // 2, np.float32).tobytes()).decode()),
        _with(b64="!" * 2048),
        _with(b64=12),
        _with(b64=base64.b64encode(np.full(DIM, np.nan, np.float32).tobytes()).decode()),
        _with(b64=base64.b64encode((2 * _unit()).tobytes()).decode()),  # not unit length
    ],
)
def test_anything_but_a_vector_of_this_model_is_refused(value):
    assert handover.unpack(value, MODEL, DIM) is None


def test_attach_takes_the_vector_from_the_memory_and_never_embeds():
    encoder, engine = _encoder()
    parse = {"text": "児童手当の申請について教えて", "intent": {"name": "ask_procedure"}}
    assert not handover.attach(parse, encoder) and handover.PARSE_KEY not in parse  # not embedded yet
    vector = encoder.query("児童手当の申請について教えて")  # what the crisis detector does in the NLU
    assert handover.attach(parse, encoder)
    assert np.array_equal(handover.unpack(parse[handover.PARSE_KEY], MODEL, DIM), vector)
    assert engine.embedded == ["児童手当の申請について教えて"]
    button = {"text": "/affirm"}
    encoder.query("/affirm")
    assert not handover.attach(button, encoder)


def test_the_action_server_takes_the_handed_vector_and_does_not_embed_the_message(monkeypatch):
    encoder, engine = _encoder()
    monkeypatch.setattr(enc, "default_encoder", lambda: encoder)
    vector = _unit(7)
    latest = {"text": "児童手当の申請について教えて", handover.PARSE_KEY: handover.pack(vector, MODEL)}
    assert take_handed_vector({"next_action": "action_answer", "tracker": {"latest_message": latest}})
    assert np.array_equal(encoder.query("児童手当の申請について教えて"), vector) and engine.embedded == []
    # absent or broken: nothing is taken, the text is embedded as before
    assert not take_handed_vector({"tracker": {"latest_message": {"text": "別の質問"}}})
    bad = {"text": "別の質問", handover.PARSE_KEY: _with(dim=3)}
    assert not take_handed_vector({"tracker": {"latest_message": bad}})
    assert not take_handed_vector({"tracker": "nonsense"})
    encoder.query("別の質問")
    assert engine.embedded == ["別の質問"]


def test_the_tracker_stores_never_keep_the_vector():
    parse = {
        "text": "住民票",
        "intent": {"name": "ask_procedure"},
        handover.PARSE_KEY: handover.pack(_unit(), MODEL),
    }
    events = [{"event": "user", "text": "住民票", "parse_data": parse}]
    [stored] = anonymize_events(events)
    assert handover.PARSE_KEY not in stored["parse_data"] and stored["parse_data"]["intent"]
    assert handover.PARSE_KEY in events[0]["parse_data"]  # the running turn's own tracker is unchanged


# --- end to end ------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_each_message_is_embedded_once_across_the_two_servers(running_bot):
    # words the FAQ and meaning lookups of the action server read; an opener no earlier test sent
    text = f"質問{uuid.uuid4().int % 10**6}番です。児童手当の申請について教えて"
    before = encoder_counts(running_bot.metrics_url)
    assert running_bot.rest(f"handover-{uuid.uuid4().hex[:8]}", text)
    after = encoder_counts(running_bot.metrics_url)

    def grew(server: str, kind: str) -> float:
        return after.get((server, kind), 0.0) - before.get((server, kind), 0.0)

    assert grew("rasa", "embedded") >= 1  # the NLU's crisis detector embedded the message
    assert grew("actions", "given") == 1 and grew("actions", "asked") >= 1  # handed over, then looked up
    assert grew("actions", "embedded") == 0  # ... and never embedded again
