"""What a listing shows: which namespaces and tags, in which order, how many.

Pure functions over the model (no Sphinx), shared by local and remote listings
and by the signatures that decide incremental rebuilds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from .model import Namespace, Tag

#: sort keys of tag tables (each also accepted with a leading '-')
TAG_SORTS = ("name", "created", "size")
#: sort keys of the namespace list
NAMESPACE_SORTS = ("name", "tags", "updated")
GLOB_CHARS = frozenset("*?[")


def split_list(text: str) -> list[str]:
    """``"a, b c"`` -> ``["a", "b", "c"]`` (commas and/or spaces separate)."""
    return [part for part in re.split(r"[\s,]+", text.strip()) if part]


def is_glob(pattern: str) -> bool:
    return any(ch in GLOB_CHARS for ch in pattern)


def natural_key(text: str) -> tuple[Any, ...]:
    """Order ``1.9`` before ``1.10``: digit runs compare as numbers."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", text)
        if part
    )


def parse_sort(value: str, allowed: Sequence[str]) -> tuple[str, bool]:
    """``"-created"`` -> ``("created", True)``; ValueError for an unknown key."""
    value = value.strip()
    descending = value.startswith("-")
    key = value.lstrip("+-").strip()
    if key not in allowed:
        choices = ", ".join(f"{k}, -{k}" for k in allowed)
        raise ValueError(f"unknown sort order {value!r}: use one of {choices}")
    return key, descending


@dataclass(frozen=True)
class ListingSpec:
    """The options of one listing that decide what it shows."""

    namespaces: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sort: str = ""
    limit: int = 0
    #: deprecated tags: ``"flag"`` (shown, marked) or ``"hide"`` (left out)
    deprecated: str = "flag"

    def as_key(self) -> list[Any]:
        return [list(self.namespaces), list(self.tags), self.sort, self.limit, self.deprecated]


@dataclass
class Shown:
    """One namespace of a listing: the tags shown and how many were left out."""

    namespace: Namespace
    tags: list[Tag] = field(default_factory=list)
    hidden: int = 0


def match_namespaces(namespaces: Iterable[Namespace], patterns: Sequence[str]) -> list[Namespace]:
    """Namespaces named by *patterns* (names or globs, case-insensitive for names),
    in the order of the patterns, each once."""
    pool = list(namespaces)
    found: list[Namespace] = []
    seen: set[str] = set()
    for pattern in patterns:
        if is_glob(pattern):
            hits = sorted(
                (ns for ns in pool if fnmatchcase(ns.name, pattern)), key=lambda n: n.name
            )
        else:
            exact = [ns for ns in pool if ns.name == pattern]
            hits = exact or [ns for ns in pool if ns.name.lower() == pattern.lower()][:1]
        for ns in hits:
            if ns.name not in seen:
                seen.add(ns.name)
                found.append(ns)
    return found


def _tag_order(sort: str) -> tuple[Any, bool]:
    key, descending = parse_sort(sort or "name", TAG_SORTS)
    if key == "created":
        # tags without a time stamp go last in both directions
        def by_created(tag: Tag) -> Any:
            stamp = tag.created or ""
            return (bool(stamp) == descending, stamp, natural_key(tag.name))

        return by_created, descending
    if key == "size":
        return (lambda t: (t.size_bytes, natural_key(t.name))), descending
    return (lambda t: natural_key(t.name)), descending


def newest_first(tags: Iterable[Tag]) -> list[Tag]:
    """*tags* newest first (by ``created``), ties by name, highest version first;
    tags without a time last: the one order of the home page's tag names and of
    the usage examples' choice."""
    key, descending = _tag_order("-created")
    return sorted(tags, key=key, reverse=descending)


def select_tags(ns: Namespace, spec: ListingSpec) -> Shown:
    """The tags of *ns* that the listing shows, filtered, sorted and limited."""
    tags = [t for t in ns.tags if not spec.tags or any(fnmatchcase(t.name, g) for g in spec.tags)]
    if spec.deprecated == "hide":
        tags = [t for t in tags if not t.deprecated]
    key, descending = _tag_order(spec.sort)
    tags.sort(key=key, reverse=descending)
    hidden = 0
    if spec.limit and len(tags) > spec.limit:
        hidden = len(tags) - spec.limit
        tags = tags[: spec.limit]
    return Shown(ns, tags, hidden)


def default_tag(ns: Namespace) -> Tag | None:
    """The tag shown in examples (and made shpc's ``latest``): ``latest`` if there
    is one, else the newest (:func:`newest_first`); never a deprecated tag while
    another exists."""
    usable = [t for t in ns.tags if not t.deprecated] or list(ns.tags)
    named = [t for t in usable if t.name == "latest"]
    return named[0] if named else next(iter(newest_first(usable)), None)


def updated(ns: Namespace) -> str:
    """The newest time stamp of the namespace's tags ('' if none has one)."""
    return ns.newest_time()


def select_namespaces(
    namespaces: Iterable[Namespace], spec: ListingSpec
) -> tuple[list[Namespace], int]:
    """The namespace list: sorted and limited; returns the list and how many are left out."""
    pool = list(namespaces)
    if spec.namespaces:
        pool = match_namespaces(pool, spec.namespaces)
    key, descending = parse_sort(spec.sort or "name", NAMESPACE_SORTS)
    # ties in name order (A to Z) in both directions, as the theme's sort control does
    pool.sort(key=lambda n: n.name.lower())
    if key == "tags":
        pool.sort(key=lambda n: len(n.tags), reverse=descending)
    elif key == "updated":
        pool.sort(key=updated, reverse=descending)
    elif descending:
        pool.reverse()
    hidden = 0
    if spec.limit and len(pool) > spec.limit:
        hidden = len(pool) - spec.limit
        pool = pool[: spec.limit]
    return pool, hidden
