"""Prints the intent accuracy and F1 of ``rasa test nlu`` results (``make bench-nlu``).

``python -m bench.nlu_report results/nlu``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else "results/nlu")
    report = json.loads((folder / "intent_report.json").read_text(encoding="utf-8"))
    print(f"held-out NLU test ({folder}):")
    print(
        f"  intent accuracy {report['accuracy']:.3f}   macro-F1 {report['macro avg']['f1-score']:.3f}   "
        f"weighted-F1 {report['weighted avg']['f1-score']:.3f}"
    )
    per_intent = {
        name: values for name, values in report.items() if isinstance(values, dict) and "support" in values
    }
    for name, values in sorted(per_intent.items()):
        if name.endswith(" avg"):
            continue
        print(f"  {name:<18} F1 {values['f1-score']:.3f}  (n={values['support']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
