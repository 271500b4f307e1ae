"""Write generated files into the output folder: only changed bytes, atomically,
and remove what an earlier build wrote that is no longer generated.

A state file (in the doctree folder) remembers what the last build wrote: each
file's size, modification time and content hash, and a stamp of what it
was made from. A file whose new bytes hash the same and that nobody touched
since is not even read again; when the stamp is the same and no file was
touched, nothing is generated at all (a no-op build stays fast at any size).
Files made together from one input (a :class:`Batch`: a namespace's endpoints)
are not even made again while that input's stamp is the one recorded and none
of its files was touched (an added tag remakes one namespace's files).
"""

from __future__ import annotations

import copyreg
import gc
import hashlib
import io
import json
import os
import pickle
import sys
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import zstdlib
from .sitearchive import Overlay

if TYPE_CHECKING:
    from .sitearchive import SiteArchive


def stamp(value: Any) -> str:
    """The change stamp of JSON-able data: a short, stable sha256 digest (equal
    stamps, equal data). Every stamp of the package is made here."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write *data* to *path* atomically unless it already holds it; True if written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".orgreg-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def content_hash(data: bytes) -> str:
    """A short hash of *data*, recorded in the state file."""
    return hashlib.blake2b(data, digest_size=12).hexdigest()


@dataclass(frozen=True)
class Batch:
    """Files made together from one input: *make* gives them as (path, bytes).

    With a *key*, the batch's *stamp* (a digest of everything its files are
    made from) is recorded with them; while a later sync is given the same key
    and stamp and none of those files was changed or removed since, *make* is
    not called and the files are kept as they are. Without a key the batch is
    always made (files made from the whole registry)."""

    key: str
    stamp: str
    #: called with no argument, or with a :class:`Recall` when *recalls*
    make: Callable[..., Iterable[tuple[str, bytes]]]
    #: True when *make* takes a :class:`Recall`: it may copy parts of the files
    #: the last build made from the same stamp (files made from the whole
    #: registry, of a part per namespace: :mod:`.spliced`)
    recalls: bool = False


class Recall:
    """What a batch that *recalls* may take from the last build: a file's former
    bytes with the note kept with them (:meth:`former`), when the batch's stamp
    is the one recorded and the file is as that build wrote it; and the notes
    this build keeps for the next one (:meth:`keep`)."""

    def __init__(
        self,
        site: Overlay,
        records: Mapping[str, tuple[int, int, str]],
        notes: Mapping[str, Any],
        valid: bool,
    ) -> None:
        self.site = site
        self.records = records
        self.notes = notes if valid else {}
        #: the notes kept by this build, by output path
        self.kept: dict[str, Any] = {}

    def former(self, rel: str) -> tuple[bytes, Any] | None:
        """The bytes of the output file *rel* as the last build wrote them, and the
        note it kept with them; None when there is no note, or the file changed
        (its size, time or content hash is not the one recorded)."""
        note = self.notes.get(rel)
        recorded = self.records.get(rel)
        if note is None or recorded is None or self.site.status(rel) != recorded[:2]:
            return None
        data = self.site.read(rel)
        if data is None or content_hash(data) != recorded[2]:
            return None
        return data, note

    def keep(self, rel: str, note: Any) -> None:
        """Keep *note* with the output file *rel* for the next build."""
        self.kept[rel] = note


#: the characters of a :func:`content_hash`
DIGEST_CHARS = 24


class Group:
    """The files one :class:`Batch` wrote (the unkeyed batches share one group)
    as columns: the batch's *stamp*, each file's path, its size and modification
    time (two *numbers* each), its content hash (:data:`DIGEST_CHARS` characters
    each, one string). A batch that is not made again keeps its group object as
    it is: nothing is done per file but the check that each is as written."""

    __slots__ = ("_parts", "digests", "numbers", "paths", "stamp")

    def __init__(
        self,
        stamp: str = "",
        paths: list[str] | None = None,
        numbers: array[int] | None = None,
        digests: str = "",
    ) -> None:
        self.stamp = stamp
        self.paths: list[str] = paths if paths is not None else []
        self.numbers: array[int] = numbers if numbers is not None else array("q")
        self.digests = digests
        self._parts: list[str] = []  # content hashes added, joined by :meth:`digest`

    def add(self, rel: str, size: int, mtime_ns: int, digest: str) -> None:
        if len(digest) != DIGEST_CHARS:
            digest = digest[:DIGEST_CHARS].ljust(DIGEST_CHARS, "-")
        self.paths.append(rel)
        self.numbers.extend((size, mtime_ns))
        self._parts.append(digest)

    def _joined(self) -> str:
        if self._parts:
            self.digests += "".join(self._parts)
            self._parts.clear()
        return self.digests

    def records(self) -> Iterator[tuple[str, int, int, str]]:
        """(path, size, mtime_ns, content hash) of each file."""
        numbers, digests, width = self.numbers, self._joined(), DIGEST_CHARS
        for i, rel in enumerate(self.paths):
            yield rel, numbers[2 * i], numbers[2 * i + 1], digests[width * i : width * (i + 1)]

    def untouched(self, site: Overlay) -> bool:
        """True when each file still has the size and modification time recorded."""
        numbers = self.numbers
        for i, rel in enumerate(self.paths):
            found = site.status(rel)
            if found is None or found[0] != numbers[2 * i] or found[1] != numbers[2 * i + 1]:
                return False
        return True

    def __getstate__(self) -> tuple[str, list[str], bytes, str]:
        return self.stamp, self.paths, self.numbers.tobytes(), self._joined()

    def __setstate__(self, state: tuple[str, list[str], bytes, str]) -> None:
        stamp, paths, numbers, digests = state
        if len(numbers) != 16 * len(paths) or len(digests) != DIGEST_CHARS * len(paths):
            raise ValueError("the group's columns differ in length")
        self.__init__(stamp, paths, array("q", numbers), digests)  # type: ignore[misc]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Group) and other.__getstate__() == self.__getstate__()

    def __repr__(self) -> str:
        return f"Group({self.stamp!r}, {len(self.paths)} files)"


@dataclass
class OutputState:
    """What the last build wrote: the :class:`Group` of files of each batch, by
    the batch's key ('' for the unkeyed batches); ``owned`` lists pages Sphinx
    wrote for us; ``stamp`` is what the whole site was made from.

    Kept as a pickle (:func:`save_stamped`, under :data:`STATE_FORMAT`): at
    10,000 namespaces its 360,000 files load in a tenth of a second, as 10,000
    groups of columns (the former JSON object of a list per file took a second,
    and as long again to write)."""

    stamp: str = ""
    groups: dict[str, Group] = field(default_factory=dict)
    owned: list[str] = field(default_factory=list)
    #: what batches that recall kept with their files (:class:`Recall`), by path
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> dict[str, list[int | str]]:
        """Each recorded output path: ``[size, mtime_ns, content hash]`` (and the
        key of its batch, if any). Made on demand (tests, tools)."""
        found: dict[str, list[int | str]] = {}
        for key, group in self.groups.items():
            tail: list[int | str] = [key] if key else []
            for rel, size, mtime, digest in group.records():
                found[rel] = [size, mtime, digest, *tail]
        return found

    def group(self, key: str, stamp: str) -> Group:
        """The group of the batch *key* being made (added to, for unkeyed batches)."""
        found = self.groups.get(key)
        if found is None:
            found = self.groups[key] = Group(stamp)
        return found

    @classmethod
    def load(cls, path: Path) -> OutputState:
        """The state in *path*; empty when missing, damaged or of another format."""
        found = load_stamped(path, STATE_FORMAT)
        if found is None:
            return cls._former(path)
        if (
            not isinstance(found, tuple)
            or len(found) != 4
            or not isinstance(found[1], dict)
            or not all(isinstance(g, Group) for g in found[1].values())
            or not isinstance(found[3], dict)
        ):
            return cls()
        stamp, groups, owned, notes = found
        return cls(str(stamp), groups, list(owned), notes)

    @classmethod
    def _former(cls, path: Path) -> OutputState:
        """The state in the former format, a JSON object with each file's record
        (or the first: a list of paths); empty when it is none."""
        try:
            with open(path, "rb") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return cls()
        if isinstance(data, list):
            data = {"files": {str(rel): [] for rel in data}}
        if not isinstance(data, dict):
            return cls()
        batches = data.get("batches")
        if not isinstance(batches, dict):
            batches = {}
        state = cls(str(data.get("stamp", "")), owned=list(data.get("owned") or []))
        for rel, recorded in dict(data.get("files") or {}).items():
            key = str(recorded[3]) if len(recorded) == 4 else ""
            group = state.group(key, str(batches.get(key, "")))
            if len(recorded) >= 3:
                group.add(str(rel), int(recorded[0]), int(recorded[1]), str(recorded[2]))
            else:  # (never as recorded: compared with its bytes)
                group.add(str(rel), -1, -1, "")
        return state

    def save(self, path: Path) -> None:
        """Write the state (pickled, atomically)."""
        save_stamped(path, STATE_FORMAT, (self.stamp, self.groups, self.owned, self.notes))


#: the format of a saved :class:`OutputState` (a state of another one is not used)
STATE_FORMAT = "orgreg-outputs-3"


def up_to_date(
    outdir: Path,
    state: Path | OutputState,
    stamp: str,
    owned: Iterable[str] = (),
    archive: SiteArchive | None = None,
) -> bool:
    """True when the last sync (*state*, or the state file it wrote) was made
    from *stamp*, with the same pages, and none of its files was changed or
    removed since: nothing to do."""
    if not isinstance(state, OutputState):
        state = OutputState.load(state)
    if not stamp or state.stamp != stamp or state.owned != sorted(owned):
        return False
    site = Overlay(outdir, archive)
    return all(group.untouched(site) for group in state.groups.values())


def _write_file(path: str, data: bytes, *, replace: bool) -> os.stat_result:
    """Write *data* to *path*; the status of the written file.

    A file that exists is replaced through a temporary file renamed over it, so
    a reader never sees it half written; a new file is written in place (there
    is nothing to keep whole, and it costs half the file-system operations)."""
    folder, name = os.path.split(path)
    target = os.path.join(folder, f".orgreg-{name}.tmp") if replace else path
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    fd = os.open(target, flags if replace else flags | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        info = os.fstat(fd)
    except BaseException:
        os.close(fd)
        os.unlink(target)
        raise
    os.close(fd)
    if replace:
        try:
            os.replace(target, path)
        except BaseException:
            os.unlink(target)
            raise
    return info


def sync(
    outdir: Path,
    files: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
    state_file: Path,
    *,
    owned: Iterable[str] = (),
    stamp: str = "",
) -> tuple[int, int]:
    """Make *outdir* hold *files* (a mapping, or (path, bytes) pairs, each path
    once, handled one at a time as they come); delete files the previous build
    wrote (or owned) that are neither in *files* nor in *owned* (pages kept by
    Sphinx). Returns (written, removed)."""
    pairs = files.items() if isinstance(files, Mapping) else files
    return sync_batches(
        outdir, [Batch("", "", lambda: pairs)], state_file, owned=owned, stamp=stamp
    )


def sync_batches(
    outdir: Path,
    batches: Iterable[Batch],
    state_file: Path,
    *,
    owned: Iterable[str] = (),
    stamp: str = "",
    archive: SiteArchive | None = None,
    previous: OutputState | None = None,
) -> tuple[int, int]:
    """:func:`sync` for files given in batches (each path in one batch, once): a
    keyed batch whose stamp is the one recorded, with every file it wrote still
    as written, is not made again (its record is kept as it is). Returns
    (written, removed). *previous*: the state *state_file* holds, when loaded.

    With an *archive* (the previous site kept as one tar), a file it holds counts
    as present with its archived size and time (read from the tar when its bytes
    must be compared), a file written goes to *outdir*, and a file removed is
    recorded as removed from the archive (:class:`~.sitearchive.Overlay`)."""
    outdir = Path(outdir)
    base = os.fspath(outdir)
    if previous is None:
        previous = OutputState.load(state_file)
    state = OutputState(stamp=stamp, owned=sorted(owned))
    site = Overlay(base, archive)
    written = 0
    folders: set[str] = set()
    records: dict[str, tuple[int, int, str]] = {}  # of the files of the batches made
    made: set[str] = set()  # the keys of the batches made
    for batch in batches:
        old = previous.groups.get(batch.key)
        if batch.key and old is not None and old.stamp == batch.stamp and old.untouched(site):
            state.groups[batch.key] = old
            if batch.recalls:
                state.notes.update((r, previous.notes[r]) for r in old.paths if r in previous.notes)
            continue
        if old is not None and batch.key not in made:
            records.update(
                (rel, (size, mtime, digest)) for rel, size, mtime, digest in old.records()
            )
        made.add(batch.key)
        group = state.group(batch.key, batch.stamp)
        recall = None
        if batch.recalls:
            valid = old is not None and old.stamp == batch.stamp
            recall = Recall(site, records, previous.notes, valid)
        for rel, data in batch.make() if recall is None else batch.make(recall):
            if _put(site, rel, data, records.get(rel), group, folders):
                written += 1
        if recall is not None:
            state.notes.update(recall.kept)
    # what the last build wrote or owned that this one does not: the files of
    # the groups not kept as they were, the pages no longer owned
    stale = {
        rel
        for key, group in previous.groups.items()
        if key in made or key not in state.groups
        for rel in group.paths
    }
    stale |= set(previous.owned)
    stale -= {rel for key in made for rel in state.groups[key].paths}
    stale -= set(state.owned)
    if stale:  # (a path that a batch kept as it was now writes is not stale)
        stale -= {
            rel for key, group in state.groups.items() if key not in made for rel in group.paths
        }
    removed = 0
    for rel in sorted(stale):
        if ".." in Path(rel).parts:
            continue
        target = outdir / rel
        try:
            target.unlink()
        except FileNotFoundError:
            if archive is not None and archive.remove(rel):
                removed += 1
            continue
        removed += 1
        if archive is not None:
            archive.remove(rel)  # written by an earlier build since the archive was packed
        _prune_empty(target.parent, outdir)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state.save(state_file)
    return written, removed


def _put(
    site: Overlay,
    rel: str,
    data: bytes,
    recorded: tuple[int, int, str] | None,
    group: Group,
    folders: set[str],
) -> bool:
    """Make the site's file *rel* hold *data* (in its folder on disk) and record
    it in *group*; True if written. A file only the archive holds is read from
    it when its bytes must be compared."""
    path = os.path.join(site.site, rel)
    digest = content_hash(data)
    info = site.on_disk_status(rel)
    found = (info.st_size, info.st_mtime_ns) if info is not None else None
    if found is None and site.archive is not None:
        found = site.archive.status(rel)
    if found is not None and found[0] == len(data):
        if recorded is not None and recorded[2] == digest and recorded[:2] == found:
            group.add(rel, *found, digest)  # as written by the last build: not read
            return False
        if info is not None:
            with open(path, "rb") as handle:
                same = handle.read() == data
        else:
            same = site.archive is not None and site.archive.read(rel) == data
        if same:
            group.add(rel, *found, digest)
            return False
    folder = os.path.dirname(path)
    if info is None and folder not in folders:
        os.makedirs(folder, exist_ok=True)
        folders.add(folder)
    try:
        info = _write_file(path, data, replace=info is not None)
    except FileExistsError:  # created since it was looked at
        info = _write_file(path, data, replace=True)
    site.wrote(rel)
    group.add(rel, info.st_size, info.st_mtime_ns, digest)
    return True


def _prune_empty(folder: Path, stop: Path) -> None:
    """Remove *folder* and its parents up to *stop* while they are empty."""
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def load_stamped(file: Path, stamp: object) -> Any:
    """What :func:`save_stamped` wrote to *file* under *stamp*; None when the file
    is missing, damaged or of another stamp (a cache: losing it costs time only)."""
    collecting = gc.isenabled()
    gc.disable()  # loading frees nothing: the collector's passes over it are wasted
    try:
        with open(file, "rb") as handle:
            data = handle.read()
        if data.startswith(zstdlib.MAGIC):
            data = zstdlib.zstd().decompress(data)
        found, value = pickle.loads(data)
    except Exception:  # any damage: the cache is simply not used
        return None
    finally:
        if collecting:
            gc.enable()
    return value if found == stamp else None


#: zstd's level for the caches: its fastest standard one. The caches are a CI
#: deploy's to restore, and a restore writes every byte: at 10,000 namespaces x 10
#: tags the memo, the output record and the history (137 MB pickled) are 22 MB,
#: made in 0.2 s and read back in 0.15 s
CACHE_LEVEL = 1


def save_stamped(file: Path, stamp: object, value: Any) -> None:
    """Write *value* with *stamp* to *file* (pickled, compressed with zstd),
    atomically."""
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp")
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, CONCRETE_PATH: _path_as_text}
    pickler.dump((stamp, value))
    tmp.write_bytes(zstdlib.zstd().compress(buffer.getbuffer(), CACHE_LEVEL))
    os.replace(tmp, file)


#: the class of this system's paths (``PosixPath``, ``WindowsPath``)
CONCRETE_PATH = type(Path())


#: Python 3.11's paths keep what parsing found (``_drv``, ``_root``, ``_parts``),
#: and a path made from its text is parsed at once (3.12 and later parse a path
#: only when it is taken apart: made from its text, it costs next to nothing)
PARSED_PARTS = sys.version_info < (3, 12) and all(
    hasattr(CONCRETE_PATH, name) for name in ("_from_parsed_parts", "_drv", "_root", "_parts")
)


def _path_as_text(path: Path) -> tuple[Any, tuple[Any, ...]]:
    """How a path is pickled: as one string, made again from it some eight times
    faster than from its parts (pathlib parses each part as a path of its own);
    on Python 3.11 (:data:`PARSED_PARTS`), as the parts its parsing found, made
    again without parsing them (the 140,000 paths of a memo of 10,000 namespaces:
    0.7 s instead of 1.1 s to load; the parts are pickled once each)."""
    if PARSED_PARTS:
        parts = (getattr(path, "_drv"), getattr(path, "_root"), tuple(getattr(path, "_parts")))  # noqa: B009
        return (_path_from_parts, (type(path), *parts))
    return (type(path), (str(path),))


def _path_from_parts(cls: type[Path], drv: str, root: str, parts: tuple[str, ...]) -> Path:
    """A path pickled by :func:`_path_as_text` as its parsed parts (read by a
    later Python, made again from them)."""
    if PARSED_PARTS:
        made: Path = getattr(cls, "_from_parsed_parts")(drv, root, list(parts))  # noqa: B009
        return made
    return cls(*parts)
