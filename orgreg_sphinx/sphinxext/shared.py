"""What the rest of the extension shares: its docutils nodes and their visitors,
links to documents and to files of the site, and small node and text helpers.

The bottom layer of :mod:`orgreg_sphinx.sphinxext` (as intersphinx's
``_shared.py``): it imports no other module of the extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx import addnodes
from sphinx.util.nodes import make_refnode

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.writers.html5 import HTML5Translator

    from ..core.model import Tag


#: Sphinx leaves nodes with this class out of the search index
NO_SEARCH = "no-search"


class unsearched(nodes.inline):
    """Text shown as it is but left out of the search index: writes no markup of
    its own (HTML, LaTeX, text, man, Texinfo), so the page is unchanged;
    other writers treat it as the ``inline`` it subclasses."""


def _pass_through(self: Any, node: nodes.Node) -> None:
    """Neither a tag nor a class: the children are written as they are."""


#: ``app.add_node(unsearched, **{fmt: UNSEARCHED_VISITORS for ...})``
UNSEARCHED_VISITORS = (_pass_through, _pass_through)


def leave_out_of_search(node: nodes.Element) -> nodes.Element:
    """*node* with its content left out of the search index: a paragraph's
    children inside an :class:`unsearched` (the cell's markup stays as it was);
    any other element gets Sphinx's ``no-search`` class."""
    if isinstance(node, nodes.paragraph):
        children = list(node.children)
        del node[:]
        wrapper = unsearched(classes=[NO_SEARCH])
        wrapper.extend(children)
        node += wrapper
    else:
        node["classes"].append(NO_SEARCH)
    return node


class site_link(nodes.Inline, nodes.TextElement):
    """A link to a file of the built site (``target`` relative to its root),
    resolved per builder once the page's own URL is known."""


class size_abbreviation(nodes.abbreviation):
    """A human-readable size whose ``bytes`` attribute holds the exact figure.

    HTML writes it as ``<abbr title=... data-bytes=...>`` (the theme sorts by that
    number); other writers treat it as the abbreviation it subclasses."""


def visit_size_abbreviation(self: HTML5Translator, node: size_abbreviation) -> None:
    """``<abbr>`` with the tooltip and, for scripts, the size in bytes."""
    attrs: dict[str, Any] = {"data-bytes": str(node["bytes"])}
    if node.get("explanation"):
        attrs["title"] = node["explanation"]
    self.body.append(self.starttag(node, "abbr", "", **attrs))


def depart_size_abbreviation(self: HTML5Translator, node: size_abbreviation) -> None:
    """Close the ``<abbr>``."""
    self.body.append("</abbr>")


#: ``app.add_node(size_abbreviation, html=SIZE_HTML_VISITORS)``
SIZE_HTML_VISITORS = (visit_size_abbreviation, depart_size_abbreviation)


class collapsed(nodes.container):
    """A block shown collapsed under a one-line ``summary``: ``<details>`` in HTML;
    other writers show its content as the container it subclasses."""


def visit_collapsed(self: HTML5Translator, node: collapsed) -> None:
    """``<details><summary>``: opened without JavaScript."""
    self.body.append(self.starttag(node, "details", ""))
    self.body.append(f"<summary>{self.encode(node['summary'])}</summary>\n")


def depart_collapsed(self: HTML5Translator, node: collapsed) -> None:
    self.body.append("</details>\n")


#: ``app.add_node(collapsed, html=COLLAPSED_HTML_VISITORS)``
COLLAPSED_HTML_VISITORS = (visit_collapsed, depart_collapsed)


def human_size(size: int) -> str:
    """Bytes as a short human-readable figure (1024-based units)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def short_digest(digest: str) -> str:
    """``sha256:`` plus 12 hex digits, as registries show digests."""
    algo, _, value = digest.partition(":")
    return f"{algo}:{value[:12]}" if len(value) > 12 else digest


#: ``reftype`` of links to a document with an anchor (resolved by :func:`resolve_reference`)
ANCHOR_REFTYPE = "orgreg-anchor"


def doc_link(
    docname: str, text: str, refdoc: str, anchor: str = "", content: nodes.Node | None = None
) -> nodes.Node:
    """A cross-reference to a document (and an anchor in it), resolved by Sphinx
    for every builder."""
    content = content if content is not None else nodes.inline(text, text)
    if anchor:
        # std:doc links cannot carry an anchor: resolved by resolve_reference
        return addnodes.pending_xref(
            "",
            content,
            refdomain="",
            reftype=ANCHOR_REFTYPE,
            reftarget=docname,
            refexplicit=True,
            refwarn=False,
            refdoc=refdoc,
            orgreg_anchor=anchor,
        )
    return addnodes.pending_xref(
        "",
        content,
        refdomain="std",
        reftype="doc",
        reftarget="/" + docname,
        refexplicit=True,
        refwarn=True,
        refdoc=refdoc,
    )


def external_link(url: str, text: str, classes: Sequence[str] = ()) -> nodes.reference:
    return nodes.reference(text, text, refuri=url, classes=list(classes))


def para(*children: nodes.Node, classes: Sequence[str] = ()) -> nodes.paragraph:
    """A paragraph of *children*."""
    para = nodes.paragraph(classes=list(classes))
    para.extend(children)
    return para


def tag_anchor(tag: Tag) -> str:
    """The anchor of a tag's row on its namespace page."""
    return f"tag-{tag.name}"


def resolve_reference(
    app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref, contnode: nodes.Element
) -> nodes.reference | None:
    """Resolve the listings' links to an anchor of a page (``std:doc`` cannot)."""
    if node.get("reftype") != ANCHOR_REFTYPE or node.get("refdomain"):
        return None
    docname, anchor = node["reftarget"], node["orgreg_anchor"]
    if docname not in env.all_docs:
        return None
    return make_refnode(app.builder, node["refdoc"], docname, anchor, contnode)
