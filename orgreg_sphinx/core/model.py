"""The registry model: read a manifest tree once into plain objects.

No Sphinx here. Pages, JSON endpoints, the directive and the command line all
use :func:`load_registry`, so one set of rules decides what is valid.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import gc
import hashlib
import json
import os
import pickle
import re
import stat
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import fastjsonschema
import jsonschema

from . import contents, names, sifblock
from .files import load_stamped, save_stamped, stamp
from .frontmatter import Document, FrontMatterError, decode, parse

#: sizes below this are taken as KiB: the original CI wrote `du -k` figures, and
#: no real SIF image is smaller than 500,000 bytes
KIB_THRESHOLD = 500_000
#: keys of a manifest that are not "extra" data
MANIFEST_KEYS = frozenset({"layout", "size", "digest", "layers", "deprecated"})
#: extra keys that hold a time stamp, in order of preference
TIME_KEYS = ("created", "created_at", "createdAt", "date", "timestamp", "updated", "built")
#: extra keys that name the recipe a tag was built from
RECIPE_KEYS = ("recipe", "recipe_url", "recipe_path")
RECIPE_FILE = "Singularity"
#: an architecture name as SIF headers give it (Go's GOARCH: amd64, arm64, 386, ...)
ARCH_RE = re.compile(r"[a-z0-9]{1,16}")

#: "info": worth knowing, never a failure (a deprecated tag)
Severity = Literal["error", "warning", "info"]
#: a key path in front matter: ``("size",)``, ``("layers", 0, "url")``
LineKey = tuple[str | int, ...]


#: a time stamp as :func:`utc_stamp` writes it
_RFC3339_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def utc_stamp(value: object) -> str | None:
    """A time stamp as RFC 3339 in UTC (``2024-05-02T10:31:00Z``); None when it
    is not an ISO 8601 date or time, or is out of range once in UTC (dates
    alone are taken as midnight UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        stamp = dt.datetime.fromisoformat(text)
        if _RFC3339_UTC.fullmatch(text):  # a valid time already written as returned
            return text
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        stamp = stamp.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None
    return (
        f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}T"
        f"{stamp.hour:02d}:{stamp.minute:02d}:{stamp.second:02d}Z"
    )


def time_out_of_range(value: object) -> bool:
    """True for an ISO 8601 time that cannot be given in UTC
    (``9999-12-31T23:59:59-23:59``): a date past what any reader handles."""
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return False
    return utc_stamp(value) is None


@dataclass(frozen=True)
class Limits:
    """Resource limits for contributed files."""

    max_front_matter: int = 64 * 1024
    #: GitHub renders READMEs up to 512 KiB; Markdown costs up to ~40 µs a byte
    max_readme: int = 512 * 1024
    max_tags: int = 10_000


@dataclass(frozen=True)
class Problem:
    """Something wrong in the tree: a file, a line where known, and a message."""

    path: Path
    message: str
    line: int | None = None
    severity: Severity = "error"
    code: str = "invalid"

    def location(self, root: Path | None = None) -> str:
        """``path:line`` (relative to *root* when given)."""
        path = self.path
        if root is not None:
            with contextlib.suppress(ValueError):
                path = self.path.relative_to(root)
        return printable(f"{path}:{self.line}" if self.line else str(path))


@dataclass(frozen=True)
class Layer:
    """One file of an image: its size, digest and download URL."""

    size: int
    digest: str
    url: str
    media_type: str = "application/vnd.singularity.image.squashfs"
    #: the digest of the OCI image manifest an ``oras://`` URL resolves to, as
    #: recorded (``oci_manifest_digest``) or pinned in the URL (``...@sha256:``)
    oci_manifest_digest: str | None = None

    @property
    def is_oras(self) -> bool:
        """True when the image is kept in an OCI registry (an ``oras://`` URL)."""
        return names.is_oras(self.url)


@dataclass(frozen=True)
class Former:
    """An image a tag pointed to before, read from the tree's git history."""

    digest: str
    size: int
    #: commit date (UTC, ``YYYY-MM-DDTHH:MM:SSZ``) when the tag started pointing at it
    date: str
    #: the commit that made the tag point at it
    commit: str
    #: commit date when the tag moved on to another image
    until: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "size": self.size,
            "date": self.date,
            "commit": self.commit,
            "until": self.until,
        }


@dataclass(frozen=True)
class TagHistory:
    """What the git history of a manifest file tells about its tag."""

    #: commit date and commit since which the tag points at its current image
    #: (None when the manifest's current image is not committed yet)
    since: str | None
    commit: str | None
    #: commit date since which the tag is deprecated (None: not deprecated, or
    #: not in a commit yet)
    deprecated_since: str | None = None
    #: former images, newest first (at most ``history.MAX_FORMER``)
    former: tuple[Former, ...] = ()
    #: older former images left out of *former* (the full list is the git
    #: history of the manifest file)
    more: int = 0


class FrontMatterLines(Mapping[LineKey, int]):
    """A tag's front-matter lines (:attr:`Tag.lines`), pickled as one string of
    bytes and unpacked when first asked for: the namespace memo keeps 100,000
    tags' lines without loading a million small objects at every build (only
    problems and the command line's checks ask for a line)."""

    __slots__ = ("_lines", "_packed")

    def __init__(self, lines: Mapping[LineKey, int] | None = None, packed: bytes = b"") -> None:
        self._lines: dict[LineKey, int] | None = dict(lines) if lines is not None else None
        self._packed = packed

    def _unpacked(self) -> dict[LineKey, int]:
        if self._lines is None:
            self._lines = pickle.loads(self._packed) if self._packed else {}
        return self._lines

    def __getitem__(self, key: LineKey) -> int:
        return self._unpacked()[key]

    def __iter__(self) -> Iterator[LineKey]:
        return iter(self._unpacked())

    def __len__(self) -> int:
        return len(self._unpacked())

    def __repr__(self) -> str:
        return f"FrontMatterLines({self._unpacked()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        packed = self._packed or pickle.dumps(self._unpacked(), protocol=pickle.HIGHEST_PROTOCOL)
        return (FrontMatterLines, (None, packed))


@dataclass(frozen=True, eq=True)
class Tag:
    """One manifest: ``<org>/<repo>/manifests/<tag>/README.md``."""

    name: str
    size: int
    digest: str
    layers: tuple[Layer, ...]
    extra: dict[str, Any] = field(default_factory=dict, hash=False)
    path: Path | None = None
    #: the ``Singularity`` recipe file next to the manifest, if any
    recipe_file: Path | None = None
    #: the valid ``contents.json`` next to the manifest (what the image holds), if any
    contents_file: Path | None = None
    #: front-matter line of the top-level keys and of each layer's keys, e.g.
    #: ``("size",)`` or ``("layers", 0, "url")`` (empty when not read from a file)
    lines: Mapping[LineKey, int] = field(default_factory=dict, hash=False, compare=False)
    #: the reason the tag should not be used any more (``deprecated:``), if any
    deprecated: str | None = None
    #: what the git history of the manifest tells (None: no history read)
    history: TagHistory | None = field(default=None, hash=False)

    def line(self, *key: str | int) -> int | None:
        """The line of *key* in the manifest's front matter, if known."""
        return self.lines.get(key)

    @property
    def size_bytes(self) -> int:
        """The size in bytes, reading small legacy values as KiB."""
        return self.size * 1024 if self.size_is_kib else self.size

    @property
    def size_is_kib(self) -> bool:
        """True for a small legacy size in KiB (``oras://`` images are newer than
        that habit: their sizes are always bytes; so are those of manifests with a
        ``sif:`` block, which only ``orgreg manifest`` writes)."""
        return self.size < KIB_THRESHOLD and not self.is_oras and not self.sizes_in_bytes

    def layer_size_is_kib(self, layer: Layer) -> bool:
        """True when *layer*'s size is a small legacy value in KiB (the rule of
        :attr:`size_is_kib`, for one layer)."""
        return layer.size < KIB_THRESHOLD and not layer.is_oras and not self.sizes_in_bytes

    @property
    def sizes_in_bytes(self) -> bool:
        """True when the manifest's sizes are bytes whatever their value: it has a
        ``sif:`` block (written by ``orgreg manifest``, which writes bytes)."""
        return isinstance(self.extra.get("sif"), dict)

    @property
    def is_oras(self) -> bool:
        """True when the image (its first layer) is kept in an OCI registry."""
        return bool(self.layers) and self.layers[0].is_oras

    @property
    def urls(self) -> list[str]:
        return [layer.url for layer in self.layers]

    @cached_property
    def created(self) -> str | None:
        """When the image was made, as text: the SIF's own creation time when the
        manifest records one (``sif: {created: ...}``), else the first time stamp
        the manifest carries (often when ``orgreg manifest`` ran). Found once:
        listings, their signatures and the feed ask for it again and again."""
        block = self.extra.get("sif")
        image_time = block.get("created") if isinstance(block, dict) else None
        if isinstance(image_time, str) and image_time.strip():
            return image_time.strip()
        for key in TIME_KEYS:
            value = self.extra.get(key)
            if isinstance(value, (str, int, float)) and str(value).strip():
                return str(value)
        return None

    @property
    def recipe(self) -> str | None:
        """The recipe named by the manifest (a URL or a path), if any."""
        for key in RECIPE_KEYS:
            value = self.extra.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    @property
    def arch(self) -> str | None:
        """The image's primary architecture (``sif: {arch: ...}``), if recorded."""
        block = self.extra.get("sif")
        value = block.get("arch") if isinstance(block, dict) else None
        if isinstance(value, str) and ARCH_RE.fullmatch(value):
            return value
        return None

    @property
    def sif(self) -> sifblock.SifBlock | None:
        """The well-formed part of the manifest's ``sif:`` block, if any."""
        return sifblock.parse(self.extra.get("sif"))

    def contents(self) -> dict[str, Any] | None:
        """What the image holds: the record in :attr:`contents_file` (read anew on
        each call, never kept: a registry's records together are large), or None."""
        if self.contents_file is None:
            return None
        try:
            return contents.load_record(self.contents_file, contents.MAX_RECORD_BYTES)
        except contents.ContentsError:
            return None

    def stamp_data(self) -> list[Any]:
        """Everything shown about this tag, as JSON-able data (for change stamps)."""
        return [
            self.name,
            self.size,
            self.digest,
            [
                (la.size, la.digest, la.url, la.media_type, la.oci_manifest_digest)
                for la in self.layers
            ],
            self.extra,
            str(self.recipe_file) if self.recipe_file else None,
            contents.file_stamp(self.contents_file),
            self.deprecated,
            [
                self.history.since,
                self.history.deprecated_since,
                [f.as_dict() for f in self.history.former],
                self.history.more,
            ]
            if self.history
            else None,
        ]


@dataclass(frozen=True)
class Namespace:
    """One ``<org>/<repo>`` folder with its collection README and tags."""

    org: str
    repo: str
    path: Path
    description: str = ""
    body: str = ""
    extra: dict[str, Any] = field(default_factory=dict, hash=False)
    tags: tuple[Tag, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.org}/{self.repo}"

    def tag(self, name: str) -> Tag | None:
        for tag in self.tags:
            if tag.name == name:
                return tag
        return None

    def stamp(self) -> str:
        """The change stamp of everything shown about this namespace (made once
        per object, and kept with it: a namespace from the :class:`NamespaceMemo`
        brings its stamp, as its files are those it was read from)."""
        made = self.__dict__.get("_stamp")
        if made is None:
            made = stamp(
                {
                    "description": self.description,
                    "body": self.body,
                    "extra": self.extra,
                    "tags": [t.stamp_data() for t in self.tags],
                }
            )
            object.__setattr__(self, "_stamp", made)
        return str(made)

    def newest_time(self) -> str:
        """The newest time stamp of the tags (``created``; '' if none has one),
        found once per object and kept with it, as :meth:`stamp`."""
        made = self.__dict__.get("_newest")
        if made is None:
            made = max((t.created or "" for t in self.tags), default="")
            object.__setattr__(self, "_newest", made)
        return str(made)

    def row_stamp(self) -> str:
        """The change stamp of what a namespace listing's row shows of this
        namespace: its name, description, tag count and newest time, and each
        tag's name, time and deprecation (kept with the object, as :meth:`stamp`:
        a listing of 10,000 namespaces stamps 10,000 short strings)."""
        made = self.__dict__.get("_row_stamp")
        if made is None:
            made = stamp(
                [
                    self.name,
                    self.description,
                    len(self.tags),
                    self.newest_time(),
                    [(t.name, t.created, t.deprecated) for t in self.tags],
                ]
            )
            object.__setattr__(self, "_row_stamp", made)
        return str(made)


@dataclass
class Registry:
    """A whole manifest tree: its namespaces and the problems found reading it."""

    root: Path
    namespaces: tuple[Namespace, ...] = ()
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name: dict[str, Namespace] = {}
        for ns in self.namespaces:
            self._by_name[ns.name] = ns
            self._by_name.setdefault(names.folded(ns.name), ns)

    def namespace(self, name: str) -> Namespace | None:
        """The namespace called *name* (matched without case as a fallback)."""
        return self._by_name.get(name) or self._by_name.get(names.folded(name))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


# ---------------------------------------------------------------- loading


@cache
def schema(kind: Literal["manifest", "collection"]) -> dict[str, Any]:
    """The JSON Schema of a manifest's or collection's front matter."""
    text = resources.files(__package__).joinpath(f"schemas/{kind}.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator(kind: Literal["manifest", "collection"]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(kind))


def printable(text: str) -> str:
    """*text* with control characters escaped, so a file name from the tree
    cannot forge lines or colours in a build log."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


@dataclass(frozen=True)
class Entry:
    """What a path of the tree is, once links are judged: a file, a folder,
    nothing, or something refused (with the reason)."""

    kind: Literal["file", "folder", "missing", "refused"]
    message: str = ""
    code: str = ""
    size: int = 0
    #: the status of the file (of a link's target), for a "file"
    info: os.stat_result | None = field(default=None, compare=False, repr=False)
    #: False when nothing is there, or its status cannot be read (``os.path.lexists``)
    exists: bool = True
    #: True when the path is a symbolic link (judged by its target)
    link: bool = False


#: a path of the tree, as a :class:`~pathlib.Path` or as text (the reader's own)
PathLike = Path | str


def inspect_entry(path: PathLike, real_root: Path) -> Entry:
    """Judge *path* without reading it.

    A symbolic link is followed only to a regular file inside the tree; links
    that leave the tree, point at a folder or a device, or lead nowhere are
    refused, and so are devices, pipes and sockets.
    """
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return Entry("missing", exists=False)
    except OSError as err:
        return Entry(
            "refused", f"cannot be read: {err.strerror or err}", "unreadable", exists=False
        )
    if stat.S_ISLNK(info.st_mode):
        try:
            target = Path(path).resolve(strict=True)
        except (OSError, RuntimeError):
            return Entry(
                "refused", "is a symbolic link that leads nowhere (broken or a loop)", "link"
            )
        if not target.is_relative_to(real_root):
            return Entry("refused", "is a symbolic link that leaves the registry tree", "link")
        try:
            info = os.stat(target)
        except OSError as err:
            return Entry("refused", f"cannot be read: {err.strerror or err}", "unreadable")
        if stat.S_ISDIR(info.st_mode):
            return Entry(
                "refused", "is a symbolic link to a folder; such links are not followed", "link"
            )
        if not stat.S_ISREG(info.st_mode):
            return Entry("refused", "is a symbolic link to a device or other special file", "link")
        return Entry("file", size=info.st_size, info=info, link=True)
    if stat.S_ISDIR(info.st_mode):
        return Entry("folder", info=info)
    if stat.S_ISREG(info.st_mode):
        return Entry("file", size=info.st_size, info=info)
    return Entry("refused", "is not a regular file (a device, pipe or socket)", "special")


def _join(folder: str, name: str) -> str:
    """*folder*/*name* as text, as ``Path(folder) / name`` would spell it."""
    if folder == ".":
        return name
    return folder + name if folder.endswith("/") else f"{folder}/{name}"


@cache
def _fast_validator(kind: Literal["manifest", "collection"]) -> Any:
    return fastjsonschema.compile(copy.deepcopy(schema(kind)))  # it changes what it is given


def _is_valid_fast(kind: Literal["manifest", "collection"], data: Any) -> bool:
    """A quick yes for valid front matter (the schema compiled to Python, some
    ten times faster); on a no, jsonschema decides and explains."""
    try:
        _fast_validator(kind)(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@cache
def rules_stamp() -> str:
    """What the outcome of reading a README depends on besides its bytes: the
    schemas and the code of the reader, so results cached under other rules
    (another version) are not used."""
    text = json.dumps([schema("manifest"), schema("collection")])
    digest = hashlib.sha256(text.encode())
    for module in ("model.py", "frontmatter.py", "names.py", "files.py", "contents.py"):
        digest.update(Path(__file__).with_name(module).read_bytes())
    return digest.hexdigest()[:16]


class ReadCache:
    """Outcomes of reading README files, by path and file status.

    A README whose modification time and size (what Sphinx itself compares) and
    the limits are the same as when it was last read is not parsed and validated
    again: its data, or the problem found in it, is taken from here. Kept between
    builds in a file (the Sphinx build keeps it in its doctree folder). Change
    time, inode and device are not compared: a build restored from a CI cache
    into a fresh checkout (whose unchanged files get their former times back,
    ``orgreg keep-times``) has new ones for every file.
    """

    def __init__(self, entries: dict[str, tuple[tuple[Any, ...], Any]] | None = None) -> None:
        self.entries = entries or {}
        self.fresh: dict[str, tuple[tuple[Any, ...], Any]] = {}
        self.hits = 0

    @staticmethod
    def key(info: os.stat_result, kind: str, limits: Limits) -> tuple[Any, ...]:
        return (kind, info.st_mtime_ns, info.st_size, limits.max_front_matter, limits.max_readme)

    def get(self, path: PathLike, key: tuple[Any, ...]) -> Any:
        found = self.entries.get(str(path))
        if found is None or found[0] != key:
            return None
        self.hits += 1
        self.fresh[str(path)] = found
        return found[1]

    def put(self, path: PathLike, key: tuple[Any, ...], outcome: Any) -> None:
        self.fresh[str(path)] = (key, outcome)

    @property
    def changed(self) -> bool:
        """True when the next build would find other entries than it loaded."""
        return self.fresh.keys() != self.entries.keys() or self.hits != len(self.fresh)

    @classmethod
    def load(cls, file: Path) -> ReadCache:
        """The cache saved in *file*; empty when missing, unreadable or of other rules."""
        entries = load_stamped(file, rules_stamp())
        return cls(entries) if isinstance(entries, dict) else cls()

    def save(self, file: Path) -> None:
        """Write what this read used (only when it differs from what was loaded)."""
        if self.changed:
            save_stamped(file, rules_stamp(), self.fresh)


#: a folder or file a namespace's read looked at: (path, mtime_ns, size; -1 for a folder)
Observed = tuple[str, int, int]
#: files and folders changed less than this long before a read (nanoseconds) are
#: not trusted to show a later change in their time (one tick of a coarse clock)
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class FolderRead:
    """What reading one namespace folder gave: its namespace (None: not one),
    the problems found, and the status of everything the read looked at."""

    signature: tuple[Observed, ...]
    namespace: Namespace | None
    problems: tuple[Problem, ...]


#: how many files a :class:`NamespaceMemo` is kept in (by a hash of the
#: namespace's folder): a build in which one namespace changed writes one of
#: them again, not every namespace of the registry
MEMO_SHARDS = 64
#: the file of a memo's folder naming its commit and shards (written last)
MEMO_INDEX = "index.pickle"


def memo_shard(folder: str) -> int:
    """The shard of the :class:`NamespaceMemo` that keeps the namespace in *folder*."""
    return zlib.crc32(folder.encode("utf-8", "surrogateescape")) % MEMO_SHARDS


class NamespaceMemo:
    """Namespaces as last read, each with the status (modification time, size)
    of every folder and file its read looked at.

    A namespace folder whose folders and files all have the status they had is
    not read again (not listed, no README opened): a folder's modification time
    changes when an entry is added, removed or renamed in it, a file's when its
    bytes are written. Not kept: namespaces holding a symbolic link or an
    unreadable entry, and those changed less than :data:`RACY_NS` before the read
    (a later change within the same tick of the file system's clock would leave
    the time as it was). What the memo holds for a namespace may be replaced
    (:meth:`update`: the loader keeps namespaces with their history). Kept
    between builds in a folder, under the reading rules and the limits: the
    namespaces in :data:`MEMO_SHARDS` files (:func:`memo_shard`), of which a save
    writes only those whose namespaces changed, then the index (the commit, the
    history's warning and a token per shard file). A shard whose token is not
    the index's (a save interrupted before the index was written) is not used:
    its namespaces are read again.
    """

    def __init__(self, entries: dict[str, FolderRead] | None = None, head: str = "") -> None:
        self.entries = entries or {}
        self.fresh: dict[str, FolderRead] = {}
        #: what the kept namespaces' history was read at (the loader's: a git commit)
        self.head = head
        #: the warning the history gave at *head* ('' when none), to give it again
        self.history_warning = ""
        #: namespace folders read (not taken from the memo) by this read, in order
        self.read: list[str] = []
        self.racy_after = time.time_ns() - RACY_NS
        #: the token of each shard file loaded (a shard not here is written by a save)
        self.tokens: dict[int, str] = {}
        #: the shard files the last :meth:`save` wrote
        self.written: list[int] = []
        #: namespace folders known unchanged since the memo was made, without
        #: looking at them (git says so of a checkout: :meth:`settle`)
        self.settled: frozenset[str] = frozenset()
        #: True when the tree is exactly a commit checked out (a CI job's): nothing
        #: changes it while it is read, so no read is too recent to keep
        self.checkout = False
        #: the commit such a tree was when the memo was made ('' for another tree)
        self.commit = ""

    def settle(self, root: str, changed: set[str]) -> None:
        """Count every kept namespace folder below *root* as unchanged but those
        in *changed* (``<org>/<repo>``, relative to *root*): in a tree that is
        exactly a commit, those its commits since :attr:`commit` touched."""
        prefix = _join(root, "")  # the memo's folders are spelt as the reader spells them
        self.settled = frozenset(
            folder
            for folder in self.entries
            if folder.startswith(prefix) and folder[len(prefix) :] not in changed
        )

    def get(self, folder: str) -> FolderRead | None:
        """What *folder* read to, when nothing it was read from changed (known
        from :attr:`settled`, else from the status of each thing it was read from)."""
        found = self.entries.get(folder)
        if found is None:
            return None
        if folder in self.settled:
            self.fresh[folder] = found
            return found
        for path, mtime, size in found.signature:
            try:
                info = os.lstat(path)
            except OSError:
                return None
            if info.st_mtime_ns != mtime or (size >= 0 and info.st_size != size):
                return None
        self.fresh[folder] = found
        return found

    def put(self, folder: str, read: FolderRead) -> None:
        self.fresh[folder] = read

    def update(self, namespace: Namespace) -> None:
        """Keep *namespace* (read from the same files) in place of the one read."""
        folder = os.fspath(namespace.path)
        kept = self.fresh.get(folder)
        if kept is not None and kept.namespace is not None and kept.namespace is not namespace:
            self.fresh[folder] = replace(kept, namespace=namespace)

    @property
    def changed(self) -> bool:
        """True when what the next build would load differs from what this one loaded."""
        return self.fresh.keys() != self.entries.keys() or any(
            read is not self.entries[folder] for folder, read in self.fresh.items()
        )

    def changed_shards(self) -> set[int]:
        """The shards whose namespaces differ from those loaded (or were not loaded)."""
        dirty = {memo_shard(f) for f in self.fresh.keys() ^ self.entries.keys()}
        dirty.update(
            memo_shard(folder)
            for folder, read in self.fresh.items()
            if read is not self.entries.get(folder)
        )
        dirty.update(set(range(MEMO_SHARDS)) - self.tokens.keys())
        return dirty

    @staticmethod
    def stamp(limits: Limits) -> tuple[str, Limits]:
        return (rules_stamp(), limits)

    @classmethod
    def load(cls, folder: Path, limits: Limits) -> NamespaceMemo:
        """The memo saved in *folder*; empty when missing, damaged, or of other
        rules or limits (a damaged or stale shard: without its namespaces)."""
        index = load_stamped(folder / MEMO_INDEX, cls.stamp(limits))
        if not isinstance(index, tuple) or len(index) != 4 or not isinstance(index[2], dict):
            return cls()
        head, warning, tokens, commit = index
        entries: dict[str, FolderRead] = {}
        kept: dict[int, str] = {}
        collecting = gc.isenabled()
        gc.disable()  # as load_stamped: the collector's passes between shards are wasted
        try:
            for shard, token in tokens.items():
                if token == "":
                    kept[shard] = token
                    continue
                found = load_stamped(folder / f"{shard}.pickle", token)
                if isinstance(found, dict):
                    entries.update(found)
                    kept[shard] = token
        finally:
            if collecting:
                gc.enable()
        memo = cls(entries, str(head))
        memo.commit = str(commit)
        memo.history_warning = str(warning)
        memo.tokens = kept
        return memo

    def save(self, folder: Path, limits: Limits) -> None:
        """Write what this read found (namespaces taken from the memo and read):
        the shards that changed, then the index."""
        dirty = self.changed_shards()
        shards: dict[int, dict[str, FolderRead]] = {shard: {} for shard in dirty}
        for name, read in self.fresh.items():
            shard = memo_shard(name)
            if shard in shards:
                shards[shard][name] = read
        tokens = {shard: token for shard, token in self.tokens.items() if shard not in dirty}
        folder.mkdir(parents=True, exist_ok=True)
        for shard, entries in sorted(shards.items()):
            file = folder / f"{shard}.pickle"
            if not entries:  # an empty shard: no file, and the token ''
                file.unlink(missing_ok=True)
                tokens[shard] = ""
                continue
            tokens[shard] = os.urandom(8).hex()
            save_stamped(file, tokens[shard], entries)
        index = (self.head, self.history_warning, tokens, self.commit)
        save_stamped(folder / MEMO_INDEX, self.stamp(limits), index)
        self.written = sorted(shards)
        self.entries, self.tokens = dict(self.fresh), tokens


class _Reader:
    """Reads one tree, collecting problems; used only by :func:`load_registry`."""

    def __init__(self, root: Path, limits: Limits, cache: ReadCache | None = None) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.limits = limits
        self.problems: list[Problem] = []
        self.cache = cache
        #: (path, mtime_ns, size) of what the namespace being read looked at (a
        #: folder's size is -1: its time tells entries added or removed), when a
        #: :class:`NamespaceMemo` keeps it; None otherwise
        self.observed: list[Observed] | None = None
        #: True when what is being read cannot be kept (a link, an unreadable entry)
        self.unkeepable = False

    def inspect(self, path: PathLike) -> Entry:
        """:func:`inspect_entry` of *path*, noted in what is being observed."""
        entry = inspect_entry(path, self.real_root)
        if self.observed is not None:
            if entry.link or entry.kind == "refused":
                self.unkeepable = True
            elif entry.info is not None:
                size = -1 if entry.kind == "folder" else entry.info.st_size
                self.observed.append((os.fspath(path), entry.info.st_mtime_ns, size))
        return entry

    def namespace_at(
        self, folder: str, org: str, repo: str, memo: NamespaceMemo | None
    ) -> Namespace | None:
        """The namespace in *folder* (None when it is none): as *memo* holds it
        when nothing it was read from changed, else read (and kept in *memo*)."""
        if memo is None:
            if not is_namespace_folder(folder, self.real_root):
                return None
            return self.read_namespace(folder, org, repo)
        known = memo.get(folder)
        if known is not None:
            self.problems.extend(known.problems)
            return known.namespace
        self.observed, self.unkeepable = [], False
        first_problem = len(self.problems)
        try:
            self.inspect(folder)
            self.inspect(_join(folder, "README.md"))
            found = None
            if is_namespace_folder(folder, self.real_root):
                found = self.read_namespace(folder, org, repo)
            racy = not memo.checkout and any(
                mtime >= memo.racy_after for _, mtime, _ in self.observed
            )
            if not self.unkeepable and not racy:
                problems = tuple(self.problems[first_problem:])
                # each status once (a README is looked at twice): fewer lstat calls
                signature = tuple(dict.fromkeys(self.observed))
                memo.put(folder, FolderRead(signature, found, problems))
            memo.read.append(folder)
        finally:
            self.observed = None
        return found

    def problem(self, path: PathLike, message: str, line: int | None = None, **kw: Any) -> None:
        self.problems.append(Problem(Path(path), printable(message), line, **kw))

    def read_document(
        self, path: PathLike, kind: Literal["manifest", "collection"], entry: Entry | None = None
    ) -> Document | None:
        """Read and validate a README (*entry*: :func:`inspect_entry` of it, if
        known), or record why it cannot be used."""
        if entry is None:
            entry = self.inspect(path)
        if entry.kind == "refused":
            self.problem(path, entry.message, code=entry.code)
            return None
        if entry.kind != "file":
            self.problem(path, "is not a regular file", code="unreadable")
            return None
        if entry.size > self.limits.max_readme:
            self.problem(
                path,
                f"is {entry.size} bytes, over the limit of {self.limits.max_readme}",
                code="too-large",
            )
            return None
        try:
            if self.cache is not None:
                info = entry.info if entry.info is not None else os.stat(path)
                key = ReadCache.key(info, kind, self.limits)
                outcome = self.cache.get(path, key)
                if outcome is None:
                    outcome = self._read_outcome(path, kind)
                    self.cache.put(path, key, outcome)
            else:
                outcome = self._read_outcome(path, kind)
        except OSError as err:
            self.problem(path, f"cannot be read: {err.strerror or err}", code="unreadable")
            self.unkeepable = True  # permissions change no file's time
            return None
        if isinstance(outcome, Document):
            return outcome
        message, line, code = outcome
        self.problem(path, message, line, code=code)
        return None

    def _read_outcome(
        self, path: PathLike, kind: Literal["manifest", "collection"]
    ) -> Document | tuple[str, int | None, str]:
        """The valid document in *path*, or (message, line, code) of its problem."""
        with open(path, "rb") as handle:  # never more than the limit, even if it grew
            raw = handle.read(self.limits.max_readme + 1)
        if len(raw) > self.limits.max_readme:
            return (f"is over the limit of {self.limits.max_readme} bytes", None, "too-large")
        try:
            doc = parse(decode(raw), max_front_matter=self.limits.max_front_matter)
        except FrontMatterError as err:
            return (err.message, err.line, "front-matter")
        if not _is_valid_fast(kind, doc.data):
            errors = sorted(_validator(kind).iter_errors(doc.data), key=_error_order)
            if errors:
                first = errors[0]
                return (_explain(first), _line_for(doc, tuple(first.absolute_path)), "schema")
        return Document(data=doc.data, body=doc.body, lines=_kept_lines(doc.lines))

    def read_contents_record(self, path: str) -> Path | None:
        """*path* when it is a valid contents record; else None, and a problem
        naming it when it is there but bad (the tag is still read)."""
        judged = self.inspect(path)
        left_out = "; what the image holds is not shown"
        if judged.kind == "missing":
            return None
        if judged.kind == "refused":
            self.problem(path, judged.message + left_out, code=judged.code)
            return None
        if judged.kind == "folder":
            self.problem(path, "is a folder, not a contents record" + left_out, code="unreadable")
            return None
        try:
            if self.cache is not None and judged.info is not None:
                key = ReadCache.key(judged.info, "contents", self.limits)
                outcome = self.cache.get(path, key)
                if outcome is None:
                    outcome = self._contents_outcome(path)
                    self.cache.put(path, key, outcome)
            else:
                outcome = self._contents_outcome(path)
        except OSError as err:
            outcome = f"cannot be read: {err.strerror or err}"
        if outcome:
            self.problem(path, outcome + left_out, code="contents")
            return None
        return Path(path)

    @staticmethod
    def _contents_outcome(path: str) -> str:
        """'' for a valid contents record, else what is wrong with it."""
        try:
            contents.load_record(Path(path), contents.MAX_RECORD_BYTES)
        except contents.ContentsError as err:
            return str(err)
        return ""

    def read_namespace(self, folder: PathLike, org: str, repo: str) -> Namespace | None:
        refused = names.namespace_problem(org, repo)
        if refused is not None:
            if refused.code != "site":  # the site's own folders are simply not read
                self.problem(folder, refused.message, code=refused.code)
            return None
        folder = os.fspath(folder)
        description, body, extra = "", "", {}
        readme = _join(folder, "README.md")
        judged = self.inspect(readme)
        if judged.exists:
            doc = self.read_document(readme, "collection", judged)
            if doc is not None:
                description = str(doc.data.get("description") or "").strip()
                body = doc.body.strip("\n")
                extra = {k: v for k, v in doc.data.items() if k not in ("layout", "description")}
        tags: list[Tag] = []
        manifests = _join(folder, "manifests")
        judged = self.inspect(manifests)
        if judged.kind == "refused":
            self.problem(manifests, judged.message, code=judged.code)
        elif judged.kind == "file":
            self.problem(
                manifests, "is a file; expected a folder with one folder per tag", code="unreadable"
            )
        for tag_dir in _subfolders(manifests, self) if judged.kind == "folder" else ():
            if len(tags) >= self.limits.max_tags:
                self.problem(
                    manifests,
                    f"has more than {self.limits.max_tags} tags; the rest are left out",
                    code="too-many",
                )
                break
            tag = self.read_tag(tag_dir)
            if tag is not None:
                tags.append(tag)
        tags_folder = _join(folder, "tags")
        for marker in (tags_folder, _join(tags_folder, "README.md")):
            judged = self.inspect(marker)
            if judged.kind == "refused":
                self.problem(marker, judged.message, code=judged.code)
                break
            if judged.kind != "folder":
                break
        tags.sort(key=lambda t: t.name)
        return Namespace(
            org=org,
            repo=repo,
            path=Path(folder),
            description=description,
            body=body,
            extra=extra,
            tags=tuple(tags),
        )

    def read_tag(self, tag_dir: PathLike) -> Tag | None:
        tag_dir = os.fspath(tag_dir)
        if self.observed is not None:  # a file added or removed changes its time
            self.inspect(tag_dir)
        name = os.path.basename(tag_dir)
        readme = _join(tag_dir, "README.md")
        judged = self.inspect(readme)
        if not judged.exists:
            self.problem(tag_dir, "is a tag folder without a README.md manifest", code="missing")
            return None
        refused = names.tag_problem(name)
        if refused is not None:
            self.problem(readme, f"is in a folder whose name {refused.message}", code=refused.code)
            return None
        doc = self.read_document(readme, "manifest", judged)
        if doc is None:
            return None
        readme_path = Path(readme)
        data = doc.data
        for index, item in enumerate(data["layers"]):
            problem = names.oras_problem(item["url"]) if names.is_oras(item["url"]) else None
            if problem is not None:  # the schema's pattern cannot count the name's length
                self.problem(
                    readme,
                    f"has an invalid layers[{index}].url: {problem}",
                    doc.lines.get(("layers", index, "url")),
                    code="schema",
                )
                return None
            problem = _oci_manifest_digest_problem(item) if "oci_manifest_digest" in item else None
            if problem is not None:
                self.problem(
                    readme,
                    f"has an invalid layers[{index}].oci_manifest_digest: {problem}",
                    doc.lines.get(("layers", index, "oci_manifest_digest")),
                    code="schema",
                )
                return None
        layers = tuple(
            Layer(
                size=int(item["size"]),
                digest=item["digest"],
                url=item["url"],
                media_type=item.get("mediaType") or Layer.media_type,
                oci_manifest_digest=_oci_manifest_digest(item),
            )
            for item in data["layers"]
        )
        if data["digest"] != layers[0].digest:
            self.problem(
                readme,
                f"has digest {data['digest']}, but the image (layers[0]) has "
                f"{layers[0].digest}: the top-level digest must be the image's",
                doc.lines.get(("digest",)),
                code="digest",
            )
            return None
        for key in TIME_KEYS:
            if time_out_of_range(data.get(key)):
                self.problem(
                    readme,
                    f"has {key} = {printable(str(data[key]))[:80]!r}, a time out of range "
                    "(it cannot be given in UTC)",
                    doc.lines.get((key,)),
                    code="schema",
                )
                return None
        recipe = _join(tag_dir, RECIPE_FILE)
        recipe_file = None
        judged = self.inspect(recipe)
        if judged.kind == "refused":
            self.problem(recipe, judged.message + "; the recipe is left out", code=judged.code)
        elif judged.kind == "folder":
            self.problem(recipe, "is a folder, not a recipe file; left out", code="unreadable")
        elif judged.kind == "file" and judged.size > self.limits.max_readme:
            self.problem(
                recipe,
                f"is {judged.size} bytes, over the limit of {self.limits.max_readme}; "
                "the recipe is left out",
                code="too-large",
            )
        elif judged.kind == "file":
            recipe_file = Path(recipe)
        contents_file = self.read_contents_record(_join(tag_dir, contents.RECORD_FILE))
        return Tag(
            name=name,
            size=int(data["size"]),
            digest=data["digest"],
            layers=layers,
            extra={k: v for k, v in data.items() if k not in MANIFEST_KEYS},
            path=readme_path,
            recipe_file=recipe_file,
            contents_file=contents_file,
            lines=FrontMatterLines(doc.lines),
            deprecated=data["deprecated"].strip() if "deprecated" in data else None,
        )


def _oci_manifest_digest(item: dict[str, Any]) -> str | None:
    """The OCI manifest digest of a layer: recorded, else pinned in its ``oras://`` URL."""
    recorded = item.get("oci_manifest_digest")
    if isinstance(recorded, str):
        return recorded
    ref = names.oras_reference(item["url"]) if names.is_oras(item["url"]) else None
    return ref.digest if ref is not None else None


def _oci_manifest_digest_problem(item: dict[str, Any]) -> str | None:
    """Why a layer's ``oci_manifest_digest`` cannot be right: it belongs to an
    ``oras://`` URL, and one pinned by another digest contradicts it."""
    if not names.is_oras(item["url"]):
        return "it is the digest of an OCI manifest, which only an oras:// url has"
    ref = names.oras_reference(item["url"])
    if ref is not None and ref.digest and ref.digest != item["oci_manifest_digest"]:
        return (
            f"{item['oci_manifest_digest']} differs from the digest the url is "
            f"pinned to ({ref.digest})"
        )
    return None


def _kept_lines(lines: dict[LineKey, int]) -> dict[LineKey, int]:
    """The lines problems point at (top-level keys, each layer's keys); the rest
    is not kept, so the read cache stays small."""
    return {
        key: line
        for key, line in lines.items()
        if len(key) == 1 or (len(key) == 3 and key[0] == "layers")
    }


def _subfolders(folder: PathLike, reader: _Reader, *, quiet: bool = False) -> list[str]:
    """Sorted real sub-folders of *folder* (names starting with '.' are skipped).

    Links are never followed into folders; a refused entry is reported, unless
    *quiet* (the tree's top level, where links belong to the site's maintainers
    and are simply not read). The folder's listing tells what a plain entry is
    (no status asked); links and other entries are judged by :func:`inspect_entry`.
    """
    folder = os.fspath(folder)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as err:
        reader.problem(folder, f"cannot be listed: {err.strerror or err}", code="unreadable")
        reader.unkeepable = True  # permissions change no folder's time
        return []
    found = []
    for entry in entries:
        if names.is_hidden(entry.name):
            continue
        path = _join(folder, entry.name)
        try:
            if entry.is_dir(follow_symlinks=False):
                found.append(path)
                continue
            if entry.is_file(follow_symlinks=False):
                continue
        except OSError:
            pass
        judged = reader.inspect(path)
        if judged.kind == "folder":
            found.append(path)
        elif judged.kind == "refused" and not quiet:
            reader.problem(path, judged.message, code=judged.code)
    return found


def is_namespace_folder(folder: PathLike, real_root: Path | None = None) -> bool:
    """A folder two levels down is a namespace if it looks like one.

    Only a README.md that is a regular file of the tree is opened.
    """
    folder = os.fspath(folder)
    if os.path.lexists(_join(folder, "manifests")) or os.path.lexists(_join(folder, "tags")):
        return True
    readme = _join(folder, "README.md")
    root = real_root if real_root is not None else Path(folder).parent.parent.resolve()
    kind = inspect_entry(readme, root).kind
    if kind != "file":
        return kind == "refused"  # read_namespace reports why
    try:
        with open(readme, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return re.search(rb"^layout:\s*['\"]?collection\b", head, re.MULTILINE) is not None


def load_registry(
    root: str | os.PathLike[str],
    *,
    limits: Limits | None = None,
    skip: frozenset[str] = frozenset(),
    cache: ReadCache | None = None,
    memo: NamespaceMemo | None = None,
) -> Registry:
    """Read the manifest tree at *root* into a :class:`Registry`.

    Folders whose names start with ``.`` or ``_`` (``_build``, ``_static``) and
    folder names in *skip* are not namespaces. With a *cache*, READMEs unchanged
    since they were cached are not parsed again; with a *memo*, namespace
    folders in which nothing changed are not read at all.
    """
    root_path = Path(root)
    reader = _Reader(root_path, limits or Limits(), cache)
    namespaces: list[Namespace] = []
    if not root_path.is_dir():
        reader.problem(root_path, "is not a folder: no manifest tree to read", code="missing")
        return Registry(root_path, (), reader.problems)
    for org_dir in _subfolders(root_path, reader, quiet=True):
        org = os.path.basename(org_dir)
        if names.is_site_folder(org) or org in skip:
            continue
        for repo_dir in _subfolders(org_dir, reader):
            ns = reader.namespace_at(repo_dir, org, os.path.basename(repo_dir), memo)
            if ns is not None:
                namespaces.append(ns)
    usual: dict[str, Namespace] = {}
    # of names differing only in case, the all-lower-case one is the usual one
    for ns in sorted(namespaces, key=lambda n: (n.name != names.folded(n.name), n.name)):
        usual.setdefault(names.folded(ns.name), ns)
    for ns in namespaces:
        other = usual[names.folded(ns.name)]
        if other is not ns:
            reader.problem(
                ns.path,
                f"differs from namespace '{other.name}' only in case; clients that "
                "lower-case names cannot tell them apart",
                severity="warning",
                code="case",
            )
    unique = namespaces
    return Registry(root_path, tuple(unique), reader.problems)


# ---------------------------------------------------------------- messages


def _error_order(err: jsonschema.ValidationError) -> tuple[int, list[str]]:
    return (len(err.absolute_path), [str(p) for p in err.absolute_path])


def _line_for(doc: Document, where: tuple[Any, ...]) -> int | None:
    while where and where not in doc.lines:
        where = where[:-1]
    return doc.lines.get(where)


def _explain(err: jsonschema.ValidationError) -> str:
    """A readable sentence for a schema error, naming the key."""
    key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err.absolute_path)
    key = key.replace(".[", "[")
    value = err.instance
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    if len(shown) > 80:
        shown = shown[:77] + "..."
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        where = f" in {key}" if key else ""
        return f"is missing the required key '{missing}'{where}"
    if err.validator == "type":
        return f"has {key} = {shown}, which is not {_article(_kinds(err.validator_value))}"
    if err.validator in ("pattern", "format"):
        hint = err.schema.get("description", "") if isinstance(err.schema, dict) else ""
        return f"has an invalid {key or 'value'} {shown}" + (f": expected {hint}" if hint else "")
    if err.validator == "not":
        return f"has an invalid {key or 'value'} {shown}: it holds control characters"
    if err.validator == "const":
        return f"has {key} = {shown}, expected {err.validator_value!r}"
    if err.validator == "minimum":
        return f"has {key} = {shown}, which is below {err.validator_value}"
    if err.validator == "maximum":
        return f"has {key} above {err.validator_value}"
    if err.validator == "minItems":
        return f"has an empty {key}: at least {err.validator_value} item needed"
    if err.validator == "maxItems":
        return f"has more than {err.validator_value} items in {key}"
    if err.validator == "maxLength":
        return f"has {key} longer than {err.validator_value} characters"
    message = err.message if len(err.message) <= 200 else err.message[:197] + "..."
    return f"has an invalid {key or 'front matter'}: {message}"


def _kinds(value: object) -> list[str]:
    """The JSON types named by a schema's ``type`` (a name or a list of names)."""
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _article(kinds: str | list[str]) -> str:
    kind_names = {
        "integer": "an integer",
        "string": "a string",
        "array": "a list",
        "object": "a mapping",
        "null": "empty",
        "number": "a number",
    }
    if isinstance(kinds, str):
        kinds = [kinds]
    return " or ".join(kind_names.get(k, k) for k in kinds)
