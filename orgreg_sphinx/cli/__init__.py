"""The ``orgreg`` command line: one sub-command per module.

Each sub-command lives in its own module with ``add_arguments(parser)`` and
``run(args) -> int``; this file only lists them. Exit codes: 0 success,
1 problems found, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .._version import __version__

#: sub-command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "orgreg_sphinx.cli.init",
        "write a new registry repository (or, with --container, a container repository)",
    ),
    "check": ("orgreg_sphinx.cli.check", "validate a manifest tree (as the site build does)"),
    "serve": ("orgreg_sphinx.cli.serve", "serve a built site on 127.0.0.1 as a static host would"),
    "manifest": ("orgreg_sphinx.cli.manifest", "write the manifest of a built image into a tree"),
    "keep-times": (
        "orgreg_sphinx.cli.keep_times",
        "give unchanged files of a fresh checkout their former times (cached CI builds)",
    ),
    "site-archive": (
        "orgreg_sphinx.cli.site_archive",
        "pack the built site into the Pages artifact, patching the previous one (cached CI)",
    ),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command; with *only*, the other sub-commands' modules
    are not imported (listed by name and help: a command starts faster)."""
    parser = argparse.ArgumentParser(
        prog="orgreg", description="Tools for an organizational static container registry."
    )
    parser.add_argument("--version", action="version", version=f"orgreg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    named = next((w for w in words if not w.startswith("-")), None)
    parser = build_parser(named if named in COMMANDS else None)
    args = parser.parse_args(words)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
