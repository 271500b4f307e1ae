"""The registry project around a manifest tree: its Sphinx ``conf.py``, read
without running it (no Sphinx import, no code executed).

``orgreg check`` uses it to apply the limits the site's build applies
(``orgreg_max_readme_bytes``, ``orgreg_max_front_matter_bytes``,
``orgreg_max_tags``), so a pull request's check and the build refuse the same
files. Only literal values are read (numbers, strings, and arithmetic on
numbers such as ``64 * 1024``); any other value is left at its default.

Run at the top of a registry project (what ``orgreg init`` writes: a
``conf.py`` that sets ``orgreg_root``, the tree relative to the source folder,
and its pages in ``source/``, the Makefile's ``SOURCEDIR``, or beside
``conf.py``), ``orgreg check`` and ``orgreg manifest`` use that project's tree
(:func:`find_project`) rather than the project's top.
"""

from __future__ import annotations

import ast
import operator
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import Limits

CONF_FILE = "conf.py"
#: the settings that mark a ``conf.py`` as a registry project's
ROOT_SETTING = "orgreg_root"
#: the source folder of a project whose pages are not beside conf.py
SOURCE_FOLDER = "source"
#: how many folders above the tree a ``conf.py`` is looked for
SEARCH_DEPTH = 3
#: ``conf.py`` files larger than this are not read
MAX_CONF_BYTES = 1024 * 1024

#: the settings of :class:`~.model.Limits`, by the name of their field
LIMIT_SETTINGS = {
    "max_readme": "orgreg_max_readme_bytes",
    "max_front_matter": "orgreg_max_front_matter_bytes",
    "max_tags": "orgreg_max_tags",
}

_OPERATORS: Mapping[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.LShift: operator.lshift,
}


class NotLiteral(ValueError):
    """A value that cannot be read without running code."""


#: the value :func:`literal_settings` gives a name assigned something else than a literal
NOT_LITERAL: Any = NotLiteral("not a literal")


def literal_value(node: ast.expr) -> Any:
    """The value of *node* if it is a literal (or arithmetic on literal numbers)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = literal_value(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = literal_value(node.left), literal_value(node.right)
        numbers = all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right)
        )
        if numbers and not (isinstance(node.op, ast.LShift) and not 0 <= right <= 64):
            return _OPERATORS[type(node.op)](left, right)
    raise NotLiteral(ast.dump(node))


def literal_settings(conf: Path) -> dict[str, Any]:
    """The module-level ``name = value`` settings of *conf* whose values are
    literals (the last assignment of a name counts; a name assigned something
    else is :data:`NOT_LITERAL`)."""
    try:
        if conf.stat().st_size > MAX_CONF_BYTES:
            return {}
        tree = ast.parse(conf.read_bytes(), str(conf))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    found[target.id] = literal_value(value)
                except (NotLiteral, RecursionError):
                    found[target.id] = NOT_LITERAL
    return found


def project_conf(tree: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]] | None:
    """The ``conf.py`` of the registry project whose manifest tree is *tree*,
    with its literal settings: the nearest ``conf.py`` in *tree* or the folders
    above it that sets ``orgreg_root`` to *tree* (relative to the source folder,
    which is the ``conf.py``'s folder or one between it and the tree), or sets it
    to a value that cannot be read literally. None when there is none."""
    tree_path = Path(tree).resolve()
    folders = [tree_path, *tree_path.parents][: SEARCH_DEPTH + 1]
    for index, folder in enumerate(folders):
        conf = folder / CONF_FILE
        if not conf.is_file():
            continue
        settings = literal_settings(conf)
        root = settings.get(ROOT_SETTING)
        if root is NOT_LITERAL:
            return conf, settings
        if not isinstance(root, str):
            continue
        # the source folder: the conf.py's folder, or one between it and the tree (-c)
        sources = folders[: index + 1]
        if any((source / (root or ".")).resolve() == tree_path for source in sources):
            return conf, settings
    return None


def project_limits(tree: str | os.PathLike[str]) -> tuple[Limits, Path | None]:
    """The limits the site's build applies to *tree* (its project's ``conf.py``,
    :func:`project_conf`), with that file; the defaults and None without one."""
    found = project_conf(tree)
    if found is None:
        return Limits(), None
    conf, settings = found
    values = {
        field: settings[name]
        for field, name in LIMIT_SETTINGS.items()
        if isinstance(settings.get(name), int)
        and not isinstance(settings.get(name), bool)
        and settings[name] > 0
    }
    return Limits(**values), conf


@dataclass(frozen=True)
class Project:
    """A registry project: its conf.py and the manifest tree it names."""

    conf: Path
    tree: Path
    #: the value of ``orgreg_root`` as written ('' when conf.py leaves it out)
    setting: str


def find_project(folder: Path) -> Project | None:
    """The registry project whose top is *folder*, if it is one: a ``conf.py``
    there that sets ``orgreg_root`` to a literal string, or sets none but
    mentions ``orgreg_sphinx`` (the tree is then the source folder). None for
    any other folder, or when ``orgreg_root`` is not a literal (its tree is
    unknown without running ``conf.py``)."""
    conf = folder / CONF_FILE
    if not conf.is_file():
        return None
    root = literal_settings(conf).get(ROOT_SETTING)
    if root is None:
        try:
            if conf.stat().st_size > MAX_CONF_BYTES or b"orgreg_sphinx" not in conf.read_bytes():
                return None
        except OSError:
            return None
        root = ""
    if not isinstance(root, str):
        return None
    source = folder
    pages_beside = any((folder / f"index{suffix}").is_file() for suffix in (".md", ".rst"))
    if not pages_beside and (folder / SOURCE_FOLDER).is_dir():
        source = folder / SOURCE_FOLDER
    return Project(conf=conf, tree=source / root if root else source, setting=root)
