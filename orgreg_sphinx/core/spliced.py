"""Files of one part per namespace, made again from the parts that changed.

The registry-wide files (``api/catalog.json``, ``api/SHA256SUMS``, ...) are
made of one part per namespace in name order. Made from scratch, the 100,000
tags of 10,000 namespaces cost a second at every build, for one added tag. A
file made with :func:`splice` keeps, with its bytes, where each part lies and
the stamp it was made from (a note, :class:`~.files.Recall`); the next build
copies each part whose stamp is unchanged from the file's former bytes and
makes only the others. The bytes are those a make from scratch gives.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .files import Recall


@dataclass(frozen=True)
class Part:
    """One namespace's part of a file: *key* names it (the namespace), *stamp*
    is a digest of what its bytes are made from, *make* makes them."""

    key: str
    stamp: str
    make: Callable[[], bytes]


def splice(
    rel: str,
    head: bytes,
    parts: Iterable[Part],
    tail: bytes,
    recall: Recall | None = None,
    separator: bytes = b"",
) -> bytes:
    """*head*, the parts' bytes joined by *separator*, then *tail*: the output
    file *rel*. With a *recall*, a part whose key and stamp the file's former
    note holds is copied from the former bytes, and the new note is kept."""
    former = _former_parts(rel, recall)
    chunks: list[bytes | memoryview] = [head]
    keys: list[str] = []
    stamps: list[str] = []
    bounds = array("q")
    at = len(head)
    for part in parts:
        if keys:
            chunks.append(separator)
            at += len(separator)
        found = former.get(part.key)
        body: bytes | memoryview = (
            found[1] if found is not None and found[0] == part.stamp else part.make()
        )
        chunks.append(body)
        bounds.extend((at, at + len(body)))
        at += len(body)
        keys.append(part.key)
        stamps.append(part.stamp)
    chunks.append(tail)
    if recall is not None:
        recall.keep(rel, (keys, stamps, bounds.tobytes()))
    return b"".join(chunks)


def _former_parts(rel: str, recall: Recall | None) -> dict[str, tuple[str, memoryview]]:
    """Each part of the file's former bytes by key: (stamp, bytes); none when
    there is no usable note."""
    found = recall.former(rel) if recall is not None else None
    if found is None:
        return {}
    data, note = found
    try:
        keys, stamps, packed = _unpack(note)
        bounds = array("q", packed)
    except (TypeError, ValueError):
        return {}
    if not len(keys) == len(stamps) == len(bounds) // 2:
        return {}
    view = memoryview(data)
    parts: dict[str, tuple[str, memoryview]] = {}
    for i, key in enumerate(keys):
        start, end = bounds[2 * i], bounds[2 * i + 1]
        if not 0 <= start <= end <= len(data):
            return {}
        parts[key] = (stamps[i], view[start:end])
    return parts


def _unpack(note: Any) -> tuple[list[str], list[str], bytes]:
    keys, stamps, packed = note
    if not isinstance(keys, list) or not isinstance(stamps, list) or not isinstance(packed, bytes):
        raise TypeError("not a note of splice")
    return keys, stamps, packed
