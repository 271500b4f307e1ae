"""Sphinx configuration of the example registry (and of this project's docs).

Build with `make html`; the manifest tree lives in source/ (orgreg_root).
"""

import os
import sys

sys.path.insert(0, os.path.abspath("."))

project = "Example organizational registry"
copyright = "2026, the orgreg-sphinx authors"
author = "orgreg-sphinx"

extensions = [
    "myst_parser",
    "sphinx_design",
    "orgreg_sphinx",
]
myst_enable_extensions = ["colon_fence"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

html_theme = "orgreg"
html_title = "Example registry"

# The manifest tree, relative to the source folder ("" = the source folder).
orgreg_root = ""
# The address the site is published at. Left empty, it comes from html_baseurl,
# then from Read the Docs or GitHub Actions when building there.
orgreg_site_url = os.environ.get("ORGREG_SITE_URL", "")
orgreg_repository_url = "https://github.com/orgreg-sphinx/orgreg-sphinx"

# The orgreg theme's options (see the README): logo, accent colours, GitHub, footer links.
html_theme_options = {
    "github_url": "https://github.com/orgreg-sphinx/orgreg-sphinx",
    "footer_links": {"Catalog (JSON)": "api/catalog.json"},
}


# guide/directive.md shows live listings of, and links to, the example
# namespaces. A registry that replaced them (a fork) leaves that page out, so
# its -W builds stay green; the page is in the orgreg-sphinx documentation.
GUIDE_EXAMPLES = (
    "acme/busybox/manifests/latest",
    "bio-core/samtools/manifests/1.19",
    "hpc-lab/openmpi/manifests",
)


def setup(app):
    # the guide's reference of the configuration values, made from the options table
    from orgreg_sphinx.sphinxext import docs

    app.add_directive(docs.CONFIG_DIRECTIVE, docs.ConfigValuesDirective)

    def leave_out_the_examples_page(app, config):
        tree = os.path.join(app.srcdir, config.orgreg_root)
        if not all(os.path.isdir(os.path.join(tree, example)) for example in GUIDE_EXAMPLES):
            config.exclude_patterns.append("guide/directive.md")

    app.connect("config-inited", leave_out_the_examples_page)
