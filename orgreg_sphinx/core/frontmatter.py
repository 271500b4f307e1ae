"""Split a README.md into YAML front matter and Markdown body, safely.

Contributed files are untrusted: the YAML is read with the safe loader, aliases
and deep nesting are refused, sizes are capped, and every error carries the line
it was found on (1-based, counted in the whole file).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

import yaml

try:  # libyaml is much faster; the pure-Python loader behaves the same
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_DEPTH = 20
MAX_NODES = 10_000
#: one message for every depth limit: ours, libyaml's flow-nesting limit (libyaml
#: 0.2.5, bundled with PyYAML up to 6.0.2, has none) and Python's recursion limit
_TOO_DEEP = (
    f"has front matter nested too deeply: lists and mappings nested deeper "
    f"than {MAX_DEPTH} levels are refused"
)


class FrontMatterError(ValueError):
    """A README whose front matter cannot be used; ``line`` is 1-based or None."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Document:
    """The parts of a README.md: its front matter data and Markdown body."""

    data: dict[str, Any]
    body: str
    #: line (1-based, in the file) of each top-level key and of nested paths
    lines: dict[tuple[str | int, ...], int]


def decode(raw: bytes) -> str:
    """Decode file bytes as UTF-8 (a BOM is dropped) with universal newlines."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise FrontMatterError(
            f"is not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start})",
            line,
        ) from None
    if "\x00" in text:
        raise FrontMatterError("contains a NUL character: not a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split(text: str) -> tuple[str, str, int]:
    """Return (front matter, body, line of the first front-matter line)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        if not text.strip():
            raise FrontMatterError("is empty: expected YAML front matter between '---' lines", 1)
        raise FrontMatterError("has no YAML front matter: the first line must be '---'", 1)
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), 2
    raise FrontMatterError("has front matter that is never closed: no second '---' line", 1)


def _error_line(err: yaml.MarkedYAMLError, front: str) -> int:
    """The 0-based line of *front* a YAML error is on: where the YAML parser
    noticed it, except when that is the end of the front matter (an unclosed
    quote, bracket or key is noticed only there): then the line where the
    unfinished construct began, else the last line that holds anything."""
    lines = front.split("\n")
    written = [n for n, text in enumerate(lines) if text.strip()]
    last = written[-1] if written else 0

    def at_end(mark: Any) -> bool:
        return bool(
            mark.line > last or (mark.line == last and mark.column >= len(lines[last].rstrip()))
        )

    for mark in (err.problem_mark, err.context_mark):
        if mark is not None and not at_end(mark):
            return int(mark.line)
    return last


def parse(text: str, *, max_front_matter: int = 65536) -> Document:
    """Parse README text into a :class:`Document`, or raise FrontMatterError."""
    front, body, first_line = split(text)
    if len(front.encode("utf-8")) > max_front_matter:
        raise FrontMatterError(
            f"has front matter of {len(front.encode('utf-8'))} bytes, over the "
            f"limit of {max_front_matter}",
            first_line,
        )
    if "\t" in front:
        # YAML forbids tabs for indentation; tell the author exactly where
        for offset, text in enumerate(front.split("\n")):
            if text[: len(text) - len(text.lstrip())].count("\t"):
                raise FrontMatterError(
                    "indents front matter with a tab; YAML needs spaces", first_line + offset
                )
    loader = _Loader(front)
    try:
        node = loader.get_single_node()
        if node is None:
            raise FrontMatterError("has empty front matter", first_line)
        lines: dict[tuple[str | int, ...], int] = {}
        _check_node(node, (), first_line, lines, set(), 0)
        data = loader.construct_document(node)
    except FrontMatterError:
        raise
    except yaml.MarkedYAMLError as err:
        line = first_line + _error_line(err, front)
        problem = err.problem or str(err)
        if "nesting depth" in problem:  # libyaml's own limit on flow nesting
            raise FrontMatterError(_TOO_DEEP, line) from None
        raise FrontMatterError(f"has invalid YAML front matter: {problem}", line) from None
    except yaml.YAMLError as err:
        problem = str(err).split("\n", 1)[0]
        position = getattr(err, "position", None)  # a reader error: a character offset
        line = first_line + front[:position].count("\n") if position is not None else first_line
        raise FrontMatterError(f"has invalid YAML front matter: {problem}", line) from None
    except RecursionError:
        raise FrontMatterError(_TOO_DEEP, first_line) from None
    except (ValueError, TypeError, OverflowError) as err:
        # values the YAML grammar accepts but Python cannot build (2024-13-45)
        raise FrontMatterError(
            f"has an impossible value in its front matter: {err}", first_line
        ) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        raise FrontMatterError(
            f"has front matter that is a {kind}, not a mapping of keys to values", first_line
        )
    return Document(data=_plain(data), body=body, lines=lines)


def _check_node(
    node: yaml.Node,
    path: tuple[str | int, ...],
    first_line: int,
    lines: dict[tuple[str | int, ...], int],
    seen: set[int],
    depth: int,
) -> None:
    """Refuse aliases, deep nesting, huge documents and duplicate keys; note lines."""
    if id(node) in seen:
        raise FrontMatterError(
            "uses a YAML alias (*name); aliases are not allowed in front matter",
            first_line + node.start_mark.line,
        )
    seen.add(id(node))
    if len(seen) > MAX_NODES:
        raise FrontMatterError(f"has more than {MAX_NODES} values in its front matter", first_line)
    if depth > MAX_DEPTH:
        raise FrontMatterError(_TOO_DEEP, first_line + node.start_mark.line)
    lines[path] = first_line + node.start_mark.line
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            _check_node(key_node, (*path, "<key>"), first_line, {}, seen, depth + 1)
            key = _key_text(key_node)
            if key in keys:
                raise FrontMatterError(
                    f"repeats the key '{key}'", first_line + key_node.start_mark.line
                )
            keys.add(key)
            _refuse_alias(value_node, seen, first_line + key_node.start_mark.line)
            _check_node(value_node, (*path, key), first_line, lines, seen, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_alias(item, seen, first_line + node.start_mark.line)
            _check_node(item, (*path, index), first_line, lines, seen, depth + 1)


def _key_text(node: yaml.Node) -> str:
    """A mapping key as it will be named in JSON: ``01``, ``1`` and ``'1'`` are one key."""
    if not isinstance(node, yaml.ScalarNode):
        return repr(node.value)[:40]
    try:
        value = yaml.constructor.SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return str(node.value)
    return value if isinstance(value, str) else str(_plain(value))


def _refuse_alias(node: yaml.Node, seen: set[int], line: int) -> None:
    """A node met twice is an alias: report it where it is used."""
    if id(node) in seen:
        raise FrontMatterError(
            "uses a YAML alias (*name); aliases are not allowed in front matter", line
        )


def _plain(value: Any) -> Any:
    """Turn YAML values into JSON-compatible ones (dates become ISO strings)."""
    if isinstance(value, dict):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            name = key if isinstance(key, str) else str(_plain(key))
            if name in plain:  # `1` and `01`, `null` and `~`: one key once stringified
                raise FrontMatterError(f"repeats the key '{name}' (written two ways)")
            plain[name] = _plain(item)
        return plain
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(str(v) for v in value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
