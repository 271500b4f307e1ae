"""One generated Sphinx document per namespace, at ``<org>/<repo>/index``.

Sphinx has no public API for documents without a file, so the project is given
a small :class:`~sphinx.project.Project` subclass that also maps each namespace's
docname to a stub file kept under the doctree folder: a single ``registry``
directive. Nothing is written into the source folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.parsers import RSTParser
from sphinx.project import Project
from sphinx.util import logging

from ..core.files import write_if_changed
from ..core.model import is_namespace_folder, printable
from . import config as cfg
from . import tracking

logger = logging.getLogger(__name__)

STUB_FOLDER = "orgreg-pages"
#: suffix and file type of the stubs, read by :class:`NamespacePageParser`
STUB_SUFFIX = ".orgreg"
STUB_FILETYPE = "orgreg-namespace-page"
STUB_RE = re.compile(r"^   :namespace: (.+)$", re.MULTILINE)


class _StubState:
    """What a directive uses of the reST parser's state, for :class:`NamespacePageParser`."""

    def __init__(self, document: nodes.document) -> None:
        self.document = document
        self.parent = document


class _StubStateMachine:
    def __init__(self, document: nodes.document) -> None:
        self.document = document
        self.reporter = document.reporter
        self.input_lines = StringList()

    def get_source_and_line(self, lineno: int | None = None) -> tuple[str, int | None]:
        return self.document["source"], lineno


class NamespacePageParser(RSTParser):
    """Reads a generated page's stub, which is reST (one ``registry`` directive),
    without building docutils' reST state machine for it: the directive is run
    directly. At a thousand pages this saves a few percent of a full build.
    Anything the shortcut cannot do falls back to the reST parser."""

    supported = (STUB_FILETYPE,)

    def parse(self, inputstring: str | StringList, document: nodes.document) -> None:
        from .directive import RegistryDirective

        text = "\n".join(inputstring) if isinstance(inputstring, StringList) else inputstring
        found = STUB_RE.search(text)
        if found is not None and text == stub_text(found.group(1)):
            directive = RegistryDirective(
                "registry", [], {"namespace": found.group(1), "page": None}, StringList(),
                1, 0, text, _StubState(document), _StubStateMachine(document),
            )
            try:
                result = directive.run()
            except (AttributeError, TypeError):  # needs more of the parser: read it as reST
                pass
            else:
                document.extend(result)
                return
        super().parse(inputstring, document)


class RegistryProject(Project):
    """A Sphinx project whose documents include the generated namespace pages."""

    generated: dict[str, Path]

    def discover(self, exclude_paths: Any = (), include_paths: Any = ("**",)) -> set[str]:
        docnames = super().discover(exclude_paths, include_paths)
        generated = getattr(self, "generated", {})
        for docname in [d for d in generated if d in docnames]:
            del generated[docname]  # a hand-written page for the namespace wins
        for docname, stub in generated.items():
            docnames.add(docname)
            self._path_to_docname[stub] = docname
            self._docname_to_path[docname] = stub
        return docnames

    def doc2path(self, docname: str, absolute: bool) -> Any:
        """A generated page's relative path is ``<org>/<repo>/index.rst``, so no
        path of the build machine reaches the search index or templates."""
        path = super().doc2path(docname, absolute)
        stub = getattr(self, "generated", {}).get(docname)
        if not absolute and stub is not None and self._docname_to_path.get(docname) == stub:
            return type(path)(f"{docname}{stub.suffix}")
        return path


def install_project(app: Sphinx, generated: dict[str, Path]) -> None:
    """Make the app's (and environment's) project also hold *generated* pages.

    This touches Sphinx's private ``Project`` internals; it is the one place that
    does, and tests/test_pages.py pins it.
    """
    project = app.project
    if not isinstance(project, RegistryProject):
        project.__class__ = RegistryProject
    project.generated = generated  # type: ignore[attr-defined]


def stub_text(name: str) -> str:
    """The source of a namespace page: one directive that renders it all."""
    return f".. registry::\n   :namespace: {name}\n   :page:\n"


def register_stub_suffix(app: Sphinx, config: Config) -> None:
    """Read the stubs with :class:`NamespacePageParser` (whatever ``source_suffix``
    says about ``.rst``); runs after Sphinx normalized the setting."""
    config.source_suffix[STUB_SUFFIX] = STUB_FILETYPE


def tree_exclude_patterns(app: Sphinx, config: Config) -> None:
    """Keep the manifest tree's files from being read as documents.

    Everything inside ``<org>/<repo>/`` comes from contributors: unless
    ``orgreg_tree_pages`` trusts it, no file there is read by Sphinx (a page
    there could include files of the build machine or run raw HTML), and the
    folders are not even walked (links there could make the walk endless).
    """
    root = cfg.root_folder(app.srcdir, config)
    try:
        rel = root.relative_to(Path(app.srcdir).resolve()).as_posix()
    except ValueError:
        return  # the tree is outside the source folder: nothing to exclude
    prefix = "" if rel in ("", ".") else rel + "/"
    patterns = ["*/*/README.md", "*/*/tags/**", "*/*/manifests/**"]
    if not config.orgreg_tree_pages:
        # every folder of an organization holding a namespace; other folders
        # (hand-written docs such as guide/howto/page.md) stay readable
        patterns = [f"{_glob_escape(org)}/*/**" for org in namespace_orgs(root)]
    for pattern in patterns:
        if prefix + pattern not in config.exclude_patterns:
            config.exclude_patterns.append(prefix + pattern)


def namespace_orgs(root: Path) -> list[str]:
    """Names of the first-level folders of *root* that hold a namespace (or a link)."""
    root = root.resolve()
    orgs = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_symlink():
            orgs.append(entry.name)
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        try:
            children = list(os.scandir(entry.path))
        except OSError:
            continue
        # a link in an organization folder is never followed by Sphinx either
        if any(
            child.is_symlink()
            or (child.is_dir(follow_symlinks=False) and is_namespace_folder(Path(child.path), root))
            for child in children
        ):
            orgs.append(entry.name)
    return orgs


def _glob_escape(name: str) -> str:
    """*name* as a Sphinx exclude pattern that matches it literally."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def display_path(path: Path) -> str:
    """*path* relative to the working folder when below it, else absolute."""
    rel = os.path.relpath(path)
    return str(path.absolute()) if rel.startswith("..") else rel


def generate(app: Sphinx) -> None:
    """Read the tree and register a page per namespace (at builder-inited)."""
    registry = tracking.load(app)
    for problem in registry.problems:
        where = printable(display_path(problem.path))
        logger.warning(
            "%s %s [%s]",
            where,
            problem.message,
            problem.code,
            type="orgreg",
            subtype=problem.code,
            location=f"{where}:{problem.line or ''}",
        )
    generated: dict[str, Path] = {}
    if app.config.orgreg_namespace_pages:
        stubs = Path(app.doctreedir) / STUB_FOLDER
        for ns in registry.namespaces:
            stub = stubs / ns.org / ns.repo / f"index{STUB_SUFFIX}"
            write_if_changed(stub, stub_text(ns.name).encode())
            generated[ns.docname] = stub
    install_project(app, generated)


def hide_stub_source(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Generated pages have no source to show; link to the manifests instead."""
    generated = getattr(app.project, "generated", {})
    if pagename in generated:
        context["sourcename"] = ""
        context["orgreg_namespace"] = pagename.rsplit("/", 1)[0]
        repo_url = app.config.orgreg_repository_url.rstrip("/")
        if repo_url:
            root = cfg.root_folder(app.srcdir, app.config)
            try:
                rel = root.relative_to(Path(app.confdir).resolve()).as_posix()
            except ValueError:
                rel = os.path.basename(root)
            folder = f"{rel}/{context['orgreg_namespace']}".lstrip("./")
            branch = app.config.orgreg_repository_branch
            context["orgreg_manifests_url"] = f"{repo_url}/tree/{branch}/{folder}"


#: generated pages whose doctrees Sphinx may hold in memory between reading and
#: writing them (it holds every document's: some 150 KiB each, 1.5 GiB at 10,000);
#: above 1,000 pages, so a registry of 1,000 namespaces reads none back from disk
DOCTREES_IN_MEMORY = 1200


def bound_doctree_cache(app: Sphinx, docname: str, source: list[str]) -> None:
    """Before each document is read: when Sphinx holds more than
    :data:`DOCTREES_IN_MEMORY` read doctrees of generated pages for writing, let
    it drop the older half (it reads them back from the doctree folder, as in
    incremental and parallel builds). Memory stays bounded at any size."""
    cache = getattr(app.env, "_write_doc_doctree_cache", None)
    if not isinstance(cache, dict) or len(cache) <= DOCTREES_IN_MEMORY:
        return
    generated = getattr(app.project, "generated", {})
    for name in [n for n in cache if n in generated][: len(cache) - DOCTREES_IN_MEMORY // 2]:
        del cache[name]


def forget_written_doctree(app: Sphinx, doctree: Any, docname: str) -> None:
    """A generated page's pickled doctree, once loaded to be written, is not
    needed again: do not keep its bytes for the rest of the build."""
    if docname in getattr(app.project, "generated", {}):
        cached = getattr(app.env, "_pickled_doctree_cache", None)
        if isinstance(cached, dict):
            cached.pop(docname, None)


#: per build environment: what the generated pages read in this build showed to
#: their toctree parents before (title and table of contents)
_TOCS_BEFORE: dict[int, dict[str, str]] = {}
#: per build environment: toctree parents set aside while this build writes
_SET_ASIDE: dict[int, dict[str, set[str]]] = {}


def _toc_of(env: Any, docname: str) -> str:
    """What a toctree parent shows of *docname*: its title and table of contents."""
    title, toc = env.titles.get(docname), env.tocs.get(docname)
    return (title.astext() if title is not None else "") + "\n" + (
        toc.pformat() if toc is not None else "")


def remember_tocs(app: Sphinx, env: Any, docnames: list[str]) -> None:
    """Before reading: note the title and contents of the generated pages to read."""
    generated = getattr(app.project, "generated", {})
    _TOCS_BEFORE[id(env)] = {
        d: _toc_of(env, d) for d in docnames if d in generated and d in env.tocs
    }


def skip_unchanged_toc_parents(app: Sphinx, builder: Any) -> None:
    """Sphinx writes again every page whose toctree holds a page that changed (the
    home page lists them all: a thousand rows rendered for one edited manifest).
    A generated page whose title and contents did not change shows the same in
    its parents: leave them out of this build's writing (put back at the end)."""
    env = builder.env
    before = _TOCS_BEFORE.pop(id(env), {})
    parents = getattr(env, "files_to_rebuild", None)
    if not before or not isinstance(parents, dict):
        return
    aside = _SET_ASIDE.setdefault(id(env), {})
    for docname, toc in before.items():
        if docname in parents and _toc_of(env, docname) == toc:
            aside[docname] = parents.pop(docname)


def restore_toc_parents(app: Sphinx, exception: BaseException | None) -> None:
    aside = _SET_ASIDE.pop(id(app.env), {})
    parents = getattr(app.env, "files_to_rebuild", None)
    if isinstance(parents, dict):
        for docname, found in aside.items():
            parents.setdefault(docname, set()).update(found)


def generated_outputs(app: Sphinx) -> list[str]:
    """Output files of the generated pages (owned by this extension)."""
    builder = app.builder
    outputs = []
    for docname in getattr(app.project, "generated", {}):
        try:
            target = builder.get_target_uri(docname)
        except Exception:  # noqa: BLE001 - builders without pages
            continue
        if target.endswith("/") or target == "":
            target += "index.html"
        outputs.append(target)
    return outputs


def mark_orphan(app: Sphinx, doctree: Any) -> None:
    """A generated page need not be in a toctree (a listing may show only some
    namespaces, or none): no "isn't included in any toctree" warning for it."""
    docname = app.env.docname
    if docname in getattr(app.project, "generated", {}):
        app.env.metadata[docname]["orphan"] = True


def setup(app: Sphinx) -> None:
    app.connect("doctree-read", mark_orphan)
    app.connect("config-inited", tree_exclude_patterns)
    app.connect("config-inited", register_stub_suffix, priority=850)
    app.add_source_parser(NamespacePageParser)
    app.connect("source-read", bound_doctree_cache)
    app.connect("doctree-resolved", forget_written_doctree)
    app.connect("env-before-read-docs", remember_tocs)
    app.connect("write-started", skip_unchanged_toc_parents)
    app.connect("build-finished", restore_toc_parents)
    app.connect("builder-inited", generate)
    app.connect("html-page-context", hide_stub_source)
