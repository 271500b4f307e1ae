"""Give unchanged files of a fresh checkout the modification times they had.

For CI builds that restore the previous build (doctrees, output) from a cache:
a checkout gives every file the time of the checkout, so Sphinx would read and
write every page again. Run before each build, this gives each file whose bytes
are those recorded by the previous run the time recorded with them (changed and
new files keep their newer time, so Sphinx reads those), and records the files
as they are now in STATE (keep it with the cached build, e.g. under _build/).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.filetimes import SKIPPED_FOLDERS, NotAGitCheckout, keep_times, keep_times_from_git

DEFAULT_STATE = "_build/orgreg-file-times.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "root",
        nargs="?",
        default=".",
        type=Path,
        help="the registry repository (default: the current folder)",
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help=f"the record of files and times (default: ROOT/{DEFAULT_STATE})",
    )
    parser.add_argument(
        "--git",
        action="store_true",
        help="ROOT is a fresh git checkout (a CI runner's): take its files, their "
        "digests and its folders from git's index instead of reading every file "
        "and folder (untracked files are not looked for)",
    )
    parser.add_argument(
        "--files-only",
        action="store_true",
        help="with --git: give files their times, not folders (for a build told by "
        "ORGREG_GIT_CHECKOUT that the tree is the commit checked out, which takes "
        "what changed in the manifest tree from git)",
    )


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    if not root.is_dir():
        print(f"orgreg keep-times: {root} is not a folder")
        return 2
    state: Path = args.state if args.state is not None else root / DEFAULT_STATE
    if args.git:
        try:
            kept = keep_times_from_git(root, state, SKIPPED_FOLDERS, folders=not args.files_only)
        except (NotAGitCheckout, OSError) as error:
            print(f"keep-times: not a git checkout ({error}): looking at every file instead")
            kept = keep_times(root, state, SKIPPED_FOLDERS)
    else:
        kept = keep_times(root, state, SKIPPED_FOLDERS)
    print(
        f"keep-times: {kept.files} files; {kept.restored} given back their former time, "
        f"{kept.changed} changed or new, {kept.unchanged} already at their time; "
        f"{kept.folders_restored} folders given back their former time"
    )
    return 0
