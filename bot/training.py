"""Trains the Rasa model when there is none or its inputs changed.

Rasa's own cache does not see files that components read themselves (the Sudachi user dictionary,
the safety rules), so we fingerprint every input here and train from scratch when any changed.
Usage: ``python -m bot.training [--force]`` (``make model`` calls it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import REPO_ROOT

MODEL_NAME = "madoguchi"
#: Rasa training data (the rest of data/ is city content read at run time).
TRAINING_DATA = ("data/nlu", "data/rules.yml")
#: Files and folders whose content decides the model.
INPUTS = (
    "config.yml",
    "domain.yml",
    "data/nlu",
    "data/rules.yml",
    "data/safety.yml",
    "data/safety_examples.yml",
    # the parts of the semantic layer trained into the model (the catalog's meaning index,
    # bot/understanding/meaning.py, is built at run time and needs no retraining)
    "bot/understanding/__init__.py",
    "bot/understanding/cache.py",
    "bot/understanding/crisis.py",
    "bot/understanding/encoder.py",
    "bot/understanding/linear.py",
    "bot/understanding/neighbours.py",
    "bot/crisis.py",
    "data/dictionary",
    "bot/nlu",
    "bot/text.py",
    "requirements/lock.txt",
)


def fingerprint(root: Path = REPO_ROOT) -> str:
    """A hash over the content of every training input."""
    digest = hashlib.sha256()
    for name in INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if not file.exists() or "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def model_path(root: Path = REPO_ROOT) -> Path:
    """Where the trained model lives."""
    return root / "models" / f"{MODEL_NAME}.tar.gz"


def _stamp_path(root: Path) -> Path:
    return root / "models" / f"{MODEL_NAME}.fingerprint.json"


def is_current(root: Path = REPO_ROOT) -> bool:
    """Whether the model exists and was trained from the current inputs."""
    stamp = _stamp_path(root)
    if not model_path(root).exists() or not stamp.exists():
        return False
    return json.loads(stamp.read_text()).get("fingerprint") == fingerprint(root)


def train(root: Path = REPO_ROOT) -> None:
    """Trains from scratch and records the inputs' fingerprint."""
    print = sys.stderr.write  # progress goes to stderr; stdout stays quiet for scripts
    (root / "models").mkdir(exist_ok=True)
    env = dict(os.environ, RASA_MAX_CACHE_SIZE="0", TF_CPP_MIN_LOG_LEVEL="2")
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", "config.yml", "--domain", "domain.yml", "--data", *TRAINING_DATA,
        "--out", "models", "--fixed-model-name", MODEL_NAME,
    ]  # fmt: skip
    # the inputs as they are when training starts: an edit made while it runs leaves the model stale
    stamp = fingerprint(root)
    print("training the model (a few minutes on 2 cores)...\n")
    subprocess.run(command, cwd=root, env=env, check=True)
    _stamp_path(root).write_text(json.dumps({"fingerprint": stamp}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the Rasa model when its inputs changed.")
    parser.add_argument("--force", action="store_true", help="train even when the model is current")
    args = parser.parse_args(argv)
    if not args.force and is_current():
        sys.stderr.write(f"model is current: {model_path()}\n")
        return 0
    train()
    return 0


if __name__ == "__main__":
    sys.exit(main())
