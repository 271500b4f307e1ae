"""What a page shows of the registry, named so its current signature can be computed.

A page records a :class:`ShownData` (a kind and a key) for each thing it shows, with
its signature at reading time (:meth:`.domain.OrgregDomain.note_shown`); a later
build reads the page again when a signature differs (a tag added, removed or
edited, a namespace gone), and only then.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from ..core import remote
from ..core.model import Namespace
from ..core.selection import (
    ListingSpec,
    match_namespaces,
    select_namespaces,
    select_tags,
    updated,
)
from ..core.selection import (
    Shown as ShownTags,
)
from . import config as cfg

if TYPE_CHECKING:
    from .domain import OrgregDomain

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


def digest(value: Any) -> str:
    """A short stable digest of JSON-able data."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def sign_tags(shown: list[ShownTags]) -> str:
    return digest([(s.namespace.name, [t.fingerprint() for t in s.tags], s.hidden) for s in shown])


def sign_namespaces(namespaces: list[Namespace], hidden: int) -> str:
    # tag names and dates too: the listing shows each namespace's newest tag names
    return digest(
        [
            [
                (
                    ns.name,
                    ns.description,
                    len(ns.tags),
                    updated(ns),
                    [(t.name, t.created, t.deprecated) for t in ns.tags],
                )
                for ns in namespaces
            ],
            hidden,
        ]
    )


def spec_from_key(data: list[Any]) -> ListingSpec:
    names, tags, sort, limit, *rest = data
    return ListingSpec(tuple(names), tuple(tags), sort, limit, *rest)


def read_remote(
    env: BuildEnvironment, url: str, names: tuple[str, ...], location: Any = None
) -> remote.RemoteRegistry:
    """The deployed registry at *url*, read once per build (warnings reported)."""
    config = env.config
    settings = remote.FetchSettings(
        timeout=float(config.orgreg_remote_timeout),
        max_bytes=int(config.orgreg_remote_max_bytes),
        fetch=bool(config.orgreg_remote_fetch),
    )
    return remote.registry_for(
        url,
        names,
        Path(env.doctreedir) / remote.CACHE_FOLDER,
        settings,
        report=lambda message: logger.warning(
            message, location=location, type="orgreg", subtype="remote"
        ),
    )


# ---------------------------------------------------------------- signers


def _sign_local_tags(domain: OrgregDomain, key: str) -> str:
    spec = spec_from_key(json.loads(key))
    found = match_namespaces(domain.registry.namespaces, spec.namespaces)
    return sign_tags([select_tags(ns, spec) for ns in found])


def _sign_local_list(domain: OrgregDomain, key: str) -> str:
    spec = spec_from_key(json.loads(key))
    return sign_namespaces(*select_namespaces(domain.registry.namespaces, spec))


def _sign_page(domain: OrgregDomain, name: str) -> str:
    """The signature of one namespace's page ("missing" once it is gone)."""
    ns = domain.registry.namespace(name)
    return ns.signature() if ns is not None else "missing"


def _sign_container(domain: OrgregDomain, target: str) -> str:
    name, _, tag = target.partition(":")
    ns = domain.registry.namespace(name)
    if ns is None:
        return "none"
    return ns.name + (":" + tag if tag and ns.tag(tag) else "")


def _sign_remote(domain: OrgregDomain, key: str) -> str:
    url, mode, data = json.loads(key)
    spec = spec_from_key(data)
    where = domain.showing(ShownData(Kind.REMOTE, key))
    found = read_remote(domain.env, url, spec.namespaces, where)
    if mode == "list":
        signature = sign_namespaces(*select_namespaces(found.namespaces, spec))
    else:
        shown = match_namespaces(found.namespaces, spec.namespaces)
        signature = sign_tags([select_tags(ns, spec) for ns in shown])
    return digest([bool(found.source), signature])


def _sign_site(domain: OrgregDomain, _: str) -> str:
    config = domain.env.config
    return digest([cfg.site_url(config), config.orgreg_json_api])


def _sign_key(domain: OrgregDomain, fingerprint: str) -> str:
    key = domain.trusted_keys.get(fingerprint)
    return digest([key.fingerprint, key.name, key.created]) if key else "untrusted"


def _sign_keys(domain: OrgregDomain, what: str) -> str:
    keys = [(k.fingerprint, k.name, k.created, k.armored) for k in domain.trusted_keys.values()]
    if what != "signed":
        return digest([keys, domain.keys_page])
    signed = [
        (ns.name, tag.name, tag.sif.signers if tag.sif else [])
        for ns in domain.registry.namespaces
        for tag in ns.tags
        if tag.sif and tag.sif.signers
    ]
    return digest([keys, signed])


#: how the current signature of each kind of shown data is computed
SIGNERS: dict[Kind, Callable[[OrgregDomain, str], str]] = {
    Kind.TAGS: _sign_local_tags,
    Kind.NAMESPACES: _sign_local_list,
    Kind.PAGE: _sign_page,
    Kind.CONTAINER: _sign_container,
    Kind.REMOTE: _sign_remote,
    Kind.SITE: _sign_site,
    Kind.KEY: _sign_key,
    Kind.KEYS: _sign_keys,
}


def signature(domain: OrgregDomain, shown: ShownData) -> str:
    """The signature of *shown* in the registry of this build."""
    return SIGNERS[shown.kind](domain, shown.key)
