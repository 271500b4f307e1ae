"""Pack the built site into the GitHub Pages artifact, patching the previous one.

For CI deploys that keep the published site as one tar (the Pages artifact) in
their cache instead of its files: the build, run with ``ORGREG_SITE_ARCHIVE``
naming the archive folder, writes only what changed into SITE and records what
it removed; this makes ARCHIVE/artifact.tar hold the previous tar's members that
were neither written again nor removed (copied by byte ranges) and the files in
SITE, with its index. Without a previous archive it packs all of SITE. The tar
is what ``actions/upload-pages-artifact`` would upload: upload it with
``actions/upload-artifact`` under the name ``github-pages``. ARCHIVE/artifact.tar.zst,
the tar compressed, and the index are what a CI cache keeps: the next build
makes the tar again from them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.sitearchive import PACKED_NAME, TAR_NAME, pack

DEFAULT_SITE = "_build/html"
DEFAULT_ARCHIVE = "_build/site-archive"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "site",
        nargs="?",
        default=Path(DEFAULT_SITE),
        type=Path,
        help=f"the built site (default: {DEFAULT_SITE})",
    )
    parser.add_argument(
        "archive",
        nargs="?",
        default=Path(DEFAULT_ARCHIVE),
        type=Path,
        help=f"the archive folder, {TAR_NAME} and its index (default: {DEFAULT_ARCHIVE})",
    )


def run(args: argparse.Namespace) -> int:
    site: Path = args.site
    if not site.is_dir():
        print(f"orgreg site-archive: {site} is not a folder")
        return 2
    done = pack(site, args.archive)
    how = (
        "packed the whole site"
        if done.full
        else f"{done.kept} members kept ({done.copied_bytes / 1e6:.1f} MB moved in "
        f"{done.moved_runs} runs), {done.dropped} removed"
    )
    print(
        f"site-archive: {args.archive / TAR_NAME}: {done.files} files, "
        f"{done.size / 1e6:.1f} MB; {how}; {done.added} added from {site}; "
        f"{PACKED_NAME}: {done.packed_size / 1e6:.1f} MB, {done.frames_kept} of "
        f"{done.frames} frames kept"
    )
    return 0
