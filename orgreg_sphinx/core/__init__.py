"""The registry core: read a manifest tree into a model and turn it into outputs.

Nothing below this package imports Sphinx, docutils, MyST or sphinx-design: the
``orgreg`` command line (:mod:`orgreg_sphinx.cli`) and the Sphinx extension
(:mod:`orgreg_sphinx.sphinxext`) both build on it, never on each other.
"""
