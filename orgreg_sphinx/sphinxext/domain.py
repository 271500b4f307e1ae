"""The ``orgreg`` domain: containers as Sphinx objects, and what each page shows.

* The registry and the trusted keys of a build are read once, at
  ``builder-inited`` (:mod:`.loader`, before ``-j`` forks its workers, which
  inherit them), and kept on the domain instance.
* Each page records what it shows (:class:`.stamps.ShownData`) with its change stamp;
  at ``env-get-outdated`` pages whose data changed are read again, and no others.
* Each generated namespace page records its namespace and tags as objects:
  Sphinx lists them in ``objects.inv``, so another project links to a deployed
  registry's containers with ``sphinx.ext.intersphinx`` and the ``container`` role.
* ``:container:`org/repo:tag``` (or ``org/repo``) links to the tag's row on its
  namespace page; an unknown container warns and stays plain text.

The domain's data are kept per document (``clear_doc``/``merge_domaindata``),
so parallel reading is safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import Any, cast

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.domains import Domain, ObjType
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

from ..core.model import Namespace, Registry
from ..core.trusted import TrustedKey
from .config import settings_of
from .shared import tag_anchor
from .stamps import Kind, ShownData, current_stamp
from .stubs import namespace_docname
from .warnings_ import Subtype, warn

logger = logging.getLogger(__name__)

NAME = "orgreg"
#: the role's name, in the domain and as a global role
CONTAINER_ROLE = "container"


def tag_object(namespace: str, tag: str) -> str:
    """The object name of a tag: ``org/repo:tag``."""
    return f"{namespace}:{tag}"


class ContainerRole(XRefRole):
    """``:container:`org/repo:tag``` or ``:container:`org/repo```: a cross-reference
    resolved by the ``orgreg`` domain (then by intersphinx), also without the
    domain prefix."""

    innernodeclass = nodes.literal

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        self.refdomain, self.reftype = NAME, CONTAINER_ROLE
        self.classes = ["xref", CONTAINER_ROLE]
        if self.disabled:
            return self.create_non_xref_node()
        return self.create_xref_node()

    def result_nodes(
        self,
        document: nodes.document,
        env: BuildEnvironment,
        node: nodes.Element,
        is_ref: bool,
    ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        if is_ref:  # read the page again when the container appears or goes
            target = node["reftarget"].strip()
            domain_of(env).note_shown(env.docname, ShownData(Kind.CONTAINER, target))
        return [node], []


class OrgregDomain(Domain):
    """Namespaces and tags of the registry, and what each page shows of it."""

    name = NAME
    label = "Container registry"
    object_types = {
        "namespace": ObjType("namespace", CONTAINER_ROLE),
        "tag": ObjType("tag", CONTAINER_ROLE),
    }
    roles = {CONTAINER_ROLE: ContainerRole(warn_dangling=True)}
    initial_data = {
        #: docname -> {ShownData: stamp when read}
        "shown": {},
        #: namespace name -> docname of its page
        "namespaces": {},
        #: namespace name -> {tag name: anchor on the namespace's page}
        "tags": {},
    }
    data_version = 2

    #: the registry of this build, read at builder-inited (not pickled with the
    #: environment: domains are made again for each build)
    registry: Registry
    #: the organization's trusted keys by fingerprint, read at builder-inited
    #: (:mod:`.loader`); none until then
    trusted_keys: dict[str, TrustedKey] = {}  # replaced per build, never changed in place
    #: the docname of the generated keys page of this build ('' when there is none)
    keys_page = ""

    @property
    def shown(self) -> dict[str, dict[ShownData, str]]:
        return cast("dict[str, dict[ShownData, str]]", self.data["shown"])

    @property
    def namespaces(self) -> dict[str, str]:
        return cast("dict[str, str]", self.data["namespaces"])

    @property
    def tags(self) -> dict[str, dict[str, str]]:
        return cast("dict[str, dict[str, str]]", self.data["tags"])

    # -- per-document data

    def note_shown(self, docname: str, shown: ShownData) -> None:
        """Record that *docname* shows *shown* (with its current stamp)."""
        self.shown.setdefault(docname, {})[shown] = current_stamp(self, shown)

    def note_namespace_page(self, docname: str, ns: Namespace, anchors: dict[str, str]) -> None:
        """Record *ns* as an object at *docname* (its own page), and its tags at
        *anchors* there."""
        self.namespaces[ns.name] = docname
        self.tags[ns.name] = dict(anchors)

    def showing(self, shown: ShownData) -> tuple[str, None] | None:
        """A page that shows *shown* (where a warning about it points)."""
        for docname, data in sorted(self.shown.items()):
            if shown in data:
                return (docname, None)
        return None

    def clear_doc(self, docname: str) -> None:
        self.shown.pop(docname, None)
        # a namespace's objects are recorded by its own page only
        name = docname.removesuffix("/index")
        if self.namespaces.get(name) == docname:
            del self.namespaces[name]
            self.tags.pop(name, None)

    def merge_domaindata(self, docnames: Set[str], otherdata: dict[str, Any]) -> None:
        for docname, data in otherdata["shown"].items():
            if docname in docnames:
                self.shown[docname] = data
        for name, docname in otherdata["namespaces"].items():
            if docname in docnames:
                self.namespaces[name] = docname
                self.tags[name] = otherdata["tags"].get(name, {})

    # -- objects and references

    def get_objects(self) -> Iterable[tuple[str, str, str, str, str, int]]:
        """Namespaces (searchable) and tags (priority -1: in ``objects.inv`` for
        intersphinx, not in the search index, where each tag's name is already
        found as a word of its page; 5 tags a namespace would grow it by 40 %)."""
        for name, docname in sorted(self.namespaces.items()):
            yield name, name, "namespace", docname, "", 1
        for name, docname in sorted(self.namespaces.items()):
            for tag, anchor in sorted(self.tags.get(name, {}).items()):
                full = tag_object(name, tag)
                yield full, full, "tag", docname, anchor, -1

    def find(self, target: str) -> tuple[str, str, str] | None:
        """(object type, docname, anchor) of a container of this build's registry
        that has a page, or None."""
        registry = getattr(self, "registry", None)
        if registry is None or not settings_of(self.env.config).namespace_pages:
            return None
        name, _, tag = target.strip().partition(":")
        ns = registry.namespace(name)
        if ns is None or namespace_docname(ns.name) not in self.env.all_docs:
            return None
        if not tag:
            return "namespace", namespace_docname(ns.name), ""
        found = ns.tag(tag)
        if found is None:
            return None
        # where its page put it (a tag beyond a long table's rows: the table)
        anchor = self.tags.get(ns.name, {}).get(found.name) or tag_anchor(found)
        return "tag", namespace_docname(ns.name), anchor

    def resolve_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        typ: str,
        target: str,
        node: addnodes.pending_xref,
        contnode: nodes.Element,
    ) -> nodes.reference | None:
        found = self.find(target)
        if found is None:
            return None
        _, docname, anchor = found
        contnode["classes"].append("orgreg-container")
        return make_refnode(builder, fromdocname, docname, anchor, contnode)

    def resolve_any_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        target: str,
        node: addnodes.pending_xref,
        contnode: nodes.Element,
    ) -> list[tuple[str, nodes.reference]]:
        found = self.resolve_xref(env, fromdocname, builder, CONTAINER_ROLE, target, node, contnode)
        return [(f"{NAME}:{CONTAINER_ROLE}", found)] if found is not None else []


def domain_of(env: BuildEnvironment) -> OrgregDomain:
    return cast("OrgregDomain", env.domains[NAME])


def registry(env: BuildEnvironment) -> Registry:
    """The registry of this build (empty when none was read)."""
    domain = domain_of(env)
    if not hasattr(domain, "registry"):
        domain.registry = Registry(settings_of(env.config).root)
    return domain.registry


def outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Pages whose registry data differ from what they show."""
    domain = domain_of(env)
    stale = []
    current: dict[ShownData, str] = {}
    for docname, shown in domain.shown.items():
        if docname in changed or docname in removed or docname in added:
            continue
        for key, old in shown.items():
            if key not in current:
                current[key] = current_stamp(domain, key)
            if current[key] != old:
                stale.append(docname)
                break
    if stale:
        logger.info("[orgreg] %d page(s) show changed registry data", len(stale))
    return stale


def warn_unknown_container(
    app: Sphinx, domain: Domain | None, node: addnodes.pending_xref
) -> bool | None:
    """A ``container`` reference neither this build nor intersphinx resolved: say
    what is missing, unless the local registry has it (and only no page)."""
    if domain is None or domain.name != NAME:
        return None
    name, _, tag = node["reftarget"].strip().partition(":")
    ns = registry(app.env).namespace(name)
    problem = ""
    if ns is None:
        problem = f"container: unknown namespace {name!r}"
    elif tag and ns.tag(tag) is None:
        problem = f"container: namespace {ns.name!r} has no tag {tag!r}"
    if problem:
        warn(problem, subtype=Subtype.UNKNOWN, location=node)
    return True
