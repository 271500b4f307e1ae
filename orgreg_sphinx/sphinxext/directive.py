"""The ``registry`` directive, and links to anchors of generated pages.

``.. registry::`` lists the namespaces of the local tree; ``:namespace: org/repo``
(names or globs such as ``acme/*``) shows tag tables; ``:page:`` renders a
namespace's whole page (what the generated pages use). With an argument, the URL
of a deployed registry, the listing is read from its JSON API (:mod:`orgreg_sphinx.core.remote`).
``:columns:``, ``:tags:``, ``:sort:``, ``:limit:`` and ``:caption:`` shape the
tables. (The ``container`` role is the domain's: :mod:`.domain`.)

Every listing records in the ``orgreg`` domain a change stamp of exactly what it
shows (:mod:`.stamps`), so a page is read again when that data changes, and only then.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..core import remote
from ..core.model import Namespace, Tag
from ..core.selection import (
    NAMESPACE_SORTS,
    TAG_SORTS,
    ListingSpec,
    Shown,
    match_namespaces,
    parse_sort,
    select_namespaces,
    select_tags,
    split_list,
)
from . import deferred, listing, namespace_page, shared, signing
from .config import settings_of
from .deployed import read_remote
from .domain import OrgregDomain, domain_of
from .stamps import Kind, ShownData
from .stubs import namespace_docname
from .warnings_ import Subtype, warn

logger = logging.getLogger(__name__)


def _warn(message: str, location: Any, subtype: Subtype) -> None:
    warn(message, subtype=subtype, location=location)


# ---------------------------------------------------------------- directive


class RegistryDirective(SphinxDirective):
    """Show the registry, or some of its namespaces, as tables."""

    has_content = False
    required_arguments = 0
    optional_arguments = 1
    final_argument_whitespace = False
    option_spec = {
        "namespace": directives.unchanged_required,
        "columns": directives.unchanged_required,
        "tags": directives.unchanged_required,
        "sort": directives.unchanged_required,
        "limit": directives.positive_int,
        "caption": directives.unchanged_required,
        "name": directives.unchanged,
        "class": directives.class_option,
        "page": directives.flag,
        "toctree": directives.flag,
        "deprecated": lambda value: directives.choice(value, listing.DEPRECATED_CHOICES),
    }

    @property
    def domain(self) -> OrgregDomain:
        return domain_of(self.env)

    # -- options

    def spec(self, sorts: tuple[str, ...]) -> ListingSpec:
        sort = self.options.get("sort", "").strip()
        if sort:
            try:
                parse_sort(sort, sorts)
            except ValueError as err:
                _warn(f"registry: {err}", self.get_location(), Subtype.OPTION)
                sort = ""
        return ListingSpec(
            namespaces=tuple(split_list(self.options.get("namespace", ""))),
            tags=tuple(split_list(self.options.get("tags", ""))),
            sort=sort,
            limit=self.options.get("limit", 0),
            deprecated=self.options.get("deprecated", "flag"),
        )

    def columns(self, allowed: tuple[str, ...]) -> tuple[list[str], bool]:
        """The chosen columns (in the given order), and whether any were chosen."""
        chosen = split_list(self.options.get("columns", ""))
        if not chosen:
            return list(allowed), False
        unknown = [c for c in chosen if c not in allowed]
        if unknown:
            _warn(
                f"registry: unknown column(s) {', '.join(map(repr, unknown))}; "
                f"choose from {', '.join(allowed)}",
                self.get_location(),
                Subtype.OPTION,
            )
        columns = list(dict.fromkeys(c for c in chosen if c in allowed))
        return (columns or list(allowed)), bool(columns)

    def box(self) -> nodes.container:
        box = nodes.container(
            classes=["orgreg", *self.options.get("class", [])], support_smartquotes=False
        )
        self.set_source_info(box)
        self.add_name(box)
        return box

    # -- run

    def run(self) -> list[nodes.Node]:
        if self.arguments:
            return self.run_remote(self.arguments[0])
        pattern = self.options.get("namespace", "").strip()
        if "page" in self.options:
            return self.run_page(pattern)
        if not pattern:
            return self.namespace_list()
        spec = self.spec(TAG_SORTS)
        self.domain.note_shown(self.env.docname, ShownData(Kind.TAGS, json.dumps(spec.as_key())))
        # no note_dependency on the manifests: the stamp covers what is shown,
        # so an edit to a tag that is filtered out or cut off rebuilds nothing
        found = match_namespaces(self.domain.registry.namespaces, spec.namespaces)
        if not found:
            _warn(
                f"registry: no namespace matches {pattern!r}", self.get_location(), Subtype.UNKNOWN
            )
            return []
        pages = settings_of(self.config).namespace_pages

        def more(ns: Namespace) -> Any:
            if not pages:
                return None
            return lambda text: shared.doc_link(
                namespace_docname(ns.name), text, self.env.docname, "tags"
            )

        def link(ns: Namespace) -> listing.TagLink | None:
            if not pages:
                return None
            return lambda tag, name: shared.doc_link(
                namespace_docname(ns.name),
                tag.name,
                self.env.docname,
                shared.tag_anchor(tag),
                content=name,
            )

        shown = [select_tags(ns, spec) for ns in found]
        return [self.tag_tables(shown, more, spec.sort, link)]

    def run_page(self, pattern: str) -> list[nodes.Node]:
        """The whole page of one namespace (the generated pages' only content)."""
        docname = self.env.docname
        self.domain.note_shown(docname, ShownData(Kind.PAGE, pattern))
        self.domain.note_shown(docname, ShownData(Kind.SITE))
        ns = self.domain.registry.namespace(pattern)
        if ns is None:
            _warn(f"registry: no namespace {pattern!r}", self.get_location(), Subtype.UNKNOWN)
            return []
        if docname == namespace_docname(
            ns.name
        ):  # its page (another page showing it is not its home)
            rows = {id(t) for t in namespace_page.shown_tags(ns)}
            self.domain.note_namespace_page(
                docname,
                ns,
                {
                    # a tag left out of a long table is found in the table's section
                    t.name: shared.tag_anchor(t) if id(t) in rows else "tags"
                    for t in ns.tags
                },
            )
        # no note_dependency on its files (as for listings): the page's stamp covers
        # all it shows, and Sphinx would keep and check a path per file of the
        # registry (110,000 at 10,000 namespaces x 10 tags, about 40 MiB)
        # the usage blocks and the tag table are built when the page is written
        page = namespace_page.namespace_page(
            ns,
            [deferred.usage_part(ns.name, docname)],
            [deferred.tags_part(ns.name, docname)],
            [deferred.views_part(ns.name, docname)],
        )
        signing.note_signers(self.env, docname, list(ns.tags))
        page["support_smartquotes"] = False
        return [page]

    def tag_tables(
        self,
        shown: list[Shown],
        more: Any,
        sort: str,
        link: Callable[[Namespace], listing.TagLink | None],
    ) -> nodes.container:
        """A table per namespace of *shown*; *more* links the line saying some
        are left out, *link* a tag's name to its view (on its namespace page)."""
        columns, chosen = self.columns(listing.TAG_COLUMNS)
        caption = self.options.get("caption", "")
        box = self.box()
        for item in shown:
            ns = item.namespace
            title = caption
            if len(shown) > 1:
                title = f"{caption}: {ns.name}" if caption else ""
                if not caption:
                    box += nodes.rubric(ns.name, ns.name)
            if not item.tags:
                filters = ", ".join(split_list(self.options.get("tags", "")))
                text = f"{ns.name} has no tags" + (f" matching {filters}" if filters else "")
                box += nodes.paragraph(text + ".", text + ".", classes=["orgreg-empty"])
                continue
            options = listing.TagTableOptions(
                columns=columns,
                link=link(ns),
                caption=title,
                drop_empty=not chosen,
                sort=sort,
                details=signing.details_context(self.env, self.env.docname),
            )
            if "details" in columns:
                signing.note_signers(self.env, self.env.docname, list(item.tags))
            box += listing.scroller(listing.tag_table(ns, item.tags, options))
            if item.hidden:
                box += listing.more_link(item.hidden, "tag", more(ns))
        return box

    def namespace_list(
        self, found: remote.RemoteRegistry | None = None, spec: ListingSpec | None = None
    ) -> list[nodes.Node]:
        spec = spec or self.spec(NAMESPACE_SORTS)
        if spec.tags:
            _warn(
                "registry: :tags: filters tag tables; add :namespace: to show them",
                self.get_location(),
                Subtype.OPTION,
            )
            spec = ListingSpec(sort=spec.sort, limit=spec.limit, deprecated=spec.deprecated)
        columns, _ = self.columns(listing.NAMESPACE_COLUMNS)
        if found is None:
            self.domain.note_shown(
                self.env.docname, ShownData(Kind.NAMESPACES, json.dumps(spec.as_key()))
            )
            pool = self.domain.registry.namespaces
        else:
            pool = found.namespaces
        namespaces, hidden = select_namespaces(pool, spec)
        pages = settings_of(self.config).namespace_pages
        box = self.box()
        if not namespaces:
            box += nodes.paragraph(text="This registry has no containers yet.")
            return [box]
        if found is None and not hidden:  # the whole local registry: its figures
            box += listing.registry_summary(namespaces)
            box.extend(signing.home_link(self.env, self.env.docname))
        caption = self.options.get("caption", "")
        everything = namespaces
        paged = ""
        size = settings_of(self.config).listing_page_size
        if found is None and not caption and not hidden and pages and len(namespaces) > size:
            # the whole registry, larger than a page: its first page here, the rest
            # on the listing's own pages (written by .listpages)
            paged = listing.paged_order(spec.sort)
            namespaces = namespaces[:size]
        if found is None and not caption:
            # built when the page is written (a remote listing is read now; a
            # captioned table is an enumerable node, numbered when read)
            box += deferred.namespaces_part(
                [ns.name for ns in namespaces],
                self.env.docname,
                pages=pages,
                columns=columns,
                caption=caption,
                deprecated=spec.deprecated,
                sort=spec.sort,
            )
        else:
            box += listing.scroller(
                listing.namespace_table(
                    namespaces,
                    self.env.docname,
                    pages,
                    columns=columns,
                    remote_base=found.url if found else "",
                    caption=caption,
                    deprecated=spec.deprecated,
                    sort=spec.sort,
                )
            )
        if len(everything) > len(namespaces) and paged:
            total = len(everything)
            box += listing.pager(paged, 1, listing.page_count(total, size), total)
        elif len(everything) > len(namespaces):  # an order with no pages of its own
            box += listing.more_link(
                len(everything) - len(namespaces),
                "namespace",
                lambda text: listing.page_link(listing.listing_page("name", 1), text),
            )
        if hidden:
            link = None
            if found is not None:
                link = lambda text: shared.external_link(found.url, text)  # noqa: E731
            box += listing.more_link(hidden, "namespace", link)
        if found is None and pages and "toctree" in self.options:
            box += listing.toctree(self.env.docname, everything)
        return [box]

    def run_remote(self, url: str) -> list[nodes.Node]:
        """A listing of a deployed registry, read from its JSON API."""
        try:
            base = remote.base_url(url)
        except ValueError as err:
            _warn(f"registry: {err}", self.get_location(), Subtype.REMOTE)
            return []
        for flag in ("page", "toctree"):
            if flag in self.options:
                _warn(
                    f"registry: :{flag}: is for the local registry; ignored with a URL",
                    self.get_location(),
                    Subtype.OPTION,
                )
        pattern = self.options.get("namespace", "").strip()
        mode = "tags" if pattern else "list"
        spec = self.spec(TAG_SORTS if pattern else NAMESPACE_SORTS)
        found = read_remote(self.env, base, spec.namespaces, self.get_location())
        key = json.dumps([base, mode, spec.as_key()])
        self.domain.note_shown(self.env.docname, ShownData(Kind.REMOTE, key))
        if not found.source:
            box = self.box()
            text = f"The container registry at {base} could not be read."
            box += nodes.paragraph(text, text, classes=["orgreg-unavailable"])
            return [box]
        if mode == "list":
            return self.namespace_list(found, spec)
        namespaces = match_namespaces(found.namespaces, spec.namespaces)
        if not namespaces:
            _warn(
                f"registry: no namespace of {base} matches {pattern!r}",
                self.get_location(),
                Subtype.UNKNOWN,
            )
            return []

        def more(ns: Namespace) -> Any:
            return lambda text: shared.external_link(f"{base}{ns.name}/#tags", text)

        def link(ns: Namespace) -> listing.TagLink:
            def to_view(tag: Tag, name: nodes.Node) -> nodes.Node:
                url = f"{base}{ns.name}/#{shared.tag_anchor(tag)}"
                return nodes.reference("", "", name, refuri=url, classes=["orgreg-tag-link"])

            return to_view

        shown = [select_tags(ns, spec) for ns in namespaces]
        return [self.tag_tables(shown, more, spec.sort, link)]
