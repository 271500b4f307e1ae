"""Every warning of the extension: Sphinx's ``type`` ``orgreg`` and a subtype
from :class:`Subtype`, so ``suppress_warnings = ["orgreg.remote"]`` (or
``["orgreg"]``) silences exactly those, and ``-W`` fails the build on them.
(As MyST's ``warnings_.py``.)"""

from __future__ import annotations

import enum
from typing import Any

from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Sphinx's warning type of every warning of the extension
WARNING_TYPE = "orgreg"


class Subtype(enum.StrEnum):
    """The subtypes of the extension's warnings. (A file of the tree left out is
    warned about with its problem's code as subtype, ``orgreg.<code>``: the codes
    of :class:`orgreg_sphinx.core.model.Problem`.)"""

    #: a trusted key file left out
    KEYS = "keys"
    #: a ``registry`` directive or ``container`` role names what the registry lacks
    UNKNOWN = "unknown"
    #: a directive option that cannot be used as given
    OPTION = "option"
    #: a deployed registry could not be read (or only from its cached copy)
    REMOTE = "remote"
    #: ``orgreg_feed = True`` without the site's address
    FEED = "feed"
    #: ``orgreg_oci_layout`` for a site below the root of its host
    OCI = "oci"
    #: this Sphinx is not what a feature needs (the feature is off)
    SPHINX = "sphinx"
    #: part of the tree's git history could not be read (the rest is shown)
    HISTORY = "history"


def warn(message: str, *args: Any, subtype: Subtype | str, location: Any = None) -> None:
    """Log an ``orgreg.<subtype>`` warning (*args* are *message*'s ``%`` arguments)."""
    logger.warning(message, *args, type=WARNING_TYPE, subtype=str(subtype), location=location)
