"""Paths and environment settings shared by every part of madoguchi.

Nothing here touches the disk at import time; call :func:`load` when needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The word vector table ``make wordvec`` writes (``bot.wordvec``), named after its pinned source.
WORDVEC_FILE = "chive-ja_ginza-5.3.0.npz"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process."""

    home: Path
    data_dir: Path
    var_dir: Path
    redis_url: str | None
    retention_days: int
    wordvec_path: Path
    embeddings_dir: Path
    #: How long the staff console's 監査ログ is kept (``MADOGUCHI_AUDIT_RETENTION_DAYS``): its own period,
    #: never shortened by ``data purge --days`` (a year by default: a fiscal year's review of who did what).
    audit_retention_days: int = 365

    @property
    def faq_dir(self) -> Path:
        """Directory of the live FAQ knowledge base."""
        return self.var_dir / "faq"

    @property
    def conversations_db(self) -> Path:
        """SQLite file of Rasa's tracker store in the embedded mode (no ``REDIS_URL``)."""
        return self.var_dir / "conversations.db"

    @property
    def catalog_dir(self) -> Path:
        """Directory of the procedure catalog."""
        return self.data_dir / "catalog"


def load(environ: dict[str, str] | None = None) -> Settings:
    """Reads the settings from the environment.

    Args:
        environ: mapping to read instead of ``os.environ`` (tests).
    """
    env = os.environ if environ is None else environ
    home = Path(env.get("MADOGUCHI_HOME") or REPO_ROOT)
    return Settings(
        home=home,
        data_dir=Path(env.get("MADOGUCHI_DATA") or home / "data"),
        var_dir=Path(env.get("MADOGUCHI_VAR") or home / "var"),
        redis_url=env.get("REDIS_URL") or None,
        retention_days=int(env.get("MADOGUCHI_RETENTION_DAYS") or 90),
        # installed with the code, like the trained model (not city data under MADOGUCHI_HOME)
        wordvec_path=Path(env.get("MADOGUCHI_WORDVEC") or REPO_ROOT / "models" / "wordvec" / WORDVEC_FILE),
        # e5 vectors of known texts (FAQ entries), by content hash: a cache, safe to share or delete
        embeddings_dir=Path(
            env.get("MADOGUCHI_EMBEDDINGS") or Path(env.get("MADOGUCHI_VAR") or home / "var") / "embeddings"
        ),
        audit_retention_days=int(env.get("MADOGUCHI_AUDIT_RETENTION_DAYS") or 365),
    )
