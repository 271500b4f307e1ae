"""The pages of a paged listing: the whole registry, a page at a time.

A listing of the whole registry (the home page's ``registry`` directive) shows
at most ``orgreg_listing_page_size`` namespaces (:mod:`.directive`); when the
registry is larger, every namespace is on the listing's own static pages,
``_containers/<order>-<n>`` (:func:`.listing.listing_page`), in name order and
most recently updated first, each with links to the previous, next and other
pages and to the other order (no JavaScript needed). The theme's filter finds
any namespace from the names index (:mod:`..core.namesindex`).

The pages are written at ``html-collect-pages`` through the theme's
``page.html``: they are no documents (nothing read, pickled or indexed for
Sphinx's search). A page is written only when its stamp -- its rows' data, its
place in the series, the extension's code, the theme's templates and the
configuration -- differs from the last build's (kept in the doctree folder), so
a rebuild that changes nothing writes none; pages no longer in a series are
removed.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.nodes import process_only_nodes

from ..core.files import stamp, write_if_changed
from ..core.model import Namespace
from ..core.selection import ListingSpec, select_namespaces
from . import archived, domain, internals, listing, pages, publish
from .config import settings_of
from .gcpolicy import release
from .shared import plain_link
from .stubs import namespace_docname

logger = logging.getLogger(__name__)

#: the stamps of the pages last written into an output folder (in the doctree folder)
STATE_FILE = "orgreg-listing-pages-{key}.json"


#: per app, the state file and the stamps of this build's pages, saved at build-finished
_written: weakref.WeakKeyDictionary[Sphinx, tuple[Path, dict[str, str]]] = (
    weakref.WeakKeyDictionary()
)


def state_path(app: Sphinx) -> Path:
    """Where the stamps of the pages written into this output folder are kept."""
    key = hashlib.sha256(str(Path(app.outdir).resolve()).encode()).hexdigest()[:12]
    return Path(app.doctreedir) / STATE_FILE.format(key=key)


def context_stamp(app: Sphinx) -> str:
    """What every page depends on besides its rows: the extension's code, the
    templates (the newest one's time), the configuration Sphinx rewrites every
    page for (its build information), the hand-written documents (the header
    links some of them), the site's address."""
    builder: Any = app.builder
    info = getattr(builder, "build_info", None)
    templates = getattr(builder, "templates", None)
    newest = templates.newest_template_mtime() if templates is not None else 0
    generated = set(internals.generated_pages(app))
    return stamp(
        [
            publish.code_stamp(),
            str(getattr(info, "config_hash", "")),
            str(getattr(info, "tags_hash", "")),
            newest,
            sorted(doc for doc in app.env.all_docs if doc not in generated),
            # the feed's link in the footer: the site's address may come from CI
            settings_of(app.config).site_url,
        ]
    )


def series(app: Sphinx) -> Iterator[tuple[str, str, int, int, list[Namespace]]]:
    """(page name, order, number, pages, namespaces) of every page of the paged
    listing; none when the registry fits one page."""
    settings = settings_of(app.config)
    registry = domain.registry(app.env)
    size = settings.listing_page_size
    if not settings.namespace_pages or len(registry.namespaces) <= size:
        return
    for order, sort, _ in listing.PAGED_ORDERS:
        ordered, _ = select_namespaces(registry.namespaces, ListingSpec(sort=sort))
        count = listing.page_count(len(ordered), size)
        for number in range(1, count + 1):
            rows = ordered[(number - 1) * size : number * size]
            yield listing.listing_page(order, number), order, number, count, rows


def page_body(
    app: Sphinx,
    pagename: str,
    order: str,
    number: int,
    count: int,
    total: int,
    rows: list[Namespace],
) -> str:
    """The HTML of one page's body: its heading, table and pager."""
    builder: Any = app.builder

    def link(ns: Namespace) -> nodes.Node:
        uri = builder.get_relative_uri(pagename, namespace_docname(ns.name))
        return plain_link(ns.name, ns.name, refuri=uri, internal=True)

    sort = dict((key, sort) for key, sort, _ in listing.PAGED_ORDERS)[order]
    box = nodes.container(classes=["orgreg"])
    box += listing.scroller(listing.namespace_table(rows, pagename, True, sort=sort, link=link))
    box += listing.pager(order, number, count, total)
    process_only_nodes(box, app.tags)
    listing.site_links_to_references(builder, settings_of(app.config).site_url, box, pagename)
    body = str(builder.render_partial(box)["fragment"])
    release(box)  # a page of rows: freed now, not by the collector
    return body


def page_title(order: str, number: int, count: int) -> str:
    """``Containers, page 2 of 100 (recently updated)``."""
    label = dict((key, label) for key, _, label in listing.PAGED_ORDERS)[order]
    return f"Containers, page {number} of {count} ({label.lower()})"


def collect_pages(app: Sphinx) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``html-collect-pages``: the paged listing's pages whose stamp changed."""
    if app.builder.format != "html" or not hasattr(app.builder, "render_partial"):
        return
    state_file = state_path(app)
    try:
        previous: dict[str, str] = json.loads(state_file.read_text())
    except (OSError, ValueError):
        previous = {}
    base = context_stamp(app)
    total = len(domain.registry(app.env).namespaces)
    current: dict[str, str] = {}
    written = 0
    site = archived.overlay(app)
    for pagename, order, number, count, rows in series(app):
        page_stamp = stamp([base, order, number, count, total, [ns.row_stamp() for ns in rows]])
        current[pagename] = page_stamp
        target = pages.output_file(app.builder, pagename)
        if previous.get(pagename) == page_stamp and target and site.status(target) is not None:
            continue
        title = page_title(order, number, count)
        body = f"<h1>{title}</h1>\n" + page_body(app, pagename, order, number, count, total, rows)
        written += 1
        yield pagename, {"title": title, "body": body}, "page.html"
    for pagename in sorted(set(previous) - set(current)):  # pages no longer in a series
        target = pages.output_file(app.builder, pagename)
        if target:
            archived.remove_output(app, target)
    if current or previous:
        logger.info(
            "[orgreg] listing pages: %d written, %d up to date", written, len(current) - written
        )
    _written[app] = (state_file, current)


def save_state(app: Sphinx, exception: BaseException | None) -> None:
    """``build-finished``: remember the stamps of the pages written."""
    found = _written.pop(app, None)
    if exception is not None or found is None:
        return
    state_file, current = found
    try:
        write_if_changed(state_file, json.dumps(current, sort_keys=True).encode())
    except OSError as err:  # a read-only doctree folder only makes rebuilds slower
        logger.debug("[orgreg] cannot save %s: %s", state_file, err)
