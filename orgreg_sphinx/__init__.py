"""orgreg_sphinx: an organizational static container registry.

Three products share this package, each in its own subpackage:

- :mod:`orgreg_sphinx.core`: the registry (tree -> model -> outputs), no Sphinx;
- :mod:`orgreg_sphinx.cli`: the ``orgreg`` command line;
- :mod:`orgreg_sphinx.sphinxext`: the Sphinx extension, loaded by
  ``extensions = ["orgreg_sphinx"]``; and :mod:`orgreg_sphinx.theme`, the theme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # the orgreg command line starts without Sphinx
    from sphinx.application import Sphinx

__all__ = ["__version__", "setup"]


def setup(app: Sphinx) -> dict[str, Any]:
    """The Sphinx extension's entry point (``extensions = ["orgreg_sphinx"]``)."""
    from .sphinxext import setup as setup_extension

    return setup_extension(app)
