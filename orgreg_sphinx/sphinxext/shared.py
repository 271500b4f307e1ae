"""What the rest of the extension shares: its docutils nodes and their visitors,
links to documents and to files of the site, and small node and text helpers.

The bottom layer of :mod:`orgreg_sphinx.sphinxext` (as intersphinx's
``_shared.py``): it imports no other module of the extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from docutils import nodes
from docutils.writers.html5_polyglot import HTMLTranslator as DocutilsHTMLTranslator
from sphinx import addnodes
from sphinx.util.nodes import make_refnode

from ..core import times

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


class time_stamp(nodes.inline):
    """A date as people read it whose ``datetime`` attribute holds the exact ISO
    value (and ``title`` the time of day): ``<time>`` in HTML, its text elsewhere."""


def visit_time_stamp(self: HTML5Translator, node: time_stamp) -> None:
    """``<time datetime=...>`` (with the full time as its tooltip)."""
    attrs = {"datetime": node["datetime"]}
    if node.get("title"):
        attrs["title"] = node["title"]
    self.body.append(self.starttag(node, "time", "", **attrs))


def depart_time_stamp(self: HTML5Translator, node: time_stamp) -> None:
    """Close the ``<time>``."""
    self.body.append("</time>")


#: ``app.add_node(time_stamp, html=TIME_HTML_VISITORS)``
TIME_HTML_VISITORS = (visit_time_stamp, depart_time_stamp)


def shown_time(value: str | None, *, full: bool = False) -> nodes.Node:
    """*value* (ISO 8601) as people read it, in a :class:`time_stamp`; a value
    that is not ISO 8601 as written (the rule: :func:`core.times.shown`)."""
    when = times.shown(value)
    if when is None:
        return nodes.Text(value or "")
    text = when.full if full else when.date
    node = time_stamp(text, text, datetime=when.iso)
    if when.full != text:
        node["title"] = when.full
    return node


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


class bare_paragraph(nodes.paragraph):
    """A table cell's content: written without its ``<p>`` in HTML (a cell of
    a tag row holds one line, so the paragraph's markup is only bytes);
    a paragraph to other writers."""


#: ``app.add_node(bare_paragraph, html=BARE_HTML_VISITORS)``
BARE_HTML_VISITORS = (_pass_through, _pass_through)


class bare_row(nodes.row):
    """A table row written as a bare ``<tr>`` in HTML (Sphinx's writer adds a
    ``row-odd``/``row-even`` class no stylesheet of ours reads); a row to
    other writers."""


def visit_bare_row(self: HTML5Translator, node: bare_row) -> None:
    self.body.append(self.starttag(node, "tr", ""))
    node.column = 0  # type: ignore[attr-defined]  # the cells' count, as docutils keeps it
    node["orgreg_start"] = len(self.body)


def depart_bare_row(self: HTML5Translator, node: bare_row) -> None:
    # the row on one line: no newline after each cell (a byte per cell, per row)
    for index in range(node.get("orgreg_start", len(self.body)), len(self.body)):
        if self.body[index] in ("</td>\n", "</th>\n"):
            self.body[index] = self.body[index][:-1]
    self.body.append("</tr>\n")


#: ``app.add_node(bare_row, html=BARE_ROW_HTML_VISITORS)``
BARE_ROW_HTML_VISITORS = (visit_bare_row, depart_bare_row)


class page_title(nodes.title):
    """A page's own title, written without Sphinx's permalink (``¶``) in HTML:
    it would link the top of the page the address already names; a title to
    other writers."""


def visit_page_title(self: HTML5Translator, node: page_title) -> None:
    self.visit_title(node)


def depart_page_title(self: HTML5Translator, node: page_title) -> None:
    DocutilsHTMLTranslator.depart_title(self, node)  # Sphinx's adds the permalink


#: ``app.add_node(page_title, html=PAGE_TITLE_HTML_VISITORS)``
PAGE_TITLE_HTML_VISITORS = (visit_page_title, depart_page_title)


class heading(nodes.rubric):
    """A heading of a part of a page that is no section of its own (a tag's
    view: no entry in the page's contents or the search index's titles):
    ``<h{level}>`` in HTML, a rubric to other writers."""


def visit_heading(self: HTML5Translator, node: heading) -> None:
    level = int(node.get("level", 2))
    self.body.append(self.starttag(node, f"h{level}", ""))
    self.context.append(f"</h{level}>\n")


def depart_heading(self: HTML5Translator, node: heading) -> None:
    self.body.append(self.context.pop())


#: ``app.add_node(heading, html=HEADING_HTML_VISITORS)``
HEADING_HTML_VISITORS = (visit_heading, depart_heading)


class view(nodes.container):
    """A part of a page shown as the page when the address names it
    (``:target``): ``<section>`` in HTML, a container to other writers."""


def bare_element_visitors(element: str) -> tuple[Any, Any]:
    """HTML visitors writing a node as *element* with its own classes and id
    only (no ``docutils container`` or other classes Sphinx's writer adds)."""

    def visit(self: HTML5Translator, node: nodes.Element) -> None:
        self.body.append(self.starttag(node, element, ""))

    def depart(self: HTML5Translator, node: nodes.Element) -> None:
        self.body.append(f"</{element}>\n")

    return visit, depart


#: ``app.add_node(view, html=VIEW_HTML_VISITORS)``
VIEW_HTML_VISITORS = bare_element_visitors("section")


class fact_list(nodes.field_list):
    """Facts as (name, value) fields, written in HTML as a bare ``<dl>`` of
    ``<dt>``/``<dd>`` (a value's paragraph without its ``<p>``): a field list's
    markup costs more than most values, and a tag's view has several; a field
    list to other writers."""


def visit_fact_list(self: HTML5Translator, node: fact_list) -> None:
    """``<dl class="... field-list">``: themes style it as a field list."""
    out = self.body
    out.append(self.starttag(node, "dl", "", CLASS="field-list"))
    for item in node.children:
        name, body = item.children
        out.append(f"<dt>{self.encode(name.astext())}</dt><dd>")
        for child in body.children:
            if type(child) is nodes.paragraph and not child["classes"]:
                for inline in child.children:
                    inline.walkabout(self)
            else:
                child.walkabout(self)
        out.append("</dd>")
    out.append("</dl>\n")
    raise nodes.SkipNode


#: ``app.add_node(fact_list, html=FACT_LIST_HTML_VISITORS)``
FACT_LIST_HTML_VISITORS = (visit_fact_list, None)


class plain_code(nodes.literal):
    """A value shown as code, one word (a digest, an id): a bare ``<code>`` in
    HTML (Sphinx wraps a literal's words in spans for themes that let code
    wrap); a literal to other writers."""


def visit_plain_code(self: HTML5Translator, node: plain_code) -> None:
    self.body.append(self.starttag(node, "code", "") + self.encode(node.astext()) + "</code>")
    raise nodes.SkipNode


#: ``app.add_node(plain_code, html=PLAIN_CODE_HTML_VISITORS)``
PLAIN_CODE_HTML_VISITORS = (visit_plain_code, None)


class plain_commands(nodes.literal_block):
    """Command lines written as they are, in a bare ``<pre>`` (no highlighting:
    a console lexer marks every line of commands without prompts as output);
    a literal block without a language to other writers."""


def visit_plain_commands(self: HTML5Translator, node: plain_commands) -> None:
    self.body.append(self.starttag(node, "pre", "") + self.encode(node.astext()))
    self.body.append("</pre>\n")
    raise nodes.SkipNode


#: ``app.add_node(plain_commands, html=PLAIN_COMMANDS_HTML_VISITORS)``
PLAIN_COMMANDS_HTML_VISITORS = (visit_plain_commands, None)


class plain_box(nodes.container):
    """A block of a generated page: a ``<div>`` with its own classes only in
    HTML (Sphinx's writer adds ``docutils container`` to every container, bytes
    no stylesheet of ours reads); a container to other writers."""


#: ``app.add_node(plain_box, html=PLAIN_BOX_HTML_VISITORS)``
PLAIN_BOX_HTML_VISITORS = bare_element_visitors("div")


class plain_link(nodes.reference):
    """A link of a generated page's table (a tag's name to its view, a download):
    ``<a href>`` with its own classes only in HTML (Sphinx's writer adds
    ``reference internal``/``external`` to each); a reference to other writers."""


def visit_plain_link(self: HTML5Translator, node: plain_link) -> None:
    href = node.get("refuri") or "#" + node["refid"]
    attrs = {"href": href}
    self.body.append(self.starttag(node, "a", "", **attrs))


def depart_plain_link(self: HTML5Translator, node: plain_link) -> None:
    self.body.append("</a>")


#: ``app.add_node(plain_link, html=PLAIN_LINK_HTML_VISITORS)``
PLAIN_LINK_HTML_VISITORS = (visit_plain_link, depart_plain_link)


def commands(lines: Sequence[str], classes: Sequence[str] = ()) -> plain_commands:
    """*lines* as a :class:`plain_commands` block."""
    text = "\n".join(lines)
    return plain_commands(text, text, language="none", classes=list(classes))


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
    """The anchor of a tag on its namespace page: the id of the tag's view
    (:mod:`.tag_view`), the address links have always used (it named the
    tag's row before the views). Tag names are letters, digits, ``_``, ``.``
    and ``-`` (:data:`core.names.TAG_RE`): valid in an id and in a URL's
    fragment as they are; CSS selects the views by class and ``:target``,
    never by this id, so a ``.`` needs no escaping."""
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
