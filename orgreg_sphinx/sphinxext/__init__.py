"""The Sphinx extension: pages, the ``registry`` directive, the JSON API in the output.

``extensions = ["orgreg_sphinx"]`` loads :func:`setup` (through the package's
top-level ``setup``). It reads the tree with :mod:`orgreg_sphinx.core` and never
uses the command line. :func:`setup` is the build's timeline: what is added to
Sphinx, then every event handler, in the order Sphinx emits the events.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from .._version import __version__
from ..core import remote
from . import (
    archived,
    config,
    deferred,
    directive,
    domain,
    gcpolicy,
    highlight,
    internals,
    listing,
    listpages,
    loader,
    pages,
    publish,
    shared,
    signing,
    stubs,
)

#: bump when the data kept on the build environment (or its doctrees) changes shape
ENV_VERSION = 4


def setup(app: Sphinx) -> dict[str, Any]:
    # -- what the extension adds to Sphinx
    config.add_config_values(app)  # the orgreg_* values
    app.add_domain(domain.OrgregDomain)  # containers as objects, what each page shows
    app.add_role(domain.CONTAINER_ROLE, domain.ContainerRole(warn_dangling=True))
    app.add_directive("registry", directive.RegistryDirective)
    app.add_directive(stubs.KEYS_DIRECTIVE, signing.KeysDirective)
    # the generated pages' stubs are read by NamespacePageParser whatever
    # source_suffix says of .rst
    app.add_source_suffix(stubs.STUB_SUFFIX, stubs.STUB_FILETYPE)
    app.add_source_parser(pages.NamespacePageParser)
    app.add_node(shared.site_link)
    app.add_node(shared.size_abbreviation, html=shared.SIZE_HTML_VISITORS)
    app.add_node(shared.collapsed, html=shared.COLLAPSED_HTML_VISITORS)
    app.add_node(shared.time_stamp, html=shared.TIME_HTML_VISITORS)
    app.add_node(highlight.command_block, html=highlight.COMMAND_HTML_VISITORS)
    app.add_node(shared.bare_paragraph, html=shared.BARE_HTML_VISITORS)
    app.add_node(shared.bare_row, html=shared.BARE_ROW_HTML_VISITORS)
    app.add_node(shared.heading, html=shared.HEADING_HTML_VISITORS)
    app.add_node(shared.page_title, html=shared.PAGE_TITLE_HTML_VISITORS)
    app.add_node(shared.view, html=shared.VIEW_HTML_VISITORS)
    app.add_node(shared.fact_list, html=shared.FACT_LIST_HTML_VISITORS)
    app.add_node(shared.plain_code, html=shared.PLAIN_CODE_HTML_VISITORS)
    app.add_node(shared.plain_commands, html=shared.PLAIN_COMMANDS_HTML_VISITORS)
    app.add_node(shared.plain_box, html=shared.PLAIN_BOX_HTML_VISITORS)
    app.add_node(shared.plain_link, html=shared.PLAIN_LINK_HTML_VISITORS)
    unsearched = shared.UNSEARCHED_VISITORS
    app.add_node(
        shared.unsearched,
        html=unsearched,
        latex=unsearched,
        text=unsearched,
        man=unsearched,
        texinfo=unsearched,
    )
    app.add_node(deferred.deferred)
    app.add_css_file(listing.LISTING_CSS)

    # -- the build's timeline: every handler, in the order of the events
    toc_parents = internals.TocParents()
    # settings
    app.connect("config-inited", config.read_settings, priority=400)
    app.connect("config-inited", pages.tree_exclude_patterns)
    app.connect("config-inited", listing.add_static_path)  # before the config is compared
    app.connect("config-inited", gcpolicy.raise_threshold)  # before the pickles are loaded
    # before reading: the tree, the keys and the generated pages, read once
    app.connect("builder-inited", archived.open_archive)  # a cached deploy's previous site
    app.connect("builder-inited", loader.load)
    app.connect("builder-inited", loader.warn_undecodable)
    app.connect("builder-inited", remote.forget)  # deployed registries: read again
    app.connect("builder-inited", deferred.add_expander)  # builders other than HTML
    app.connect("builder-inited", pages.leave_namespace_pages_out_of_search)
    app.connect("builder-inited", internals.release_written_pages)
    app.connect("builder-inited", gcpolicy.freeze_loaded, priority=900)  # all loaded
    # which pages to read: those whose registry data changed
    app.connect("env-get-outdated", domain.outdated)
    app.connect("env-before-read-docs", toc_parents.remember)
    # reading
    app.connect("source-read", pages.name_the_namespace)
    app.connect("source-read", internals.bound_doctree_cache)
    app.connect("doctree-read", pages.mark_orphan)
    # which pages to write: also those read again for another output folder
    app.connect("env-get-updated", pages.read_for_another_output)
    # writing
    app.connect("write-started", toc_parents.set_aside)
    app.connect("missing-reference", shared.resolve_reference)
    app.connect("warn-missing-reference", domain.warn_unknown_container)
    app.connect("doctree-resolved", deferred.expand_for_html, priority=100)
    app.connect("doctree-resolved", internals.forget_written_doctree)
    app.connect("doctree-resolved", listing.resolve_site_links)
    app.connect("doctree-resolved", listing.plain_cells)
    app.connect("html-page-context", pages.hide_stub_source)
    app.connect("html-page-context", publish.link_feed)
    app.connect("html-page-context", signing.keys_page_context, priority=600)
    app.connect("html-collect-pages", listpages.collect_pages)  # a paged listing's pages
    # after writing: the JSON API, then what the build changed is put back
    app.connect("build-finished", toc_parents.restore)
    app.connect("build-finished", publish.write_site_files)
    app.connect("build-finished", listpages.save_state)
    app.connect("build-finished", gcpolicy.restore_threshold)
    app.connect("build-finished", gcpolicy.unfreeze, priority=900)
    app.connect("build-finished", gcpolicy.freeze_at_exit)
    app.connect("build-finished", archived.close_archive, priority=950)

    app.setup_extension("orgreg_sphinx.theme")  # the `orgreg` HTML theme
    app.setup_extension("sphinx.ext.githubpages")  # .nojekyll
    return {
        "version": __version__,
        "env_version": ENV_VERSION,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
