"""The Sphinx extension: pages, the ``registry`` directive, the JSON API in the output.

``extensions = ["orgreg_sphinx"]`` loads :func:`setup` (through the package's
top-level ``setup``). It reads the tree with :mod:`orgreg_sphinx.core` and never
uses the command line.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from .._version import __version__
from . import config, deferred, directive, domain, gcpolicy, internals, pages, publish, signing

#: bump when the data kept on the build environment (or its doctrees) changes shape
ENV_VERSION = 3


def setup(app: Sphinx) -> dict[str, Any]:
    config.add_config_values(app)  # orgreg_* values, validated at config-inited
    domain.setup(app)  # containers as objects, the `container` role; incremental rebuilds
    internals.setup(app)  # the Sphinx internals touched, each behind a check
    pages.setup(app)  # one generated page per namespace
    directive.setup(app)  # the `registry` directive
    deferred.setup(app)  # the listings' bulk, built when pages are written
    publish.setup(app)  # JSON API and schemas in the HTML output
    signing.setup(app)  # the trusted keys: setting, keys page, api/keys/
    gcpolicy.setup(app)  # the garbage collector's pace while pages are written
    app.setup_extension("orgreg_sphinx.theme")  # the `orgreg` HTML theme
    app.setup_extension("sphinx.ext.githubpages")
    return {
        "version": __version__,
        "env_version": ENV_VERSION,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
