"""The process's one crisis desk, shared by the REST, socket.io and LINE channels.

Each channel needs the same desk (``data/safety.yml``, the domain's safety responses and the trained
model's meaning classifier); building it reads the model archive and the example vectors, so it is built
once per process and model, not once per channel.
"""

from __future__ import annotations

import functools
from pathlib import Path

from bot import settings
from bot.crisis import CrisisDesk, load_desk
from bot.training import model_path


def crisis_desk() -> CrisisDesk:
    """The crisis desk of this process's data files and model (built on first use)."""
    conf = settings.load()
    return _desk(conf.data_dir, conf.home / "domain.yml", model_path())


@functools.lru_cache(maxsize=4)
def _desk(data_dir: Path, domain: Path, model: Path) -> CrisisDesk:
    return load_desk(data_dir, domain, model)
