"""The loaded registry of a build, and which pages show which part of it.

The tree is read once per build, at ``builder-inited`` (before ``-j`` forks its
workers, which inherit it). A directive records on the environment a signature of
what it showed; at ``env-get-outdated`` pages whose data changed (a tag added,
removed or edited, a namespace gone) are read again, and no others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from ..core.model import ReadCache, Registry, load_registry
from . import config as cfg

logger = logging.getLogger(__name__)

#: file in the doctree folder keeping what the last build read from the tree
READ_CACHE_FILE = "orgreg-read-cache.pickle"
#: the registry read for the current build, by environment
_LOADED: dict[int, Registry] = {}
#: functions that compute the current signature for a key prefix ("ns", "list", ...)
SIGNERS: dict[str, Callable[[BuildEnvironment, str], str]] = {}


def digest(value: Any) -> str:
    """A short stable digest of JSON-able data."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def load(app: Sphinx) -> Registry:
    """Read the manifest tree of this build (at builder-inited)."""
    root = cfg.root_folder(app.srcdir, app.config)
    skip = frozenset(
        p.name for p in (app.outdir, app.doctreedir) if p.parent.resolve() == root
    )
    cache_file = Path(app.doctreedir) / READ_CACHE_FILE
    cache = ReadCache.load(cache_file)
    registry = load_registry(root, limits=cfg.limits(app.config), skip=skip, cache=cache)
    try:
        cache.save(cache_file)
    except OSError as err:  # a read-only doctree folder only makes rebuilds slower
        logger.debug("[orgreg] cannot save %s: %s", cache_file, err)
    _LOADED[id(app.env)] = registry
    return registry


def registry(env: BuildEnvironment) -> Registry:
    """The registry of this build (read now if it was not yet)."""
    found = _LOADED.get(id(env))
    if found is None:
        found = load(env._app)
    return found


def note_shown(env: BuildEnvironment, docname: str, key: str) -> None:
    """Record that *docname* shows the data named by *key* (e.g. ``ns:acme/x``)."""
    shown = env.orgreg_shown.setdefault(docname, {})  # type: ignore[attr-defined]
    shown[key] = signature(env, key)


def signature(env: BuildEnvironment, key: str) -> str:
    prefix, _, rest = key.partition(":")
    signer = SIGNERS.get(prefix)
    return signer(env, rest) if signer else ""


def _init_env(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    if not hasattr(env, "orgreg_shown"):
        env.orgreg_shown = {}  # type: ignore[attr-defined]


def outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Pages whose registry data differ from what they show."""
    if not hasattr(env, "orgreg_shown"):
        return []
    stale = []
    cache: dict[str, str] = {}
    for docname, shown in env.orgreg_shown.items():
        if docname in changed or docname in removed or docname in added:
            continue
        for key, old in shown.items():
            if key not in cache:
                cache[key] = signature(env, key)
            if cache[key] != old:
                stale.append(docname)
                break
    if stale:
        logger.info("[orgreg] %d page(s) show changed registry data", len(stale))
    return stale


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "orgreg_shown", {}).pop(docname, None)


def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    if not hasattr(env, "orgreg_shown"):
        env.orgreg_shown = {}  # type: ignore[attr-defined]
    theirs = getattr(other, "orgreg_shown", {})
    for docname in docnames:
        if docname in theirs:
            env.orgreg_shown[docname] = theirs[docname]


def sign_namespace(env: BuildEnvironment, name: str) -> str:
    """The signature of one namespace's page ("missing" once it is gone)."""
    ns = registry(env).namespace(name)
    return ns.signature() if ns is not None else "missing"


def _sign_site(env: BuildEnvironment, _: str) -> str:
    return digest([cfg.site_url(env.config)])


def setup(app: Sphinx) -> None:
    SIGNERS["site"] = _sign_site
    app.connect("env-before-read-docs", _init_env)
    app.connect("env-get-outdated", outdated)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
