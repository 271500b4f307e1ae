"""Docutils nodes for registry listings: namespace lists, tag tables, pages.

Everything here builds nodes directly from the model (never reST or Markdown
text to parse again), so reST and MyST pages get the same doctree and every
value from the tree lands as text, escaped by the writer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util.osutil import relative_uri

from ..core import markdown, times
from ..core.model import KIB_THRESHOLD, Namespace, Tag
from ..core.selection import default_tag, newest_first
from ..core.selection import updated as last_update
from ..core.text import plural
from .config import settings_of
from .details import DetailsContext, details_cell, has_details, state_badge
from .shared import (
    NO_SEARCH,
    bare_paragraph,
    bare_row,
    collapsed,
    doc_link,
    external_link,
    human_size,
    leave_out_of_search,
    para,
    plain_box,
    plain_code,
    plain_link,
    short_digest,
    shown_time,
    site_link,
    size_abbreviation,
    tag_anchor,
)
from .stubs import namespace_docname

#: tag table columns, in their default order
TAG_COLUMNS = (
    "image",
    "tag",
    "details",
    "size",
    "arch",
    "digest",
    "created",
    "download",
    "recipe",
    "history",
)
#: the columns of a namespace page's own table: not the image's name (the page's
#: title and the tag's) nor its history (the tag's view shows it)
PAGE_TAG_COLUMNS = tuple(c for c in TAG_COLUMNS if c not in ("image", "history"))
COLUMN_TITLES = {
    "image": "Image",
    "tag": "Tag",
    "size": "Size",
    "arch": "Arch",
    "digest": "Digest",
    "created": "Created",
    "download": "Download",
    "recipe": "Recipe",
    "history": "Previously",
    "details": "Details",
}
#: ``:deprecated:`` choices of listings: mark deprecated tags, or leave them out
DEPRECATED_CHOICES = ("flag", "hide")
#: namespace table columns, in their default order
NAMESPACE_COLUMNS = ("namespace", "description", "tags", "updated")
NAMESPACE_COLUMN_TITLES = {
    "namespace": "Namespace",
    "description": "Description",
    "tags": "Tags",
    "updated": "Updated",
}
#: most rows of a namespace page's tag table; the JSON endpoints list every tag
MAX_TAG_ROWS = 1000
#: the columns whose cells the search index holds: what people search for (the
#: others -- digests, sizes, dates, URLs -- only cost stemming time and index size)
SEARCHED_COLUMNS = frozenset({"tag", "namespace", "description"})


def sorted_classes(sort: str) -> list[str]:
    """The classes that tell the theme how a listing's rows are ordered:
    ``orgreg-sorted-<key>``, and ``orgreg-sorted-reverse`` for a leading ``-``
    (none for the default order)."""
    key = sort.strip().lstrip("+-").strip()
    if not key:
        return []
    return [f"orgreg-sorted-{key}", *(["orgreg-sorted-reverse"] if sort.strip()[0] == "-" else [])]


def scroller(table: nodes.table) -> nodes.container:
    """The table in a box of its own that scrolls sideways when the table is wider
    than the page (the page itself never does)."""
    box = plain_box(classes=["orgreg-scroll"])
    box += table
    return box


def _table(
    headers: Sequence[str],
    rows: list[tuple[list[nodes.Node], dict[str, Any]]],
    classes: list[str],
    keys: Sequence[str] = (),
    bare: bool = False,
    classed: bool = True,
    by_position: bool = False,
) -> nodes.table:
    """A table; *keys* name the columns, each cell gets ``orgreg-cell-<key>``
    (unless not *classed*: a one-line row's cells need none, the header
    cells name the columns; *by_position*: only the header cells, the
    stylesheets tell the body's cells by their position); *bare*: the rows
    and their cells are written without the markup a row does not need
    (``row-odd``, a ``<p>``) in HTML."""
    table = nodes.table(classes=classes)
    cell_classes = [[f"orgreg-cell-{key}"] for key in keys] or [[] for _ in headers]
    searched = [not keys or key in SEARCHED_COLUMNS for key in keys] or [True for _ in headers]
    group = nodes.tgroup(cols=len(headers))
    table += group
    for index, title in enumerate(headers):
        # plain-text writers size columns by colwidth; HTML and LaTeX size them by content
        longest = max((len(cells[index].astext()) for cells, _ in rows), default=0)
        group += nodes.colspec(colwidth=min(max(len(title), longest) + 4, 52))
    head = nodes.thead()
    group += head
    header_row = (bare_row if bare else nodes.row)()
    for title, extra in zip(headers, cell_classes, strict=True):
        name = (bare_paragraph if bare else nodes.paragraph)("", "", nodes.Text(title))
        header_row += nodes.entry("", name, classes=list(extra) if classed else [])
    head += header_row
    body = nodes.tbody()
    group += body
    for cells, attrs in rows:
        row = (bare_row if bare else nodes.row)(**attrs)
        for cell, extra, indexed in zip(cells, cell_classes, searched, strict=True):
            entry = nodes.entry(classes=list(extra) if classed and not by_position else [])
            content = (
                cell
                if isinstance(cell, (nodes.paragraph, nodes.container))
                else (para(cell) if not isinstance(cell, nodes.Text) or cell else para())
            )
            if bare and type(content) is nodes.paragraph and not content["classes"]:
                content = bare_paragraph("", "", *content.children)
            entry += content if indexed else leave_out_of_search(content)
            row += entry
        body += row
    return table


#: a tag row's link to the tag's view: given the tag and the node of its name,
#: the link holding it
TagLink = Callable[[Tag, nodes.Node], nodes.Node]


@dataclass
class TagTableOptions:
    columns: Sequence[str] = TAG_COLUMNS
    #: the table is on the page that holds the tags' views (the namespace's own
    #: page, :mod:`.tag_view`): the rows are one line each, their names link to
    #: the views, which hold what a row leaves out (tooltips, details, history)
    views: bool = False
    #: elsewhere, the link from a tag's name to its view (None: no view to link to)
    link: TagLink | None = None
    caption: str = ""
    #: leave out the arch, created, recipe and history columns when no row has a value
    drop_empty: bool = True
    #: the ``:sort:`` the rows are in ("" = the default, by name)
    sort: str = ""
    #: trusted keys, site and page for the details column (None: no trust shown)
    details: DetailsContext | None = None


def deprecated_badge() -> nodes.inline:
    return nodes.inline(
        "deprecated", "deprecated", classes=["orgreg-badge", "orgreg-badge-deprecated"]
    )


def deprecation_reason(reason: str) -> nodes.inline:
    """The reason a tag is deprecated: its Markdown links kept (the README rules),
    everything else escaped; plain text outside HTML."""
    box = nodes.inline(classes=["orgreg-deprecation"])
    html = addnodes.only(expr="html")
    html += nodes.raw("", markdown.render_inline(reason), format="html")
    text = addnodes.only(expr="not html")
    text += nodes.Text(reason)
    box += html
    box += text
    return box


def view_link(tag: Tag, name: nodes.Node) -> nodes.Node:
    """*name* linked to the tag's view on this page (a bare link, found by its
    ``#tag-`` address: the stylesheets make it bold)."""
    link = plain_link("", "", refid=tag_anchor(tag))
    link += name
    return link


def tag_name_cell(tag: Tag, link: TagLink | None = None) -> nodes.Node:
    """The tag's name (linked to its view by *link*); a deprecated tag's also its
    badge and reason."""
    name: nodes.Node = nodes.strong(text=tag.name)
    if link is view_link:
        name = view_link(tag, nodes.Text(tag.name))
    elif link is not None:
        name = link(tag, name)
    if not tag.deprecated:
        return name
    return para(
        name,
        nodes.Text(" "),
        deprecated_badge(),
        nodes.Text(" "),
        deprecation_reason(tag.deprecated),
    )


def history_list(ns: Namespace, tag: Tag) -> list[nodes.Node]:
    """The images the tag pointed to before, newest first (nothing when none)."""
    if tag.history is None or not tag.history.former:
        return []
    former = tag.history.former
    more = tag.history.more
    items = nodes.bullet_list(classes=["orgreg-history-list"])
    for image in former:
        short = short_digest(image.digest)
        digest = nodes.abbreviation(short, short, explanation=image.digest)
        digest["classes"].append("orgreg-digest")
        size = human_size(image.size * 1024 if image.size < KIB_THRESHOLD else image.size)
        until = f" until {image.until[:10]}" if image.until else " (until an uncommitted change)"
        text = f" · {size} · from {image.date[:10]}{until} · commit {image.commit[:10]}"
        item = nodes.list_item()
        item += para(digest, nodes.Text(text))
        items += item
    out: list[nodes.Node] = [items]
    if more:
        where = f"{ns.name}/manifests/{tag.name}/README.md"
        out.append(
            para(
                nodes.Text(
                    f"The newest {len(former)} are shown; {more} older ones are in the git "
                ),
                nodes.Text("history of "),
                nodes.literal(where, where),
                nodes.Text(" in the registry's repository."),
                classes=["orgreg-history-more"],
            )
        )
    return out


def history_cell(ns: Namespace, tag: Tag) -> nodes.Node:
    """The images the tag pointed to before (newest first), collapsed."""
    shown = history_list(ns, tag)
    if not shown or tag.history is None:
        return nodes.Text("")
    count = len(tag.history.former) + tag.history.more
    box = collapsed(summary=f"previously: {plural(count, 'image')}", classes=["orgreg-history"])
    box.extend(shown)
    return box


def download_links(tag: Tag) -> list[tuple[str, str, bool]]:
    """Each layer's (label, URL, whether it is an ``oras://`` reference no
    browser can follow): ``download``, or ``layer 1``, ``layer 2`` ..."""
    return [
        ("download" if len(tag.layers) == 1 else f"layer {index + 1}", layer.url, layer.is_oras)
        for index, layer in enumerate(tag.layers)
    ]


def recipe_link(ns: Namespace, tag: Tag) -> tuple[str, str, str]:
    """The recipe's (label, URL, file of the site): a URL the manifest gives, or
    the recipe file published beside the manifest, or neither (its text, or '')."""
    recipe = tag.recipe
    if recipe and recipe.startswith(("https://", "http://")):
        return "recipe", recipe, ""
    if tag.recipe_file is not None:
        target = f"{ns.name}/manifests/{tag.name}/{tag.recipe_file.name}"
        return recipe or tag.recipe_file.name, "", target
    return recipe or "", "", ""


def exact_size(tag: Tag) -> str:
    """The size as the manifest gives it: ``1234 bytes`` (or ``KiB``)."""
    return f"{tag.size} {'KiB' if tag.size_is_kib else 'bytes'}"


def tag_cell(
    ns: Namespace, tag: Tag, column: str, options: TagTableOptions | None = None
) -> nodes.Node:
    """The cell of *column* in *tag*'s row (*options*: the table's)."""
    options = options or TagTableOptions()
    summary = options.views or options.link is not None  # a view holds the rest
    if column == "details":  # what is inside the image (sif:)
        ctx = options.details or DetailsContext()
        return state_badge(tag, ctx.keys) if summary else details_cell(ns, tag, ctx)
    if column == "image":
        return nodes.literal(text=f"{ns.name}:{tag.name}")
    if column == "tag":
        return tag_name_cell(tag, view_link if options.views else options.link)
    if column == "history":
        return history_cell(ns, tag)
    if column == "size":
        text = human_size(tag.size_bytes)
        if options.views:  # the view says the exact size; the theme sorts by the text
            return nodes.Text(text)
        size = size_abbreviation(text, text, bytes=tag.size_bytes)
        size["explanation"] = exact_size(tag)
        return size
    if column == "digest":
        short = short_digest(tag.digest)
        node = nodes.abbreviation(short, short, classes=["orgreg-digest"])
        if not options.views:  # the view says the whole digest
            node["explanation"] = tag.digest
        return node
    if column == "created":
        if options.views:  # a one-line row: the ISO date (it sorts as text), the view the time
            when = times.shown(tag.created)
            return nodes.Text(tag.created or "" if when is None else when.iso[:10])
        return shown_time(tag.created)
    if column == "arch":
        return nodes.literal(text=tag.arch) if tag.arch else nodes.Text("")
    if column == "download":
        found = download_links(tag)
        if not found:
            return nodes.Text("")
        line = nodes.paragraph()
        for index, (label, url, oras) in enumerate(found):
            if index:
                line += nodes.Text(" ")
            if oras:  # no link a browser could follow: the reference to pull
                line += nodes.literal(text=url, classes=["orgreg-oras"])
            elif options.views:  # a one-line row: a bare link
                line += plain_link(label, label, refuri=url)
            else:
                line += nodes.reference(label, label, refuri=url, classes=["orgreg-download"])
        return line
    if column == "recipe":
        label, url, target = recipe_link(ns, tag)
        if url:
            return nodes.reference(label, label, refuri=url)
        if target:
            return site_link(label, label, target=target)
        return nodes.Text(label)
    raise ValueError(f"unknown column {column!r}")


def tag_table(ns: Namespace, tags: Sequence[Tag], options: TagTableOptions) -> nodes.table:
    """A table of *tags* of *ns*, one row per tag (its name links to its view)."""
    columns = list(options.columns)
    if options.drop_empty:
        columns = [c for c in columns if c != "created" or any(t.created for t in tags)]
        columns = [c for c in columns if c != "arch" or any(t.arch for t in tags)]
        columns = [
            c for c in columns if c != "recipe" or any(t.recipe or t.recipe_file for t in tags)
        ]
        columns = [
            c
            for c in columns
            if c != "history" or any(t.history and t.history.former for t in tags)
        ]
        if "details" in columns:
            columns = [c for c in columns if c != "details" or any(map(has_details, tags))]
    rows = [
        (
            [tag_cell(ns, tag, c, options) for c in columns],
            {"classes": ["orgreg-deprecated"]} if tag.deprecated else {},
        )
        for tag in tags
    ]
    table = _table(
        [COLUMN_TITLES[c] for c in columns],
        rows,
        [
            "orgreg-tags",
            *(["orgreg-one-line"] if options.views else []),
            *(f"orgreg-col-{c}" for c in columns),
            *sorted_classes(options.sort),
        ],
        columns,
        bare=options.views,
        classed=not options.views,
    )
    table["orgreg_namespace"] = ns.name
    if options.caption:
        table.insert(0, nodes.title(options.caption, options.caption))
    return table


#: tag names shown beside a namespace in the home listing (the newest ones)
LISTED_TAG_NAMES = 4
#: most tag names of a namespace its listing row holds for the page's filter (the
#: newest): a row stays about 1 KB whatever the namespace's tags
INDEXED_TAG_NAMES = 100


def newest_tags(ns: Namespace) -> list[Tag]:
    """The tags of *ns* as people meet them: the one the usage examples show
    first (:func:`core.selection.default_tag`), then newest first
    (:func:`core.selection.newest_first`)."""
    first = default_tag(ns)
    return [t for t in [first] if t is not None] + [
        t for t in newest_first(ns.tags) if t is not first
    ]


def registry_summary(namespaces: Sequence[Namespace]) -> nodes.paragraph:
    """One line above the home listing: containers, organizations, tags, last update."""
    orgs = {ns.org for ns in namespaces}
    tags = sum(len(ns.tags) for ns in namespaces)
    parts = [
        plural(len(namespaces), "container"),
        plural(len(orgs), "organization"),
        plural(tags, "tag"),
    ]
    updated = max((last_update(ns) for ns in namespaces), default="")
    if updated:
        parts.append(f"last update {updated[:10]}")
    return para(nodes.Text(" · ".join(parts)), classes=["orgreg-summary", NO_SEARCH])


def _tag_names(ns: Namespace, deprecated: str = "flag") -> nodes.Node:
    """The newest tag names (shown), and the others for the page's filter (hidden).
    Deprecated tags are marked (*deprecated* ``"flag"``) or left out (``"hide"``)."""
    box = nodes.inline(classes=["orgreg-tag-names"])
    newest = newest_tags(ns)
    if deprecated == "hide":
        newest = [t for t in newest if not t.deprecated]
    for tag in newest[:LISTED_TAG_NAMES]:
        # bare <code> (styled as .orgreg-tag-names code): a row's names are most
        # of its bytes, in every listing page
        if tag.deprecated:
            box += plain_code(text=tag.name, classes=["orgreg-deprecated"])
            box += nodes.Text(" ")
            box += deprecated_badge()
        else:
            box += plain_code(text=tag.name)
        box += nodes.Text(" ")
    if len(newest) > LISTED_TAG_NAMES:
        more = f"+{len(newest) - LISTED_TAG_NAMES} more"
        box += nodes.inline(more, more, classes=["orgreg-more-tags"])
    if len(newest) > LISTED_TAG_NAMES:  # the others, hidden, for the page's filter
        # (at most INDEXED_TAG_NAMES: a row's size does not grow with its tags)
        index = " ".join(t.name for t in newest[LISTED_TAG_NAMES:INDEXED_TAG_NAMES])
        only = addnodes.only(expr="html")
        only += nodes.inline(index, index, classes=["orgreg-tag-index"])
        box += only
    return box


def namespace_table(
    namespaces: Sequence[Namespace],
    refdoc: str,
    pages: bool,
    *,
    columns: Sequence[str] = NAMESPACE_COLUMNS,
    remote_base: str = "",
    caption: str = "",
    deprecated: str = "flag",
    sort: str = "",
    link: Callable[[Namespace], nodes.Node] | None = None,
) -> nodes.table:
    """A table of namespaces: name (linked), description and newest tag names, tag
    count, last update (the orgreg theme groups the rows by organization).

    With *remote_base* (a deployed registry's URL) names link to its pages (with
    *link*, to what it makes of each namespace); *sort* is the ``:sort:`` the
    namespaces are in, for the theme's sort control.
    """
    rows = []
    for ns in namespaces:
        name: nodes.Node
        if link is not None:
            name = link(ns)
        elif remote_base:
            name = external_link(f"{remote_base}{ns.name}/", ns.name)
        elif pages:
            name = doc_link(namespace_docname(ns.name), ns.name, refdoc)
        else:
            name = nodes.literal(text=ns.name)
        description = para(nodes.Text(ns.description))
        if ns.tags:
            description += _tag_names(ns, deprecated)
        cells = {
            "namespace": para(name),
            "description": description,
            "tags": nodes.Text(str(len(ns.tags))),
            "updated": nodes.Text(last_update(ns)[:10]),
        }
        rows.append(
            (
                [cells[c] for c in columns],
                {"classes": ["orgreg-namespace-row"], "orgreg_name": ns.name},
            )
        )
    # the default columns in their order: the cells are told by position
    # (``orgreg-columns-default``), a class each would be most of a row's markup
    default = tuple(columns) == NAMESPACE_COLUMNS
    table = _table(
        [NAMESPACE_COLUMN_TITLES[c] for c in columns],
        rows,
        [
            "orgreg-namespaces",
            *(f"orgreg-col-{c}" for c in columns),
            *(["orgreg-columns-default"] if default else []),
            *sorted_classes(sort),
        ],
        columns,
        bare=True,
        by_position=default,
    )
    if caption:
        table.insert(0, nodes.title(caption, caption))
    return table


# ---------------------------------------------------------------- paged listings

#: the folder of a paged listing's pages (a name no namespace can have: the
#: organizations starting with '_' are the site's folders)
LISTING_FOLDER = "_containers"
#: the orders a paged listing is published in: key, the ``:sort:`` it is, label
PAGED_ORDERS = (("name", "name", "Name"), ("updated", "-updated", "Recently updated"))
#: the numbered page links around the current one in a pager (and the first and last)
PAGER_NEIGHBOURS = 2


def listing_page(order: str, number: int) -> str:
    """The page name of page *number* (from 1) of the listing in *order*."""
    return f"{LISTING_FOLDER}/{order}-{number}"


def page_count(total: int, size: int) -> int:
    """How many pages *total* rows make, *size* a page (at least one)."""
    return max(1, -(-total // size))


def paged_order(sort: str) -> str:
    """The paged order (a key of :data:`PAGED_ORDERS`) a ``:sort:`` is, or ''."""
    value = sort.strip().replace("+", "") or "name"
    return next((key for key, order, _ in PAGED_ORDERS if order == value), "")


def shown_page_numbers(number: int, pages: int) -> list[int]:
    """The page numbers a pager links: the first, the last and the current one's
    neighbours; 0 where numbers are left out."""
    near = range(max(1, number - PAGER_NEIGHBOURS), min(pages, number + PAGER_NEIGHBOURS) + 1)
    wanted = sorted({1, pages, *near})
    shown: list[int] = []
    for value in wanted:
        if shown and value > shown[-1] + 1:
            shown.append(0)
        shown.append(value)
    return shown


def page_link(page: str, text: str, classes: Sequence[str] = ()) -> site_link:
    """A link to the page *page* (a page name), resolved per builder."""
    return site_link(text, text, target="", page=page, classes=list(classes))


def pager(order: str, number: int, pages: int, total: int) -> nodes.container:
    """The navigation of page *number* of *pages* of a paged listing of *total*
    namespaces in *order*: the count, previous, numbered pages and next, and the
    other orders (the listing on a page of the site is page 1 of its order; the
    links go to the listing's own pages, :func:`listing_page`)."""

    def target(value: int) -> str:
        return listing_page(order, value)

    box = nodes.container(classes=["orgreg-listing-pager", NO_SEARCH])
    label = dict((key, label) for key, _, label in PAGED_ORDERS)[order]
    box += para(
        nodes.Text(
            f"Page {number} of {pages} · {plural(total, 'container')} · sorted by {label.lower()}"
        ),
        classes=["orgreg-listing-count"],
    )
    links = para(classes=["orgreg-listing-pages"])
    if number > 1:
        links += page_link(target(number - 1), "← Previous", ["orgreg-listing-prev"])
        links += nodes.Text(" ")
    for value in shown_page_numbers(number, pages):
        if value == 0:
            links += nodes.inline("…", "…", classes=["orgreg-listing-gap"])
        elif value == number:
            links += nodes.strong(str(value), str(value), classes=["orgreg-listing-current"])
        else:
            links += page_link(target(value), str(value), ["orgreg-listing-number"])
        links += nodes.Text(" ")
    if number < pages:
        links += page_link(target(number + 1), "Next →", ["orgreg-listing-next"])
    box += links
    sorts = para(nodes.Text("Sort: "), classes=["orgreg-listing-sorts"])
    for index, (key, _, text) in enumerate(PAGED_ORDERS):
        if index:
            sorts += nodes.Text(" · ")
        if key == order:
            sorts += nodes.strong(text, text, classes=["orgreg-listing-current"])
        else:
            sorts += page_link(listing_page(key, 1), text, ["orgreg-listing-sort"])
    box += sorts
    # for the theme's filter: the listing is paged, and how many namespaces it has
    box += nodes.raw(
        "",
        f'<span class="orgreg-listing-total" data-total="{total}" hidden></span>',
        format="html",
    )
    return box


def more_link(hidden: int, noun: str, link: Callable[[str], nodes.Node] | None) -> nodes.paragraph:
    """``… and 3 more tags.`` under a shortened table, the count linked (by
    *link*, given the text) to where all are shown."""
    text = plural(hidden, f"more {noun}")
    line = para(classes=["orgreg-more"])
    if link is None:
        line += nodes.Text(f"… and {text}.")
    else:
        line += nodes.Text("… and ")
        line += link(text)
        line += nodes.Text(".")
    return line


def toctree(docname: str, namespaces: Sequence[Namespace]) -> nodes.Node:
    """A hidden toctree of the namespace pages, so they are in the navigation."""
    node = addnodes.toctree()
    node["parent"] = docname
    node["entries"] = [(None, namespace_docname(ns.name)) for ns in namespaces]
    node["includefiles"] = [namespace_docname(ns.name) for ns in namespaces]
    node["maxdepth"] = 1
    node["caption"] = None
    node["glob"] = False
    node["hidden"] = True
    node["includehidden"] = False
    node["numbered"] = 0
    node["titlesonly"] = True
    wrapper = nodes.compound(classes=["toctree-wrapper"])
    wrapper += node
    return wrapper


def plain_cells(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Outside HTML, show sizes and digests in listings as plain text: text and
    LaTeX writers would print each abbreviation's explanation next to it."""
    if app.builder.format == "html":
        return
    for table in list(doctree.findall(nodes.table)):
        if not {"orgreg-tags", "orgreg-namespaces"} & set(table["classes"]):
            continue
        for node in list(table.findall(nodes.abbreviation)):
            node.parent.replace(node, nodes.Text(node.astext()))


def resolve_site_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Turn :class:`~site_link` nodes into links relative to the page."""
    site_links_to_references(app.builder, settings_of(app.config).site_url, doctree, docname)


def site_links_to_references(builder: Any, site: str, tree: nodes.Node, pagename: str) -> None:
    """The :class:`~site_link` nodes of *tree*, on the page *pagename*, as links
    (HTML: relative to the page; else absolute on the site *site*, or text)."""
    for node in list(tree.findall(site_link)):
        target = node["target"]
        if node.get("page"):  # a page of the site's own, by its name
            if builder.format != "html":
                node.parent.replace(node, nodes.Text(node.astext()))
                continue
            target = builder.get_target_uri(node["page"])
        if builder.format == "html":
            uri = relative_uri(builder.get_target_uri(pagename), target)
        elif site:
            uri = site + target
        else:
            node.parent.replace(node, nodes.Text(node.astext()))
            continue
        ref = nodes.reference(
            node.astext(), node.astext(), refuri=uri, internal=False, classes=node["classes"]
        )
        node.replace_self(ref)


#: the listings' stylesheet for every HTML theme (``orgreg-listings.css``)
STATIC = Path(__file__).parent / "static"


LISTING_CSS = "orgreg-listings.css"


def add_static_path(app: Sphinx, config: Config) -> None:
    """Ship the listings' stylesheet with HTML builds (a new list: the config's
    default is never changed in place). At ``config-inited``, before Sphinx
    compares the configuration with the last build's, so every build has the
    same ``html_static_path`` and a rebuild does not see a changed setting."""
    if str(STATIC) not in config.html_static_path:
        config.html_static_path = [*config.html_static_path, str(STATIC)]
