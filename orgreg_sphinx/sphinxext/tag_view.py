"""A tag's view: everything about one image, shown as a page of its own by its
namespace page.

Issue 25 asks for a page per tag; issue 28 caps the published site at about
4 KB per tag in all, so a static HTML file per tag (about 7 KB each with the
theme's frame) is out. Each tag of a namespace page's table has instead a *view*
on that page, after the Tags section: ``<section id="tag-<name>">`` in the
``orgreg-tag-views`` box, hidden until the address names it (``#tag-<name>``, the
anchor the tag's row had before, so every link made since opens the view). The
listings' stylesheet (``orgreg-listings.css``: ``:target`` and ``:has()``) then
shows it as the page, under the namespace's title, the rest of the page hidden.
No script and no other file; back and forward are hash navigation. A browser
without ``:has()`` shows the view under the table, scrolled to; one without
the stylesheet shows every view in turn.

A view holds the tag's facts (size in bytes, full digest, created with the time
of day, architecture, downloads, recipe, manifest), every client's commands for
this tag (:func:`core.clients.tag_tabs`; the lines every view would repeat,
sregistry's environment and the checksum line, are the page's: :func:`shared`),
what is inside the image (:mod:`.details`) and the tag's history. It is built
when the page is written (a :mod:`.deferred` part), in lean markup (bare
``<dl>``, ``<pre>`` and ``<code>``: :mod:`.shared`), and left out of the search
index: it is paid once per tag of the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from docutils import nodes

from ..core import clients, times
from ..core.model import Namespace, Tag
from ..core.text import plural
from .details import DetailsContext, details_parts, field_list, inside_summary
from .listing import (
    deprecated_badge,
    deprecation_reason,
    download_links,
    exact_size,
    history_list,
    recipe_link,
    tag_cell,
)
from .shared import (
    NO_SEARCH,
    commands,
    heading,
    human_size,
    para,
    plain_box,
    plain_code,
    plain_link,
    shown_time,
    site_link,
    tag_anchor,
    view,
)

#: the class of the box holding a page's views (a view: a ``<section>`` in it,
#: no class of its own: one less attribute per tag of the registry)
VIEWS_CLASS = "orgreg-tag-views"


#: a file of the site (a path from its root) as a link from the page written
Href = Callable[[str], str]


def _heading(text: str, level: int) -> heading:
    return heading(text, text, level=level)


def facts(ns: Namespace, tag: Tag) -> nodes.field_list:
    """Size, digest, created, architecture, downloads, recipe and manifest."""
    found: list[tuple[str, nodes.Node | list[nodes.Node]]] = [
        ("Size", nodes.Text(f"{human_size(tag.size_bytes)} ({exact_size(tag)})")),
        ("Digest", plain_code(tag.digest, tag.digest)),
    ]
    if tag.created:
        found.append(("Created", shown_time(tag.created, full=True)))
    if tag.arch:
        found.append(("Architecture", plain_code(tag.arch, tag.arch)))
    if len(tag.layers) > 1 or tag.is_oras:  # else the download command holds the URL
        label = "Layers" if len(tag.layers) > 1 else "Image"
        found.append((label, tag_cell(ns, tag, "download")))
    if tag.recipe or tag.recipe_file is not None:
        found.append(("Recipe", tag_cell(ns, tag, "recipe")))
    manifest = f"{ns.name}/manifests/{tag.name}/"
    found.append(("Manifest", site_link("JSON", "JSON", target=manifest)))
    return field_list(found, lean=True)


def pull(ns: Namespace, tag: Tag, site: str, *, shub: bool = True) -> list[nodes.Node]:
    """Every client's commands for this tag, one block each (each command names
    its client: no label; an intro only where it says why:
    :attr:`core.clients.UsageTab.explains`); the lines they share are the
    page's (:func:`shared`)."""
    tabs = clients.tag_tabs(ns, tag, site, shub=shub, checksums=False, environment=False)
    if not tabs:
        return []
    box = plain_box(classes=["orgreg-pull"])
    for tab in tabs:
        if tab.explains or not tab.lines:
            box += para(nodes.Text(tab.intro), classes=["orgreg-why"])
        if tab.lines:
            box += commands(tab.lines)
        if tab.note:
            box += para(nodes.Text(tab.note), classes=["orgreg-usage-note"])
    return [_heading("Pull", 3), box]


def _time_html(value: str) -> str:
    """The time as people read it, with the time of day (a view's: plain text,
    the table's cell keeps the ISO value the rows sort by)."""
    when = times.shown(value)
    return escape(value if when is None else when.full)


def facts_html(ns: Namespace, tag: Tag, href: Href) -> str:
    """:func:`facts` as HTML, written directly: a view's facts and commands are
    most of its nodes, made and walked once per tag of the registry (the
    details and the history, which few tags have, stay nodes). A bare ``<dl>``:
    a view's first list is its facts (the stylesheets and the script find it
    so; a class would be written once per tag)."""
    out = ["<dl>"]

    def fact(label: str, html: str) -> None:
        out.append(f"<dt>{label}</dt><dd>{html}</dd>")

    fact("Size", escape(f"{human_size(tag.size_bytes)} ({exact_size(tag)})"))
    fact("Digest", f"<code>{escape(tag.digest)}</code>")
    if tag.created:
        fact("Created", _time_html(tag.created))
    if tag.arch:
        fact("Architecture", f"<code>{escape(tag.arch)}</code>")
    if len(tag.layers) > 1 or tag.is_oras:
        links = [
            f'<code class="orgreg-oras">{escape(url)}</code>'
            if oras
            else f'<a class="orgreg-download" href="{escape(url)}">{label}</a>'
            for label, url, oras in download_links(tag)
        ]
        fact("Layers" if len(tag.layers) > 1 else "Image", " ".join(links))
    if tag.recipe or tag.recipe_file is not None:
        label, url, target = recipe_link(ns, tag)
        link = url or (href(target) if target else "")
        shown = escape(label)
        fact(
            "Recipe",
            f'<a href="{escape(link)}">{shown}</a>' if link else shown,
        )
    manifest = href(f"{ns.name}/manifests/{tag.name}/")
    fact("Manifest", f'<a href="{escape(manifest)}">JSON</a>')
    out.append("</dl>\n")
    return "".join(out)


def pull_html(ns: Namespace, tag: Tag, site: str, *, shub: bool = True) -> str:
    """:func:`pull` as HTML, written directly (as :func:`facts_html`): the
    commands bare in the view, after its "Pull" heading (no box of their own)."""
    tabs = clients.tag_tabs(ns, tag, site, shub=shub, checksums=False, environment=False)
    if not tabs:
        return ""
    out = ["<h3>Pull</h3>\n"]
    for tab in tabs:
        if tab.explains or not tab.lines:
            out.append(f'<p class="orgreg-why">{escape(tab.intro)}</p>\n')
        if tab.lines:
            out.append(f"<pre>{escape(chr(10).join(tab.lines))}</pre>\n")
        if tab.note:
            out.append(f'<p class="orgreg-usage-note">{escape(tab.note)}</p>\n')
    return "".join(out)


def shared(ns: Namespace, site: str, *, sregistry: bool, checksums: bool) -> list[nodes.Node]:
    """The lines every view's commands would repeat, once per page and shown
    under whichever view is open: sregistry's environment (*sregistry*: a view
    has its pull, :func:`core.clients.sregistry_environment`) and the checksum
    line of the namespace (*checksums*: :func:`core.clients.checksum_check`)."""
    out: list[nodes.Node] = []
    if sregistry:
        box = plain_box(classes=["orgreg-tag-env", "orgreg-command"])
        box += para(
            nodes.Text("Before sregistry's pull, point it at this registry (once per shell):")
        )
        box += commands(clients.sregistry_environment(site))
        out.append(box)
    if checksums:
        box = plain_box(classes=["orgreg-tag-check", "orgreg-command"])
        box += para(
            nodes.Text("Check the image file the commands above saved against the namespace's "),
            nodes.Text("SHA256SUMS:"),
        )
        box += commands([clients.checksum_check(site, ns)])
        out.append(box)
    return out


def tag_view(
    ns: Namespace, tag: Tag, ctx: DetailsContext, *, shub: bool = True, href: Href | None = None
) -> view:
    """Everything about *tag*'s image, as a view (its id: :func:`.shared.tag_anchor`);
    with *href* (HTML), its title, facts and commands are written as HTML."""
    box = view(ids=[tag_anchor(tag)])
    title = f"{ns.name}:{tag.name}"
    summary = inside_summary(tag, ctx.keys)
    if href is not None and not tag.deprecated and not summary:
        html = f"<h2>{escape(title)}</h2>\n{facts_html(ns, tag, href)}"
        box += nodes.raw("", html + pull_html(ns, tag, ctx.site, shub=shub), format="html")
    else:
        box.extend(_view_head(ns, tag, ctx, summary, shub=shub, href=href))
    box.extend(_view_more(ns, tag, ctx))
    return box


def _view_head(
    ns: Namespace, tag: Tag, ctx: DetailsContext, summary: str, *, shub: bool, href: Href | None
) -> list[nodes.Node]:
    """A view's title, deprecation, one line on what is inside, facts and commands."""
    out: list[nodes.Node] = [_heading(f"{ns.name}:{tag.name}", 2)]
    if tag.deprecated:
        out.append(
            para(
                deprecated_badge(),
                nodes.Text(" "),
                deprecation_reason(tag.deprecated),
                classes=["orgreg-deprecation-line"],
            )
        )
    if summary:
        out.append(para(nodes.Text(summary), classes=["orgreg-inside"]))
    if href is not None:
        html = facts_html(ns, tag, href) + pull_html(ns, tag, ctx.site, shub=shub)
        out.append(nodes.raw("", html, format="html"))
    else:
        out.append(facts(ns, tag))
        out.extend(pull(ns, tag, ctx.site, shub=shub))
    return out


def _view_more(ns: Namespace, tag: Tag, ctx: DetailsContext) -> list[nodes.Node]:
    """What is inside the image and the tag's history (nothing when unknown)."""
    box: list[nodes.Node] = []
    inside = details_parts(ns, tag, ctx, tag_facts=False)
    if inside:
        box.append(_heading("Inside the image", 3))
        box.extend(inside)
    former = history_list(ns, tag)
    if former and tag.history is not None:
        count = len(tag.history.former) + tag.history.more
        box.append(_heading("History", 3))
        box.append(
            para(nodes.Text(f"Before this image, the tag named {plural(count, 'other image')}:"))
        )
        box.extend(former)
    return box


def tag_views(
    ns: Namespace,
    tags: Sequence[Tag],
    ctx: DetailsContext,
    *,
    shub: bool = True,
    checksums: bool = True,
    href: Href | None = None,
) -> list[nodes.Node]:
    """The views of *tags* (those of the page's table), in one box that starts
    with the way back to the table and ends with the lines the views share
    (:func:`shared`; *checksums*: the ``SHA256SUMS`` files are published), shown
    with a view. *href*:
    the page is HTML, written with links to files of the site made by *href*."""
    if not tags:
        return []
    box = plain_box(classes=[VIEWS_CLASS, NO_SEARCH])
    back = plain_link("", "", refid="tags")
    back += nodes.Text(f"All tags of {ns.name}")
    box += para(back, classes=["orgreg-tag-back"])
    for tag in tags:
        box += tag_view(ns, tag, ctx, shub=shub, href=href)
    box.extend(
        shared(
            ns,
            ctx.site,
            sregistry=shub and any(clients.sregistry_pulls(ns, t) for t in tags),
            checksums=checksums and any(t.layers for t in tags),
        )
    )
    return [box]
