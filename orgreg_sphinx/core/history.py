"""The former images of each tag, read from the git history of the manifest tree.

No Sphinx here. :func:`read_history` runs one ``git log`` over the whole tree
(every ``<org>/<repo>/manifests/<tag>/README.md`` at once) and one
``git cat-file --batch`` for the manifest versions not read before; never a
process per file. Given the registry read from the tree, the manifests as
checked out are not parsed again (their facts are the model's): only former
versions are. A :class:`HistoryCache` (kept by the site build in its doctree
folder, in shards by namespace) holds what was read, so a rebuild runs only
``git rev-parse`` when nothing was committed, and reads only the new commits
when something was (loading and saving only the shards of the namespaces they
changed, and of those it is applied to).
:func:`apply` then gives each :class:`~.model.Tag` its :class:`~.model.TagHistory`.

History follows the first parent of each commit (the branch as it was
published: a merged pull request counts at its merge), with commit dates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import subprocess
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .files import load_stamped, save_stamped
from .frontmatter import FrontMatterError, decode, parse
from .model import Former, Limits, Namespace, Registry, Tag, TagHistory

#: bump when the cache's content changes shape
CACHE_VERSION = 3
#: how many files a :class:`HistoryCache` is kept in (by a hash of each manifest
#: path's namespace): a build whose new commits changed one namespace loads and
#: writes one of them, not the history of the whole registry
HISTORY_SHARDS = 64
#: the file of a cache's folder naming its commit and shards (written last)
HISTORY_INDEX = "index.pickle"
#: the token an index gives a shard that could not be read (no file has it: the
#: next build reads the history whole)
LOST_TOKEN = "lost"
#: the manifest files, as a git pathspec relative to the tree's root
MANIFEST_PATHSPEC = ":(glob)*/*/manifests/*/README.md"
#: the blob id git prints for "no file" (a deletion)
NULL_BLOB = "0" * 40
#: ``(digest, size, deprecated reason)`` of one manifest version; None if unusable
Facts = tuple[str, int, str | None] | None


class GitError(Exception):
    """git failed or is missing: the history is off, with this reason."""


class ShardLost(Exception):
    """A shard file of a loaded :class:`HistoryCache` is missing, damaged or not
    the one its index names (a save interrupted before the index was written)."""


@dataclass(frozen=True)
class Version:
    """A commit that changed a manifest file: when, and its content's blob id
    (:data:`NULL_BLOB` when the commit deleted it)."""

    commit: str
    date: str
    blob: str


def history_shard(path: str) -> int:
    """The shard of a :class:`HistoryCache` keeping the versions of the manifest
    *path* (relative, ``/``-separated): chosen by its namespace, ``<org>/<repo>``."""
    namespace = "/".join(path.split("/", 2)[:2])
    return zlib.crc32(namespace.encode("utf-8", "surrogateescape")) % HISTORY_SHARDS


#: one shard of a cache: manifest path -> versions, newest first
Shard = dict[str, list[Version]]


class HistoryCache:
    """What was read from git, kept between builds.

    Kept in a folder (:meth:`save`, :meth:`load`): an index (the root, the
    commit, the undated count and a token per shard) and :data:`HISTORY_SHARDS`
    shard files, each holding the versions of the manifest paths of its
    namespaces (:func:`history_shard`) and the facts of the blobs they name.
    :meth:`load` reads the index only; a shard is loaded when one of its paths
    is asked for (:meth:`versions_of`), and a save writes only the shards that
    changed, then the index. A shard whose file is missing, damaged or not the
    index's makes :func:`read_history` read the history whole, and is read
    again from git (the whole history at :attr:`head`) when :func:`apply` asks
    for it: the histories are those of a read without any cache.
    """

    def __init__(
        self,
        root: str = "",
        head: str = "",
        versions: Mapping[str, list[Version]] | None = None,
        blobs: Mapping[str, Facts] | None = None,
        undated: int = 0,
    ) -> None:
        self.root = root
        self.head = head
        #: commits changing manifests whose date could not be read (left out)
        self.undated = undated
        #: blob id -> facts of that manifest version (blobs never change), for the
        #: blobs of the shards in memory and those read since
        self.facts: dict[str, Facts] = dict(blobs or {})
        #: the limits manifests are read under (when a lost shard is read again)
        self.limits = Limits()
        #: the shards in memory (a shard neither here nor in the folder is empty)
        self._shards: dict[int, Shard] = {}
        #: the folder holding the shards not in memory (None: there are none)
        self._folder: Path | None = None
        #: the token of each shard whose file in the folder holds what this cache
        #: holds ('': an empty shard, no file); a shard not here is written by a save
        self._tokens: dict[int, str] = {}
        #: shards that could not be loaded nor read again from git (empty here)
        self._lost: set[int] = set()
        #: the shard files loaded, in order, and those the last :meth:`save` wrote
        self.loaded: list[int] = []
        self.written: list[int] = []
        for path, found in (versions or {}).items():
            self._shards.setdefault(history_shard(path), {})[path] = found

    @property
    def versions(self) -> Mapping[str, list[Version]]:
        """Manifest path (relative, ``/``-separated) -> versions, newest first: a
        mapping that loads a path's shard when the path is asked for (and every
        shard when iterated)."""
        return _Versions(self)

    @property
    def blobs(self) -> dict[str, Facts]:
        """Blob id -> facts of every manifest version the cache holds (loads every
        shard; :attr:`facts` holds those of the shards loaded)."""
        self.load_all()
        return self.facts

    @property
    def unsaved(self) -> bool:
        """True when a :meth:`save` to the folder loaded from would write a shard."""
        return self._folder is None or len(self._tokens) < HISTORY_SHARDS

    def _shard(self, shard: int) -> Shard:
        """The versions of *shard*, loaded when not in memory (ShardLost when its
        file cannot be used)."""
        if shard in self._lost:
            raise ShardLost(shard)
        found = self._shards.get(shard)
        if found is not None:
            return found
        token = self._tokens.get(shard, "")
        if not token or self._folder is None:
            found = {}
        else:
            self.loaded.append(shard)
            value = load_stamped(self._folder / f"{shard}.pickle", token)
            if (
                not isinstance(value, tuple)
                or len(value) != 2
                or not isinstance(value[0], dict)
                or not isinstance(value[1], dict)
            ):
                raise ShardLost(shard)
            found, blobs = value
            self.facts.update(blobs)
        self._shards[shard] = found
        return found

    def versions_of(self, path: str) -> list[Version] | None:
        """The versions of the manifest *path* (relative, ``/``-separated), newest
        first; None when the history has none. A shard that cannot be loaded is
        read again from git."""
        shard = history_shard(path)
        try:
            return self._shard(shard).get(path)
        except ShardLost:
            if shard not in self._lost:
                self._read_again(shard)
            return self._shards.get(shard, {}).get(path)

    def load_all(self) -> None:
        """Every shard in memory (those that cannot be loaded read again from git)."""
        for shard in range(HISTORY_SHARDS):
            try:
                self._shard(shard)
            except ShardLost:
                if shard not in self._lost:
                    self._read_again(shard)

    def known_facts(self) -> dict[str, Facts]:
        """The facts of every blob in the shards that can be loaded (a lost shard's
        are simply not known: they are parsed again)."""
        for shard in range(HISTORY_SHARDS):
            with contextlib.suppress(ShardLost):
                self._shard(shard)
        return dict(self.facts)

    def _read_again(self, shard: int) -> None:
        """Read the whole history at :attr:`head` from git in place of what the
        cache holds, *shard* having been lost (every shard is written by the next
        save); when git cannot say, that shard is empty here, and lost for the
        next build too."""
        whole = History(available=False)
        try:
            _read(Path(self.root), self.head, None, self.limits, None, whole)
        except (GitError, ValueError, IndexError, UnicodeError):
            self._shards[shard] = {}
            self._lost.add(shard)
            return
        cache = whole.cache
        self._shards, self.facts, self.undated = cache._shards, cache.facts, cache.undated
        self._folder, self._tokens, self._lost = None, {}, set()

    def updated(self, head: str, new: Mapping[str, list[Version]]) -> HistoryCache:
        """A cache at *head*: this one with the *new* versions (newest first) of the
        paths the commits after :attr:`head` changed (their shards are loaded;
        ShardLost when one cannot be). This cache is left as it is: the lists
        and shards it holds are shared, never changed."""
        fresh = HistoryCache(self.root, head, undated=self.undated)
        fresh.facts = dict(self.facts)
        fresh.limits = self.limits
        fresh._shards = dict(self._shards)
        fresh._folder, fresh._tokens = self._folder, dict(self._tokens)
        fresh._lost = set(self._lost)
        copied: set[int] = set()
        for path, versions in new.items():
            shard = history_shard(path)
            if shard not in copied:
                fresh._shards[shard] = dict(fresh._shard(shard))
                fresh._tokens.pop(shard, None)
                copied.add(shard)
            kept = fresh._shards[shard]
            kept[path] = versions + kept.get(path, [])
        return fresh

    @classmethod
    def load(cls, folder: Path) -> HistoryCache:
        """The cache kept in *folder* (its index only: shards are loaded when asked
        for); empty when missing, damaged or of another version."""
        index = load_stamped(folder / HISTORY_INDEX, (CACHE_VERSION, HISTORY_SHARDS))
        if not isinstance(index, tuple) or len(index) != 4:
            return cls()
        root, head, undated, tokens = index
        if (
            not isinstance(root, str)
            or not isinstance(head, str)
            or not isinstance(undated, int)
            or not isinstance(tokens, dict)
            or set(tokens) != set(range(HISTORY_SHARDS))
            or not all(isinstance(token, str) for token in tokens.values())
        ):
            return cls()
        cache = cls(root, head, undated=undated)
        cache._folder, cache._tokens = folder, dict(tokens)
        return cache

    def save(self, folder: Path) -> None:
        """Write the shards that differ from those in *folder* (all of them when
        the cache was not loaded from it), then the index."""
        if self._folder is not None and self._folder != folder:
            self.load_all()
            self._folder, self._tokens = None, {}
        tokens = dict(self._tokens) if self._folder is not None else {}
        folder.mkdir(parents=True, exist_ok=True)
        written: list[int] = []
        for shard in range(HISTORY_SHARDS):
            if shard in self._lost:  # the next build reads the history whole
                tokens[shard] = LOST_TOKEN
                continue
            if shard in tokens:
                continue
            written.append(shard)
            file = folder / f"{shard}.pickle"
            versions = self._shards.get(shard, {})
            if not versions:  # an empty shard: no file, and the token ''
                file.unlink(missing_ok=True)
                tokens[shard] = ""
                continue
            blobs = {
                version.blob: self.facts[version.blob]
                for found in versions.values()
                for version in found
                if version.blob in self.facts
            }
            tokens[shard] = os.urandom(8).hex()
            save_stamped(file, tokens[shard], (versions, blobs))
        index = (self.root, self.head, self.undated, tokens)
        save_stamped(folder / HISTORY_INDEX, (CACHE_VERSION, HISTORY_SHARDS), index)
        self._folder, self._tokens, self.written = folder, tokens, written


class _Versions(Mapping[str, list[Version]]):
    """:attr:`HistoryCache.versions`: a shard is loaded when a path of it is asked for."""

    def __init__(self, cache: HistoryCache) -> None:
        self._cache = cache

    def __getitem__(self, path: str) -> list[Version]:
        found = self._cache.versions_of(path) if isinstance(path, str) else None
        if found is None:
            raise KeyError(path)
        return found

    def _all(self) -> Iterator[str]:
        self._cache.load_all()
        for shard in range(HISTORY_SHARDS):
            yield from self._cache._shards.get(shard, {})

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._all()))

    def __len__(self) -> int:
        return sum(1 for _ in self._all())


@dataclass
class History:
    """The outcome of :func:`read_history`."""

    #: False: no history (not a git repository, a shallow clone, git missing)
    available: bool
    #: why the history is off ('' when available)
    reason: str = ""
    cache: HistoryCache = field(default_factory=HistoryCache)
    #: commits read from git by this call (0: everything came from the cache)
    commits_read: int = 0
    #: git processes this call started
    processes: int = 0
    #: True when the cache differs from what was loaded (worth saving)
    changed: bool = False
    #: manifest versions whose facts were parsed from git's blobs by this call
    blobs_parsed: int = 0
    #: manifest versions whose facts came from the current registry (the same
    #: bytes as the checked-out file, which the model has already read)
    blobs_from_registry: int = 0
    #: the commit the cache held when only the commits after it were read ('' when
    #: the whole history was read, or nothing)
    since: str = ""
    #: the manifest paths (relative, ``/``-separated) the commits read changed
    paths: frozenset[str] = frozenset()

    @property
    def warning(self) -> str:
        """What could not be read (the history holds the rest); '' when all was."""
        if not self.available or not self.cache.undated:
            return ""
        return (
            f"{self.cache.undated} commit(s) changing manifests have a date out of any "
            "range (git's committer time); they are left out of the tag history"
        )


def _git(root: Path, args: list[str], stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            input=stdin,
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except OSError as err:
        raise GitError(f"git cannot be run ({err.strerror or err})") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed")
    return done.stdout


#: former images kept per tag (newest first): a tag re-pointed thousands of
#: times must not make its page and the catalog huge; the rest is counted
MAX_FORMER = 20
#: file modes of a manifest version git can give as a regular file (anything
#: else at a manifest path, a symbolic link or a gitlink, is no manifest)
FILE_MODES = frozenset({"100644", "100755"})


def utc(seconds: str) -> str | None:
    """A commit time (seconds since 1970, ``%ct``) as ``YYYY-MM-DDTHH:MM:SSZ``;
    None when it is no number or out of any calendar's range."""
    try:
        stamp = dt.datetime.fromtimestamp(int(seconds), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return (
        f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}T"
        f"{stamp.hour:02d}:{stamp.minute:02d}:{stamp.second:02d}Z"
    )


#: one commit of the log: (commit, date or None when unreadable, [(path, new blob)])
LogCommit = tuple[str, str | None, list[tuple[str, str]]]


def parse_log(raw: bytes) -> list[LogCommit]:
    """``git log -z --raw --format=%x1e%H %ct`` output as (commit, date,
    [(path, new blob)]), newest first.

    Read as NUL-separated fields in order: a commit line, then pairs of a
    ``:<mode> <mode> <old> <new> <status>`` field and a path. A path is taken
    whole whatever bytes it holds (a path with 0x1e is not a commit line). A
    new mode that is no regular file (a symbolic link, a gitlink) counts as the
    file's deletion: no manifest is read from it.
    """
    commits: list[LogCommit] = []
    fields = raw.split(b"\x00")
    index = 0
    while index < len(fields):
        item = fields[index].lstrip(b"\n")
        index += 1
        if item.startswith(b"\x1e"):
            commit, _, seconds = item[1:].decode("ascii", "replace").partition(" ")
            commits.append((commit.strip(), utc(seconds.strip()), []))
        elif item.startswith(b":") and commits and index < len(fields):
            path = fields[index]
            index += 1
            parts = item.decode("ascii", "replace").split()
            if len(parts) < 4:
                continue
            blob = parts[3] if parts[1] in FILE_MODES else NULL_BLOB
            commits[-1][2].append((path.decode("utf-8", "surrogateescape"), blob))
    return commits


def parse_batch(raw: bytes, limits: Limits) -> dict[str, Facts]:
    """``git cat-file --batch`` output as the facts of each manifest version
    (None for an object that is missing or not a blob)."""
    facts: dict[str, Facts] = {}
    pos = 0
    while pos < len(raw):
        end = raw.find(b"\n", pos)
        if end < 0:
            break
        header = raw[pos:end].decode("ascii", "replace").split()
        pos = end + 1
        if not header:
            continue
        if len(header) < 3 or not header[2].isdigit():  # "<id> missing"
            facts[header[0]] = None
            continue
        size = int(header[2])
        body = raw[pos : pos + size]
        facts[header[0]] = manifest_facts(body, limits) if header[1] == "blob" else None
        pos += size + 1
    return facts


def manifest_facts(raw: bytes, limits: Limits) -> Facts:
    """Digest, size and deprecation of one version of a manifest (None when it
    cannot be read, or its digest is not its image's, ``layers[0].digest``:
    such versions are left out of the history)."""
    if len(raw) > limits.max_readme:
        return None
    try:
        data = parse(decode(raw), max_front_matter=limits.max_front_matter).data
    except (FrontMatterError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    digest, size, reason = data.get("digest"), data.get("size"), data.get("deprecated")
    if not isinstance(digest, str) or not isinstance(size, int) or isinstance(size, bool):
        return None
    layers = data.get("layers")
    first = layers[0] if isinstance(layers, list) and layers else None
    if isinstance(first, dict) and first.get("digest") != digest:
        return None
    return digest, size, reason.strip() if isinstance(reason, str) and reason.strip() else None


def blob_id(data: bytes) -> str:
    """The id git gives a file of these bytes (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def current_facts(registry: Registry, newest: dict[str, str], wanted: set[str]) -> dict[str, Facts]:
    """The facts of the *wanted* blobs that are a current tag's manifest, from
    *registry* (read from the checked-out files) instead of parsing them again.

    *newest* maps a manifest path (relative, ``/``-separated) to the blob of its
    newest version. A tag's facts stand for that blob only when the checked-out
    file has exactly its bytes (its git blob id, hashed here: no process); an
    edited, uncommitted or filtered file (line endings) is parsed from git."""
    found: dict[str, Facts] = {}
    prefix = str(registry.root) + os.sep
    for rel, blob in newest.items():
        parts = rel.split("/")
        if blob not in wanted or blob in found or len(parts) != 5 or parts[2] != "manifests":
            continue
        ns = registry.namespace(f"{parts[0]}/{parts[1]}")
        tag = ns.tag(parts[3]) if ns is not None else None
        if tag is None or tag.path is None or str(tag.path) != prefix + rel.replace("/", os.sep):
            continue
        try:
            data = tag.path.read_bytes()
        except OSError:
            continue
        if blob_id(data) == blob:
            found[blob] = (tag.digest, tag.size, tag.deprecated or None)
    return found


def current_head(root: str | os.PathLike[str]) -> str:
    """The commit checked out at *root* ('' when there is no history to read: not
    a git repository with commits, a shallow clone, git missing); one process."""
    try:
        out = _git(Path(root), ["rev-parse", "--is-shallow-repository", "HEAD"])
        shallow, head = out.decode("ascii", "replace").split()[:2]
    except (GitError, ValueError):
        return ""
    return "" if shallow == "true" else head


def changed_folders(root: str | os.PathLike[str], since: str, until: str) -> set[str] | None:
    """The namespace folders (``<org>/<repo>``, relative to *root*) in which
    something differs between the commits *since* and *until* (None when git
    cannot tell: a commit missing, git failing); one process."""
    try:
        out = _git(
            Path(root),
            ["diff", "--name-only", "-z", "--no-renames", "--relative", since, until, "--"],
        )
    except GitError:
        return None
    found: set[str] = set()
    for name in out.split(b"\0"):
        parts = os.fsdecode(name).split("/")
        if len(parts) > 2:
            found.add(f"{parts[0]}/{parts[1]}")
    return found


def read_history(
    root: str | os.PathLike[str],
    cache: HistoryCache | None = None,
    limits: Limits | None = None,
    current: Registry | None = None,
) -> History:
    """The git history of the manifests under *root*, reading from git only the
    commits *cache* does not hold. With *current* (the registry read from the
    same tree), the manifests as checked out are not parsed again: their facts
    come from it, and only former versions are parsed.

    Of a cache loaded from its folder, only the shards of the paths the new
    commits changed are loaded; when one of them cannot be, the history is read
    whole (as with no cache)."""
    root_path = Path(root)
    limits = limits or Limits()
    history = History(available=False)
    try:
        out = _git(root_path, ["rev-parse", "--is-shallow-repository", "HEAD"])
        history.processes += 1
        shallow, head = out.decode("ascii", "replace").split()[:2]
        if shallow == "true":
            history.reason = (
                "the git repository is a shallow clone (fetch its whole history: "
                "`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)"
            )
            return history
        old = cache if cache is not None and cache.root == str(root_path.resolve()) else None
        if old is not None and old.head == head:
            old.limits = limits
            history.available, history.cache = True, old
            return history
        try:
            _read(root_path, head, old, limits, current, history)
        except ShardLost:  # a shard the new commits changed is damaged: read it all
            _read(root_path, head, None, limits, current, history)
    except GitError as err:
        history.reason = f"the tree is not in a git repository with commits ({err})"
        return history
    except (ValueError, IndexError, UnicodeError) as err:  # git said something unforeseen
        history.reason = f"git's answer could not be read ({err})"
        return history
    history.available, history.changed = True, True
    return history


def _read(
    root_path: Path,
    head: str,
    old: HistoryCache | None,
    limits: Limits,
    current: Registry | None,
    history: History,
) -> None:
    """Read the history at the commit *head* into *history* (its cache and what
    this read did): the commits after *old*'s when its commit is an ancestor of
    *head*, else the whole history (the blobs *old* knows are not parsed again).
    GitError when git fails; ShardLost when a shard of *old* the new commits
    changed cannot be loaded."""
    history.commits_read = history.blobs_parsed = history.blobs_from_registry = 0
    since = ""
    if old is not None and old.head:
        try:
            _git(root_path, ["merge-base", "--is-ancestor", old.head, head])
            since = old.head
        except GitError:  # history rewritten (or the old head is gone): read it all
            pass
        history.processes += 1
    log = _git(
        root_path,
        [
            "log",
            "-z",
            "--raw",
            "--no-abbrev",
            "--no-renames",
            "--relative",
            "--first-parent",
            "--diff-merges=first-parent",
            "--format=%x1e%H %ct",
            f"{since}..{head}" if since else head,
            "--",
            MANIFEST_PATHSPEC,
        ],
    )
    history.processes += 1
    commits = parse_log(log)
    history.commits_read = len(commits)
    new: dict[str, list[Version]] = {}
    undated = sum(1 for _, date, changes in commits if date is None and changes)
    for commit, date, changes in commits:
        if date is None:
            continue
        for path, blob in changes:
            new.setdefault(path, []).append(Version(commit, date, blob))
    if since and old is not None:
        # the old lists are shared, never changed: a path's new versions make a new list
        fresh = old.updated(head, new)
        fresh.undated += undated
    else:
        fresh = HistoryCache(str(root_path.resolve()), head, new, undated=undated)
        if old is not None and old.head:  # a rewritten history: blobs never change
            fresh.facts = old.known_facts()
    fresh.limits = limits
    wanted = sorted({v.blob for vs in new.values() for v in vs} - {NULL_BLOB} - fresh.facts.keys())
    history.since, history.paths = since, frozenset(new)
    if wanted and current is not None:
        # a wanted blob is a new version's: only the paths changed can have it
        newest = {path: versions[0].blob for path, versions in new.items()}
        known = current_facts(current, newest, set(wanted))
        fresh.facts.update(known)
        history.blobs_from_registry = len(known)
        wanted = [blob for blob in wanted if blob not in known]
    if wanted:
        raw = _git(root_path, ["cat-file", "--batch"], ("\n".join(wanted) + "\n").encode())
        history.processes += 1
        parsed = parse_batch(raw, limits)
        history.blobs_parsed = len(parsed)
        fresh.facts.update(parsed)
    history.cache = fresh


@dataclass(frozen=True)
class _Run:
    """Consecutive versions of a manifest pointing at one image."""

    digest: str
    size: int
    date: str  # of its oldest version
    commit: str
    deprecated_since: str | None


def _runs(versions: list[Version], blobs: dict[str, Facts]) -> list[_Run]:
    """The images a manifest pointed at, newest first (a deletion ends the story:
    what came before it was another tag of the same name)."""
    runs: list[_Run] = []
    deprecated_since: str | None = None
    deprecated_open = True
    for version in versions:
        if version.blob == NULL_BLOB:
            if runs:
                break
            continue  # deleted, then added again: the newer file is the story
        facts = blobs.get(version.blob)
        if facts is None:
            continue
        digest, size, reason = facts
        if not runs:
            deprecated_open = reason is not None
        if deprecated_open and reason is not None:
            deprecated_since = version.date
        else:
            deprecated_open = False
        if runs and runs[-1].digest == digest:
            runs[-1] = replace(runs[-1], date=version.date, commit=version.commit, size=size)
        else:
            runs.append(_Run(digest, size, version.date, version.commit, None))
    if runs and deprecated_since is not None:
        runs[0] = replace(runs[0], deprecated_since=deprecated_since)
    return runs


def tag_history(tag: Tag, versions: list[Version], blobs: dict[str, Facts]) -> TagHistory | None:
    """The history of *tag* from the versions of its manifest file."""
    runs = _runs(versions, blobs)
    if not runs:
        return None
    current = runs[0] if runs[0].digest == tag.digest else None
    former_runs = runs[1:] if current is not None else runs
    former = []
    newer = current.date if current is not None else ""
    for run in former_runs[:MAX_FORMER]:
        former.append(Former(run.digest, run.size, run.date, run.commit, newer))
        newer = run.date
    return TagHistory(
        since=current.date if current is not None else None,
        commit=current.commit if current is not None else None,
        deprecated_since=(
            current.deprecated_since if current is not None and tag.deprecated else None
        ),
        former=tuple(former),
        more=max(0, len(former_runs) - MAX_FORMER),
    )


def apply(registry: Registry, history: History) -> Registry:
    """*registry* with each tag's history from *history* (the same registry when
    the history is off)."""
    if not history.available:
        return registry
    cache = history.cache
    prefix = str(registry.root) + os.sep
    namespaces: list[Namespace] = []
    changed = False
    for ns in registry.namespaces:
        tags = list(ns.tags)
        for index, tag in enumerate(tags):
            path = str(tag.path) if tag.path is not None else ""
            found = None
            if path.startswith(prefix):
                known = cache.versions_of(path[len(prefix) :].replace(os.sep, "/"))
                if known:
                    found = tag_history(tag, known, cache.facts)
            if found != tag.history:  # a tag kept with another history loses it
                tags[index] = replace(tag, history=found)
        if any(new is not old for new, old in zip(tags, ns.tags, strict=True)):
            ns = replace(ns, tags=tuple(tags))
            changed = True
        namespaces.append(ns)
    if not changed:  # no tag has a former image: the same objects
        return registry
    return Registry(registry.root, tuple(namespaces), registry.problems)
