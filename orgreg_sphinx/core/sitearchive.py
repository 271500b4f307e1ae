"""The published site kept as one tar: the GitHub Pages artifact, and an index of it.

A cached CI deploy restores the previous site as this one file instead of
hundreds of thousands of files and folders (creating them costs more than the
build that follows), builds into an output folder that holds only what the build
writes, and then packs the new artifact: the previous tar's members that were
neither written again nor removed, copied by byte ranges, plus the files written.

The archive folder holds:

* ``artifact.tar`` -- what ``actions/upload-pages-artifact`` uploads (``tar
  --dereference --hard-dereference --directory SITE -cf artifact.tar
  --exclude=.git --exclude=.github .``): GNU format, members ``./`` and
  ``./<path>`` (``./<folder>/`` for folders), regular files and folders only;
* ``artifact.tar.zst`` -- the same tar compressed with zstd, in frames of
  :data:`FRAME` bytes of the tar each: what a CI cache keeps instead of the tar.
  Restoring a cache writes every byte it holds, and a runner writes the 800 MB
  tar of 100,000 tags slower from the cache's archive than it decompresses its
  45 MB (:meth:`SiteArchive.load` makes the tar again when it is missing). A pack
  copies the frames before the first byte it changed and compresses the rest;
* ``index.pickle`` -- each member's path, kind, size, modification time
  (nanoseconds, as the file had it when packed) and place in the tar, in the
  tar's order and as columns (a list of paths, an array of numbers), so that
  nothing reads the tar to know what it holds and the index of 500,000 members
  loads in a fraction of a second; the tar's size and time, and the compressed
  size of each frame;
* ``removed.txt`` -- the paths builds removed from the site since the last pack
  (they are not on disk to delete), one a line.

While the archive is in use the output folder is an overlay: a file on disk is
the site's; else a member of the tar not recorded as removed is
(:meth:`SiteArchive.status`). :func:`pack` makes the next archive from both.
No Sphinx here: the extension and ``orgreg site-archive`` share it.
"""

from __future__ import annotations

import grp
import os
import pickle
import pwd
import stat
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import zstdlib

TAR_NAME = "artifact.tar"
PACKED_NAME = "artifact.tar.zst"
INDEX_NAME = "index.pickle"
REMOVED_NAME = "removed.txt"
#: bumped when the index's layout changes (an index of another format is ignored)
INDEX_FORMAT = 3
#: the tar's bytes in each zstd frame of the compressed copy
FRAME = 8 << 20
#: zstd's level for the compressed copy: its fastest standard level (on the tar of
#: 100,000 tags, 43 MB in 0.6 s, against 46 MB in 1.2 s at the default level 3)
PACK_LEVEL = 1
#: GNU tar's record: an archive's length is a multiple of it (20 blocks of 512)
RECORD = 10240
BLOCK = 512
#: never packed (upload-pages-artifact's ``--exclude``)
EXCLUDED = frozenset({".git", ".github"})
#: what a copy moves at a time when it cannot let the kernel copy
CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """One member of the tar: ``kind`` "f" (file) or "d" (folder), the file's
    ``size`` and ``mtime_ns``, where its first header starts and its data."""

    kind: str
    size: int
    mtime_ns: int
    header: int
    data: int

    @property
    def end(self) -> int:
        """Where the member's last block ends."""
        return self.data + _blocks(self.size)


def _blocks(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


class Members(Mapping[str, Member]):
    """The tar's members in their order in the tar, by path (``.`` the root),
    kept as columns: an index of 500,000 members loads in a fraction of a
    second (not one object each)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.where: dict[str, int] = {}
        self.folders = bytearray()  # 1 for a folder
        #: size, mtime_ns, header offset, data offset of each member in turn
        self.numbers = array("q")

    def add(self, rel: str, folder: bool, size: int, mtime_ns: int, header: int, data: int) -> None:
        self.where[rel] = len(self.paths)
        self.paths.append(rel)
        self.folders.append(folder)
        self.numbers.extend((size, mtime_ns, header, data))

    def file_status(self, rel: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of the file *rel*; None if no such file."""
        i = self.where.get(rel)
        if i is None or self.folders[i]:
            return None
        return self.numbers[4 * i], self.numbers[4 * i + 1]

    def at(self, i: int) -> Member:
        size, mtime, header, data = self.numbers[4 * i : 4 * i + 4]
        return Member("d" if self.folders[i] else "f", size, mtime, header, data)

    def __getitem__(self, rel: str) -> Member:
        return self.at(self.where[rel])

    def __contains__(self, rel: object) -> bool:
        return rel in self.where

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def files(self) -> int:
        return len(self.paths) - sum(self.folders)

    def end(self) -> int:
        """Where the last member's blocks end."""
        if not self.paths:
            return 0
        i = max(range(len(self.paths)), key=lambda j: self.numbers[4 * j + 2])
        return self.numbers[4 * i + 3] + _blocks(self.numbers[4 * i])

    def dump(self) -> dict[str, Any]:
        return {
            "paths": "\n".join(self.paths),
            "folders": bytes(self.folders),
            "numbers": self.numbers.tobytes(),
        }

    @classmethod
    def undump(cls, data: dict[str, Any]) -> Members:
        members = cls()
        members.paths = data["paths"].split("\n") if data["paths"] else []
        members.where = dict(zip(members.paths, range(len(members.paths)), strict=True))
        members.folders = bytearray(data["folders"])
        members.numbers.frombytes(data["numbers"])
        if not len(members.folders) == len(members.paths) == len(members.numbers) // 4:
            raise ValueError("the index's columns differ in length")
        return members


def _same_file(path: Path, size: int, mtime_ns: int) -> bool:
    """Whether *path* is a file of *size* bytes and (unless -1) time *mtime_ns*."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return info.st_size == size and mtime_ns in (-1, info.st_mtime_ns)


def _unpack_tar(packed: Path, frames: array[int], tar: Path, size: int, mtime_ns: int) -> None:
    """Make *tar* from its compressed copy *packed*, frame by frame, with the
    time the index recorded; raises when the copy is missing, damaged or not
    of that tar (the caller then starts without an archive)."""
    zstd = zstdlib.zstd()
    tmp = tar.with_name(f".{tar.name}.tmp")
    written = 0
    try:
        with open(packed, "rb") as source, open(tmp, "wb", buffering=0) as target:
            for length in frames:
                data = source.read(length)
                if len(data) != length:
                    raise ValueError(f"{packed} is shorter than its index says")
                frame = zstd.ZstdDecompressor()
                while not frame.eof:
                    # a megabyte at a time: larger pieces are fresh memory each time
                    out = frame.decompress(data, max_length=CHUNK)
                    data = b""
                    if not out and frame.needs_input:
                        raise ValueError(f"{packed} has a frame cut short")
                    written += target.write(out)
            if source.read(1):
                raise ValueError(f"{packed} is longer than its index says")
        if written != size:
            raise ValueError(f"{packed} holds {written} bytes of the tar, not {size}")
        os.utime(tmp, ns=(mtime_ns, mtime_ns))
        os.replace(tmp, tar)
    finally:
        tmp.unlink(missing_ok=True)


def _pack_frames(tar: Path, packed: Path, keep: array[int], size: int) -> array[int]:
    """Write *packed*, the compressed copy of *tar* (*size* bytes): the frames of
    the former copy in *keep* (the tar's bytes they hold did not change) copied
    as they are, the rest of the tar compressed; the frames' compressed sizes."""
    zstd = zstdlib.zstd()
    frames = array("q", keep)
    tmp = packed.with_name(f".{packed.name}.tmp")
    try:
        with open(tmp, "wb") as target:
            if keep:
                with open(packed, "rb") as former:
                    _copy(former.fileno(), 0, target.fileno(), 0, sum(keep))
                target.seek(sum(keep))
            with open(tar, "rb") as source:
                at = len(keep) * FRAME
                while at < size:
                    data = os.pread(source.fileno(), min(FRAME, size - at), at)
                    if not data:
                        raise ValueError(f"{tar} is shorter than {size} bytes")
                    frames.append(target.write(zstd.compress(data, PACK_LEVEL)))
                    at += len(data)
        os.replace(tmp, packed)
    finally:
        tmp.unlink(missing_ok=True)
    return frames


@dataclass
class SiteArchive:
    """An archive folder as the build sees it: which files the site holds without
    their being on disk, and which of those builds removed since the last pack."""

    folder: Path
    members: Members = field(default_factory=Members)
    removed: set[str] = field(default_factory=set)
    #: where the last member ends (new members are appended from there)
    end: int = 0
    #: the compressed size of each frame of :data:`PACKED_NAME`, in the tar's order
    frames: array[int] = field(default_factory=lambda: array("q"))
    #: why an archive that is there was not used ('' when none is there, or it was)
    problem: str = ""

    @property
    def tar(self) -> Path:
        return self.folder / TAR_NAME

    @property
    def packed(self) -> Path:
        return self.folder / PACKED_NAME

    @classmethod
    def load(cls, folder: Path) -> SiteArchive:
        """The archive in *folder*; an empty one when there is none (or it is
        damaged, or of another format: everything is then written again)."""
        archive = cls(Path(folder))
        try:
            with open(archive.folder / INDEX_NAME, "rb") as handle:
                data = pickle.load(handle)
            if data.get("format") != INDEX_FORMAT:
                return archive
            frames = array("q", data["frames"])
            if not _same_file(archive.tar, data["size"], data["mtime_ns"]):
                _unpack_tar(archive.packed, frames, archive.tar, data["size"], data["mtime_ns"])
            archive.members = Members.undump(data)
            archive.end = int(data["end"])
            archive.frames = frames
        except FileNotFoundError as error:
            if error.filename == os.fspath(archive.folder / INDEX_NAME):
                return cls(Path(folder))  # no archive yet
            return cls(Path(folder), problem=f"{error.strerror}: {error.filename}")
        except Exception as error:  # any damage: the whole site is written and packed again
            return cls(Path(folder), problem=str(error) or type(error).__name__)
        try:
            text = (archive.folder / REMOVED_NAME).read_text(encoding="utf-8")
        except OSError:
            text = ""
        archive.removed = {line for line in text.split("\n") if line}
        return archive

    def __bool__(self) -> bool:
        return bool(self.members)

    def status(self, rel: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of the file *rel* held by the archive, if it holds it
        and no build removed it since it was packed."""
        found = self.members.file_status(rel)
        if found is None or rel in self.removed:
            return None
        return found

    def read(self, rel: str) -> bytes:
        """The bytes of the file *rel* in the tar."""
        member = self.members[rel]
        with open(self.tar, "rb") as handle:
            return os.pread(handle.fileno(), member.size, member.data)

    def extract(self, rel: str, site: Path) -> bool:
        """Write the file *rel* into *site* with its recorded time unless it is
        there already; True if written."""
        found = self.status(rel)
        if found is None:
            return False
        target = Path(site) / rel
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.read(rel))
        os.utime(target, ns=(found[1], found[1]))
        return True

    def remove(self, rel: str) -> bool:
        """Record that the build removed the file *rel* from the site; True when
        the archive held it."""
        if self.status(rel) is None:
            return False
        self.removed.add(rel)
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / REMOVED_NAME, "a", encoding="utf-8") as handle:
            handle.write(rel + "\n")
        return True


class Overlay:
    """The site in an output folder, seen through the archive (or without one):
    a file on disk is the site's; else the archive's (:meth:`SiteArchive.status`).

    With an archive, the folder's files are listed once, when the overlay is
    made (a cached deploy's output folder holds only what this build wrote:
    the archive holds the other hundreds of thousands of files), so that asking
    for a file only the tar holds costs no failed ``stat``. A file written into
    the folder after that is told with :meth:`wrote`."""

    def __init__(self, site: str | os.PathLike[str], archive: SiteArchive | None = None) -> None:
        self.site = os.fspath(site)
        self.archive = archive
        #: the files on disk (relative, ``/`` separated), listed when there is an archive
        self.on_disk: set[str] | None = None if archive is None else set(_files(self.site))

    def status(self, rel: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of the site's file *rel* (``/`` separated); None when
        the site has no such file."""
        if self.on_disk is None or rel in self.on_disk:
            try:
                info = os.stat(os.path.join(self.site, rel))
            except OSError:
                pass
            else:
                return info.st_size, info.st_mtime_ns
        return None if self.archive is None else self.archive.status(rel)

    def read(self, rel: str) -> bytes | None:
        """The bytes of the site's file *rel* (on disk, else the archive's); None
        when the site has no such file."""
        if self.on_disk is None or rel in self.on_disk:
            try:
                with open(os.path.join(self.site, rel), "rb") as handle:
                    return handle.read()
            except OSError:
                pass
        if self.archive is None or self.archive.status(rel) is None:
            return None
        return self.archive.read(rel)

    def on_disk_status(self, rel: str) -> os.stat_result | None:
        """The status of *rel* on disk (None when it is not there)."""
        if self.on_disk is not None and rel not in self.on_disk:
            return None
        try:
            return os.stat(os.path.join(self.site, rel))
        except FileNotFoundError:
            return None

    def wrote(self, rel: str) -> None:
        """Tell that the file *rel* was written into the folder."""
        if self.on_disk is not None:
            self.on_disk.add(rel)


def _files(site: str) -> Iterator[str]:
    """The paths (relative, ``/`` separated) of what is not a folder under *site*."""
    pending = [("", site)]
    while pending:
        prefix, folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append((prefix + entry.name + "/", entry.path))
            else:
                yield prefix + entry.name


# --------------------------------------------------------------------------- headers


@dataclass
class _Owners:
    """User and group names by id, looked up once each (as GNU tar writes them)."""

    users: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)

    def user(self, uid: int) -> str:
        if uid not in self.users:
            try:
                self.users[uid] = pwd.getpwuid(uid).pw_name
            except KeyError:
                self.users[uid] = ""
        return self.users[uid]

    def group(self, gid: int) -> str:
        if gid not in self.groups:
            try:
                self.groups[gid] = grp.getgrgid(gid).gr_name
            except KeyError:
                self.groups[gid] = ""
        return self.groups[gid]


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def _block(
    name: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    kind: bytes,
    user: str,
    group: str,
) -> bytes:
    buf = bytearray(BLOCK)
    buf[0 : len(name)] = name
    buf[100:108] = _octal(mode, 8)
    buf[108:116] = _octal(uid, 8)
    buf[116:124] = _octal(gid, 8)
    buf[124:136] = _octal(size, 12)
    buf[136:148] = _octal(max(0, mtime), 12)
    buf[148:156] = b" " * 8
    buf[156:157] = kind
    buf[257:265] = b"ustar  \0"  # GNU's magic and version
    buf[265:297] = user.encode("utf-8")[:31].ljust(32, b"\0")
    buf[297:329] = group.encode("utf-8")[:31].ljust(32, b"\0")
    buf[148:155] = b"%06o\0" % sum(buf)
    return bytes(buf)


def header(name: str, info: os.stat_result, owners: _Owners) -> bytes:
    """The GNU tar header(s) of a member named *name* (``./path`` or
    ``./folder/``), as ``tar --format=gnu`` writes them: a name longer than
    100 bytes comes first as a ``././@LongLink`` member (owned by user 0)."""
    folder = stat.S_ISDIR(info.st_mode)
    encoded = name.encode("utf-8", "surrogateescape")
    user, group = owners.user(info.st_uid), owners.group(info.st_gid)
    size = 0 if folder else info.st_size
    if info.st_uid > 0o7777777 or info.st_gid > 0o7777777 or size > 0o77777777777:
        raise ValueError(f"{name}: owner or size beyond the tar header's fields")
    long = b""
    if len(encoded) > 100:
        data = encoded + b"\0"
        long = _block(
            b"././@LongLink", 0o644, 0, 0, len(data), 0, b"L", owners.user(0), owners.group(0)
        )
        long += data.ljust(_blocks(len(data)), b"\0")
        encoded = encoded[:100]
    kind = b"5" if folder else b"0"
    mode = info.st_mode & 0o7777
    mtime = int(info.st_mtime)
    return long + _block(encoded, mode, info.st_uid, info.st_gid, size, mtime, kind, user, group)


# --------------------------------------------------------------------------- packing


@dataclass
class Packed:
    """What :func:`pack` did: members kept from the previous tar (copied by byte
    ranges), files and folders added from the site folder, members dropped."""

    kept: int = 0
    added: int = 0
    dropped: int = 0
    copied_bytes: int = 0
    moved_runs: int = 0
    size: int = 0
    files: int = 0
    full: bool = True
    #: the compressed copy's size, and its frames copied from the former one
    packed_size: int = 0
    frames_kept: int = 0
    frames: int = 0


def _walk(site: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every file and folder under *site* (paths relative to it, ``/``-separated),
    each folder before its entries, entries of a folder in name order (the root's
    by :func:`_root_order`); symbolic
    links followed (``--dereference``); ``.git``/``.github`` left out."""
    stack: list[str] = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(os.path.join(site, rel) if rel else site) as entries:
                found = sorted(
                    (e for e in entries if e.name not in EXCLUDED),
                    key=_root_order if not rel else _name,
                )
        except FileNotFoundError:
            continue
        later: list[str] = []
        for entry in found:
            path = f"{rel}/{entry.name}" if rel else entry.name
            try:
                info = entry.stat()  # follows links
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                yield path, info
                later.append(path)
            elif stat.S_ISREG(info.st_mode):
                yield path, info
        stack.extend(reversed(later))


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


#: folders of the site's root that every build writes into (Sphinx's, the API's)
SITE_WIDE = frozenset({"api", "v2"})


def _root_order(entry: os.DirEntry[str]) -> tuple[bool, str]:
    """The site's root in a full pack: the namespaces' folders first, then what
    every build writes again (the root's files, Sphinx's ``_static`` and other
    ``_`` folders, the API): a cached deploy's first pack moves less of the tar."""
    wide = not entry.is_dir() or entry.name.startswith(("_", ".")) or entry.name in SITE_WIDE
    return wide, entry.name


class _Writer:
    """Appends members to an open tar file from a given offset."""

    def __init__(self, fd: int, offset: int, members: Members) -> None:
        self.fd, self.offset, self.members = fd, offset, members
        self.owners = _Owners()

    def add(self, site: str, rel: str, info: os.stat_result) -> None:
        folder = stat.S_ISDIR(info.st_mode)
        name = "./" if rel == "." else f"./{rel}/" if folder else f"./{rel}"
        head = header(name, info, self.owners)
        start = self.offset
        os.pwrite(self.fd, head, start)
        data = start + len(head)
        size = 0 if folder else info.st_size
        if size:
            with open(os.path.join(site, rel), "rb") as source:
                _copy(source.fileno(), 0, self.fd, data, size)
            pad = _blocks(size) - size
            if pad:
                os.pwrite(self.fd, bytes(pad), data + size)
        self.members.add(rel, folder, size, info.st_mtime_ns, start, data)
        self.offset = data + _blocks(size)

    def finish(self) -> int:
        """End the archive (two zero blocks, padded to a whole record); its size."""
        end = self.offset + 2 * BLOCK
        total = -(-end // RECORD) * RECORD
        os.pwrite(self.fd, bytes(total - self.offset), self.offset)
        os.ftruncate(self.fd, total)
        return total


def _copy(src: int, src_at: int, dst: int, dst_at: int, length: int) -> int:
    """Copy *length* bytes between two files (or within one, to a lower offset):
    by the kernel where it can, else a block at a time. Returns the bytes copied."""
    done = 0
    overlap = src == dst and dst_at + length > src_at
    while done < length:
        count = min(length - done, CHUNK)
        if not overlap:
            try:
                moved = os.copy_file_range(src, dst, length - done, src_at + done, dst_at + done)
            except (AttributeError, OSError):
                moved = -1
            if moved > 0:
                done += moved
                continue
            if moved == 0:
                break
        block = os.pread(src, count, src_at + done)
        if not block:
            break
        os.pwrite(dst, block, dst_at + done)
        done += len(block)
    return done


def _ancestors(paths: Iterator[str] | list[str]) -> set[str]:
    found: set[str] = set()
    for rel in paths:
        while "/" in rel:
            rel = rel.rsplit("/", 1)[0]
            if rel in found:
                break
            found.add(rel)
    return found


def pack(site: Path, folder: Path) -> Packed:
    """Make *folder*'s archive hold the site: with a previous archive there, its
    members that are neither on disk in *site* nor recorded as removed, plus what
    *site* holds (written by the build); else all of *site*. The tar is changed
    in place: members before the first one left out stay where they are, the
    later ones move down by byte ranges, the new ones are appended (files written
    by every build gather at its end, so the next pack moves little)."""
    site, folder = Path(site), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    previous = SiteArchive.load(folder)
    on_disk = list(_walk(os.fspath(site))) if site.is_dir() else []
    result = Packed(full=not previous)
    members = Members()
    if not previous:
        tmp = folder / f".{TAR_NAME}.tmp"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            writer = _Writer(fd, 0, members)
            if site.is_dir():
                writer.add(os.fspath(site), ".", os.stat(site))
            for rel, info in on_disk:
                writer.add(os.fspath(site), rel, info)
            result.size = writer.finish()
        finally:
            os.close(fd)
        os.replace(tmp, folder / TAR_NAME)
        result.added = len(members)
        changed_from = 0
    else:
        changed_from = _update(site, previous, on_disk, members, result)
    result.files = members.files()
    tar = folder / TAR_NAME
    keep = array("q")
    if previous and _same_file(previous.packed, sum(previous.frames), -1):
        keep = previous.frames[: changed_from // FRAME]
    frames = _pack_frames(tar, folder / PACKED_NAME, keep, result.size)
    result.packed_size, result.frames_kept, result.frames = sum(frames), len(keep), len(frames)
    _save_index(folder, members, result.size, os.stat(tar).st_mtime_ns, frames)
    (folder / REMOVED_NAME).unlink(missing_ok=True)
    return result


def _update(
    site: Path,
    previous: SiteArchive,
    on_disk: list[tuple[str, os.stat_result]],
    members: Members,
    result: Packed,
) -> int:
    """:func:`pack` with a previous archive: the tar changed in place. Returns
    where its first changed byte is."""
    old = previous.members
    disk = dict(on_disk)
    gone = {rel for rel in previous.removed if old.file_status(rel) is not None}
    # files written again (a folder the tar holds already stays where it is)
    replaced = {
        rel
        for rel, info in on_disk
        if rel in old.where and (not old.folders[old.where[rel]] or not stat.S_ISDIR(info.st_mode))
    }
    # a folder emptied by removals goes, as the build's pruning removes it from disk
    emptied: set[str] = set()
    if gone:
        left = (r for i, r in enumerate(old.paths) if not old.folders[i] and r not in gone)
        needed = _ancestors([*left, *disk]) | set(disk)
        emptied = {rel for rel in _ancestors(list(gone)) if rel not in needed}
    drop = gone | replaced | emptied
    numbers = old.numbers
    fd = os.open(previous.tar, os.O_RDWR)
    try:
        write_at = changed_from = -1
        run_start = run_end = -1
        for i, rel in enumerate(old.paths):  # in the tar's order
            size, mtime, head, data = numbers[4 * i : 4 * i + 4]
            if rel in drop:
                if write_at < 0:
                    write_at = changed_from = head
                result.dropped += rel not in replaced
                continue
            if write_at >= 0:  # after the first member left out: moved down
                if head != run_end:  # a new run of kept members
                    write_at = _move(fd, run_start, run_end, write_at, result)
                    run_start = head
                run_end = data + _blocks(size)
                shift = write_at + head - run_start
                head, data = shift, shift + data - head
            members.add(rel, bool(old.folders[i]), size, mtime, head, data)
        if write_at < 0:  # nothing left out: the new members follow the last one
            write_at = changed_from = previous.end
        write_at = _move(fd, run_start, run_end, write_at, result)
        result.kept = len(members)
        writer = _Writer(fd, write_at, members)
        base = os.fspath(site)
        for rel, info in on_disk:
            at = members.where.get(rel)
            if at is not None and members.folders[at] and stat.S_ISDIR(info.st_mode):
                continue  # a folder the tar holds already
            writer.add(base, rel, info)
            result.added += 1
        result.size = writer.finish()
    finally:
        os.close(fd)
    return changed_from


def _move(fd: int, start: int, end: int, to: int, result: Packed) -> int:
    """Move the byte range [start, end) of the tar down to *to*; where it ends."""
    if start < 0 or end <= start:
        return to
    length = end - start
    if to != start:
        _copy(fd, start, fd, to, length)
        result.copied_bytes += length
        result.moved_runs += 1
    return to + length


def _save_index(
    folder: Path, members: Members, size: int, mtime_ns: int, frames: array[int]
) -> None:
    data = {
        "format": INDEX_FORMAT,
        "size": size,
        "mtime_ns": mtime_ns,
        "frames": frames.tobytes(),
        "end": members.end(),
        **members.dump(),
    }
    tmp = folder / f".{INDEX_NAME}.tmp"
    with open(tmp, "wb") as handle:
        pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, folder / INDEX_NAME)


def unpack(folder: Path, site: Path) -> int:
    """Extract the archive in *folder* into *site* (files with their recorded
    times); the number of files. For checks and local use: a deploy never does."""
    archive = SiteArchive.load(folder)
    count = 0
    for rel, member in archive.members.items():
        target = Path(site) / ("" if rel == "." else rel)
        if member.kind == "d":
            target.mkdir(parents=True, exist_ok=True)
        elif archive.extract(rel, site):
            count += 1
    return count
