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

In a fresh git checkout (a CI runner's), :func:`keep_times_from_git` learns the
same from git's index instead of the disk: a file's digest is its blob id (no
file is read) and the folders and their entries are those of the tracked files
(no folder is listed), so only the times are written. At 100,000 tags that is
the difference between touching every file and folder three times and once.

For a build told the tree is exactly the commit checked out (``ORGREG_GIT_CHECKOUT``:
it takes which namespace folders changed from ``git diff``, and never looks at
the times of the files and folders in the others), :func:`keep_times_from_git`
with *git_build* leaves the folders and the files :func:`keeps_checkout_time`
names (``README.md``: the manifest tree's, which only the namespace reader
reads) at the checkout's time, and records none of them: at 10,000 namespaces x
10 tags, the times of 130,000 folders and 120,000 READMEs not written, and a
record of about 10,000 files instead of 130,000. A newer time is never wrong,
only more work: a Sphinx page named ``README.md`` is read again, and so is every
namespace when the build cannot use git (its last commit missing from the clone).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: the record's format; another one is not read (everything counts as new)
FORMAT = 1
#: folders never walked: version control, environments, build output, caches
SKIPPED_FOLDERS = frozenset(
    {".git", ".hg", ".svn", ".venv", "_build", "node_modules", "__pycache__", ".tox", ".nox"}
)
#: names of the files a run for a build that takes what changed from git leaves at
#: the checkout's time (:func:`keeps_checkout_time`): the manifest tree's READMEs
#: (``<org>/<repo>/README.md``, ``manifests/<tag>/README.md``, ``tags/README.md``),
#: read only by the namespace reader, whose memo such a build settles from git
CHECKOUT_TIME_NAMES = frozenset({"README.md"})


def keeps_checkout_time(rel: str) -> bool:
    """True for a file (*rel*: ``/``-separated) that a run for a build told
    ``ORGREG_GIT_CHECKOUT`` leaves at the checkout's time and does not record
    (:data:`CHECKOUT_TIME_NAMES`). Other files -- Sphinx's pages, the recipes and
    contents files whose times the change stamps hold, key files -- get their
    former times back as in any run."""
    return rel.rpartition("/")[2] in CHECKOUT_TIME_NAMES


@dataclass(frozen=True)
class KeptTimes:
    """What :func:`keep_times` did: files given back their recorded time, files
    left as they are (changed, new, or already at the recorded time), files left
    at the checkout's time unlooked at (:func:`keeps_checkout_time`, in a run for
    a build that takes what changed from git); folders given back theirs (their
    entries' names as recorded)."""

    restored: int
    changed: int
    unchanged: int
    folders_restored: int = 0
    left_at_checkout: int = 0

    @property
    def files(self) -> int:
        return self.restored + self.changed + self.unchanged + self.left_at_checkout


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


Record = dict[str, tuple[str, int]]


def load_record(state_file: Path) -> tuple[Record, Record]:
    """The recorded ``{path: (digest, mtime_ns)}`` of the files, and of the folders
    (their digest: of their entries' names); empty when missing or unreadable."""
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}, {}
    return _entries(data.get("files")), _entries(data.get("folders"))


def _entries(part: object) -> Record:
    if not isinstance(part, dict):
        return {}
    record: Record = {}
    for rel, entry in part.items():
        if (
            type(entry) is list
            and len(entry) == 2
            and type(entry[0]) is str
            and type(entry[1]) is int
        ):
            record[rel] = (entry[0], entry[1])
    return record


def keep_times(root: Path, state_file: Path, skipped: Iterable[str] = SKIPPED_FOLDERS) -> KeptTimes:
    """Give every file below *root* whose bytes are the recorded ones its recorded
    modification time, and every folder whose entries have the recorded names
    its recorded time (the root itself left out: its entries differ with the
    restored build); then record every file's digest and time, and every
    folder's names and time, in *state_file*. One pass over the tree."""
    record, folder_record = load_record(state_file)
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
    save_record(state_file, files, folders)
    return KeptTimes(restored, changed, unchanged, folders_restored)


def save_record(
    state_file: Path, files: dict[str, list[str | int]], folders: dict[str, list[str | int]]
) -> None:
    """Write the record of files and folders (replacing the previous one whole)."""
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


class NotAGitCheckout(Exception):
    """The root is not the top folder of a git work tree git can read."""


def _git(root: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "-C", os.fspath(root), *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise NotAGitCheckout(done.stderr.decode("utf-8", "replace").strip())
    return done.stdout


def git_tree(
    root: Path,
    skipped: Iterable[str] = SKIPPED_FOLDERS,
    folders: bool = True,
    edits: bool = True,
) -> tuple[dict[str, str], dict[str, str]]:
    """The regular files and the folders git tracks below *root* (the top of its
    work tree; folders and files under a folder named in *skipped* are left out,
    as :func:`scan` leaves them), each with a digest: a file's is ``git:<blob
    id>`` from the index, or :func:`content_digest` of its bytes where the work
    tree differs (a deleted file is left out); a folder's is ``git:<tree id>`` of
    the last commit (its entries, their names and bytes), or '' where something
    in it differs from that commit (none without *folders*). Without *edits*,
    the work tree is taken to be the index's, as a fresh checkout's is (``git
    status``, which looks at every tracked file, is not run). Raises
    :class:`NotAGitCheckout`."""
    top = _git(root, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip()
    if os.path.realpath(top) != os.path.realpath(root):
        raise NotAGitCheckout(f"{root} is not the top of its git work tree ({top})")
    skip = frozenset(skipped)
    changed: set[str] = set()
    unsettled: set[str] = set()
    status = (
        _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=no", "--no-renames")
        if edits
        else b""
    )
    for entry in status.split(b"\0"):
        if len(entry) > 3:
            rel = os.fsdecode(entry[3:])
            changed.add(rel)
            while "/" in rel:
                rel = rel.rpartition("/")[0]
                unsettled.add(rel)
    base = os.fspath(root)
    files: dict[str, str] = {}
    for line in _git(root, "ls-files", "--stage", "-z").split(b"\0"):
        meta, _, name = line.partition(b"\t")
        fields = meta.split(b" ")
        # links, submodules and unmerged entries are no plain files
        if len(fields) != 3 or fields[0] not in (b"100644", b"100755") or fields[2] != b"0":
            continue
        rel = os.fsdecode(name)
        if skip and skip.intersection(rel.split("/")[:-1]):
            continue
        if rel in changed:
            try:
                files[rel] = content_digest(os.path.join(base, rel))
            except OSError:
                continue  # deleted in the work tree
        else:
            files[rel] = "git:" + fields[1].decode("ascii")
    if not folders:
        return files, {}
    listed: dict[str, str] = {}
    try:
        listing = _git(root, "ls-tree", "-r", "-d", "-z", "--full-tree", "HEAD")
    except NotAGitCheckout:  # no commit yet
        listing = b""
    if listing:
        for line in listing.split(b"\0"):
            meta, _, name = line.partition(b"\t")
            fields = meta.split(b" ")
            if len(fields) != 3 or fields[1] != b"tree":
                continue
            rel = os.fsdecode(name)
            if skip and skip.intersection(rel.split("/")):
                continue
            listed[rel] = "" if rel in unsettled else "git:" + fields[2].decode("ascii")
    for rel in files:  # folders of files added to the index since the commit
        while "/" in rel:
            rel = rel.rpartition("/")[0]
            if rel in listed:
                break
            listed[rel] = ""
    return files, listed


def keep_times_from_git(
    root: Path,
    state_file: Path,
    skipped: Iterable[str] = SKIPPED_FOLDERS,
    *,
    git_build: bool = False,
) -> KeptTimes:
    """:func:`keep_times` for a fresh git checkout (a CI runner's), with what the
    tree holds taken from git's index, not from the disk: the files are the
    tracked ones (a file's digest its blob id, or its bytes' digest where the
    work tree differs from the index), the folders those that hold them, with
    the entries they make. Untracked files and folders are not looked for: in a
    checkout there are none.

    With *git_build* (``orgreg keep-times --git --files-only``: for a build told
    ``ORGREG_GIT_CHECKOUT``, which takes what changed in the manifest tree from
    git), the folders and the files :func:`keeps_checkout_time` names keep the
    checkout's time, and none of them is recorded (a later run without it counts
    them as new). A newer time is never wrong, only more work: a Sphinx page named
    ``README.md`` is read again, and when the build cannot use git (its last
    commit missing) it reads every namespace again. Such a build trusts the
    checkout, and so does this run: the work tree is taken to be the commit's
    (edits since the checkout are not looked for: no ``git status``). Raises
    :class:`NotAGitCheckout` when *root* is not the top of a git work tree."""
    files, listings = git_tree(root, skipped, folders=not git_build, edits=not git_build)
    record, folder_record = load_record(state_file)
    restored = changed = unchanged = folders_restored = left_at_checkout = 0
    base = os.fspath(root) + os.sep
    kept_files: dict[str, list[str | int]] = {}
    for rel, digest in files.items():
        if git_build and keeps_checkout_time(rel):
            left_at_checkout += 1
            continue
        path = base + rel
        former = record.get(rel)
        if former is not None and former[0] == digest:
            try:
                os.utime(path, ns=(former[1], former[1]), follow_symlinks=False)
            except OSError:
                continue
            kept_files[rel] = [digest, former[1]]
            restored += 1
            continue
        try:
            mtime = os.lstat(path).st_mtime_ns
        except OSError:
            continue
        changed += 1
        kept_files[rel] = [digest, mtime]
    kept_folders: dict[str, list[str | int]] = {}
    for rel in listings:  # (none with git_build) a new time leaves its folder's as it is
        path = base + rel
        former = folder_record.get(rel)
        if former is not None and listings[rel] and former[0] == listings[rel]:
            try:
                os.utime(path, ns=(former[1], former[1]), follow_symlinks=False)
            except OSError:
                continue
            kept_folders[rel] = [listings[rel], former[1]]
            folders_restored += 1
            continue
        try:
            mtime = os.lstat(path).st_mtime_ns
        except OSError:
            continue
        kept_folders[rel] = [listings[rel], mtime]
    save_record(state_file, kept_files, kept_folders)
    return KeptTimes(restored, changed, unchanged, folders_restored, left_at_checkout)
