"""Listing parts built when a page is written, not when it is read.

A generated page's usage blocks, tag table and tag views, and the home
listing's namespace table, are most of the page's nodes. Read from the tree, they would be walked by
every read transform, pickled with the doctree, unpickled to be written and
walked by every post-transform, though none of those transforms applies to
them. So the directive leaves a small :class:`deferred` node naming the part;
the part is built from the registry of the build when the page is written:

* HTML builders: at ``doctree-resolved`` (the event Sphinx's own ``todolist``
  uses to fill its lists), before this extension's other ``doctree-resolved``
  handlers and the search index see the page;
* every other builder (text, LaTeX, linkcheck ...): by :class:`ExpandDeferred`,
  the first post-transform, so their post-transforms see the whole page.

At ``doctree-resolved`` the two post-transforms that apply to a part are done
here: its links to other documents are resolved as they would have been (the
standard domain's ``doc`` links, :func:`.shared.resolve_reference` for
anchors) and its ``only`` nodes are kept or dropped. (The others act on nodes a
listing never holds: images, code blocks without a language, object
descriptions, citations.) A captioned namespace table is numbered like any
table, so it is built when read, not deferred.

What a page shows is still recorded when it is read (its signature in the
domain), so a change to the tree re-reads, and so rewrites, exactly the pages
it did before.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.nodes import process_only_nodes
from sphinx.util.osutil import relative_uri

from ..core import shpc
from . import listing, namespace_page, shared, signing, tag_view
from .config import settings_of
from .domain import domain_of

logger = logging.getLogger(__name__)


class deferred(nodes.General, nodes.Element):
    """Where a listing part goes: ``part`` names it ("usage", "tags", "views"
    or "namespaces"), ``refdoc`` is the page it was read on; the other attributes
    are its arguments (plain values: the node is pickled with the doctree)."""


def usage_part(namespace: str, refdoc: str) -> deferred:
    """The usage blocks of *namespace*'s page."""
    return deferred(part="usage", namespace=namespace, refdoc=refdoc)


def tags_part(namespace: str, refdoc: str) -> deferred:
    """The tag table of *namespace*'s page (with the line saying it is cut short)."""
    return deferred(part="tags", namespace=namespace, refdoc=refdoc)


def views_part(namespace: str, refdoc: str) -> deferred:
    """The views of the tags of *namespace*'s page (:mod:`.tag_view`)."""
    return deferred(part="views", namespace=namespace, refdoc=refdoc)


def namespaces_part(
    namespaces: list[str],
    refdoc: str,
    *,
    pages: bool,
    columns: list[str],
    caption: str,
    deprecated: str,
    sort: str,
) -> deferred:
    """A table of the local registry's *namespaces* (names, in that order)."""
    # not ``names``: docutils reads that attribute as the node's reference names
    return deferred(
        part="namespaces",
        namespaces=namespaces,
        refdoc=refdoc,
        pages=pages,
        columns=columns,
        caption=caption,
        deprecated=deprecated,
        sort=sort,
    )


def build_part(
    env: BuildEnvironment, node: deferred, app: Sphinx | None = None
) -> list[nodes.Node]:
    """The nodes of the part *node* stands for, from this build's registry (*app*:
    an HTML builder's, which the tags' views are written for as HTML)."""
    registry = domain_of(env).registry
    settings = settings_of(env.config)
    part, refdoc = node["part"], node["refdoc"]
    if part == "namespaces":
        shown = [ns for ns in map(registry.namespace, node["namespaces"]) if ns is not None]
        return [
            listing.scroller(
                listing.namespace_table(
                    shown,
                    refdoc,
                    node["pages"],
                    columns=node["columns"],
                    caption=node["caption"],
                    deprecated=node["deprecated"],
                    sort=node["sort"],
                )
            )
        ]
    ns = registry.namespace(node["namespace"])
    if ns is None:  # gone since the page was read: it is read again in the next build
        return []
    if part == "usage":
        return namespace_page.usage(
            ns,
            settings.site_url,
            shub=settings.shub_api,
            oci=settings.oci_layout,
            checksums=settings.json_api,
            cluster=shpc.usage(shpc.module_of(registry, ns, settings.site_url), settings.site_url)
            if settings.shpc
            else None,
        )
    if part == "views":
        href = None
        if app is not None:
            here = app.builder.get_target_uri(refdoc)
            href = lambda target: relative_uri(here, target)  # noqa: E731
        return tag_view.tag_views(
            ns,
            namespace_page.shown_tags(ns),
            signing.details_context(env, refdoc),
            shub=settings.shub_api,
            checksums=settings.json_api,
            href=href,
        )
    return namespace_page.tag_section_content(ns, signing.details_context(env, refdoc))


def resolve_links(app: Sphinx, tree: nodes.Node, location: nodes.Node) -> None:
    """Resolve the listing links (:func:`.shared.doc_link`) in *tree* the way the
    post-transforms would have; a warning names *location*, the stand-in
    (the part is not in the page yet)."""
    env = app.env
    std = env.get_domain("std")
    for ref in list(tree.findall(addnodes.pending_xref)):
        content = ref[0].deepcopy()
        assert isinstance(content, nodes.Element)  # doc_link's content is an inline
        refdoc = ref["refdoc"]
        if ref.get("reftype") == shared.ANCHOR_REFTYPE:
            found: nodes.Element | None = shared.resolve_reference(app, env, ref, content)
        else:
            found = std.resolve_xref(
                env, refdoc, app.builder, ref["reftype"], ref["reftarget"], ref, content
            )
            if found is None:
                logger.warning(
                    "unknown document: %r",
                    ref["reftarget"],
                    location=location,
                    type="ref",
                    subtype="doc",
                )
        ref.replace_self(found if found is not None else content)


def expand(env: BuildEnvironment, doctree: nodes.Node, app: Sphinx | None = None) -> None:
    """Put each deferred part of *doctree* in place; with *app*, also resolve the
    parts' links (without, the post-transforms that follow resolve them)."""
    for node in list(doctree.findall(deferred)):
        children = build_part(env, node, app)
        if app is not None:
            for child in children:
                resolve_links(app, child, node)
                process_only_nodes(child, app.tags)
        # not replace_self: it copies the stand-in's attributes that docutils
        # knows (ids, names, classes ...) to the first child
        node.parent.replace(node, children)


def expand_for_html(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved`` of HTML builders (other builders expand earlier)."""
    if app.builder.format == "html":
        expand(app.env, doctree, app)


class ExpandDeferred(SphinxPostTransform):
    """The first post-transform of builders other than HTML (added for them
    only): they and their post-transforms (linkcheck's collector, for one) see
    every part, and resolve its links."""

    default_priority = 1

    def run(self, **kwargs: Any) -> None:
        expand(self.env, self.document)


def add_expander(app: Sphinx) -> None:
    """``builder-inited``: builders other than HTML expand in a post-transform."""
    if app.builder.format != "html":
        app.add_post_transform(ExpandDeferred)
