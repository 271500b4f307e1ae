"""What a SIF image holds: executables, packages and its SBOM's packages.

The primary system partition of a SIF image (Apptainer's default, a squashfs file
system) is read where its descriptor says, through a bounded view of the file,
without unpacking it: dissect.squashfs walks the directory tables lazily and reads
only the few files that name packages. Found:

- executables in the usual PATH folders (``/usr/local/bin``, ``/usr/bin``, ``/bin``,
  ``/opt/conda/bin``, ...; symbolic links with their target),
- OS packages: ``/var/lib/dpkg/status`` (Debian, Ubuntu), ``/lib/apk/db/installed``
  (Alpine), the rpm database ``rpmdb.sqlite`` (Fedora, RHEL 9, ...),
- conda packages (``conda-meta/<name>-<version>-<build>.json``) and Python
  distributions (``*.dist-info/METADATA``, ``*.egg-info/PKG-INFO``) anywhere,
- the packages of each embedded SBOM object: CycloneDX JSON (cyclonedx-python-lib),
  SPDX JSON (spdx-tools), Syft JSON.

Bounded and safe: the file is hostile. Reads never leave the partition, every
compressed block is decompressed to at most its block size and all of them to at
most :attr:`Limits.decompressed`, a directory is entered once (loops), at most
:attr:`Limits.entries` entries are walked (then the record says ``truncated``)
and the whole read stops after :attr:`Limits.seconds`. Whatever goes wrong is one
:class:`ContentsError` with a clear reason.

:func:`read_contents` returns the record ``orgreg manifest`` writes beside a
manifest (``contents.json``, :data:`RECORD_FILE`); :func:`executables` and
:func:`packages` read such a record for others (listings, shpc module aliases).
"""

from __future__ import annotations

import copy
import io
import json
import lzma
import posixpath
import re
import sqlite3
import stat
import struct
import time
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import fastjsonschema
import jsonschema

from . import sif
from .zstdlib import zstd

#: the record's file name, beside the manifest (``manifests/<tag>/contents.json``)
RECORD_FILE = "contents.json"
CONTENTS_VERSION = 1

#: folders whose executables are listed (Apptainer's default PATH, conda's)
PATH_FOLDERS = (
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
    "/opt/conda/bin",
    "/usr/games",
    "/usr/local/games",
)
DPKG_STATUS = "/var/lib/dpkg/status"
APK_INSTALLED = "/lib/apk/db/installed"
RPM_DATABASES = ("/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite")
_DATABASES = {DPKG_STATUS, APK_INSTALLED, *RPM_DATABASES}
_DATABASE_FOLDERS = {posixpath.dirname(p) for p in _DATABASES}

#: squashfs compression ids (``squashfs_fs.h``)
COMPRESSIONS = {1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}
_METADATA_SIZE = 8192


class ContentsError(ValueError):
    """An image whose system partition cannot be read, with the reason."""


class NoSystemPartition(ContentsError):
    """An image without a system partition (data only, or an OCI-SIF image, whose
    file systems are OCI blobs): nothing to read."""


@dataclass(frozen=True)
class Limits:
    """What reading one image may cost."""

    #: directory entries walked (then the record is marked truncated)
    entries: int = 1_000_000
    #: folder depth walked
    depth: int = 64
    #: bytes decompressed in all (directory tables, inodes and the files read)
    decompressed: int = 96 * 1024 * 1024
    #: largest package database file read (dpkg status, apk installed, rpmdb)
    database: int = 64 * 1024 * 1024
    #: largest SBOM object read
    sbom: int = 32 * 1024 * 1024
    #: bytes of a METADATA / PKG-INFO file read for its name and version
    metadata: int = 64 * 1024
    #: most executables and packages recorded (then the record is marked truncated)
    items: int = 100_000
    #: wall-clock seconds for the whole read
    seconds: float = 20.0


class _Budget:
    """The decompressed bytes and the time left; raises :class:`ContentsError`."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.left = limits.decompressed
        self.deadline = time.monotonic() + limits.seconds

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise ContentsError(
                f"decompresses to more than {self.limits.decompressed} bytes of "
                "tables and package files (a compression bomb?)"
            )

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise ContentsError(f"took longer than {self.limits.seconds:g} s to read")


class _View(io.RawIOBase):
    """The bytes ``[offset, offset + size)`` of a file, as a file of their own:
    reads never leave the partition, and each one checks the time left."""

    def __init__(self, stream: BinaryIO, offset: int, size: int, budget: _Budget) -> None:
        super().__init__()
        self._stream = stream
        self._offset = offset
        self._size = size
        self._pos = 0
        self._budget = budget

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        self._budget.tick()
        left = max(0, self._size - self._pos)
        count = left if size is None or size < 0 else min(size, left)
        if count == 0:
            return b""
        self._stream.seek(self._offset + self._pos)
        data = self._stream.read(count)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Decompressor:
    """Decompresses one squashfs block to at most ``expected`` bytes (its block
    size), counting every byte against the budget: a block that would grow
    larger is a compression bomb, not a larger buffer."""

    def __init__(self, compression: int, budget: _Budget) -> None:
        if compression not in COMPRESSIONS or compression in (2, 3):
            name = COMPRESSIONS.get(compression, f"id {compression}")
            raise ContentsError(f"uses the {name} compression, which is not read")
        self.compression = compression
        self.budget = budget

    def decompress(self, data: bytes, expected: int) -> bytes:
        limit = max(expected, _METADATA_SIZE)
        try:
            out = self._decompress(data, limit)
        except ContentsError:
            raise
        except Exception as err:  # each library has its own error class
            raise ContentsError(f"has a block that does not decompress ({err})") from None
        self.budget.spend(len(out))
        return out

    def _decompress(self, data: bytes, limit: int) -> bytes:
        name = COMPRESSIONS[self.compression]
        if name == "gzip":
            zd = zlib.decompressobj()
            out = zd.decompress(data, limit)
            overflow = bool(zd.unconsumed_tail)
        elif name == "xz":
            xd = lzma.LZMADecompressor()
            out = xd.decompress(data, limit)
            overflow = not xd.eof and not xd.needs_input
        elif name == "lz4":
            import lz4.block

            out = lz4.block.decompress(data, uncompressed_size=limit)
            overflow = False  # lz4 refuses output beyond uncompressed_size
        else:
            sd = zstd().ZstdDecompressor()
            out = sd.decompress(data, max_length=limit)
            overflow = not sd.eof and not sd.needs_input
        if overflow:
            raise ContentsError(
                f"has a block that decompresses to more than its {limit} bytes "
                "(a compression bomb?)"
            )
        return bytes(out)


@dataclass
class _Found:
    """What the walk collected."""

    executables: dict[str, str | None]
    packages: list[dict[str, str]]
    truncated: bool = False

    def add_package(self, limits: Limits, **fields: str) -> None:
        if len(self.packages) >= limits.items:
            self.truncated = True
            return
        self.packages.append(fields)


def primary_partition(image: sif.SifImage) -> sif.Descriptor:
    """The primary system partition's descriptor (a squashfs); else ContentsError."""
    systems = [d for d in image.descriptors if d.partition and d.partition[1] == "*System"]
    systems = systems or [
        d for d in image.descriptors if d.partition and d.partition[1] == "System"
    ]
    if not systems:
        raise NoSystemPartition("has no system partition")
    part = systems[0]
    assert part.partition is not None
    if part.partition[0] != "Squashfs":
        raise ContentsError(f"has a {part.partition[0]} system partition, not squashfs")
    return part


def read_contents(path: Path, limits: Limits = Limits()) -> dict[str, Any]:
    """The contents record of the SIF image at *path*.

    Raises :class:`sif.SifError` for a file that is not a SIF, ContentsError
    when its system partition cannot be read within the limits, OSError when
    the file cannot be read at all.
    """
    with path.open("rb") as stream:
        image = sif.read_sif(stream, path.stat().st_size)
        record = read_partition(stream, primary_partition(image), limits)
        sboms = [_sbom(stream, d, limits) for d in image.descriptors if d.data_type == sif.SBOM]
    if sboms:
        record["sboms"] = sboms
    return record


def read_partition(
    stream: BinaryIO, part: sif.Descriptor, limits: Limits = Limits()
) -> dict[str, Any]:
    """The contents record of the squashfs at *part*'s offset in *stream*."""
    from dissect.squashfs import SquashFS

    budget = _Budget(limits)
    view = _View(stream, part.offset, part.size, budget)
    try:
        head = view.read(96)
        if len(head) < 96 or head[:4] != b"hsqs":
            raise ContentsError("has a system partition that is not a squashfs 4 file system")
        (compression,) = struct.unpack_from("<H", head, 20)
        decompressor = _Decompressor(compression, budget)
        view.seek(0)
        fs = SquashFS(view)
        # every block goes through the bounded decompressor (dissect's decompresses
        # without a limit); dissect.squashfs keeps it in this attribute
        fs._compression = decompressor
        found = _walk(fs, limits, budget)
    except ContentsError:
        raise
    except Exception as err:  # a hostile file system breaks the parser in many ways
        raise ContentsError(
            f"has a system partition that cannot be read ({_reason(err)})"
        ) from None
    return _record(found, COMPRESSIONS[compression])


def _reason(err: BaseException) -> str:
    text = str(err).strip()[:200]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _record(found: _Found, compression: str) -> dict[str, Any]:
    executables = [
        {"path": p} if target is None else {"path": p, "target": target}
        for p, target in sorted(found.executables.items())
    ]
    packages = sorted(
        found.packages,
        key=lambda p: (p["type"], p["name"].lower(), p["version"], p.get("path", "")),
    )
    record: dict[str, Any] = {
        "contentsVersion": CONTENTS_VERSION,
        "partition": {"fstype": "squashfs", "compression": compression},
        "executables": executables,
        "packages": packages,
    }
    if found.truncated:
        record["truncated"] = True
    return record


def _text(raw: str) -> str:
    """Printable text of at most 200 characters (names and versions are data)."""
    return "".join(c for c in raw if c.isprintable())[:200]


#: a directory listing's header (entries - 1, inode block, first inode number) and
#: entry (inode offset, inode number delta, type, name length - 1), ``squashfs_fs.h``
_DIR_HEADER = struct.Struct("<IIi")
_DIR_ENTRY = struct.Struct("<HhHH")
_DIR, _FILE, _SYMLINK = 1, 2, 3
#: most entries one listing header may announce (``SQUASHFS_DIR_COUNT``)
_DIR_COUNT = 256


@dataclass(frozen=True)
class _Entry:
    """One directory entry: where its inode is, without reading the inode."""

    name: str
    kind: int
    block: int
    offset: int


def _listing(fs: Any, node: Any, folder: str) -> Iterator[_Entry]:
    """The entries of a folder, parsed from its directory table bytes at once (a
    dissect INode per entry would cost ten times as much; only the entries
    that matter become inodes)."""
    header = node.header
    size = header.file_size - 3  # the listing's size, plus 3 for "." and ".."
    if size <= 0:
        return
    start = fs.sb.directory_table_start + header.start_block
    _, _, data = fs._read_metadata(start, header.offset, size)
    pos, end = 0, len(data)
    while pos < end:
        if pos + _DIR_HEADER.size > end:
            raise ContentsError(f"has a folder listing cut short at {folder}")
        count, block, _ = _DIR_HEADER.unpack_from(data, pos)
        pos += _DIR_HEADER.size
        if count >= _DIR_COUNT:
            raise ContentsError(f"has a folder listing with a bad header at {folder}")
        for _ in range(count + 1):
            if pos + _DIR_ENTRY.size > end:
                raise ContentsError(f"has a folder listing cut short at {folder}")
            offset, _, kind, length = _DIR_ENTRY.unpack_from(data, pos)
            pos += _DIR_ENTRY.size
            name = data[pos : pos + length + 1].decode("utf-8", "surrogateescape")
            pos += length + 1
            if not name or "/" in name or name in (".", "..") or "\x00" in name:
                raise ContentsError(f"has an invalid file name in {folder}")
            yield _Entry(name, kind, block, offset)


def _node(fs: Any, entry: _Entry, parent: Any) -> Any:
    return fs.inode(entry.block, entry.offset, name=entry.name, type=entry.kind, parent=parent)


def _walk(fs: Any, limits: Limits, budget: _Budget) -> _Found:
    """Walk the directory tables once, collecting what names software."""
    found = _Found(executables={}, packages=[])
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[str, Any, int]] = [("", fs.root, 0)]
    entries = 0
    while stack:
        folder, node, depth = stack.pop()
        key = (node.block, node.offset)
        if key in seen:  # a folder entered twice: a loop in a hostile image
            raise ContentsError(f"has a folder loop at {folder}")
        seen.add(key)
        files: dict[str, _Entry] = {}
        for entry in _listing(fs, node, folder or "/"):
            entries += 1
            if entries > limits.entries:
                found.truncated = True
                return found
            if entries % 4096 == 0:
                budget.tick()
            name = entry.name
            if entry.kind == _DIR:
                full = f"{folder}/{name}"
                child = _node(fs, entry, node)
                if depth + 1 <= limits.depth:
                    stack.append((full, child, depth + 1))
                if name.endswith((".dist-info", ".egg-info")):
                    _python_package(fs, child, full, found, limits)
            else:
                files[name] = entry
                if name.endswith(".egg-info") and entry.kind == _FILE:  # PKG-INFO as a file
                    _python_metadata(_node(fs, entry, node), folder or "/", found, limits)
        path = folder or "/"
        if path in PATH_FOLDERS:
            _executables(fs, node, path, files, found, limits)
        if path.endswith("/conda-meta"):
            _conda_packages(path, files, found, limits)
        if path in _DATABASE_FOLDERS:
            _databases(fs, node, path, files, found, limits)
    return found


def _executables(
    fs: Any, parent: Any, folder: str, files: dict[str, _Entry], found: _Found, limits: Limits
) -> None:
    for name, entry in files.items():
        if len(found.executables) >= limits.items:
            found.truncated = True
            return
        full = f"{folder}/{name}"
        if entry.kind == _SYMLINK:
            found.executables[full] = _text(_node(fs, entry, parent).link)
        elif entry.kind == _FILE and _node(fs, entry, parent).header.mode & 0o111:
            found.executables[full] = None


_CONDA_FILE = re.compile(r"(?P<name>.+)-(?P<version>[^-]+)-(?P<build>[^-]+)\.json")


def _conda_packages(folder: str, files: dict[str, _Entry], found: _Found, limits: Limits) -> None:
    """conda names each record ``<name>-<version>-<build>.json`` (version and build
    never hold a dash): the name and version without reading the file."""
    prefix = posixpath.dirname(folder)
    for name in files:
        match = _CONDA_FILE.fullmatch(name)
        if match:
            found.add_package(
                limits,
                type="conda",
                name=_text(match["name"]),
                version=_text(match["version"]),
                path=prefix,
            )


def _read_file(node: Any, most: int, what: str) -> bytes:
    if not node.is_file():
        raise ContentsError(f"has a {what} that is not a file")
    if node.size > most:
        raise ContentsError(f"has a {what} of {node.size} bytes, over the limit of {most}")
    return _file_bytes(node, node.size)


def _file_bytes(node: Any, most: int) -> bytes:
    """The first *most* bytes of a file, block by block (dissect's file stream reads
    in block-sized steps and, for a small file's fragment, reads the fragment again
    for each byte asked beyond it: thousands of times for a METADATA file)."""
    fs = node.fs
    header = node.header
    block = header.start_block
    out: list[bytes] = []
    left = min(most, node.size)
    for run, count in node.block_list:
        if left <= 0:
            break
        if run is None:  # the tail of the file, in a fragment block
            data = fs._read_fragment(header.fragment, header.offset, count)
        elif run == 0:  # a sparse block
            data = bytes(min(left, fs.block_size))
        else:
            block, data = fs._read_block(block, run)
        out.append(data[:left])
        left -= len(out[-1])
    return b"".join(out)


def _databases(
    fs: Any, parent: Any, folder: str, files: dict[str, _Entry], found: _Found, limits: Limits
) -> None:
    for name, entry in files.items():
        full = f"{folder}/{name}"
        if full not in _DATABASES:
            continue
        node = _node(fs, entry, parent)
        if full == DPKG_STATUS:
            text = _read_file(node, limits.database, "dpkg status").decode("utf-8", "replace")
            for fields in _paragraphs(text, ":"):
                if "Package" in fields and "Version" in fields and _installed(fields):
                    found.add_package(
                        limits, type="deb", name=fields["Package"], version=fields["Version"]
                    )
        elif full == APK_INSTALLED:
            text = _read_file(node, limits.database, "apk database").decode("utf-8", "replace")
            for fields in _paragraphs(text, ":", single=True):
                if "P" in fields and "V" in fields:
                    found.add_package(limits, type="apk", name=fields["P"], version=fields["V"])
        elif full in RPM_DATABASES:
            data = _read_file(node, limits.database, "rpm database")
            for rpm_name, version in _rpm_packages(data):
                found.add_package(limits, type="rpm", name=rpm_name, version=version)


def _installed(fields: dict[str, str]) -> bool:
    """A dpkg status paragraph of an installed package (no Status: assume so)."""
    status = fields.get("Status")
    return status is None or status.split()[-1:] in (["installed"], ["half-configured"])


def _paragraphs(text: str, sep: str, *, single: bool = False) -> Iterator[dict[str, str]]:
    """The fields of each blank-line-separated paragraph (RFC 822 style; with
    *single*, apk's one-letter ``K:value`` lines)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields = {}
        elif line[0] in " \t":
            continue  # a continuation line (descriptions, conffiles)
        else:
            key, found_sep, value = line.partition(sep)
            if found_sep and (not single or len(key) == 1):
                fields[key.strip()] = _text(value.strip())
    if fields:
        yield fields


def _rpm_packages(data: bytes) -> Iterator[tuple[str, str]]:
    """(name, [epoch:]version-release) of each header blob in an ``rpmdb.sqlite``."""
    if data[18:20] == b"\x02\x02":
        # rpm keeps its database in WAL mode, which a database in memory cannot
        # open: read it in the rollback-journal mode (the same pages)
        data = data[:18] + b"\x01\x01" + data[20:]
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(data)
        rows = conn.execute("SELECT blob FROM Packages").fetchall()
    except sqlite3.DatabaseError as err:
        raise ContentsError(f"has an rpm database that cannot be read ({err})") from None
    finally:
        conn.close()
    for (blob,) in rows:
        tags = _rpm_header(bytes(blob))
        name, version, release = tags.get(1000), tags.get(1001), tags.get(1002)
        if isinstance(name, str) and isinstance(version, str):
            text = version if not isinstance(release, str) else f"{version}-{release}"
            epoch = tags.get(1003)
            if isinstance(epoch, int) and epoch:
                text = f"{epoch}:{text}"
            yield _text(name), _text(text)


def _rpm_header(blob: bytes) -> dict[int, str | int]:
    """NAME, VERSION, RELEASE (strings) and EPOCH (int32) of an rpm header blob."""
    if len(blob) < 8:
        return {}
    count, size = struct.unpack_from(">II", blob, 0)
    start = 8 + 16 * count
    if start + size > len(blob):
        return {}
    tags: dict[int, str | int] = {}
    for index in range(count):
        tag, kind, offset, _ = struct.unpack_from(">IIII", blob, 8 + 16 * index)
        if tag not in (1000, 1001, 1002, 1003) or offset >= size:
            continue
        if kind == 6:  # STRING
            end = blob.find(b"\x00", start + offset, start + size)
            if end >= 0:
                tags[tag] = blob[start + offset : end].decode("utf-8", "replace")
        elif kind == 4 and offset + 4 <= size:  # INT32
            (tags[tag],) = struct.unpack_from(">I", blob, start + offset)
    return tags


def _python_package(fs: Any, node: Any, folder: str, found: _Found, limits: Limits) -> None:
    """Name and version from ``METADATA`` (dist-info) or ``PKG-INFO`` (egg-info)."""
    wanted = "METADATA" if folder.endswith(".dist-info") else "PKG-INFO"
    for entry in _listing(fs, node, folder):
        if entry.name == wanted and entry.kind == _FILE:
            _python_metadata(_node(fs, entry, node), posixpath.dirname(folder), found, limits)
            return


def _python_metadata(node: Any, site: str, found: _Found, limits: Limits) -> None:
    """The distribution a core metadata file (METADATA, PKG-INFO) names."""
    head = _file_bytes(node, limits.metadata).decode("utf-8", "replace")
    fields = next(_paragraphs(head.split("\n\n", 1)[0] + "\n", ":"), {})
    if fields.get("Name") and fields.get("Version"):
        found.add_package(
            limits, type="python", name=fields["Name"], version=fields["Version"], path=site
        )


# --- SBOM objects -------------------------------------------------------------


def _sbom(stream: BinaryIO, descriptor: sif.Descriptor, limits: Limits) -> dict[str, Any]:
    """One SBOM object: its format and packages (``error`` when unreadable)."""
    fmt = descriptor.sbom_format or "unknown"
    entry: dict[str, Any] = {"format": fmt, "size": descriptor.size}
    if descriptor.size > limits.sbom:
        entry["error"] = f"larger than {limits.sbom} bytes; not read"
        return entry
    reader = SBOM_READERS.get(fmt)
    if reader is None:
        entry["error"] = f"the {fmt} format is not read"
        return entry
    stream.seek(descriptor.offset)
    data = stream.read(descriptor.size)
    try:
        document = json.loads(data)
        packages = reader(document)
    except Exception as err:  # each library has its own errors; the object is data
        entry["error"] = f"not a valid {fmt} document ({_reason(err)})"
        return entry
    entry["packages"] = sorted(
        (
            {k: _text(v) for k, v in p.items() if isinstance(v, str) and v}
            for p in packages[: limits.items]
            if p.get("name")
        ),
        key=lambda p: (p["name"].lower(), p.get("version", ""), p.get("type", "")),
    )
    return entry


def _cyclonedx(document: Any) -> list[dict[str, str]]:
    from cyclonedx.model.bom import Bom

    with warnings.catch_warnings():  # deprecated fields of older specifications
        warnings.simplefilter("ignore")
        bom = Bom.from_json(document)  # type: ignore[attr-defined]
    packages = []
    todo = list(bom.components)
    while todo:
        component = todo.pop()
        todo.extend(component.components)
        packages.append(
            {
                "name": component.name,
                "version": component.version or "",
                "type": component.purl.type if component.purl else "",
            }
        )
    return packages


def _spdx(document: Any) -> list[dict[str, str]]:
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser

    parsed = JsonLikeDictParser().parse(document)  # type: ignore[no-untyped-call]
    packages = []
    for package in parsed.packages:
        if package.spdx_id.startswith("SPDXRef-DocumentRoot"):  # what was scanned
            continue
        purl = next(
            (r.locator for r in package.external_references if r.reference_type == "purl"), ""
        )
        kind = purl[4:].split("/", 1)[0] if purl.startswith("pkg:") else ""
        packages.append({"name": package.name, "version": package.version or "", "type": kind})
    return packages


def _syft(document: Any) -> list[dict[str, str]]:
    """Syft's own JSON (``syft -o syft-json``): its ``artifacts``."""
    if not isinstance(document, dict) or not isinstance(document.get("artifacts"), list):
        raise ContentsError("no 'artifacts' list")
    return [
        {
            "name": a["name"],
            "version": str(a.get("version") or ""),
            "type": str(a.get("type") or ""),
        }
        for a in document["artifacts"]
        if isinstance(a, dict) and isinstance(a.get("name"), str)
    ]


SBOM_READERS = {"cyclonedx-json": _cyclonedx, "spdx-json": _spdx, "syft-json": _syft}


# --- the record, read back ----------------------------------------------------


@cache
def record_schema() -> dict[str, Any]:
    """The JSON Schema of a contents record."""
    text = (Path(__file__).parent / "schemas" / "contents.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _fast_validator() -> Any:
    return fastjsonschema.compile(copy.deepcopy(record_schema()))  # it changes its argument


def record_problem(record: Any) -> str | None:
    """Why *record* is not a valid contents record, or None (the schema compiled
    to Python says yes quickly; on a no, jsonschema explains)."""
    try:
        _fast_validator()(record)
        return None
    except fastjsonschema.JsonSchemaException:
        pass
    validator = jsonschema.Draft202012Validator(record_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(record))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{error.message}" + (f" (at {where})" if where else "")


def load_record(path: Path, most: int) -> dict[str, Any]:
    """The valid contents record in *path*; ContentsError saying why not."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ContentsError("is not a file")
        if info.st_size > most:
            raise ContentsError(f"is {info.st_size} bytes, over the limit of {most}")
        record = json.loads(path.read_bytes())
    except OSError as err:
        raise ContentsError(f"cannot be read ({err.strerror})") from None
    except ValueError as err:
        raise ContentsError(f"is not JSON ({err})") from None
    problem = record_problem(record)
    if problem is not None:
        raise ContentsError(f"is not a contents record: {problem}")
    assert isinstance(record, dict)
    return record


def dumps_record(record: dict[str, Any]) -> bytes:
    """The record as ``orgreg manifest`` writes it: sorted keys, one line per
    executable or package (readable diffs in pull requests)."""
    lines = []
    for key in sorted(record):
        value = record[key]
        if isinstance(value, list) and value:
            items = ",\n".join(f"  {_compact(item)}" for item in value)
            lines.append(f" {json.dumps(key)}: [\n{items}\n ]")
        else:
            lines.append(f" {json.dumps(key)}: {_compact(value)}")
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode()


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def executables(record: dict[str, Any]) -> dict[str, str]:
    """Command name -> path in the image, for each executable of a record (the
    first PATH folder wins, as in a shell: ``/usr/local/bin`` before ``/usr/bin``)."""
    order = {folder: index for index, folder in enumerate(PATH_FOLDERS)}
    found: dict[str, tuple[int, str]] = {}
    for item in record.get("executables", []):
        folder, name = posixpath.split(item["path"])
        rank = order.get(folder, len(order))
        if name not in found or rank < found[name][0]:
            found[name] = (rank, item["path"])
    return {name: path for name, (_, path) in sorted(found.items())}


def unique_packages(record: dict[str, Any]) -> list[dict[str, str]]:
    """:func:`packages` without the repeats: an SBOM's package that the file system
    shows too (same name and version, any case) is left out, the file system's kept."""
    seen: set[tuple[str, str]] = set()
    out = []
    for package in packages(record):
        key = (package["name"].lower(), package.get("version", ""))
        if key not in seen:
            seen.add(key)
            out.append(package)
    return out


def packages(record: dict[str, Any]) -> list[dict[str, str]]:
    """Every package of a record: the file system's, then each SBOM's (``type``
    ``sbom:<format>`` unless the SBOM names the type)."""
    found = list(record.get("packages", []))
    for sbom in record.get("sboms", []):
        for package in sbom.get("packages", []):
            found.append({"type": package.get("type") or f"sbom:{sbom['format']}", **package})
    return found


#: largest contents record read back (``orgreg manifest`` writes far less: a record
#: of 100,000 executables is about 6 MiB)
MAX_RECORD_BYTES = 16 * 1024 * 1024


def _keyed(record: dict[str, Any]) -> dict[str, set[str]]:
    """The comparable parts of a record, each as a set of short texts."""
    return {
        "executables": {
            item["path"] + (f" -> {item['target']}" if "target" in item else "")
            for item in record.get("executables", [])
        },
        "packages": {
            f"{p.get('type', '')} {p['name']} {p.get('version', '')}".strip()
            for p in packages(record)
        },
    }


def differences(recorded: dict[str, Any], actual: dict[str, Any], most: int = 3) -> list[str]:
    """How *actual* (read from the image) differs from *recorded*, as short
    sentences naming at most *most* items of each kind; empty when they agree."""
    said: list[str] = []
    old, new = _keyed(recorded), _keyed(actual)
    for kind in ("packages", "executables"):
        missing = sorted(old[kind] - new[kind])
        extra = sorted(new[kind] - old[kind])
        for items, what in ((missing, "recorded but not in the image"), (extra, "not recorded")):
            if items:
                shown = ", ".join(items[:most]) + (
                    f" and {len(items) - most} more" if len(items) > most else ""
                )
                said.append(f"{len(items)} {kind} {what} ({shown})")
    if bool(recorded.get("truncated")) != bool(actual.get("truncated")):
        said.append("the record and the image differ in being truncated")
    return said


def file_stamp(path: Path | None) -> list[Any] | None:
    """What tells a record file changed (path, times, size), for change stamps."""
    if path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return [str(path)]
    # not the change time or inode: a fresh checkout whose unchanged files got their
    # times back (orgreg keep-times, a CI build restored from a cache) has new ones
    return [str(path), info.st_mtime_ns, info.st_size]
