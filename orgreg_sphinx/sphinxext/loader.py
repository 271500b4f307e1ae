"""``builder-inited``: read what the build shows, once, and declare its pages.

Before ``-j`` forks its workers (which inherit what is read here):

1. the manifest tree, into the :class:`~orgreg_sphinx.core.model.Registry` of the
   build (files unchanged since the last build are not parsed again: the read
   cache in the doctree folder), with each tag's former images from the tree's
   git history (``orgreg_history``); each bad file is a warning naming it;
2. the organization's trusted keys (``orgreg_keys``); each file left out is a
   warning naming it;
3. every generated page -- one per namespace, and the keys page when there are
   keys or signed tags -- written as a stub (:mod:`.stubs`) and given to Sphinx's
   project in one go (:func:`.internals.install_project`).

What is read is kept on the ``orgreg`` domain (:mod:`.domain`) for the rest of
the build.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.project import EXCLUDE_PATHS
from sphinx.util import logging
from sphinx.util.matching import compile_matchers

from ..core import history, names
from ..core.keys import load_keys
from ..core.model import Limits, NamespaceMemo, ReadCache, Registry, load_registry, printable
from ..core.text import plural
from . import archived, gcpolicy, internals
from .config import BuildSettings, settings_of
from .domain import domain_of
from .pages import UNDECODABLE_PATTERN
from .signing import signed_tags
from .stubs import KEYS_DOCNAME, write_stubs
from .warnings_ import Subtype, warn

logger = logging.getLogger(__name__)

#: file in the doctree folder keeping what the last build read from the tree
READ_CACHE_FILE = "orgreg-read-cache.pickle"
#: set (non-empty) when the source tree is exactly the commit checked out, as in a
#: CI job: the namespace memo takes which namespaces changed since its commit from
#: git, not from the times of their files and folders (``orgreg keep-times --git
#: --files-only`` then leaves the folders' and the README.md files' times alone)
GIT_CHECKOUT_ENV = "ORGREG_GIT_CHECKOUT"
#: folder in the doctree folder keeping the last build's namespaces, with their
#: history, and what they were read from (a namespace in which nothing changed is
#: not read again; when nothing changed at all, the history is not read either),
#: in shards (:class:`~orgreg_sphinx.core.model.NamespaceMemo`)
MEMO_FOLDER = "orgreg-namespaces"
#: the file earlier versions kept the memo in (removed: the folder replaces it)
FORMER_MEMO_FILE = "orgreg-namespaces.pickle"
#: folder in the doctree folder keeping what was read from the tree's git history,
#: in shards by namespace (:class:`~orgreg_sphinx.core.history.HistoryCache`)
HISTORY_CACHE_FOLDER = "orgreg-history"
#: the file earlier versions kept the history in (removed: the folder replaces it)
FORMER_HISTORY_CACHE_FILE = "orgreg-history.pickle"
#: the trusted keys as last read (a file in the doctree folder): GnuPG runs only
#: when a key file was added, removed or changed
KEYS_CACHE = "orgreg-keys.pickle"


def display_path(path: Path) -> str:
    """*path* relative to the working folder when below it, else absolute."""
    rel = os.path.relpath(path)
    return str(path.absolute()) if rel.startswith("..") else rel


def warn_undecodable(app: Sphinx) -> None:
    """Name each file or folder whose name is not valid UTF-8 and that holds
    pages Sphinx would otherwise read: left out by
    :data:`~orgreg_sphinx.sphinxext.pages.UNDECODABLE_PATTERN`, as no page
    address can spell it. (Inside a namespace the model names them.)"""
    config = app.config
    exclude = [p for p in config.exclude_patterns if p != UNDECODABLE_PATTERN]
    suffixes = tuple(config.source_suffix)
    left_out: dict[str, int] = {}
    for rel in internals.source_files(
        Path(app.srcdir),
        compile_matchers([UNDECODABLE_PATTERN]),
        compile_matchers([*exclude, *config.templates_path, *EXCLUDE_PATHS]),
        namespace_folders(app),
    ):
        if not rel.endswith(suffixes):
            continue
        parts = rel.split("/")
        first = next(i for i, part in enumerate(parts) if names.undecodable(part))
        bad = "/".join(parts[: first + 1])
        # a folder: the pages in it; a page itself: 0
        left_out[bad] = left_out.get(bad, 0) + 1 if first < len(parts) - 1 else 0
    for bad, count in left_out.items():
        inside = f" ({plural(count, 'page')} in it not read)" if count else ""
        warn(
            "%s is left out: %s%s [%s]",
            printable(display_path(Path(app.srcdir, bad))),
            names.UNDECODABLE_RULE,
            inside,
            "name",
            subtype="name",
        )


def namespace_folders(app: Sphinx) -> frozenset[str]:
    """The namespace folders of this build's registry, relative to the source
    folder (``/``-separated), whose files the exclude patterns all keep from
    being read (``orgreg_tree_pages`` off: :func:`.pages.tree_exclude_patterns`);
    none when the tree is outside the source folder or its pages are read."""
    settings = settings_of(app.config)
    if settings.tree_pages:
        return frozenset()
    try:
        rel = settings.root.relative_to(Path(app.srcdir).resolve())
    except ValueError:
        return frozenset()
    registry = domain_of(app.env).registry
    return frozenset((rel / ns.org / ns.repo).as_posix() for ns in registry.namespaces)


def load(app: Sphinx) -> None:
    """Read the tree and the trusted keys, and install the generated pages."""
    try:
        _load(app)
    except BaseException:
        gcpolicy.end_loading()  # (the build stops: the process may go on)
        raise


def _load(app: Sphinx) -> None:
    domain = domain_of(app.env)
    settings = settings_of(app.config)
    registry = read_registry(app, settings)
    domain.registry = registry
    for problem in registry.problems:
        where = printable(display_path(problem.path))
        warn(
            "%s %s [%s]",
            where,
            problem.message,
            problem.code,
            subtype=problem.code,
            # a file or folder without a line: no location (Sphinx takes a location
            # without ':' for a docname; 'path:' printed an empty line number)
            location=f"{where}:{problem.line}" if problem.line else None,
        )
    keys, problems = load_keys(settings.keys_folder, cache=Path(app.doctreedir) / KEYS_CACHE)
    for key_problem in problems:
        where = printable(display_path(key_problem.path))
        # no location: Sphinx would take the path for a docname and add '.rst'
        warn("%s %s [keys]", where, key_problem.message, subtype=Subtype.KEYS)
    domain.trusted_keys = {key.fingerprint: key for key in keys}
    generated = {}
    if settings.namespace_pages:
        generated = write_stubs(
            app.doctreedir,
            (ns.name for ns in registry.namespaces),
            keys_page=bool(keys or signed_tags(registry)),
        )
    installed = internals.install_project(app, generated, namespace_folders(app))
    domain.keys_page = KEYS_DOCNAME if installed and KEYS_DOCNAME in generated else ""


def read_registry(app: Sphinx, settings: BuildSettings) -> Registry:
    """The manifest tree of this build, with its history when asked for.

    Namespaces in which nothing changed since the last build come from the memo
    (:class:`~orgreg_sphinx.core.model.NamespaceMemo`) with the history they had,
    when the commit is the same, or with their history read again when it is
    not; the others are read (the read cache spares the READMEs that did not
    change) and given their history."""
    root = settings.root
    skip = frozenset(p.name for p in (app.outdir, app.doctreedir) if p.parent.resolve() == root)
    memo_file = Path(app.doctreedir) / MEMO_FOLDER
    memo = NamespaceMemo.load(memo_file, settings.limits)
    with contextlib.suppress(OSError):  # a whole memo in one file: never read again
        (Path(app.doctreedir) / FORMER_MEMO_FILE).unlink(missing_ok=True)
    head = history.current_head(root) if settings.history else ""
    if memo.head != head and not (memo.head and head):  # history switched on or off
        memo = NamespaceMemo()
    old_head, loaded_warning = memo.head, memo.history_warning
    old_commit, commit = memo.commit, ""
    memo.checkout = bool(os.environ.get(GIT_CHECKOUT_ENV, "").strip())
    if memo.checkout:
        # the tree is exactly the commit checked out (a CI job's): what changed
        # since the memo's commit is what git says, not the files' times
        commit = head or history.current_head(root)
        changed = None
        if commit and old_commit and memo.entries:
            changed = history.changed_folders(root, old_commit, commit)
        if changed is not None:
            memo.settle(os.fspath(root), changed)
            logger.info(
                "[orgreg] %s: %d namespace folders changed since %s (git)",
                GIT_CHECKOUT_ENV,
                len(changed),
                old_commit[:12],
            )
    # the read cache serves a build without the memo's namespaces (the first one, or
    # a checkout whose folders have new times); with them, the few namespaces that
    # changed are parsed (their READMEs: less than loading the cache)
    cache_file = Path(app.doctreedir) / READ_CACHE_FILE
    cache: ReadCache | None = None
    if archived.archive_folder(app):
        # a cached CI deploy: its doctrees are restored only for the same code and
        # settings, where the memo serves; no read cache to pack and unpack each time
        # (60 MB at 10,000 namespaces)
        cache_file.unlink(missing_ok=True)
    elif not memo.entries:
        cache = ReadCache.load(cache_file)
    found = load_registry(root, limits=settings.limits, skip=skip, cache=cache, memo=memo)
    logger.info(
        "[orgreg] namespaces: %d read, %d unchanged since the last build",
        len(memo.read),
        len(memo.fresh) - len(set(memo.read) & memo.fresh.keys()),
    )
    if cache is not None:
        save(cache, cache_file)
    if head and (head != old_head or memo.read):
        found, memo.history_warning = with_history(
            app, settings, found, read_now=memo.read, kept_at=old_head
        )
    elif settings.history and not head:
        logger.info("[orgreg] tag history is off: %s", history.read_history(root).reason)
    elif head:  # the same commit, the same namespaces: the history they have
        logger.info("[orgreg] tag history: 0 new commit(s) read from git")
        if memo.history_warning:
            warn("[orgreg] %s: %s", root, memo.history_warning, subtype=Subtype.HISTORY)
    for ns in found.namespaces:
        memo.update(ns)
    memo.head, memo.commit = head, commit
    if (
        memo.changed
        or head != old_head
        or commit != old_commit
        or memo.history_warning != loaded_warning
    ):
        for ns in found.namespaces:  # kept with their stamps (this build needs them too)
            ns.stamp()
            ns.row_stamp()
        save(memo, memo_file, settings)
    return found


def save(
    cache: ReadCache | NamespaceMemo, file: Path, settings: BuildSettings | None = None
) -> None:
    """Save a cache in the doctree folder (a read-only folder only makes rebuilds slower)."""
    try:
        if isinstance(cache, NamespaceMemo):
            cache.save(file, settings.limits if settings is not None else Limits())
        else:
            cache.save(file)
    except OSError as err:
        logger.debug("[orgreg] cannot save %s: %s", file, err)


def with_history(
    app: Sphinx,
    settings: BuildSettings,
    found: Registry,
    read_now: list[str] | None = None,
    kept_at: str = "",
) -> tuple[Registry, str]:
    """*found* with each tag's former images from the tree's git history (one
    informational line, and no history, when there is none to read), and the
    warning given about the history ('' when none).

    *read_now*: the namespace folders read by this build; the others have the
    history they had at the commit *kept_at* ('' or *read_now* None: every
    namespace is given its history). When the history read is that commit's, or
    it and the commits after it, only the folders read and those of the manifests
    the new commits changed are given theirs again: the other namespaces' files
    have no new version."""
    cache_folder = Path(app.doctreedir) / HISTORY_CACHE_FOLDER
    with contextlib.suppress(OSError):  # the whole history in one file: never read again
        (Path(app.doctreedir) / FORMER_HISTORY_CACHE_FILE).unlink(missing_ok=True)
    read = history.read_history(
        settings.root, history.HistoryCache.load(cache_folder), settings.limits, current=found
    )
    if not read.available:
        logger.info("[orgreg] tag history is off: %s", read.reason)
        return found, ""
    logger.info("[orgreg] tag history: %d new commit(s) read from git", read.commits_read)
    if read.warning:
        warn("[orgreg] %s: %s", settings.root, read.warning, subtype=Subtype.HISTORY)
    given = apply_history(found, read, read_now, kept_at)
    if read.changed or read.cache.unsaved:  # (a shard found damaged was read again)
        try:
            read.cache.save(cache_folder)
        except OSError as err:  # a read-only doctree folder only makes rebuilds slower
            logger.debug("[orgreg] cannot save %s: %s", cache_folder, err)
    return given, read.warning


def apply_history(
    found: Registry, read: history.History, read_now: list[str] | None, kept_at: str
) -> Registry:
    """*found* with the history *read* given to its namespaces: all of them, or
    (see :func:`with_history`) those read now and those the new commits changed."""
    if read_now is None or not kept_at or kept_at not in (read.cache.head, read.since):
        return history.apply(found, read)
    folders = set(read_now)
    if kept_at != read.cache.head:  # the namespaces of the manifests changed since
        for path in read.paths:
            ns = found.namespace("/".join(path.split("/")[:2]))
            if ns is not None:
                folders.add(os.fspath(ns.path))
    part = Registry(
        found.root, tuple(ns for ns in found.namespaces if os.fspath(ns.path) in folders)
    )
    given = {ns.name: ns for ns in history.apply(part, read).namespaces}
    return Registry(
        found.root,
        tuple(given.get(ns.name, ns) for ns in found.namespaces),
        found.problems,
    )
