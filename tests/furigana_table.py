"""The ふりがな readings table (tests/furigana_readings.yml) and its score, with and without corrections.

.venv/bin/python -m tests.furigana_table      # prints how many rows Sudachi gets right, before/after
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.furigana import Segment, default_corrections, segments
from bot.furigana_corrections import Corrections

TABLE = Path(__file__).with_name("furigana_readings.yml")


def load_table() -> dict[str, str]:
    """``{text: expected ruby notation}`` (see the file's header)."""
    return yaml.safe_load(TABLE.read_text(encoding="utf-8"))


def notation(segs: list[Segment]) -> str:
    """Segments written as 漢字{よみ}: the form the table is written in."""
    return "".join(f"{surface}{{{reading}}}" if reading else str(surface) for surface, reading in segs)


def wrong_rows(corrections: Corrections) -> dict[str, tuple[str, str]]:
    """Rows whose ruby differs from the table: ``{text: (expected, got)}``."""
    out = {}
    for text, expected in load_table().items():
        got = notation(segments(text, corrections))
        if got != expected:
            out[text] = (expected, got)
    return out


def main() -> None:
    total = len(load_table())
    for label, fixes in (("Sudachi alone", Corrections()), ("with corrections", default_corrections())):
        wrong = wrong_rows(fixes)
        print(f"{label}: {total - len(wrong)}/{total} rows right")
        for text, (expected, got) in wrong.items():
            print(f"  {text}: expected {expected}, got {got}")


if __name__ == "__main__":
    main()
