"""Give unchanged files of a fresh checkout the modification times they had.

For CI builds that restore the previous build (doctrees, output) from a cache:
a checkout gives every file the time of the checkout, so Sphinx would read and
write every page again. Run before each build, this gives each file whose bytes
are those recorded by the previous run the time recorded with them (changed and
new files keep their newer time, so Sphinx reads those), and records the files
as they are now in STATE (keep it with the cached build, e.g. under _build/).

With --git --files-only (for a build told by ORGREG_GIT_CHECKOUT, which takes
which namespaces changed from git), folders and README.md files keep the
checkout's time and are not recorded: a newer time is never wrong, only more work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.filetimes import (
    CHECKOUT_TIME_NAMES,
    SKIPPED_FOLDERS,
    NotAGitCheckout,
    keep_times,
    keep_times_from_git,
)

DEFAULT_STATE = "_build/orgreg-file-times.json"
#: the files --files-only leaves at the checkout's time, as the help and report name them
CHECKOUT_TIME_FILES = " or ".join(sorted(CHECKOUT_TIME_NAMES))


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
        help="with --git, for a build told by ORGREG_GIT_CHECKOUT that the tree is "
        "the commit checked out (it takes which namespaces changed from git): give "
        f"files their times, but not folders or files named {CHECKOUT_TIME_FILES} (the "
        "manifest tree's, which only the namespace reader reads), and record neither. "
        f"A newer time is never wrong, only more work: a page named {CHECKOUT_TIME_FILES} "
        "is read again, and every namespace when the build cannot use git (its last "
        "commit missing). Like that build, it takes the work tree to be the commit "
        "checked out: edits since the checkout are not looked for",
    )


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    if not root.is_dir():
        print(f"orgreg keep-times: {root} is not a folder")
        return 2
    state: Path = args.state if args.state is not None else root / DEFAULT_STATE
    if args.git:
        try:
            kept = keep_times_from_git(root, state, SKIPPED_FOLDERS, git_build=args.files_only)
        except (NotAGitCheckout, OSError) as error:
            print(f"keep-times: not a git checkout ({error}): looking at every file instead")
            kept = keep_times(root, state, SKIPPED_FOLDERS)
    else:
        kept = keep_times(root, state, SKIPPED_FOLDERS)
    left = ""
    if kept.left_at_checkout:
        left = f", {kept.left_at_checkout} {CHECKOUT_TIME_FILES} left at the checkout's time"
    print(
        f"keep-times: {kept.files} files; {kept.restored} given back their former time, "
        f"{kept.changed} changed or new, {kept.unchanged} already at their time{left}; "
        f"{kept.folders_restored} folders given back their former time"
    )
    return 0
