"""The process's one crisis desk, shared by the REST, socket.io and LINE channels.

Each channel needs the same desk (``data/safety.yml``, the domain's safety responses and the trained
model's meaning classifier); building it reads the model archive and the example vectors, so it is built
once per process and model, not once per channel.

The desk's judgement embeds the message (e5): the channels ask it on the understanding thread
(:func:`crisis_intent`, :func:`crisis_answer`, :mod:`bot.understanding.worker`), never on the event loop.
When that thread has too many messages waiting, the rules of ``data/safety.yml`` alone judge, on the loop
(regular expressions: microseconds), so a crisis still gets its answer.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any, Callable, TypeVar

from bot import settings
from bot.crisis import CrisisDesk, load_desk, match_rules
from bot.training import model_path
from bot.understanding.worker import UnderstandingBusy, default_worker

T = TypeVar("T")


def crisis_desk() -> CrisisDesk:
    """The crisis desk of this process's data files and model (built on first use)."""
    conf = settings.load()
    return _desk(conf.data_dir, conf.home / "domain.yml", model_path())


@functools.lru_cache(maxsize=4)
def _desk(data_dir: Path, domain: Path, model: Path) -> CrisisDesk:
    return load_desk(data_dir, domain, model)


async def off_loop(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)`` on the understanding thread (:class:`UnderstandingBusy` when it is full)."""
    return await default_worker().run(call, *args)


async def crisis_intent(desk: CrisisDesk, text: str) -> str | None:
    """:meth:`CrisisDesk.intent_of` off the loop; by the rules alone when the thread is full."""
    try:
        return await off_loop(desk.intent_of, text)
    except UnderstandingBusy:
        return match_rules(desk.rules, text)


async def crisis_answer(desk: CrisisDesk, text: str) -> list[dict[str, Any]] | None:
    """:meth:`CrisisDesk.answer` off the loop; by the rules alone when the thread is full."""
    try:
        return await off_loop(desk.answer, text)
    except UnderstandingBusy:
        intent = match_rules(desk.rules, text)
        return [copy.deepcopy(dict(m)) for m in desk.answers[intent]] if intent in desk.answers else None
