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
from ..core import endpoints, feed, keys
from ..core.files import sync, up_to_date
from ..core.model import rules_stamp, schema
from . import config as cfg
from . import domain, pages
from .shown import digest

logger = logging.getLogger(__name__)

STATE_FILE = "orgreg-outputs.json"
#: the JSON Schemas of the front matter, published for validators and editors
SCHEMAS = ("manifest", "collection")


def site_files(app: Sphinx) -> Iterator[tuple[str, bytes]]:
    """Every file the extension publishes, as (output path, bytes), made one at a
    time as :func:`.files.sync` writes them (never all in memory at once)."""
    registry = domain.registry(app.env)
    config = app.config
    yield from endpoints.iter_endpoint_files(
        registry,
        original=config.orgreg_json_api,
        catalog=config.orgreg_json_api,
        shub=config.orgreg_shub_api,
        oci=config.orgreg_oci_layout,
    )
    if config.orgreg_json_api:
        for kind in SCHEMAS:
            yield f"api/schemas/{kind}.schema.json", endpoints.dumps(schema(kind))
    # the trusted keys, at api/keys/<FINGERPRINT>.asc, and api/keys.json
    yield from keys.published_files(list(domain.domain_of(app.env).trusted_keys.values()),
                                    cfg.site_url(config)).items()
    if config.orgreg_feed is not False:
        yield from feed.feed_files(registry, cfg.site_url(config), config.project,
                                   config.orgreg_feed_entries).items()


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
            type="orgreg", subtype="feed",
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
    state_file = state_path(app)
    owned = pages.generated_outputs(app)
    fingerprint = site_fingerprint(app)
    if up_to_date(outdir, state_file, fingerprint, owned):
        logger.info("[orgreg] endpoint files up to date")
        return
    files = site_files(app)
    written, removed = sync(outdir, files, state_file, owned=owned, fingerprint=fingerprint)
    logger.info("[orgreg] %d endpoint file(s) written, %d removed", written, removed)


@functools.cache
def code_stamp() -> str:
    """A digest of this package's code: an upgrade makes the files again."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parents[1].rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def site_fingerprint(app: Sphinx) -> str:
    """A digest of everything :func:`site_files` depends on: the extension's
    code and reading rules, the switches, each namespace's data and the status
    of the recipe files copied."""
    registry = domain.registry(app.env)
    config = app.config
    recipes: list[tuple[str, int, int, int, int] | tuple[str, None]] = []
    for ns in registry.namespaces:
        for tag in ns.tags:
            if tag.recipe_file is not None:
                try:
                    info = tag.recipe_file.stat()
                except OSError:
                    recipes.append((str(tag.recipe_file), None))
                    continue
                recipes.append((str(tag.recipe_file), info.st_mtime_ns, info.st_ctime_ns,
                                info.st_size, info.st_ino))
    return digest([
        __version__,
        code_stamp(),
        rules_stamp(),
        [config.orgreg_json_api, config.orgreg_shub_api, config.orgreg_oci_layout,
         config.orgreg_feed, config.orgreg_feed_entries, config.project,
         cfg.site_url(config)],
        [(ns.org, ns.repo, ns.signature()) for ns in registry.namespaces],
        recipes,
        [(k.fingerprint, k.armored) for k in domain.domain_of(app.env).trusted_keys.values()],
    ])


def warn_oci_site(app: Sphinx) -> None:
    """OCI clients look for ``/v2/`` at the root of the host: say so when the
    site is known to live below it."""
    site = cfg.site_url(app.config)
    path = urlsplit(site).path if site else "/"
    if path not in ("", "/"):
        logger.warning(
            "[orgreg] orgreg_oci_layout: the site is published at %s, not at the root of "
            "its host; OCI clients look for %s and will not find the v2/ layout",
            site, site[: len(site) - len(path)] + "/v2/",
            type="orgreg", subtype="oci",
        )


def setup(app: Sphinx) -> None:
    app.connect("build-finished", write_site_files)
    app.connect("html-page-context", link_feed)
