"""What a page shows of the registry, named so its current change stamp can be computed.

A page records a :class:`ShownData` (a kind and a key) for each thing it shows, with
its stamp at reading time (:meth:`.domain.OrgregDomain.note_shown`); a later
build reads the page again when a stamp differs (a tag added, removed or
edited, a namespace gone), and only then. A stamp is a digest of data
(:func:`orgreg_sphinx.core.files.stamp`), never an OpenPGP signature.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from ..core.files import stamp
from ..core.model import Namespace, Registry
from ..core.selection import (
    ListingSpec,
    match_namespaces,
    select_namespaces,
    select_tags,
)
from ..core.selection import (
    Shown as ShownTags,
)
from ..core.trusted import TrustedKey
from . import deployed
from .config import settings_of

logger = logging.getLogger(__name__)


class Kind(enum.Enum):
    """Kinds of registry data a page can show."""

    #: tag tables of the local registry (key: a listing spec as JSON)
    TAGS = "tags"
    #: a namespace list of the local registry (key: a listing spec as JSON)
    NAMESPACES = "namespaces"
    #: a whole namespace page (key: the namespace's name)
    PAGE = "page"
    #: a ``container`` role (key: its target, ``org/repo[:tag]``)
    CONTAINER = "container"
    #: a listing of a deployed registry (key: ``[url, mode, spec]`` as JSON)
    REMOTE = "remote"
    #: the site's own address (key: '')
    SITE = "site"
    #: whether the registry trusts a signer (key: its fingerprint)
    KEY = "key"
    #: the registry's trusted keys (key: '' for the list; 'signed' with the tags
    #: each key signed, as the keys page shows them)
    KEYS = "keys"


class ShownData(NamedTuple):
    """One thing a page shows: its kind and what names it."""

    kind: Kind
    key: str = ""


class BuildData(Protocol):
    """What stamps are computed from: what the build read (the ``orgreg`` domain
    holds it, :class:`.domain.OrgregDomain`)."""

    env: BuildEnvironment
    registry: Registry
    trusted_keys: dict[str, TrustedKey]
    keys_page: str

    def showing(self, shown: ShownData) -> tuple[str, None] | None: ...


def stamp_tags(shown: list[ShownTags]) -> str:
    return stamp([(s.namespace.name, [t.stamp_data() for t in s.tags], s.hidden) for s in shown])


def stamp_namespaces(namespaces: list[Namespace], hidden: int) -> str:
    # tag names and dates too: the listing shows each namespace's newest tag names
    return stamp([[ns.row_stamp() for ns in namespaces], hidden])


def spec_from_key(data: list[Any]) -> ListingSpec:
    names, tags, sort, limit, *rest = data
    return ListingSpec(tuple(names), tuple(tags), sort, limit, *rest)


# ---------------------------------------------------------------- stampers


def _stamp_local_tags(domain: BuildData, key: str) -> str:
    spec = spec_from_key(json.loads(key))
    found = match_namespaces(domain.registry.namespaces, spec.namespaces)
    return stamp_tags([select_tags(ns, spec) for ns in found])


def _stamp_local_list(domain: BuildData, key: str) -> str:
    spec = spec_from_key(json.loads(key))
    return stamp_namespaces(*select_namespaces(domain.registry.namespaces, spec))


def _stamp_page(domain: BuildData, name: str) -> str:
    """The stamp of one namespace's page ("missing" once it is gone)."""
    ns = domain.registry.namespace(name)
    return ns.stamp() if ns is not None else "missing"


def _stamp_container(domain: BuildData, target: str) -> str:
    name, _, tag = target.partition(":")
    ns = domain.registry.namespace(name)
    if ns is None:
        return "none"
    return ns.name + (":" + tag if tag and ns.tag(tag) else "")


def _stamp_remote(domain: BuildData, key: str) -> str:
    url, mode, data = json.loads(key)
    spec = spec_from_key(data)
    where = domain.showing(ShownData(Kind.REMOTE, key))
    found = deployed.read_remote(domain.env, url, spec.namespaces, where)
    if mode == "list":
        found_stamp = stamp_namespaces(*select_namespaces(found.namespaces, spec))
    else:
        shown = match_namespaces(found.namespaces, spec.namespaces)
        found_stamp = stamp_tags([select_tags(ns, spec) for ns in shown])
    return stamp([bool(found.source), found_stamp])


def _stamp_site(domain: BuildData, _: str) -> str:
    settings = settings_of(domain.env.config)
    return stamp([settings.site_url, settings.json_api])


def _stamp_key(domain: BuildData, fingerprint: str) -> str:
    key = domain.trusted_keys.get(fingerprint)
    return stamp([key.fingerprint, key.name, key.created]) if key else "untrusted"


def _stamp_keys(domain: BuildData, what: str) -> str:
    keys = [(k.fingerprint, k.name, k.created, k.armored) for k in domain.trusted_keys.values()]
    if what != "signed":
        return stamp([keys, domain.keys_page])
    signed = [
        (ns.name, tag.name, tag.sif.signers if tag.sif else [])
        for ns in domain.registry.namespaces
        for tag in ns.tags
        if tag.sif and tag.sif.signers
    ]
    return stamp([keys, signed])


#: how the current stamp of each kind of shown data is computed
STAMPERS: dict[Kind, Callable[[BuildData, str], str]] = {
    Kind.TAGS: _stamp_local_tags,
    Kind.NAMESPACES: _stamp_local_list,
    Kind.PAGE: _stamp_page,
    Kind.CONTAINER: _stamp_container,
    Kind.REMOTE: _stamp_remote,
    Kind.SITE: _stamp_site,
    Kind.KEY: _stamp_key,
    Kind.KEYS: _stamp_keys,
}


def current_stamp(domain: BuildData, shown: ShownData) -> str:
    """The stamp of *shown* in the registry of this build."""
    return STAMPERS[shown.kind](domain, shown.key)
