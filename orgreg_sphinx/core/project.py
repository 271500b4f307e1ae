"""The registry project around a manifest tree: its Sphinx ``conf.py``, read
without running it (no Sphinx import, no code executed).

``orgreg check`` uses it to apply the limits the site's build applies
(``orgreg_max_readme_bytes``, ``orgreg_max_front_matter_bytes``,
``orgreg_max_tags``), so a pull request's check and the build refuse the same
files. Only literal values are read (numbers, strings, and arithmetic on
numbers such as ``64 * 1024``); any other value is left at its default.
"""

from __future__ import annotations

import ast
import operator
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .model import Limits

CONF_FILE = "conf.py"
#: the settings that mark a ``conf.py`` as a registry project's
ROOT_SETTING = "orgreg_root"
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
    except (OSError, SyntaxError, ValueError):
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
                except NotLiteral:
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
