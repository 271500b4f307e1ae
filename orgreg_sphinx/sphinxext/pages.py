"""One generated Sphinx document per namespace, at ``<org>/<repo>/index``.

Sphinx has no public API for documents without a file, so the project is given
a small :class:`~sphinx.project.Project` subclass (:mod:`.internals`) that also
maps each namespace's docname to a stub file kept under the doctree folder: a
single ``registry`` directive. Nothing is written into the source folder.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from docutils import nodes
from docutils.statemachine import StringList
from docutils.transforms import Transform
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.parsers import RSTParser
from sphinx.util import logging

from ..core import names
from ..core.model import is_namespace_folder
from ..theme import THEME_NAME, theme_names
from . import archived, internals
from .config import settings_of
from .directive import RegistryDirective
from .stubs import (
    KEYS_DOCNAME,
    NAMESPACE_STUB,
    STUB_FILETYPE,
    STUB_RE,
    namespace_of_page,
    stub_text,
)

if TYPE_CHECKING:
    from docutils.parsers.rst.states import RSTState, RSTStateMachine

logger = logging.getLogger(__name__)


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


#: The read-phase transforms a generated page skips, by ``module.QualName``: each
#: acts only on what such a page never holds (reST targets, footnotes, citations,
#: substitutions, doctest blocks, glossaries, numbered figures, transitions, the
#: project's translations of hand-written text, smart quotes -- switched off on the
#: page anyway) or only patches source positions for messages. Every other
#: transform runs: ``doctree-read`` (:class:`sphinx.transforms.DoctreeReadEvent`),
#: the domains' ``process_doc``, linkcheck's collector and any extension's own.
#: Measured on a 300-namespace build (2026-11-29): 1.3 s of CPU of the 2.2 s the
#: transforms took, for the same HTML.
SKIPPED_TRANSFORMS = frozenset(
    {
        "docutils.transforms.frontmatter.DocInfo",
        "docutils.transforms.frontmatter.DocTitle",
        "docutils.transforms.frontmatter.SectionSubTitle",
        "docutils.transforms.misc.Transitions",
        "docutils.transforms.references.AnonymousHyperlinks",
        "docutils.transforms.references.ExternalTargets",
        "docutils.transforms.references.Footnotes",
        "docutils.transforms.references.IndirectHyperlinks",
        "docutils.transforms.references.InternalTargets",
        "docutils.transforms.references.PropagateTargets",
        "docutils.transforms.references.Substitutions",
        "docutils.transforms.universal.SmartQuotes",
        "docutils.transforms.universal.StripComments",
        "myst_parser.mdit_to_docutils.transforms.UnreferencedFootnotesDetector",
        "sphinx.builders.latex.transforms.FootnoteDocnameUpdater",
        "sphinx.domains.citation.CitationDefinitionTransform",
        "sphinx.domains.citation.CitationReferenceTransform",
        "sphinx.transforms.ApplySourceWorkaround",
        "sphinx.transforms.AutoIndexUpgrader",
        "sphinx.transforms.AutoNumbering",
        "sphinx.transforms.DefaultSubstitutions",
        "sphinx.transforms.DoctestTransform",
        "sphinx.transforms.ExtraTranslatableNodes",
        "sphinx.transforms.GlossarySorter",
        "sphinx.transforms.HandleCodeBlocks",
        "sphinx.transforms.MoveModuleTargets",
        "sphinx.transforms.ReorderConsecutiveTargetAndIndexNodes",
        "sphinx.transforms.SortIds",
        "sphinx.transforms.SphinxSmartQuotes",
        "sphinx.transforms.UnreferencedFootnotesDetector",
        "sphinx.transforms.i18n.AddTranslationClasses",
        "sphinx.transforms.i18n.Locale",
        "sphinx.transforms.i18n.PreserveTranslatableMessages",
        "sphinx.transforms.i18n.RemoveTranslatableInline",
        "sphinx.transforms.i18n.TranslationProgressTotaliser",
        "sphinx.transforms.references.SphinxDanglingReferences",
    }
)


def transform_name(transform: type[Any]) -> str:
    """``module.QualName`` of a transform class."""
    return f"{transform.__module__}.{transform.__qualname__}"


def skip_transforms(document: nodes.document) -> None:
    """Drop :data:`SKIPPED_TRANSFORMS` from the transforms queued on *document*
    (docutils' public ``Transformer.transforms`` list)."""
    transformer = document.transformer
    transformer.transforms = [
        queued
        for queued in transformer.transforms
        if transform_name(queued[1]) not in SKIPPED_TRANSFORMS
    ]


#: the mark :class:`NamespacePageParser` leaves on a document it built final
BUILT_FINAL = "orgreg-built-final"


class SkipInapplicableTransforms(Transform):
    """Runs first on a document the stub parser built final and drops the
    transforms that cannot apply to it. (Sphinx 9 queues the read transforms
    before parsing, Sphinx 8.2's docutils Publisher after it: a transform queued
    by the parser sees the whole queue in both.)"""

    default_priority = 1

    def apply(self, **kwargs: Any) -> None:
        if self.document.get(BUILT_FINAL):
            del self.document[BUILT_FINAL]
            skip_transforms(self.document)


def name_the_namespace(app: Sphinx, docname: str, source: list[str]) -> None:
    """``source-read``: a namespace page's stub (the same file for every one)
    is given its namespace, the page's."""
    if source and source[0] == NAMESPACE_STUB:
        name = namespace_of_page(docname)
        if name and docname in internals.generated_pages(app):
            source[0] = stub_text(name)


class NamespacePageParser(RSTParser):
    """Reads a generated page's stub, which is reST (one ``registry`` directive),
    without building docutils' reST state machine for it: the directive is run
    directly. Measured on a full build of 1,000 namespaces x 5 tags (2026-11-29):
    the stubs took 2.7-2.9 s of CPU to parse this way, 4.6-4.8 s with the reST
    parser; the build 30.0 s against 31.1 s on a quiet machine (about 4%).
    Anything the shortcut cannot do falls back to the reST parser."""

    supported = (STUB_FILETYPE,)

    def parse(self, inputstring: str | StringList, document: nodes.document) -> None:
        text = "\n".join(inputstring) if isinstance(inputstring, StringList) else inputstring
        found = STUB_RE.search(text)
        if found is not None and text == stub_text(found.group(1)):
            directive = RegistryDirective(
                "registry",
                [],
                {"namespace": found.group(1), "page": None},
                StringList(),
                1,
                0,
                text,
                # the directive only uses these parts of the parser's state
                cast("RSTState", _StubState(document)),
                cast("RSTStateMachine", _StubStateMachine(document)),
            )
            try:
                result = directive.run()
            except (AttributeError, TypeError):  # needs more of the parser: read it as reST
                pass
            else:
                document.extend(result)
                # the page is built final by the directive: skip what cannot apply
                document[BUILT_FINAL] = True
                return
        super().parse(inputstring, document)

    def get_transforms(self) -> list[type[Transform]]:
        return [*super().get_transforms(), SkipInapplicableTransforms]


#: an exclude pattern matching every path with a name that is not valid UTF-8
UNDECODABLE_PATTERN = f"**[{names.UNDECODABLE_CHARS}]**"


def tree_exclude_patterns(app: Sphinx, config: Config) -> None:
    """Keep the manifest tree's files from being read as documents.

    Everything inside ``<org>/<repo>/`` comes from contributors: unless
    ``orgreg_tree_pages`` trusts it, no file there is read by Sphinx (a page
    there could include files of the build machine or run raw HTML), and the
    folders inside a namespace are not even walked (links there could make the
    walk endless). Nowhere in the source folder is a path whose name is not
    valid UTF-8 read (no page address can spell it: Sphinx would crash);
    :func:`~orgreg_sphinx.sphinxext.loader.warn_undecodable` names them.
    """
    if UNDECODABLE_PATTERN not in config.exclude_patterns:
        config.exclude_patterns.append(UNDECODABLE_PATTERN)
    settings = settings_of(config)
    root = settings.root
    try:
        rel = root.relative_to(Path(app.srcdir).resolve()).as_posix()
    except ValueError:
        return  # the tree is outside the source folder: nothing to exclude
    prefix = "" if rel in ("", ".") else rel + "/"
    patterns = ["*/*/README.md", "*/*/tags/**", "*/*/manifests/**"]
    if not settings.tree_pages:
        patterns = organization_patterns(root)
    for pattern in patterns:
        if prefix + pattern not in config.exclude_patterns:
            config.exclude_patterns.append(prefix + pattern)


#: top-level folder names :func:`organization_patterns` spells in character classes
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._-]+")


def organization_patterns(root: Path) -> list[str]:
    """Exclude patterns for every folder of an organization holding a namespace
    (``<org>/<folder>/**``); other folders (hand-written docs such as
    guide/howto/page.md) and files directly in an organization's folder stay
    readable.

    Spelled as the complement of the other top-level folders (a few patterns
    built from their names, :func:`complement_patterns`), not one pattern per
    organization: Sphinx matches every file and folder it walks against every
    pattern (300 organizations made 300 patterns), and a new organization does
    not change the patterns, so Sphinx does not read every page again for it
    (``exclude_patterns`` is a setting whose change does). Names of other
    characters than ``[A-Za-z0-9._-]`` among the other folders: one pattern per
    organization."""
    orgs, others = top_level_folders(root)
    if not orgs:
        return []
    if all(_PLAIN_NAME.fullmatch(name) for name in others):
        return complement_patterns(others)
    return [f"{_glob_escape(org)}/*/**" for org in orgs]


def complement_patterns(others: list[str]) -> list[str]:
    """Sphinx exclude patterns matching ``<name>/<folder>/...`` for every name
    not in *others* (names of ``[A-Za-z0-9._-]``), and no path below a name in
    *others*. Built on the tree of the names' prefixes: for each prefix, the
    names going on with another character, and the prefix itself when it is
    not a name; the pattern matching most names comes first."""
    keep = set(others)
    prefixes = sorted(
        {""} | {name[:i] for name in keep for i in range(len(name) + 1)}, key=lambda p: (len(p), p)
    )
    patterns = []
    for prefix in prefixes:
        nexts = sorted(
            {
                name[len(prefix)]
                for name in keep
                if len(name) > len(prefix) and name.startswith(prefix)
            }
        )
        if nexts:
            # '-' last, where a character class holds it as itself
            chars = "".join(c for c in nexts if c != "-") + ("-" if "-" in nexts else "")
            patterns.append(f"{prefix}[!{chars}]*/*/**")
        else:
            patterns.append(f"{prefix}?*/*/**")
        if prefix and prefix not in keep:
            patterns.append(f"{prefix}/*/**")
    return patterns


def top_level_folders(root: Path) -> tuple[list[str], list[str]]:
    """The first-level entries of *root* Sphinx could walk into: those of
    organizations holding a namespace (and links: never followed by Sphinx
    either), and the others (the site's own folders and folders holding no
    namespace)."""
    root = root.resolve()
    orgs: list[str] = []
    others: list[str] = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return [], []
    for entry in entries:
        if names.is_site_folder(entry.name):
            others.append(entry.name)
            continue
        if entry.is_symlink():
            orgs.append(entry.name)
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        try:
            children = list(os.scandir(entry.path))
        except OSError:
            others.append(entry.name)
            continue
        # a link in an organization folder is never followed by Sphinx either
        if any(
            child.is_symlink()
            or (child.is_dir(follow_symlinks=False) and is_namespace_folder(child.path, root))
            for child in children
        ):
            orgs.append(entry.name)
        else:
            others.append(entry.name)
    return orgs, others


def _glob_escape(name: str) -> str:
    """*name* as a Sphinx exclude pattern that matches it literally."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def hide_stub_source(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Generated pages have no source to show; link to the manifests instead."""
    generated = internals.generated_pages(app)
    if pagename in generated:
        context["sourcename"] = ""
        context["orgreg_namespace"] = pagename.rsplit("/", 1)[0]
        if pagename != KEYS_DOCNAME and _orgreg_theme(app):
            # out of Sphinx's search index (leave_namespace_pages_out_of_search):
            # its scripts (options, search words highlighted) have nothing to do
            context["script_files"] = [
                js
                for js in context.get("script_files", ())
                if os.path.basename(str(getattr(js, "filename", js))) not in SEARCH_SCRIPTS
            ]
        settings = settings_of(app.config)
        repo_url = settings.repository_url.rstrip("/")
        if repo_url:
            root = settings.root
            try:
                rel = root.relative_to(Path(app.confdir).resolve()).as_posix()
            except ValueError:
                rel = os.path.basename(root)
            folder = f"{rel}/{context['orgreg_namespace']}".lstrip("./")
            branch = settings.repository_branch
            context["orgreg_manifests_url"] = f"{repo_url}/tree/{branch}/{folder}"


def output_file(builder: Builder, docname: str) -> str | None:
    """The output file of *docname*'s page, relative to the output folder (None
    for builders without pages)."""
    # HTML builders say where they write a page (its link may differ:
    # html_link_suffix = "" links to acme/busybox/index, written as .html)
    output_path = getattr(builder, "get_output_path", None)
    if callable(output_path):
        with contextlib.suppress(Exception):
            path = Path(output_path(docname))
            return path.relative_to(builder.outdir).as_posix()
    try:
        target = builder.get_target_uri(docname)
    except Exception:  # builders without pages
        return None
    if target.endswith("/") or target == "":
        target += "index.html"
    return target


def generated_outputs(app: Sphinx) -> list[str]:
    """Output files of the generated pages (owned by this extension)."""
    outputs = []
    for docname in internals.generated_pages(app):
        target = output_file(app.builder, docname)
        if target is not None:
            outputs.append(target)
    return outputs


def read_for_another_output(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-get-updated``: pages read again since their file in this output
    folder was written -- by a build into another folder sharing the doctrees,
    as ``make html`` and ``make dirhtml`` do -- are written again. Sphinx
    compares a page's file with its source only, and a page read again because
    the registry changed has no newer source (a generated page's stub never
    changes): the page would keep showing the former data."""
    if app.builder.format != "html":
        return []
    stale = []
    site = archived.overlay(app)
    for docname in env.all_docs:
        target = output_file(app.builder, docname)
        if target is None:
            continue
        # (a page of the previous site kept in an archive counts with its time)
        written = site.status(target)
        if written is None:  # not written here yet: Sphinx writes it
            continue
        try:
            read = os.stat(internals.doctree_file(app, docname)).st_mtime_ns
        except OSError:  # no doctree file
            continue
        if read > written[1]:
            stale.append(docname)
    return stale


#: Sphinx's scripts for its search (the options, the words found highlighted)
SEARCH_SCRIPTS = frozenset({"documentation_options.js", "doctools.js", "sphinx_highlight.js"})


def _orgreg_theme(app: Sphinx) -> bool:
    theme = getattr(app.builder, "theme", None)
    return theme is not None and THEME_NAME in theme_names(theme)


def leave_namespace_pages_out_of_search(app: Sphinx) -> None:
    """``builder-inited``: with the orgreg theme, whose search page finds the
    namespaces from the names index (``api/namespaces/``, bounded per query), the
    namespace pages stay out of Sphinx's ``searchindex.js``, which every search
    downloads whole (3 MB at 10,000 namespaces). Other themes keep them there:
    their search page is Sphinx's alone."""
    if not _orgreg_theme(app):
        return
    generated = internals.generated_pages(app)
    internals.skip_search_indexing(
        app, lambda docname: docname in generated and docname != KEYS_DOCNAME
    )


def mark_orphan(app: Sphinx, doctree: Any) -> None:
    """A generated page need not be in a toctree (a listing may show only some
    namespaces, or none): no "isn't included in any toctree" warning for it."""
    docname = app.env.docname
    if docname in internals.generated_pages(app):
        app.env.metadata[docname]["orphan"] = True
