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
import filecmp
import gc
import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    make: Callable[[], Iterable[tuple[str, bytes]]]


@dataclass
class OutputState:
    """What the last build wrote: ``files`` maps each output path to its
    ``[size, mtime_ns, content hash]`` (and the key of its :class:`Batch`, if
    any); ``batches`` maps each batch's key to its stamp; ``owned`` lists pages
    Sphinx wrote for us."""

    stamp: str = ""
    files: dict[str, list[int | str]] = field(default_factory=dict)
    owned: list[str] = field(default_factory=list)
    batches: dict[str, str] = field(default_factory=dict)

    def batch_files(self) -> dict[str, list[str]]:
        """The recorded output paths of each batch, by key."""
        found: dict[str, list[str]] = {}
        for rel, recorded in self.files.items():
            if len(recorded) == 4:
                found.setdefault(str(recorded[3]), []).append(rel)
        return found

    @classmethod
    def load(cls, path: Path) -> OutputState:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls()
        if isinstance(data, list):  # the first format: only the paths
            return cls(files={str(rel): [] for rel in data})
        if not isinstance(data, dict):
            return cls()
        batches = data.get("batches")
        return cls(
            stamp=str(data.get("stamp", "")),
            files=dict(data.get("files") or {}),
            owned=list(data.get("owned") or []),
            batches=dict(batches) if isinstance(batches, dict) else {},
        )

    def save(self, path: Path) -> None:
        """Write the state as one JSON object (keys sorted, no spaces), written a
        slice of files at a time: at 10,000 namespaces its 360,000 files are 49 MB
        of JSON, which were held twice (text and bytes) at the build's peak of
        memory. The file is replaced only when its bytes change."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".orgreg-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(f'{{"batches":{_compact(self.batches)},"files":{{')
                names = sorted(self.files)
                for start in range(0, len(names), STATE_SLICE):
                    part = {rel: self.files[rel] for rel in names[start : start + STATE_SLICE]}
                    handle.write(("," if start else "") + _compact(part)[1:-1])
                handle.write(f'}},"owned":{_compact(self.owned)},"stamp":{_compact(self.stamp)}}}')
            if _same_file(tmp, path):
                os.unlink(tmp)
                return
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


#: files of the state written per slice (:meth:`OutputState.save`)
STATE_SLICE = 4096


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _same_file(first: str, second: Path) -> bool:
    """True when both files hold the same bytes (read a block at a time)."""
    try:
        if os.stat(first).st_size != os.stat(second).st_size:
            return False
        return filecmp.cmp(first, second, shallow=False)
    except OSError:
        return False


def _status(base: str, rel: str, archive: SiteArchive | None) -> tuple[int, int] | None:
    """(size, mtime_ns) of the output file *rel*: on disk, else in *archive* (the
    previous site kept as one tar); None when there is no such file."""
    try:
        info = os.stat(os.path.join(base, rel))
    except OSError:
        return None if archive is None else archive.status(rel)
    return info.st_size, info.st_mtime_ns


def _untouched(
    base: str, rel: str, recorded: list[int | str], archive: SiteArchive | None = None
) -> bool:
    """True if the output file *rel* still has the size and modification time recorded."""
    if len(recorded) < 3:
        return False
    found = _status(base, rel, archive)
    return found is not None and found[0] == recorded[0] and found[1] == recorded[1]


def up_to_date(
    outdir: Path,
    state_file: Path,
    stamp: str,
    owned: Iterable[str] = (),
    archive: SiteArchive | None = None,
) -> bool:
    """True when the last sync was made from *stamp*, with the same pages,
    and none of its files was changed or removed since: nothing to do."""
    state = OutputState.load(state_file)
    if not stamp or state.stamp != stamp or state.owned != sorted(owned):
        return False
    base = os.fspath(outdir)
    return all(_untouched(base, rel, rec, archive) for rel, rec in state.files.items())


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
) -> tuple[int, int]:
    """:func:`sync` for files given in batches (each path in one batch, once): a
    keyed batch whose stamp is the one recorded, with every file it wrote still
    as written, is not made again. Returns (written, removed).

    With an *archive* (the previous site kept as one tar), a file it holds counts
    as present with its archived size and time (read from the tar when its bytes
    must be compared), a file written goes to *outdir*, and a file removed is
    recorded as removed from the archive."""
    outdir = Path(outdir)
    base = os.fspath(outdir)
    previous = OutputState.load(state_file)
    previous_batches = previous.batch_files()
    state = OutputState(stamp=stamp, owned=sorted(owned))
    written = 0
    folders: set[str] = set()
    for batch in batches:
        if batch.key:
            state.batches[batch.key] = batch.stamp
            kept = previous_batches.get(batch.key, [])
            if previous.batches.get(batch.key) == batch.stamp and all(
                _untouched(base, rel, previous.files[rel], archive) for rel in kept
            ):
                for rel in kept:
                    state.files[rel] = previous.files[rel]
                continue
        for rel, data in batch.make():
            recorded = previous.files.get(rel, [])
            if _put(base, rel, data, recorded, state, batch.key, folders, archive):
                written += 1
    keep = set(state.files) | set(state.owned)
    removed = 0
    for rel in sorted((set(previous.files) | set(previous.owned)) - keep):
        stale = outdir / rel
        if ".." in Path(rel).parts:
            continue
        try:
            stale.unlink()
        except FileNotFoundError:
            if archive is not None and archive.remove(rel):
                removed += 1
            continue
        removed += 1
        if archive is not None:
            archive.remove(rel)  # written by an earlier build since the archive was packed
        _prune_empty(stale.parent, outdir)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state.save(state_file)
    return written, removed


def _put(
    base: str,
    rel: str,
    data: bytes,
    recorded: list[int | str],
    state: OutputState,
    key: str,
    folders: set[str],
    archive: SiteArchive | None = None,
) -> bool:
    """Make ``base/rel`` hold *data* and record it in *state*; True if written.
    A file only *archive* holds is read from it, and written to ``base/rel``."""
    path = os.path.join(base, rel)
    digest = content_hash(data)
    tail: list[int | str] = [key] if key else []
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    found = (info.st_size, info.st_mtime_ns) if info is not None else None
    if found is None and archive is not None:
        found = archive.status(rel)
    if found is not None and found[0] == len(data):
        if recorded[2:3] == [digest] and recorded[:2] == list(found):
            state.files[rel] = [*recorded[:3], *tail]  # as written by the last build: not read
            return False
        if info is not None:
            with open(path, "rb") as handle:
                same = handle.read() == data
        else:
            same = archive is not None and archive.read(rel) == data
        if same:
            state.files[rel] = [*found, digest, *tail]
            return False
    folder = os.path.dirname(path)
    if info is None and folder not in folders:
        os.makedirs(folder, exist_ok=True)
        folders.add(folder)
    try:
        info = _write_file(path, data, replace=info is not None)
    except FileExistsError:  # created since it was looked at
        info = _write_file(path, data, replace=True)
    state.files[rel] = [info.st_size, info.st_mtime_ns, digest, *tail]
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
            found, value = pickle.load(handle)
    except Exception:  # any damage: the cache is simply not used
        return None
    finally:
        if collecting:
            gc.enable()
    return value if found == stamp else None


def save_stamped(file: Path, stamp: object, value: Any) -> None:
    """Write *value* with *stamp* to *file* (pickled), atomically."""
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp")
    with open(tmp, "wb") as handle:
        pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = {**copyreg.dispatch_table, CONCRETE_PATH: _path_as_text}
        pickler.dump((stamp, value))
    os.replace(tmp, file)


#: the class of this system's paths (``PosixPath``, ``WindowsPath``)
CONCRETE_PATH = type(Path())


def _path_as_text(path: Path) -> tuple[type[Path], tuple[str]]:
    """A path pickled as one string: made again from it some eight times faster
    than from its parts (pathlib parses each part as a path of its own)."""
    return (type(path), (str(path),))
