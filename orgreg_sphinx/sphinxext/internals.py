"""Every use of Sphinx internals, in one place, each with why no public API does it.

Sphinx can change any of these without notice. tests/test_internals.py checks
each assumption against the installed Sphinx and fails with a message naming it;
at build time a failed assumption turns the feature it serves off (with a
warning where the site would differ), never the build.

* :class:`RegistryProject` -- documents without a file. Sphinx has no API to add a
  document that is not a file in the source folder; the project's private
  ``_path_to_docname`` / ``_docname_to_path`` maps are the only way in. Its
  discovery also walks no namespace folder whose files the exclude patterns all
  leave out: Sphinx prunes a folder only when a pattern matches the folder
  itself, and a pattern matching ``<org>/<repo>`` would leave out the pages
  directly in an organization's folder too; ``Project.discover`` walks with
  ``sphinx.project.get_matching_files``, which is swapped for
  :func:`source_files` (the same files, 10,000 folder listings fewer at 10,000
  namespaces) while it runs.
* :func:`bound_doctree_cache`, :func:`forget_written_doctree` -- memory. Sphinx
  keeps every read doctree in ``env._write_doc_doctree_cache`` (and every loaded
  pickle in ``env._pickled_doctree_cache``) with no setting to bound them.
* :func:`doctree_file` -- writing. Sphinx keeps a read document's doctree in
  ``<doctreedir>/<docname>.doctree`` (what ``BuildEnvironment.get_doctree``
  loads); its time says when the document was last read, by whichever builder.
* :func:`skip_search_indexing` -- the search index. Sphinx feeds every written
  page with a title to its search index (``StandaloneHTMLBuilder.index_page``);
  the ``nosearch`` metadata still lists the page (its name, file and title: 55
  bytes a page, 550 KB at 10,000 namespaces). The builder's ``index_page`` is
  wrapped to skip the pages the site finds another way.
* :func:`release_written_pages` -- memory. Sphinx emits no event once a page
  is written; the builder's ``write_doc`` is wrapped to release the doctree,
  which nothing reads again (:func:`.gcpolicy.release`).
* :func:`count_archived_outputs` -- a cached CI deploy (``ORGREG_SITE_ARCHIVE``).
  The HTML builder's ``get_outdated_docs`` stats each page's output file
  (``sphinx.builders.html._last_modified_time``) and writes again a page whose
  file is missing; with the previous site kept as one tar, the files are not on
  disk. There is no hook to tell the builder "this page's output exists, with
  this time": the module's ``_last_modified_time`` is wrapped to answer, for a
  file missing under a registered output folder, with its archived time. If it
  cannot be wrapped, every page is written again (the same site, built slower).
* :class:`TocParents` -- writing. Sphinx rewrites every toctree parent of a
  re-read page (``env.files_to_rebuild``) with no hook to say "its title and
  contents did not change".
"""

from __future__ import annotations

import importlib
import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import sphinx.project
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.environment import BuildEnvironment
from sphinx.project import Project
from sphinx.util import logging
from sphinx.util.matching import compile_matchers

from .gcpolicy import release
from .stubs import STUB_FOLDER
from .warnings_ import Subtype, warn

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------- generated documents


def source_files(
    srcdir: Path,
    include: Sequence[Callable[[str], object]],
    exclude: Sequence[Callable[[str], object]],
    skip: frozenset[str] = frozenset(),
) -> Iterator[str]:
    """The files below *srcdir* (relative, ``/``-separated, NFC) that Sphinx's
    ``get_matching_files`` finds with these matchers, in its order, without
    walking the folders in *skip* (relative, ``/``-separated: folders whose
    files the exclude patterns all leave out)."""
    root = srcdir.resolve()
    for folder, dirs, files in os.walk(root, followlinks=True):
        rel = os.path.relpath(folder, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        for name in sorted(files):
            entry = unicodedata.normalize("NFC", prefix + name)
            if any(m(entry) for m in include) and not any(m(entry) for m in exclude):
                yield entry
        kept = []
        for name in sorted(dirs):
            entry = unicodedata.normalize("NFC", prefix + name)
            if entry not in skip and not any(m(entry) for m in exclude):
                kept.append(name)
        dirs[:] = kept


#: the function of ``sphinx.project`` that ``Project.discover`` walks the source folder with
_PROJECT_WALK = "get_matching_files"


class RegistryProject(Project):
    """A Sphinx project whose documents include the generated namespace pages,
    found without walking the folders in *skip* (whose files are all excluded)."""

    generated: dict[str, Path]
    skip: frozenset[str]
    #: the folder of the generated pages' stubs (never documents of their own)
    stub_root: Path

    def discover(self, exclude_paths: Any = (), include_paths: Any = ("**",)) -> set[str]:
        skip: frozenset[str] = getattr(self, "skip", frozenset())
        real = getattr(sphinx.project, _PROJECT_WALK, None)
        if skip and callable(real):

            def walk(
                dirname: Any, include: Iterable[str] = ("**",), exclude: Iterable[str] = ()
            ) -> Iterator[str]:
                matchers = compile_matchers(include), compile_matchers(exclude)
                return source_files(Path(dirname), *matchers, skip)

            setattr(sphinx.project, _PROJECT_WALK, walk)
            try:
                docnames = super().discover(exclude_paths, include_paths)
            finally:
                setattr(sphinx.project, _PROJECT_WALK, real)
        else:
            docnames = super().discover(exclude_paths, include_paths)
        self._forget_stubs(docnames)
        generated = getattr(self, "generated", {})
        for docname in [d for d in generated if d in docnames]:
            del generated[docname]  # a hand-written page for the namespace wins
        for docname, stub in generated.items():
            docnames.add(docname)
            self._path_to_docname[stub] = docname
            self._docname_to_path[docname] = stub
        return docnames

    def _forget_stubs(self, docnames: set[str]) -> None:
        """Leave out the stub files found as documents (a doctree folder inside
        the source folder, no exclude pattern for it): they are the generated
        pages' sources, not pages of their own."""
        stub_root = getattr(self, "stub_root", None)
        if stub_root is None:
            return
        try:
            inside = Path(stub_root).resolve().relative_to(Path(self.srcdir).resolve())
        except ValueError:
            return
        for docname, path in list(self._docname_to_path.items()):
            if Path(path).is_relative_to(inside):
                docnames.discard(docname)
                del self._docname_to_path[docname]
                self._path_to_docname.pop(path, None)

    def doc2path(self, docname: str, absolute: bool) -> Any:
        """A generated page's relative path is ``<org>/<repo>/index.orgreg``, so no
        path of the build machine reaches the search index or templates. Both of
        a generated page's paths are made once (Sphinx asks for 10,000 pages'
        twice a build, and a path costs a join and a parse each time)."""
        stub = getattr(self, "generated", {}).get(docname)
        mapped = self._docname_to_path.get(docname)
        if stub is None or (mapped is not stub and mapped != stub):
            return super().doc2path(docname, absolute)
        made: dict[str, tuple[Path, Any, Any]] = self.__dict__.setdefault("_stub_paths", {})
        found = made.get(docname)
        if found is None or found[0] is not stub:  # (the stub: the page is the same)
            whole = super().doc2path(docname, True)
            found = made[docname] = (stub, whole, type(whole)(f"{docname}{stub.suffix}"))
        return found[1] if absolute else found[2]


def project_problem(project: object) -> str:
    """Why *project* cannot hold generated documents ('' when it can)."""
    if not isinstance(project, Project):
        return f"app.project is a {type(project).__name__}, not a sphinx.project.Project"
    for name in ("_path_to_docname", "_docname_to_path"):
        if not isinstance(getattr(project, name, None), dict):
            return f"sphinx.project.Project has no dict {name} any more"
    return ""


def install_project(
    app: Sphinx, generated: dict[str, Path], skip: frozenset[str] = frozenset()
) -> bool:
    """Make the app's project (the environment's too: the same object) also hold
    the *generated* pages, and not walk the folders in *skip* (relative to the
    source folder: folders whose files the exclude patterns all leave out).
    False, with a warning, when Sphinx's ``Project`` is not what
    :class:`RegistryProject` expects: the site then has no such pages."""
    project = app.project
    problem = project_problem(project)
    if problem:
        if generated:
            warn(
                "[orgreg] namespace pages are not generated: %s (this Sphinx version is "
                "not supported by orgreg-sphinx's generated pages)",
                problem,
                subtype=Subtype.SPHINX,
            )
        return False
    if not isinstance(project, RegistryProject):
        project.__class__ = RegistryProject
    cast("RegistryProject", project).generated = generated
    cast("RegistryProject", project).skip = skip
    cast("RegistryProject", project).stub_root = Path(app.doctreedir) / STUB_FOLDER
    return True


def generated_pages(app: Sphinx) -> dict[str, Path]:
    """Docnames of the generated pages of this build, with their stub files."""
    found = getattr(app.project, "generated", None)
    return found if isinstance(found, dict) else {}


# ---------------------------------------------------------------- doctrees in memory

#: generated pages whose doctrees Sphinx may hold in memory between reading and
#: writing them (it holds every document's: some 190 KiB each, 1.9 GiB at 10,000);
#: above 1,000 pages, so a registry of 1,000 namespaces reads none back from disk
DOCTREES_IN_MEMORY = 1200
#: the bound when a build has more generated pages than :data:`DOCTREES_IN_MEMORY`:
#: most doctrees are then read back from disk anyway, so only a few are kept (a
#: 1,200-doctree window was 230 MiB of the 1.1 GiB peak of a 10,000-namespace build)
DOCTREES_IN_MEMORY_LARGE = 200


def doctrees_in_memory(generated: int) -> int:
    """How many read doctrees of generated pages Sphinx may hold, for a build
    with *generated* generated pages."""
    if generated <= DOCTREES_IN_MEMORY:
        return DOCTREES_IN_MEMORY
    return min(DOCTREES_IN_MEMORY, DOCTREES_IN_MEMORY_LARGE)


def bound_doctree_cache(app: Sphinx, docname: str, source: list[str]) -> None:
    """Before each document is read: when Sphinx holds more than
    :func:`doctrees_in_memory` read doctrees of generated pages for writing, let
    it drop the older half (it reads them back from the doctree folder, as in
    incremental and parallel builds). Memory stays bounded at any size."""
    cache = getattr(app.env, "_write_doc_doctree_cache", None)
    if not isinstance(cache, dict) or len(cache) <= min(
        DOCTREES_IN_MEMORY, DOCTREES_IN_MEMORY_LARGE
    ):
        return
    generated = generated_pages(app)
    bound = doctrees_in_memory(len(generated))
    if len(cache) <= bound:
        return
    for name in [n for n in cache if n in generated][: len(cache) - bound // 2]:
        release(cache.pop(name))  # pickled already: freed now, not by the collector


def forget_written_doctree(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """A generated page's pickled doctree, once loaded to be written, is not
    needed again: do not keep its bytes for the rest of the build."""
    if docname in generated_pages(app):
        cached = getattr(app.env, "_pickled_doctree_cache", None)
        if isinstance(cached, dict):
            cached.pop(docname, None)


def release_written_pages(app: Sphinx) -> None:
    """``builder-inited``: an HTML builder releases each page's doctree once the
    page is written (:func:`.gcpolicy.release`)."""
    if app.builder.format == "html":
        after_each_written_page(app, release)


def after_each_written_page(app: Sphinx, hook: Callable[[nodes.document], None]) -> bool:
    """Call *hook* with each doctree the builder has just written (its
    ``write_doc`` wrapped, in ``-j`` workers too); False when the builder has none."""
    builder = app.builder
    original = getattr(builder, "write_doc", None)
    if not callable(original):
        return False

    def write_doc(docname: str, doctree: nodes.document) -> None:
        original(docname, doctree)
        hook(doctree)

    builder.write_doc = write_doc  # type: ignore[method-assign]
    return True


# ---------------------------------------------------------------- doctree files


def doctree_file(app: Sphinx, docname: str) -> Path:
    """Where Sphinx keeps the doctree of *docname* as last read."""
    return Path(app.doctreedir) / f"{docname}.doctree"


# ---------------------------------------------------------------- outputs kept in an archive

#: the module whose ``_last_modified_time`` the HTML builder's outdated-page check calls
HTML_BUILDER_MODULE = "sphinx.builders.html"
#: per output folder (with a trailing separator): the modification time (ns) of an
#: output file by its path relative to the folder, None when the site has no such file
_archived_times: dict[str, Callable[[str], int | None]] = {}


def archived_outputs_problem() -> str:
    """Why the HTML builder's outdated-page check cannot be told of archived
    outputs ('' when it can)."""
    try:
        module = importlib.import_module(HTML_BUILDER_MODULE)
    except ImportError as err:
        return f"{HTML_BUILDER_MODULE} cannot be imported: {err}"
    found = getattr(module, "_last_modified_time", None)
    if not callable(found):
        return f"{HTML_BUILDER_MODULE} has no _last_modified_time any more"
    builder = getattr(module, "StandaloneHTMLBuilder", None)
    check = getattr(getattr(builder, "get_outdated_docs", None), "__code__", None)
    if check is None or "_last_modified_time" not in check.co_names:
        return "StandaloneHTMLBuilder.get_outdated_docs does not call _last_modified_time"
    return ""


def count_archived_outputs(
    outdir: str | os.PathLike[str], time_of: Callable[[str], int | None]
) -> str:
    """Make the HTML builder's outdated-page check count a file missing under
    *outdir* with the time (ns) *time_of* gives for its relative path (``/``
    separated), as if it were there. '' when done, else why not (every page is
    then written again: the same site)."""
    problem = archived_outputs_problem()
    if problem:
        return problem
    module = importlib.import_module(HTML_BUILDER_MODULE)
    original = getattr(module, "_last_modified_time")  # noqa: B009 (private: checked above)
    if not getattr(original, "orgreg_archived", False):

        def _last_modified_time(source: Any, /) -> int:
            try:
                return int(original(source))
            except OSError:
                path = os.fspath(source)
                for prefix, lookup in list(_archived_times.items()):
                    if path.startswith(prefix):
                        found = lookup(path[len(prefix) :].replace(os.sep, "/"))
                        if found is not None:
                            return -(found // -1000)  # microseconds, rounded up (as Sphinx)
                raise

        _last_modified_time.orgreg_archived = True  # type: ignore[attr-defined]
        setattr(module, "_last_modified_time", _last_modified_time)  # noqa: B010
    _archived_times[os.path.join(os.fspath(outdir), "")] = time_of
    return ""


def forget_archived_outputs(outdir: str | os.PathLike[str]) -> None:
    """Stop counting archived files under *outdir* (the end of its build)."""
    _archived_times.pop(os.path.join(os.fspath(outdir), ""), None)


# ---------------------------------------------------------------- toctree parents


def _toc_of(env: BuildEnvironment, docname: str) -> str:
    """What a toctree parent shows of *docname*: its title and table of contents."""
    title, toc = env.titles.get(docname), env.tocs.get(docname)
    return (
        (title.astext() if title is not None else "")
        + "\n"
        + (toc.pformat() if toc is not None else "")
    )


class TocParents:
    """Sphinx writes again every page whose toctree holds a page that changed (the
    home page lists them all: a thousand rows rendered for one edited manifest).
    A generated page whose title and contents did not change shows the same in
    its parents: its parents are left out of this build's writing and put back
    at the end. One instance per application (every handler runs in the main
    process)."""

    def __init__(self) -> None:
        #: title and contents, before this build read them, of generated pages read
        self.before: dict[str, str] = {}
        #: toctree parents set aside while this build writes
        self.aside: dict[str, set[str]] = {}

    def remember(self, app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
        """env-before-read-docs: note the title and contents of the pages to read."""
        generated = generated_pages(app)
        self.before = {d: _toc_of(env, d) for d in docnames if d in generated and d in env.tocs}

    def set_aside(self, app: Sphinx, builder: Builder) -> None:
        """write-started: leave out the parents of pages that show the same."""
        before, self.before = self.before, {}
        parents = getattr(builder.env, "files_to_rebuild", None)
        if not before or not isinstance(parents, dict):
            return
        for docname, toc in before.items():
            if docname in parents and _toc_of(builder.env, docname) == toc:
                self.aside[docname] = parents.pop(docname)

    def restore(self, app: Sphinx, exception: BaseException | None) -> None:
        """build-finished: put the parents back for the next builds."""
        aside, self.aside = self.aside, {}
        parents = getattr(app.env, "files_to_rebuild", None)
        if isinstance(parents, dict):
            for docname, found in aside.items():
                parents.setdefault(docname, set()).update(found)


# ---------------------------------------------------------------- the search index


def skip_search_indexing(app: Sphinx, skipped: Callable[[str], bool]) -> bool:
    """Leave the pages *skipped* says out of Sphinx's search index (the HTML
    builder's ``index_page`` is wrapped); False when this builder has none."""
    builder = app.builder
    original = getattr(builder, "index_page", None)
    if not callable(original):
        return False

    def index_page(pagename: str, doctree: nodes.document, title: str) -> None:
        if not skipped(pagename):
            original(pagename, doctree, title)

    builder.index_page = index_page  # type: ignore[attr-defined]
    return True


# ---------------------------------------------------------------- checks


def environment_problems(env: BuildEnvironment) -> list[str]:
    """Assumptions about a built environment that this Sphinx breaks (none: [])."""
    problems = []
    for name in ("_write_doc_doctree_cache", "_pickled_doctree_cache", "files_to_rebuild"):
        if not isinstance(getattr(env, name, None), dict):
            problems.append(f"BuildEnvironment.{name} is not a dict any more")
    parents = getattr(env, "files_to_rebuild", None)
    if isinstance(parents, dict) and not all(isinstance(v, set) for v in parents.values()):
        problems.append("BuildEnvironment.files_to_rebuild values are not sets any more")
    return problems
