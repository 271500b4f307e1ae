"""Docutils nodes for registry listings: namespace lists, tag tables, pages.

Everything here builds nodes directly from the model (never reST or Markdown
text to parse again), so reST and MyST pages get the same doctree and every
value from the tree lands as text, escaped by the writer.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx import addnodes

from ..core import clients, markdown
from ..core.model import KIB_THRESHOLD, Namespace, Tag
from ..core.selection import updated as last_update
from .highlight import command_block

if TYPE_CHECKING:
    from sphinx.writers.html5 import HTML5Translator

    from .details import DetailsContext

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
PLACEHOLDER_SITE = "https://<your-registry-site>/"
#: most rows of a namespace page's tag table; the JSON endpoints list every tag
MAX_TAG_ROWS = 1000
#: ``reftype`` of links to a document with an anchor (resolved in :mod:`.directive`)
ANCHOR_REFTYPE = "orgreg-anchor"
#: Sphinx leaves nodes with this class out of the search index
NO_SEARCH = "no-search"
#: the columns whose cells the search index holds: what people search for (the
#: others -- digests, sizes, dates, URLs -- only cost stemming time and index size)
SEARCHED_COLUMNS = frozenset({"tag", "namespace", "description"})


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


def doc_link(
    docname: str, text: str, refdoc: str, anchor: str = "", content: nodes.Node | None = None
) -> nodes.Node:
    """A cross-reference to a document (and an anchor in it), resolved by Sphinx
    for every builder."""
    content = content if content is not None else nodes.inline(text, text)
    if anchor:
        # std:doc links cannot carry an anchor: resolved by directive.resolve_reference
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


def _para(*children: nodes.Node, classes: Sequence[str] = ()) -> nodes.paragraph:
    para = nodes.paragraph(classes=list(classes))
    para.extend(children)
    return para


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
    box = nodes.container(classes=["orgreg-scroll"])
    box += table
    return box


def _table(
    headers: Sequence[str],
    rows: list[tuple[list[nodes.Node], dict[str, Any]]],
    classes: list[str],
    keys: Sequence[str] = (),
) -> nodes.table:
    """A table; *keys* name the columns, each cell gets ``orgreg-cell-<key>``."""
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
    header_row = nodes.row()
    for title, extra in zip(headers, cell_classes, strict=True):
        header_row += nodes.entry("", _para(nodes.Text(title)), classes=list(extra))
    head += header_row
    body = nodes.tbody()
    group += body
    for cells, attrs in rows:
        row = nodes.row(**attrs)
        for cell, extra, indexed in zip(cells, cell_classes, searched, strict=True):
            entry = nodes.entry(classes=list(extra))
            content = (
                cell
                if isinstance(cell, (nodes.paragraph, nodes.container))
                else (_para(cell) if not isinstance(cell, nodes.Text) or cell else _para())
            )
            entry += content if indexed else leave_out_of_search(content)
            row += entry
        body += row
    return table


@dataclass
class TagTableOptions:
    columns: Sequence[str] = TAG_COLUMNS
    anchors: bool = True
    caption: str = ""
    #: leave out the arch, created, recipe and history columns when no row has a value
    drop_empty: bool = True
    #: the ``:sort:`` the rows are in ("" = the default, by name)
    sort: str = ""
    #: trusted keys, site and page for the details column (None: no trust shown)
    details: DetailsContext | None = None


def tag_anchor(tag: Tag) -> str:
    return f"tag-{tag.name}"


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


def tag_name_cell(tag: Tag) -> nodes.Node:
    """The tag's name; a deprecated tag's also its badge and reason."""
    if not tag.deprecated:
        return nodes.strong(text=tag.name)
    return _para(
        nodes.strong(text=tag.name),
        nodes.Text(" "),
        deprecated_badge(),
        nodes.Text(" "),
        deprecation_reason(tag.deprecated),
    )


def history_cell(ns: Namespace, tag: Tag) -> nodes.Node:
    """The images the tag pointed to before (newest first), collapsed."""
    if tag.history is None or not tag.history.former:
        return nodes.Text("")
    former = tag.history.former
    more = tag.history.more
    box = collapsed(
        summary=f"previously: {_plural(len(former) + more, 'image')}",
        classes=["orgreg-history"],
    )
    items = nodes.bullet_list()
    for image in former:
        short = short_digest(image.digest)
        digest = nodes.abbreviation(short, short, explanation=image.digest)
        digest["classes"].append("orgreg-digest")
        size = human_size(image.size * 1024 if image.size < KIB_THRESHOLD else image.size)
        until = f" until {image.until[:10]}" if image.until else " (until an uncommitted change)"
        text = f" · {size} · from {image.date[:10]}{until} · commit {image.commit[:10]}"
        item = nodes.list_item()
        item += _para(digest, nodes.Text(text))
        items += item
    box += items
    if more:
        where = f"{ns.name}/manifests/{tag.name}/README.md"
        box += _para(
            nodes.Text(f"The newest {len(former)} are shown; {more} older ones are in the git "),
            nodes.Text("history of "),
            nodes.literal(where, where),
            nodes.Text(" in the registry's repository."),
            classes=["orgreg-history-more"],
        )
    return box


def tag_cell(
    ns: Namespace, tag: Tag, column: str, details: DetailsContext | None = None
) -> nodes.Node:
    if column == "details":  # what is inside the image (sif:), collapsed
        from .details import DetailsContext, details_cell

        return details_cell(ns, tag, details or DetailsContext())
    if column == "image":
        return nodes.literal(text=f"{ns.name}:{tag.name}")
    if column == "tag":
        return tag_name_cell(tag)
    if column == "history":
        return history_cell(ns, tag)
    if column == "size":
        text = human_size(tag.size_bytes)
        return size_abbreviation(
            text,
            text,
            explanation=f"{tag.size} {'KiB' if tag.size_is_kib else 'bytes'}",
            bytes=tag.size_bytes,
        )
    if column == "digest":
        short = short_digest(tag.digest)
        node = nodes.abbreviation(short, short, explanation=tag.digest)
        node["classes"].append("orgreg-digest")
        node["orgreg_copy"] = tag.digest
        return node
    if column == "created":
        return nodes.Text(tag.created or "")
    if column == "arch":
        return nodes.literal(text=tag.arch) if tag.arch else nodes.Text("")
    if column == "download":
        if not tag.layers:
            return nodes.Text("")
        para = nodes.paragraph()
        for index, layer in enumerate(tag.layers):
            if index:
                para += nodes.Text(" ")
            if layer.is_oras:  # no link a browser could follow: the reference to pull
                para += nodes.literal(text=layer.url, classes=["orgreg-oras"])
                continue
            label = "download" if len(tag.layers) == 1 else f"layer {index + 1}"
            para += nodes.reference(label, label, refuri=layer.url, classes=["orgreg-download"])
        return para
    if column == "recipe":
        recipe = tag.recipe
        if recipe and recipe.startswith(("https://", "http://")):
            return nodes.reference(recipe, "recipe", refuri=recipe)
        if tag.recipe_file is not None:
            target = f"{ns.name}/manifests/{tag.name}/{tag.recipe_file.name}"
            label = recipe or tag.recipe_file.name
            return site_link(label, label, target=target)
        return nodes.Text(recipe or "")
    raise ValueError(f"unknown column {column!r}")


def tag_table(ns: Namespace, tags: Sequence[Tag], options: TagTableOptions) -> nodes.table:
    """A table of *tags* of *ns*, one row per tag (linkable as ``#tag-<name>``)."""
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
            from .details import has_details

            columns = [c for c in columns if c != "details" or any(map(has_details, tags))]
    rows = [
        (
            [tag_cell(ns, tag, c, options.details) for c in columns],
            {
                **({"ids": [tag_anchor(tag)]} if options.anchors else {}),
                **({"classes": ["orgreg-deprecated"]} if tag.deprecated else {}),
            },
        )
        for tag in tags
    ]
    table = _table(
        [COLUMN_TITLES[c] for c in columns],
        rows,
        ["orgreg-tags", *(f"orgreg-col-{c}" for c in columns), *sorted_classes(options.sort)],
        columns,
    )
    table["orgreg_namespace"] = ns.name
    if options.caption:
        table.insert(0, nodes.title(options.caption, options.caption))
    return table


#: tag names shown beside a namespace in the home listing (the newest ones)
LISTED_TAG_NAMES = 4


def newest_tags(ns: Namespace) -> list[Tag]:
    """The tags of *ns*, newest first (then by name)."""
    by_name = sorted(ns.tags, key=lambda t: t.name)
    return sorted(by_name, key=lambda t: t.created or "", reverse=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def registry_summary(namespaces: Sequence[Namespace]) -> nodes.paragraph:
    """One line above the home listing: containers, organizations, tags, last update."""
    orgs = {ns.org for ns in namespaces}
    tags = sum(len(ns.tags) for ns in namespaces)
    parts = [
        _plural(len(namespaces), "container"),
        _plural(len(orgs), "organization"),
        _plural(tags, "tag"),
    ]
    updated = max((last_update(ns) for ns in namespaces), default="")
    if updated:
        parts.append(f"last update {updated[:10]}")
    return _para(nodes.Text(" · ".join(parts)), classes=["orgreg-summary", NO_SEARCH])


def _tag_names(ns: Namespace, deprecated: str = "flag") -> nodes.Node:
    """The newest tag names (shown), and the others for the page's filter (hidden).
    Deprecated tags are marked (*deprecated* ``"flag"``) or left out (``"hide"``)."""
    box = nodes.inline(classes=["orgreg-tag-names"])
    newest = newest_tags(ns)
    if deprecated == "hide":
        newest = [t for t in newest if not t.deprecated]
    for tag in newest[:LISTED_TAG_NAMES]:
        if tag.deprecated:
            box += nodes.literal(text=tag.name, classes=["orgreg-tag-name", "orgreg-deprecated"])
            box += nodes.Text(" ")
            box += deprecated_badge()
        else:
            box += nodes.literal(text=tag.name, classes=["orgreg-tag-name"])
        box += nodes.Text(" ")
    if len(newest) > LISTED_TAG_NAMES:
        more = f"+{len(newest) - LISTED_TAG_NAMES} more"
        box += nodes.inline(more, more, classes=["orgreg-more-tags"])
    if len(newest) > LISTED_TAG_NAMES:  # the others, hidden, for the page's filter
        index = " ".join(t.name for t in newest[LISTED_TAG_NAMES:])
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
) -> nodes.table:
    """A table of namespaces: name (linked), description and newest tag names, tag
    count, last update (the orgreg theme groups the rows by organization).

    With *remote_base* (a deployed registry's URL) names link to its pages; *sort*
    is the ``:sort:`` the namespaces are in, for the theme's sort control.
    """
    rows = []
    for ns in namespaces:
        name: nodes.Node
        if remote_base:
            name = external_link(f"{remote_base}{ns.name}/", ns.name)
        elif pages:
            name = doc_link(ns.docname, ns.name, refdoc)
        else:
            name = nodes.literal(text=ns.name)
        description = _para(nodes.Text(ns.description))
        if ns.tags:
            description += _tag_names(ns, deprecated)
        cells = {
            "namespace": _para(name),
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
    table = _table(
        [NAMESPACE_COLUMN_TITLES[c] for c in columns],
        rows,
        ["orgreg-namespaces", *(f"orgreg-col-{c}" for c in columns), *sorted_classes(sort)],
        columns,
    )
    if caption:
        table.insert(0, nodes.title(caption, caption))
    return table


def more_link(hidden: int, noun: str, link: Callable[[str], nodes.Node] | None) -> nodes.paragraph:
    """``… and 3 more tags.`` under a shortened table, the count linked (by
    *link*, given the text) to where all are shown."""
    text = f"{hidden} more {noun}{'' if hidden == 1 else 's'}"
    para = _para(classes=["orgreg-more"])
    if link is None:
        para += nodes.Text(f"… and {text}.")
    else:
        para += nodes.Text("… and ")
        para += link(text)
        para += nodes.Text(".")
    return para


def toctree(docname: str, namespaces: Sequence[Namespace]) -> nodes.Node:
    """A hidden toctree of the namespace pages, so they are in the navigation."""
    node = addnodes.toctree()
    node["parent"] = docname
    node["entries"] = [(None, ns.docname) for ns in namespaces]
    node["includefiles"] = [ns.docname for ns in namespaces]
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


def readme(ns: Namespace) -> list[nodes.Node]:
    """The collection README body: safe HTML for HTML builders, text for others."""
    if not ns.body.strip():
        return []
    box = nodes.container(classes=["orgreg-readme"])
    box += nodes.raw("", markdown.render(ns.body), format="html")
    only = addnodes.only(expr="not html")
    only += nodes.literal_block(ns.body, ns.body)
    box += only
    return [box]


def default_tag(ns: Namespace) -> Tag | None:
    """The tag shown in examples: ``latest`` if there is one, else the newest;
    never a deprecated tag while another exists."""
    if not ns.tags:
        return None
    usable = [t for t in ns.tags if not t.deprecated] or list(ns.tags)
    for tag in usable:
        if tag.name == "latest":
            return tag
    return max(usable, key=lambda t: (t.created or "", t.name))


@dataclass(frozen=True)
class UsageTab:
    """One client's way to use a namespace: a label, a sentence, command lines."""

    key: str
    label: str
    intro: str
    lines: tuple[str, ...]


def usage_tabs(
    ns: Namespace,
    site: str,
    *,
    shub: bool = True,
    oci: bool = False,
    checksums: bool = True,
) -> list[UsageTab]:
    """The usage examples of a namespace page, one per client. *shub*: the
    ``api/container`` endpoints are published (Singularity, Apptainer,
    sregistry); *oci*: the ``v2/`` layout is (skopeo); *checksums*: the
    ``SHA256SUMS`` files are (the check beside the download command)."""
    base = site or PLACEHOLDER_SITE
    tag = default_tag(ns)
    tabs = []
    check = (clients.checksum_check(site, ns),) if checksums else ()
    if tag is not None and tag.is_oras:
        tabs.extend(oras_tabs(ns, tag, check))
    elif tag is not None and tag.layers:
        tabs.append(
            UsageTab(
                "download",
                "Download",
                "Download the image file"
                + (" and check it against the namespace's SHA256SUMS:" if check else ":"),
                # the URL comes from the tree: quoted, so pasting the line runs only curl
                (
                    f"curl -L -o {clients.saved_name(ns, tag)} {shlex.quote(tag.layers[0].url)}",
                    *check,
                ),
            )
        )
        if shub:
            tabs.extend(pull_tabs(ns, tag, site))
    if oci and tag is not None:
        ref = clients.oci_reference(site, ns)
        if ref.value:
            tabs.append(
                UsageTab(
                    "skopeo",
                    "skopeo",
                    "List the tags and read a manifest with an OCI client (skopeo, or crane):",
                    (
                        f"skopeo list-tags docker://{ref.value}",
                        f"skopeo inspect --raw docker://{ref.value}:{tag.name}",
                    ),
                )
            )
    api_lines = [f"curl -s {base}{ns.name}/tags/"]
    if tag is not None:
        api_lines.append(f"curl -s {base}{ns.name}/manifests/{tag.name}/")
    tabs.append(
        UsageTab(
            "curl", "curl", "List the tags and read a manifest with the JSON API:", tuple(api_lines)
        )
    )
    return tabs


def oras_tabs(ns: Namespace, tag: Tag, check: tuple[str, ...]) -> list[UsageTab]:
    """Apptainer and Singularity pull commands for a *tag* kept in an OCI
    registry (``oras://``), and why the static registry's clients do not apply."""
    ref = clients.oras_reference(tag)
    if not ref.value:
        return [UsageTab("oras", "ORAS", f"No pull command: {ref.problem}.", ())]
    tabs = [
        UsageTab(
            key,
            label,
            f"Pull the image from its OCI registry with {label}"
            + (" and check it against the namespace's SHA256SUMS:" if check else ":"),
            (f"{key} pull {clients.saved_name(ns, tag)} {shlex.quote(ref.value)}", *check),
        )
        for key, label in (("apptainer", "Apptainer"), ("singularity", "Singularity"))
    ]
    tabs.append(
        UsageTab(
            "oras-other",
            "Other clients",
            "This image is kept in an OCI registry (oras://): "
            f"{clients.ORAS_NOT_SHUB}; {clients.ORAS_NOT_SREGISTRY}; {clients.ORAS_NOT_CURL}. "
            "An ORAS client (oras pull) fetches the same blob:",
            (f"oras pull {shlex.quote(ref.value.removeprefix('oras://'))}",),
        )
    )
    return tabs


def pull_tabs(ns: Namespace, tag: Tag, site: str) -> list[UsageTab]:
    """Singularity, Apptainer and sregistry pull commands for *tag*."""
    tabs = []
    ref = clients.shub_reference(site, ns, tag)
    for key, label in (("singularity", "Singularity"), ("apptainer", "Apptainer")):
        if ref.value:
            intro = f"Pull the image with {label}:"
            lines = (f"{key} pull {ref.value}",)
        else:
            intro = f"Not with shub:// here ({ref.problem}); pull the file by its URL:"
            lines = (f"{key} pull {ns.repo}_{tag.name}.sif {shlex.quote(tag.layers[0].url)}",)
        tabs.append(UsageTab(key, label, intro, lines))
    name = clients.sregistry_reference(ns, tag)
    if name.value:
        tabs.append(
            UsageTab(
                "sregistry",
                "sregistry",
                'Pull with sregistry (pip install "sregistry[registry-basic]"):',
                (
                    "export SREGISTRY_CLIENT=registry",
                    f"export SREGISTRY_REGISTRY_BASE={clients.sregistry_base(site)}",
                    f"sregistry pull {name.value}",
                ),
            )
        )
    return tabs


def usage(
    ns: Namespace,
    site: str,
    *,
    shub: bool = True,
    oci: bool = False,
    checksums: bool = True,
) -> list[nodes.Node]:
    """The usage section's content: a tab per client (plain blocks without the theme)."""
    # commands and URLs are not what people search for: left out of the index
    tabs = nodes.container(classes=["orgreg-usage", NO_SEARCH])
    for tab in usage_tabs(ns, site, shub=shub, oci=oci, checksums=checksums):
        box = nodes.container(classes=["orgreg-usage-tab", f"orgreg-usage-{tab.key}"])
        box += nodes.rubric(tab.label, tab.label)
        box += _para(nodes.Text(tab.intro))
        text = "\n".join(tab.lines)
        block = command_block(text, text, language="console")
        block["classes"].append("orgreg-command")
        box += block
        tabs += box
    out: list[nodes.Node] = [tabs]
    if not site:
        out.append(
            _para(
                nodes.Text("Set "),
                nodes.literal(text="html_baseurl"),
                nodes.Text(" (or "),
                nodes.literal(text="orgreg_site_url"),
                nodes.Text(") in conf.py to show this registry's real address here."),
                classes=["orgreg-hint", NO_SEARCH],
            )
        )
    return out


def section(title: str, ident: str, children: Sequence[nodes.Node]) -> nodes.section:
    node = nodes.section(ids=[ident], names=[nodes.fully_normalize_name(title)])
    node += nodes.title(title, title)
    node.extend(children)
    return node


def namespace_stats(ns: Namespace) -> nodes.paragraph:
    """Tag count, last update and default tag size, under a namespace's title."""
    parts = [_plural(len(ns.tags), "tag")]
    updated = last_update(ns)
    if updated:
        parts.append(f"updated {updated[:10]}")
    tag = default_tag(ns)
    if tag is not None:
        parts.append(f"{tag.name}: {human_size(tag.size_bytes)}")
    arches = sorted({t.arch for t in ns.tags if t.arch})
    if len(arches) > 1:  # several architectures: say which, before anyone pulls the wrong one
        parts.append(f"architectures: {', '.join(arches)}")
    return _para(nodes.Text(" · ".join(parts)), classes=["orgreg-stats", NO_SEARCH])


def shown_tags(ns: Namespace, limit: int = MAX_TAG_ROWS) -> list[Tag]:
    """The tags a page's table shows: all, or the default and the newest few
    (in the table's usual order), so a namespace with thousands stays usable."""
    if len(ns.tags) <= limit:
        return list(ns.tags)
    first = default_tag(ns)
    newest = sorted(ns.tags, key=lambda t: (t is first, t.created or "", t.name), reverse=True)
    keep = {id(t) for t in newest[:limit]}
    return [t for t in ns.tags if id(t) in keep]


def tag_section_content(ns: Namespace, details: DetailsContext | None) -> list[nodes.Node]:
    """What a namespace page's Tags section holds: its tag table (said to be cut
    short when it is), or a line saying there are no tags."""
    if not ns.tags:
        return [_para(nodes.Text("This namespace has no valid tags yet."))]
    shown = shown_tags(ns)
    content: list[nodes.Node] = [scroller(tag_table(ns, shown, TagTableOptions(details=details)))]
    if len(shown) < len(ns.tags):
        content.insert(
            0,
            _para(
                nodes.Text(
                    f"The newest {len(shown)} of {len(ns.tags)} tags; every tag is listed by the "
                ),
                site_link("tags endpoint", "tags endpoint", target=f"{ns.name}/tags/"),
                nodes.Text("."),
                classes=["orgreg-truncated"],
            ),
        )
    return content


def namespace_page(
    ns: Namespace, usage_content: Sequence[nodes.Node], tags_content: Sequence[nodes.Node]
) -> nodes.section:
    """The whole page of one namespace: title, description, README, and the
    Usage and Tags sections holding *usage_content* (:func:`usage`) and
    *tags_content* (:func:`tag_section_content`), or stand-ins for them."""
    page = nodes.section(
        ids=[nodes.make_id(f"namespace-{ns.name}")],
        names=[nodes.fully_normalize_name(ns.name)],
        classes=["orgreg-namespace-page"],
    )
    page += nodes.title(ns.name, ns.name)
    if ns.description:
        page += _para(nodes.Text(ns.description), classes=["orgreg-description"])
    page += namespace_stats(ns)
    page.extend(readme(ns))
    page += section("Usage", "usage", usage_content)
    page += section("Tags", "tags", tags_content)
    return page
