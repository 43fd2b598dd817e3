"""Chooses the NLU pipeline by measurement on the held-out test set (tests/nlu/heldout.yml).

Each candidate pipeline is trained (NLU only) on data/nlu and evaluated on the held-out file, which
was written separately with different phrasing. Prints a table of intent accuracy, macro-F1 and
weighted-F1, and the training time. ``python -m bench.nlu_pipelines [--only NAME ...]``
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
HELDOUT = REPO / "tests" / "nlu" / "heldout.yml"


def _base() -> dict:
    return yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))


def _replace(pipeline: list[dict], name: str, **changes) -> list[dict]:
    out = copy.deepcopy(pipeline)
    for component in out:
        if component["name"].endswith(name):
            component.update(changes)
    return out


def _with_classifier(pipeline: list[dict], classifier: dict) -> list[dict]:
    classifiers = ("LogisticRegressionClassifier", "DIETClassifier")
    return [dict(classifier) if c["name"] in classifiers else c for c in pipeline]


def candidates() -> dict[str, list[dict]]:
    """Pipelines worth comparing (the first is the shipped config.yml)."""
    shipped = _base()["pipeline"]
    diet = {
        "name": "DIETClassifier",
        "epochs": 50,
        "entity_recognition": False,
        "constrain_similarities": True,
        "random_seed": 42,
    }
    return {
        "shipped (config.yml)": shipped,
        "Sudachi mode A": _replace(shipped, "SudachiTokenizer", split_mode="A"),
        "Sudachi mode B": _replace(shipped, "SudachiTokenizer", split_mode="B"),
        "no char n-grams": [c for c in shipped if c.get("analyzer") != "char_wb"],
        "char n-grams 1-4": [dict(c, max_ngram=4) if c.get("analyzer") == "char_wb" else c for c in shipped],
        "DIET, 0 transformer layers": _with_classifier(shipped, dict(diet, number_of_transformer_layers=0)),
        "DIET, 2 transformer layers (default)": _with_classifier(shipped, diet),
    }


def evaluate(name: str, pipeline: list[dict], workdir: Path) -> dict:
    """Trains one pipeline and evaluates it on the held-out file."""
    config = _base()
    config["pipeline"] = pipeline
    config.pop("policies", None)
    slug = "".join(ch if ch.isalnum() else "_" for ch in name)[:40]
    config_path = workdir / f"{slug}.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = dict(os.environ, RASA_MAX_CACHE_SIZE="0", TF_CPP_MIN_LOG_LEVEL="3")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config_path), "--nlu", "data/nlu",
         "--out", str(workdir), "--fixed-model-name", slug],
        cwd=REPO, env=env, check=True, capture_output=True,
    )  # fmt: skip
    train_seconds = time.monotonic() - started
    out = workdir / f"{slug}-results"
    subprocess.run(
        [sys.executable, "-m", "rasa", "test", "nlu", "--model", str(workdir / f"{slug}.tar.gz"),
         "--nlu", str(HELDOUT), "--out", str(out)],
        cwd=REPO, env=env, check=True, capture_output=True,
    )  # fmt: skip
    report = json.loads((out / "intent_report.json").read_text())
    return {
        "pipeline": name,
        "accuracy": report["accuracy"],
        "macro_f1": report["macro avg"]["f1-score"],
        "weighted_f1": report["weighted avg"]["f1-score"],
        "train_s": round(train_seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="substrings of candidate names to run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="madoguchi-nlu-") as tmp:
        for name, pipeline in candidates().items():
            if args.only and not any(s in name for s in args.only):
                continue
            row = evaluate(name, pipeline, Path(tmp))
            rows.append(row)
            print(
                f"{row['pipeline']:<52} acc {row['accuracy']:.3f}  macro-F1 {row['macro_f1']:.3f}  "
                f"weighted-F1 {row['weighted_f1']:.3f}  train {row['train_s']:.0f} s",
                flush=True,
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
