"""gc.freeze after start-up: the long-lived heap out of the collector's way (bot.heap)."""

from __future__ import annotations

import gc

import pytest
from rasa.core import run

from bot import heap, rasa_server


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_freeze_moves_every_live_object_out_of_the_collections(unfrozen):
    kept = [{"n": i} for i in range(1000)]
    frozen = heap.freeze("test")
    assert frozen >= len(kept) and gc.get_freeze_count() == frozen
    assert all(not any(o is d for o in gc.get_objects(generation=2)) for d in kept[:3])


async def test_the_rasa_server_freezes_once_the_model_is_loaded(unfrozen, monkeypatch):
    loaded = object()

    async def load_agent_on_start(*args, **kwargs):
        assert gc.get_freeze_count() == 0  # not before the model
        return loaded

    monkeypatch.setattr(run, "load_agent_on_start", load_agent_on_start)
    rasa_server.install_freeze_after_load()
    rasa_server.install_freeze_after_load()  # idempotent
    assert run.load_agent_on_start.freezes_heap
    assert await run.load_agent_on_start("model", None, None, None, None) is loaded
    assert gc.get_freeze_count() > 0
