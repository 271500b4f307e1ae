"""Write the JSON API into the HTML output at the end of a build.

(``.nojekyll``, which GitHub Pages needs to serve ``_static``, is written by
``sphinx.ext.githubpages``, which the extension loads.)"""

from __future__ import annotations

import functools
import hashlib
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sphinx.application import Sphinx
from sphinx.util import logging

from .._version import __version__
from ..core import endpoints, feed, keys, namesindex, shpc
from ..core.files import Batch, OutputState, stamp, sync_batches, up_to_date
from ..core.model import rules_stamp, schema
from . import archived, domain, gcpolicy, pages
from .config import settings_of
from .warnings_ import Subtype, warn

logger = logging.getLogger(__name__)

#: the record of what the last build wrote into an output folder (``{key}``: the
#: folder's), in the doctree folder; the former name is removed when found
STATE_FILE = "orgreg-outputs-{key}.pickle"
FORMER_STATE_FILE = "orgreg-outputs-{key}.json"
#: the JSON Schemas of the front matter, published for validators and editors
SCHEMAS = ("manifest", "collection")


def site_batches(app: Sphinx) -> list[Batch]:
    """Every file the extension publishes, in :class:`~..core.files.Batch` es: one
    per namespace (not made again while the namespace is unchanged), then the
    files made from the whole registry, the schemas, the keys and the feed, made
    one at a time as :func:`.files.sync_batches` writes them (never all in memory
    at once)."""
    registry = domain.registry(app.env)
    settings = settings_of(app.config)
    base = stamp([__version__, code_stamp(), rules_stamp(), switches(app)])
    batches = endpoints.endpoint_batches(
        registry,
        base,
        original=settings.json_api,
        catalog=settings.json_api,
        shub=settings.shub_api,
        oci=settings.oci_layout,
    )
    if settings.shpc:
        batches.append(Batch("", base, functools.partial(shpc.files, registry, settings.site_url)))
    # the names index: the theme's filter and search find any namespace in it
    batches.append(Batch("", base, functools.partial(namesindex.index_files, registry)))
    batches.append(Batch("", base, functools.partial(other_files, app)))
    return batches


def other_files(app: Sphinx) -> Iterator[tuple[str, bytes]]:
    """The published files that are not endpoints: schemas, keys, the feed."""
    registry = domain.registry(app.env)
    settings = settings_of(app.config)
    if settings.json_api:
        for kind in SCHEMAS:
            yield f"api/schemas/{kind}.schema.json", endpoints.dumps(schema(kind))
    # the trusted keys, at api/keys/<FINGERPRINT>.asc, and api/keys.json
    yield from keys.published_files(
        list(domain.domain_of(app.env).trusted_keys.values()), settings.site_url
    ).items()
    if settings.feed is not False:
        yield from feed.feed_files(
            registry, settings.site_url, app.config.project, settings.feed_entries
        ).items()


def switches(app: Sphinx) -> list[Any]:
    """The settings the published files depend on."""
    settings = settings_of(app.config)
    return [
        settings.json_api,
        settings.shub_api,
        settings.oci_layout,
        settings.shpc,
        settings.feed,
        settings.feed_entries,
        app.config.project,
        settings.site_url,
    ]


def feed_url(app: Sphinx) -> str:
    """The absolute address of ``feed.xml``, or '' when none is written."""
    settings = settings_of(app.config)
    site = settings.site_url
    return site + feed.FEED_PATH if site and settings.feed is not False else ""


def warn_no_feed(app: Sphinx) -> None:
    """``orgreg_feed = True`` without the site's address: say why there is no feed."""
    settings = settings_of(app.config)
    if settings.feed is True and not settings.site_url:
        warn(
            "[orgreg] orgreg_feed: no feed.xml is written without the site's address "
            "(an Atom feed's links are absolute): set html_baseurl or orgreg_site_url",
            subtype=Subtype.FEED,
        )


def link_feed(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """``<link rel="alternate" type="application/atom+xml">`` on the home page, and
    ``orgreg_feed_url`` for every page (the orgreg theme links it in the footer)."""
    url = feed_url(app) if app.builder.format == "html" else ""
    context["orgreg_feed_url"] = url
    if url and pagename == app.config.root_doc:
        title = html.escape(f"{app.config.project}: new containers", quote=True)
        context["metatags"] = context.get("metatags", "") + (
            f'\n    <link rel="alternate" type="application/atom+xml" title="{title}" '
            f'href="{html.escape(url, quote=True)}">'
        )


def tell_shpc_left_out(app: Sphinx) -> None:
    """Tell the admin which tags shpc's files leave out, and why (an
    information line each, never a warning: plain download URLs are normal)."""
    registry = domain.registry(app.env)
    for message in shpc.build_messages(shpc.modules(registry, settings_of(app.config).site_url)):
        logger.info("[orgreg] shpc: %s", message)


def state_path(app: Sphinx) -> Path:
    """Where the list of files written into this output folder is kept: one per
    output folder, since `sphinx-build -M html` and `-M dirhtml` share doctrees."""
    return Path(app.doctreedir) / STATE_FILE.format(key=_outdir_key(app))


def _outdir_key(app: Sphinx) -> str:
    return hashlib.sha256(str(Path(app.outdir).resolve()).encode()).hexdigest()[:12]


def write_site_files(app: Sphinx, exception: BaseException | None) -> None:
    """At build-finished: write changed endpoint files, remove stale ones."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    if settings_of(app.config).oci_layout:
        warn_oci_site(app)
    warn_no_feed(app)
    if settings_of(app.config).shpc:
        tell_shpc_left_out(app)
    state_file = state_path(app)
    former = Path(app.doctreedir) / FORMER_STATE_FILE.format(key=_outdir_key(app))
    previous = OutputState.load(
        state_file if state_file.exists() or not former.exists() else former
    )
    owned = pages.generated_outputs(app)
    batches = site_batches(app)
    site = site_stamp(app, batches)
    archive = archived.archive_of(app)
    with gcpolicy.paused():
        if up_to_date(outdir, previous, site, owned, archive):
            logger.info("[orgreg] endpoint files up to date")
            return
        written, removed = sync_batches(
            outdir, batches, state_file, owned=owned, stamp=site, archive=archive, previous=previous
        )
    former.unlink(missing_ok=True)
    logger.info("[orgreg] %d endpoint file(s) written, %d removed", written, removed)


@functools.cache
def code_stamp() -> str:
    """A digest of this package's code: an upgrade makes the files again."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parents[1].rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def site_stamp(app: Sphinx, batches: list[Batch] | None = None) -> str:
    """The change stamp of every published file (:func:`site_batches`): the extension's
    code and reading rules, the switches, each namespace's data and the status
    of the recipe files copied (the batches' stamps), the keys."""
    if batches is None:
        batches = site_batches(app)
    return stamp(
        [
            [batch.stamp for batch in batches],
            [(k.fingerprint, k.armored) for k in domain.domain_of(app.env).trusted_keys.values()],
        ]
    )


def warn_oci_site(app: Sphinx) -> None:
    """OCI clients look for ``/v2/`` at the root of the host: say so when the
    site is known to live below it."""
    site = settings_of(app.config).site_url
    path = urlsplit(site).path if site else "/"
    if path not in ("", "/"):
        warn(
            "[orgreg] orgreg_oci_layout: the site is published at %s, not at the root of "
            "its host; OCI clients look for %s and will not find the v2/ layout",
            site,
            site[: len(site) - len(path)] + "/v2/",
            subtype=Subtype.OCI,
        )
