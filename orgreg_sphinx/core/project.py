"""The manifest tree of a registry project, found without Sphinx.

A registry project (what ``orgreg init`` writes) has a ``conf.py`` at its top
that sets ``orgreg_root`` (the tree, relative to the source folder), and its
pages in ``source/`` (the Makefile's ``SOURCEDIR``) or beside ``conf.py``. Run
there, ``orgreg check`` and ``orgreg manifest`` use that tree rather than the
project's top. ``conf.py`` is read, never run: only a literal string assigned to
``orgreg_root`` at its top level counts (Python's :mod:`ast`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

CONF_FILE = "conf.py"
#: the source folder of a project whose pages are not beside conf.py
SOURCE_FOLDER = "source"
#: conf.py files larger than this are not read (a settings file is small)
MAX_CONF_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Project:
    """A registry project: its conf.py and the manifest tree it names."""

    conf: Path
    tree: Path
    #: the value of ``orgreg_root`` as written ('' when conf.py leaves it out)
    setting: str


def orgreg_root(conf: Path) -> str | None:
    """The literal ``orgreg_root`` of *conf* ('' when the file mentions
    ``orgreg_sphinx`` but sets no root; None when it is no registry's conf.py or
    cannot be read)."""
    try:
        if conf.stat().st_size > MAX_CONF_BYTES:
            return None
        text = conf.read_bytes()
        module = ast.parse(text, filename=str(conf))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found: str | None = None
    for node in module.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "orgreg_root":
                try:
                    literal = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                    continue
                if isinstance(literal, str):
                    found = literal
    if found is None and b"orgreg_sphinx" in text:
        return ""
    return found


def find_project(folder: Path) -> Project | None:
    """The registry project whose top is *folder*, if it is one."""
    conf = folder / CONF_FILE
    if not conf.is_file():
        return None
    setting = orgreg_root(conf)
    if setting is None:
        return None
    source = folder
    pages_beside = any((folder / f"index{suffix}").is_file() for suffix in (".md", ".rst"))
    if not pages_beside and (folder / SOURCE_FOLDER).is_dir():
        source = folder / SOURCE_FOLDER
    return Project(conf=conf, tree=source / setting if setting else source, setting=setting)
