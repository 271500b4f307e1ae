"""A namespace's page: title, description, figures, README, the Usage section
(a tab per client, the text from :func:`orgreg_sphinx.core.clients.usage_tabs`),
the Tags section (its table from :mod:`.listing`) and the tags' views
(:mod:`.tag_view`)."""

from __future__ import annotations

from collections.abc import Sequence

from docutils import nodes
from sphinx import addnodes

from ..core import clients, markdown
from ..core.model import Namespace, Tag
from ..core.selection import updated as last_update
from ..core.text import plural
from .details import DetailsContext
from .listing import MAX_TAG_ROWS, PAGE_TAG_COLUMNS, TagTableOptions, scroller, tag_table
from .shared import (
    NO_SEARCH,
    commands,
    human_size,
    page_title,
    para,
    plain_box,
    plain_code,
    site_link,
)


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


def usage(
    ns: Namespace,
    site: str,
    *,
    shub: bool = True,
    oci: bool = False,
    checksums: bool = True,
    cluster: tuple[str, tuple[str, ...], str] | None = None,
) -> list[nodes.Node]:
    """The usage section's content: a tab per client (plain blocks without the
    theme); *cluster*: the shpc module's intro, commands and note, or (without
    commands) why there is no module, said under the tabs."""
    # commands and URLs are not what people search for: left out of the index;
    # lean markup (plain blocks, bare <pre>: the console lexer marks every line
    # of commands without prompts as output, so highlighting adds only bytes)
    tabs = plain_box(classes=["orgreg-usage", NO_SEARCH])
    for tab in clients.usage_tabs(
        ns, site, shub=shub, oci=oci, checksums=checksums, cluster=cluster
    ):
        box = plain_box(classes=["orgreg-usage-tab", f"orgreg-usage-{tab.key}"])
        box += nodes.rubric(tab.label, tab.label)
        box += para(nodes.Text(tab.intro))
        box += commands(tab.lines, ["orgreg-command"])
        if tab.note:
            box += para(nodes.Text(tab.note), classes=["orgreg-usage-note"])
        tabs += box
    out: list[nodes.Node] = [tabs]
    if cluster is not None and not cluster[1]:
        text = " ".join(part for part in (cluster[0], cluster[2]) if part)
        out.append(para(nodes.Text(text), classes=["orgreg-usage-note", NO_SEARCH]))
    if not site:
        out.append(
            para(
                nodes.Text("Set "),
                plain_code(text="html_baseurl"),
                nodes.Text(" (or "),
                plain_code(text="orgreg_site_url"),
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
    parts = [plural(len(ns.tags), "tag")]
    updated = last_update(ns)
    if updated:
        parts.append(f"updated {updated[:10]}")
    tag = clients.default_tag(ns)
    if tag is not None:
        parts.append(f"{tag.name}: {human_size(tag.size_bytes)}")
    arches = sorted({t.arch for t in ns.tags if t.arch})
    if len(arches) > 1:  # several architectures: say which, before anyone pulls the wrong one
        parts.append(f"architectures: {', '.join(arches)}")
    return para(nodes.Text(" · ".join(parts)), classes=["orgreg-stats", NO_SEARCH])


def shown_tags(ns: Namespace, limit: int = MAX_TAG_ROWS) -> list[Tag]:
    """The tags a page's table shows: all, or the default and the newest few
    (in the table's usual order), so a namespace with thousands stays usable."""
    if len(ns.tags) <= limit:
        return list(ns.tags)
    first = clients.default_tag(ns)
    newest = sorted(ns.tags, key=lambda t: (t is first, t.created or "", t.name), reverse=True)
    keep = {id(t) for t in newest[:limit]}
    return [t for t in ns.tags if id(t) in keep]


def tag_section_content(ns: Namespace, details: DetailsContext | None) -> list[nodes.Node]:
    """What a namespace page's Tags section holds: its tag table (said to be cut
    short when it is), or a line saying there are no tags."""
    if not ns.tags:
        return [para(nodes.Text("This namespace has no valid tags yet."))]
    shown = shown_tags(ns)
    options = TagTableOptions(columns=PAGE_TAG_COLUMNS, views=True, details=details)
    content: list[nodes.Node] = [scroller(tag_table(ns, shown, options))]
    if len(shown) < len(ns.tags):
        content.insert(
            0,
            para(
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
    ns: Namespace,
    usage_content: Sequence[nodes.Node],
    tags_content: Sequence[nodes.Node],
    views: Sequence[nodes.Node] = (),
) -> nodes.section:
    """The whole page of one namespace: title, description, README, the Usage
    and Tags sections holding *usage_content* (:func:`usage`) and
    *tags_content* (:func:`tag_section_content`), then the tags' *views*
    (:func:`.tag_view.tag_views`), or stand-ins for them."""
    page = nodes.section(
        ids=[nodes.make_id(f"namespace-{ns.name}")],
        names=[nodes.fully_normalize_name(ns.name)],
        classes=["orgreg-namespace-page"],
    )
    page += page_title(ns.name, ns.name)
    if ns.description:
        page += para(nodes.Text(ns.description), classes=["orgreg-description"])
    page += namespace_stats(ns)
    page.extend(readme(ns))
    page += section("Usage", "usage", usage_content)
    page += section("Tags", "tags", tags_content)
    page.extend(views)
    return page
