"""Write the JSON API into the HTML output at the end of a build."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from . import api, pages, tracking
from .model import schema
from .outputs import sync, write_if_changed

logger = logging.getLogger(__name__)

STATE_FILE = "orgreg-outputs.json"
#: the JSON Schemas of the front matter, published for validators and editors
SCHEMAS = ("manifest", "collection")


def site_files(app: Sphinx) -> dict[str, bytes]:
    """Every file the extension publishes, by output path."""
    registry = tracking.registry(app.env)
    files: dict[str, bytes] = {}
    if app.config.orgreg_json_api:
        files.update(api.endpoint_files(registry))
        for kind in SCHEMAS:
            files[f"api/schemas/{kind}.schema.json"] = api.dumps(schema(kind))
    return files


def write_site_files(app: Sphinx, exception: BaseException | None) -> None:
    """At build-finished: write changed endpoint files, remove stale ones."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    files = site_files(app)
    write_if_changed(outdir / ".nojekyll", b"")
    written, removed = sync(
        outdir,
        files,
        Path(app.doctreedir) / STATE_FILE,
        owned=pages.generated_outputs(app),
    )
    logger.info("[orgreg] %d endpoint file(s) written, %d removed", written, removed)


def setup(app: Sphinx) -> None:
    app.connect("build-finished", write_site_files)
