"""Validate a manifest tree with the rules the site build uses.

Prints one line per problem (``path:line: message``); exit 0 when the tree is
clean, 1 when it has errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .model import load_registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", nargs="?", default=".", help="the manifest tree (default: .)")


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    registry = load_registry(root)
    for problem in registry.problems:
        print(f"{problem.location(root)}: {problem.severity}: {problem.message}")
    count = sum(len(ns.tags) for ns in registry.namespaces)
    print(f"{len(registry.namespaces)} namespaces, {count} tags, "
          f"{len(registry.errors)} errors, {len(registry.problems) - len(registry.errors)} warnings")
    return 1 if registry.errors else 0
