"""The ``registry`` directive: container listings from the local tree.

``.. registry::`` lists the namespaces; ``:namespace: org/repo`` (or a glob such
as ``acme/*``) shows tag tables; ``:page:`` renders a namespace's whole page
(what the generated pages use).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

from . import config as cfg
from . import listing, tracking
from .model import Namespace

logger = logging.getLogger(__name__)


def matching(env: BuildEnvironment, pattern: str) -> list[Namespace]:
    """Namespaces of the local registry whose name matches *pattern* (a glob)."""
    namespaces = tracking.registry(env).namespaces
    if not any(ch in pattern for ch in "*?["):
        ns = tracking.registry(env).namespace(pattern)
        return [ns] if ns is not None else []
    return [ns for ns in namespaces if fnmatchcase(ns.name, pattern)]


class RegistryDirective(SphinxDirective):
    """Show the registry, or some of its namespaces, as tables."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0
    option_spec = {
        "namespace": directives.unchanged_required,
        "page": directives.flag,
        "toctree": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        pattern = self.options.get("namespace", "").strip()
        box = nodes.container(classes=["orgreg"], support_smartquotes=False)
        self.set_source_info(box)
        if not pattern:
            box.extend(self.namespace_list())
            return [box]
        found = matching(self.env, pattern)
        tracking.note_shown(self.env, self.env.docname, f"list:{pattern}")
        for ns in found:
            for path in ns.files:
                self.env.note_dependency(str(path))
        if not found:
            logger.warning(
                "registry: no namespace matches %r", pattern, location=self.get_location(),
                type="orgreg", subtype="unknown",
            )
            return []
        if "page" in self.options:
            tracking.note_shown(self.env, self.env.docname, "site:")
            page = listing.namespace_page(
                found[0],
                cfg.site_url(self.config),
                shub=self.config.orgreg_shub_api,
                oci=self.config.orgreg_oci_layout,
            )
            page["support_smartquotes"] = False
            return [page]
        for ns in found:
            if len(found) > 1:
                box += nodes.rubric(ns.name, ns.name)
            box += listing.tag_table(ns, ns.tags, listing.TagTableOptions(anchors=False))
        return [box]

    def namespace_list(self) -> list[nodes.Node]:
        tracking.note_shown(self.env, self.env.docname, "list:*")
        namespaces = sorted(tracking.registry(self.env).namespaces, key=lambda n: n.name)
        pages = self.config.orgreg_namespace_pages
        out: list[nodes.Node] = []
        if not namespaces:
            out.append(nodes.paragraph(text="This registry has no containers yet."))
            return out
        out.append(listing.registry_summary(namespaces))
        out.append(listing.namespace_table(namespaces, self.env.docname, pages))
        if pages and "toctree" in self.options:
            out.append(listing.toctree(self.env.docname, namespaces))
        return out


def _sign_list(env: BuildEnvironment, pattern: str) -> str:
    """What a listing of *pattern* shows: names, descriptions and tag data."""
    if pattern == "*":
        namespaces = tracking.registry(env).namespaces
        return tracking.digest(
            [(ns.name, ns.description, [(t.name, t.created) for t in ns.tags])
             for ns in namespaces]
        )
    return tracking.digest([(ns.name, ns.signature()) for ns in matching(env, pattern)])


def resolve_site_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Turn :class:`~listing.site_link` nodes into links relative to the page."""
    builder = app.builder
    site = cfg.site_url(app.config)
    for node in list(doctree.findall(listing.site_link)):
        target = node["target"]
        if builder.format == "html":
            uri = relative_uri(builder.get_target_uri(docname), target)
        elif site:
            uri = site + target
        else:
            node.replace_self(nodes.Text(node.astext()))
            continue
        ref = nodes.reference(node.astext(), node.astext(), refuri=uri, internal=False)
        node.replace_self(ref)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(listing.site_link)
    app.add_directive("registry", RegistryDirective)
    tracking.SIGNERS["list"] = _sign_list
    app.connect("doctree-resolved", resolve_site_links)
    return {}
