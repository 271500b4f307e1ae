"""orgreg_sphinx: an organizational static container registry as a Sphinx extension."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the orgreg command line starts faster without Sphinx
    from sphinx.application import Sphinx

__version__ = "0.1.0"

#: bump when the data kept on the build environment changes shape
ENV_VERSION = 1


def setup(app: Sphinx) -> dict[str, Any]:
    from . import config, directive, pages, publish, tracking

    config.add_config_values(app)  # orgreg_* values, validated at config-inited
    tracking.setup(app)  # the tree read once per build; incremental rebuilds
    pages.setup(app)  # one generated page per namespace
    directive.setup(app)  # the `registry` directive
    publish.setup(app)  # JSON API, schemas and .nojekyll in the HTML output
    app.setup_extension("orgreg_sphinx.theme")  # the `orgreg` HTML theme
    app.setup_extension("sphinx.ext.githubpages")
    return {
        "version": __version__,
        "env_version": ENV_VERSION,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
