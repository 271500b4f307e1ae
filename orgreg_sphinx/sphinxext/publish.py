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
from ..core import endpoints, feed, keys, shpc
from ..core.files import Batch, sync_batches, up_to_date
from ..core.model import rules_stamp, schema
from . import config as cfg
from . import domain, pages
from .shown import digest

logger = logging.getLogger(__name__)

STATE_FILE = "orgreg-outputs.json"
#: the JSON Schemas of the front matter, published for validators and editors
SCHEMAS = ("manifest", "collection")


def site_batches(app: Sphinx) -> list[Batch]:
    """Every file the extension publishes, in :class:`~..core.files.Batch` es: one
    per namespace (not made again while the namespace is unchanged), then the
    files made from the whole registry, the schemas, the keys and the feed, made
    one at a time as :func:`.files.sync_batches` writes them (never all in memory
    at once)."""
    registry = domain.registry(app.env)
    config = app.config
    stamp = digest([__version__, code_stamp(), rules_stamp(), switches(app)])
    batches = endpoints.endpoint_batches(
        registry,
        stamp,
        original=config.orgreg_json_api,
        catalog=config.orgreg_json_api,
        shub=config.orgreg_shub_api,
        oci=config.orgreg_oci_layout,
    )
    if config.orgreg_shpc:
        batches.append(
            Batch("", stamp, functools.partial(shpc.files, registry, cfg.site_url(config)))
        )
    batches.append(Batch("", stamp, functools.partial(other_files, app)))
    return batches


def site_files(app: Sphinx) -> Iterator[tuple[str, bytes]]:
    """Every file the extension publishes, as (output path, bytes), made one at a
    time (:func:`site_batches`, all made)."""
    for batch in site_batches(app):
        yield from batch.make()


def other_files(app: Sphinx) -> Iterator[tuple[str, bytes]]:
    """The published files that are not endpoints: schemas, keys, the feed."""
    registry = domain.registry(app.env)
    config = app.config
    if config.orgreg_json_api:
        for kind in SCHEMAS:
            yield f"api/schemas/{kind}.schema.json", endpoints.dumps(schema(kind))
    # the trusted keys, at api/keys/<FINGERPRINT>.asc, and api/keys.json
    yield from keys.published_files(
        list(domain.domain_of(app.env).trusted_keys.values()), cfg.site_url(config)
    ).items()
    if config.orgreg_feed is not False:
        yield from feed.feed_files(
            registry, cfg.site_url(config), config.project, config.orgreg_feed_entries
        ).items()


def switches(app: Sphinx) -> list[Any]:
    """The settings the published files depend on."""
    config = app.config
    return [
        config.orgreg_json_api,
        config.orgreg_shub_api,
        config.orgreg_oci_layout,
        config.orgreg_shpc,
        config.orgreg_feed,
        config.orgreg_feed_entries,
        config.project,
        cfg.site_url(config),
    ]


def feed_url(app: Sphinx) -> str:
    """The absolute address of ``feed.xml``, or '' when none is written."""
    site = cfg.site_url(app.config)
    return site + feed.FEED_PATH if site and app.config.orgreg_feed is not False else ""


def warn_no_feed(app: Sphinx) -> None:
    """``orgreg_feed = True`` without the site's address: say why there is no feed."""
    if app.config.orgreg_feed is True and not cfg.site_url(app.config):
        logger.warning(
            "[orgreg] orgreg_feed: no feed.xml is written without the site's address "
            "(an Atom feed's links are absolute): set html_baseurl or orgreg_site_url",
            type="orgreg",
            subtype="feed",
        )


def link_feed(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """``<link rel="alternate" type="application/atom+xml">`` on the home page."""
    url = feed_url(app) if app.builder.format == "html" else ""
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
    for message in shpc.build_messages(shpc.modules(registry, cfg.site_url(app.config))):
        logger.info("[orgreg] shpc: %s", message)


def state_path(app: Sphinx) -> Path:
    """Where the list of files written into this output folder is kept: one per
    output folder, since `sphinx-build -M html` and `-M dirhtml` share doctrees."""
    key = hashlib.sha256(str(Path(app.outdir).resolve()).encode()).hexdigest()[:12]
    return Path(app.doctreedir) / STATE_FILE.replace(".json", f"-{key}.json")


def write_site_files(app: Sphinx, exception: BaseException | None) -> None:
    """At build-finished: write changed endpoint files, remove stale ones."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    if app.config.orgreg_oci_layout:
        warn_oci_site(app)
    warn_no_feed(app)
    if app.config.orgreg_shpc:
        tell_shpc_left_out(app)
    state_file = state_path(app)
    owned = pages.generated_outputs(app)
    batches = site_batches(app)
    fingerprint = site_fingerprint(app, batches)
    if up_to_date(outdir, state_file, fingerprint, owned):
        logger.info("[orgreg] endpoint files up to date")
        return
    written, removed = sync_batches(
        outdir, batches, state_file, owned=owned, fingerprint=fingerprint
    )
    logger.info("[orgreg] %d endpoint file(s) written, %d removed", written, removed)


@functools.cache
def code_stamp() -> str:
    """A digest of this package's code: an upgrade makes the files again."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parents[1].rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def site_fingerprint(app: Sphinx, batches: list[Batch] | None = None) -> str:
    """A digest of everything :func:`site_files` depends on: the extension's
    code and reading rules, the switches, each namespace's data and the status
    of the recipe files copied (the stamps of :func:`site_batches`), the keys."""
    if batches is None:
        batches = site_batches(app)
    return digest(
        [
            [batch.stamp for batch in batches],
            [(k.fingerprint, k.armored) for k in domain.domain_of(app.env).trusted_keys.values()],
        ]
    )


def warn_oci_site(app: Sphinx) -> None:
    """OCI clients look for ``/v2/`` at the root of the host: say so when the
    site is known to live below it."""
    site = cfg.site_url(app.config)
    path = urlsplit(site).path if site else "/"
    if path not in ("", "/"):
        logger.warning(
            "[orgreg] orgreg_oci_layout: the site is published at %s, not at the root of "
            "its host; OCI clients look for %s and will not find the v2/ layout",
            site,
            site[: len(site) - len(path)] + "/v2/",
            type="orgreg",
            subtype="oci",
        )


def setup(app: Sphinx) -> None:
    app.connect("build-finished", write_site_files)
    app.connect("html-page-context", link_feed)
