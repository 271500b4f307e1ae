"""Keep the modification times of unchanged files across fresh checkouts.

A CI checkout gives every file the time of the checkout. Sphinx decides what to
read again by comparing a source's modification time with the time it last read
it, so a build whose doctrees and output are restored from a cache would read
(and write) every page again. :func:`keep_times` gives each file whose bytes are
those recorded by the previous run the modification time recorded with them,
leaves changed and new files with their (newer) checkout time, and records the
files as they are now. Run before each build, it is idempotent: the second run in
a row changes nothing.

Folders too: a folder whose entries have the names recorded gets its recorded
time back (a folder's time changes when an entry is added, removed or renamed
in it; the build's namespace memo reads again only the namespace folders whose
folders and files changed).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: the record's format; another one is not read (everything counts as new)
FORMAT = 1
#: folders never walked: version control, environments, build output, caches
SKIPPED_FOLDERS = frozenset(
    {".git", ".hg", ".svn", ".venv", "_build", "node_modules", "__pycache__", ".tox", ".nox"}
)


@dataclass(frozen=True)
class KeptTimes:
    """What :func:`keep_times` did: files given back their recorded time, files
    left as they are (changed, new, or already at the recorded time); folders
    given back theirs (their entries' names as recorded)."""

    restored: int
    changed: int
    unchanged: int
    folders_restored: int = 0

    @property
    def files(self) -> int:
        return self.restored + self.changed + self.unchanged


def content_digest(path: str) -> str:
    """A digest of a file's bytes."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Found:
    """A folder or a regular file met by :func:`scan`: its path relative to the
    root (``/``-separated), its path, and for a folder the digest of its entries' names."""

    rel: str
    path: str
    listing: str
    folder: bool


def scan(root: Path, skipped: Iterable[str] = SKIPPED_FOLDERS) -> Iterator[Found]:
    """Every folder below *root* (the root itself left out) and every regular file,
    in one pass (one ``scandir`` per folder, one ``lstat`` per entry); folders
    named in *skipped* and symbolic links are not entered, links are no files."""
    skip = frozenset(skipped)
    pending: list[tuple[str, str]] = [(os.fspath(root), "")]
    while pending:
        path, rel = pending.pop()
        folders: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    try:
                        is_folder = entry.is_dir()  # a link to a folder counts as one (os.walk)
                    except OSError:
                        is_folder = False
                    (folders if is_folder else files).append(entry)
        except OSError:
            continue
        if rel:
            yield Found(
                rel[:-1],
                path,
                listing_digest([f.name for f in folders], [f.name for f in files]),
                True,
            )
        for entry in files:
            if entry.is_file(follow_symlinks=False):
                yield Found(rel + entry.name, entry.path, "", False)
        for entry in sorted(folders, key=lambda e: e.name, reverse=True):
            if entry.name not in skip and not entry.is_symlink():
                pending.append((entry.path, f"{rel}{entry.name}/"))


def listing_digest(folders: list[str], files: list[str]) -> str:
    """A digest of the names in a folder (what a folder's time follows)."""
    names = sorted([*(f + "/" for f in folders), *files])
    return hashlib.blake2b(
        "\0".join(names).encode("utf-8", "surrogateescape"), digest_size=16
    ).hexdigest()


def load_record(state_file: Path, part: str = "files") -> dict[str, tuple[str, int]]:
    """The recorded ``{path: (digest, mtime_ns)}`` of the files (*part*
    ``"folders"``: of the folders, by their entries' names); empty when missing
    or unreadable."""
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    files = data.get(part)
    if not isinstance(files, dict):
        return {}
    record: dict[str, tuple[str, int]] = {}
    for rel, entry in files.items():
        if (
            isinstance(entry, list)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], int)
        ):
            record[str(rel)] = (entry[0], entry[1])
    return record


def keep_times(root: Path, state_file: Path, skipped: Iterable[str] = SKIPPED_FOLDERS) -> KeptTimes:
    """Give every file below *root* whose bytes are the recorded ones its recorded
    modification time, and every folder whose entries have the recorded names
    its recorded time (the root itself left out: its entries differ with the
    restored build); then record every file's digest and time, and every
    folder's names and time, in *state_file*. One pass over the tree."""
    record = load_record(state_file)
    folder_record = load_record(state_file, "folders")
    files: dict[str, list[str | int]] = {}
    folders: dict[str, list[str | int]] = {}
    restored = changed = unchanged = folders_restored = 0
    for found in scan(root, skipped):
        try:
            info = os.lstat(found.path)
        except OSError:
            continue
        mtime = info.st_mtime_ns
        if found.folder:
            former = folder_record.get(found.rel)
            if former is not None and former[0] == found.listing and former[1] != mtime:
                os.utime(found.path, ns=(info.st_atime_ns, former[1]), follow_symlinks=False)
                mtime = former[1]
                folders_restored += 1
            folders[found.rel] = [found.listing, mtime]
            continue
        digest = content_digest(found.path)
        former = record.get(found.rel)
        if former is not None and former[0] == digest:
            if former[1] != mtime:
                os.utime(found.path, ns=(info.st_atime_ns, former[1]))
                mtime = former[1]
                restored += 1
            else:
                unchanged += 1
        else:
            changed += 1
        files[found.rel] = [digest, mtime]
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_name(state_file.name + ".tmp")
    tmp.write_text(
        json.dumps(
            {"format": FORMAT, "files": files, "folders": folders},
            separators=(",", ":"),
            sort_keys=True,
        ),
        encoding="utf-8",
    )
    os.replace(tmp, state_file)
    return KeptTimes(restored, changed, unchanged, folders_restored)
