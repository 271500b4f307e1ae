"""Deployed registries named by ``registry`` directives (a URL argument), read
over their JSON API once per build (:mod:`orgreg_sphinx.core.remote`, which
keeps a cached copy in the doctree folder and forgets what it read at
``builder-inited``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from ..core import remote
from .config import settings_of
from .warnings_ import Subtype, warn

logger = logging.getLogger(__name__)


def read_remote(
    env: BuildEnvironment, url: str, names: tuple[str, ...], location: Any = None
) -> remote.RemoteRegistry:
    """The deployed registry at *url*, read once per build (warnings reported)."""
    return remote.registry_for(
        url,
        names,
        Path(env.doctreedir) / remote.CACHE_FOLDER,
        settings_of(env.config).remote,
        report=lambda message: warn(message, subtype=Subtype.REMOTE, location=location),
    )
