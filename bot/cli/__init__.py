"""The ``madoguchi`` staff command line.

Each module in this package is one command group (``madoguchi faq ...``, ``madoguchi callbacks ...``)
and exposes ``register(subparsers)``, which adds its sub-parser and sets ``func`` on it.
Groups are found by walking the package, so adding a group never edits this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys


def build_parser() -> argparse.ArgumentParser:
    """Builds the parser with every command group of this package."""
    parser = argparse.ArgumentParser(
        prog="madoguchi",
        description="madoguchi 職員用コマンド / staff commands for the madoguchi assistant",
    )
    subparsers = parser.add_subparsers(dest="group", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``madoguchi`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
