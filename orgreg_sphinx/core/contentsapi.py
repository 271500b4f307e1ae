"""The published contents: one JSON file per tag and a registry-wide index.

- ``<org>/<repo>/manifests/<tag>/contents.json``: the tag's record (what
  ``orgreg manifest`` found in the image) with the namespace, tag and digest;
- ``api/contents/index.json``: the shards there are (and how many names each
  holds), the shards cut into parts, where they are, and how many tags are
  indexed: a few bytes per shard;
- ``api/contents/<shard>.json``: an inverted index, each lower-cased package,
  command or label name -> ``[tag, kind, version]`` for each tag that holds it
  (``tag``: a position in the shard's ``tags``, each ``["<org>/<repo>:<tag>",
  arch, signed, deprecated]``; :func:`shard_body`). A shard holds the names beginning with its key
  (:func:`shard_of`): two characters, more where that would be larger than
  :data:`MAX_SHARD_BYTES` (:func:`plan_shards`); a single name larger than that
  (``bash``, in every image) is cut into parts ``<shard>.<n>.json``;
- ``api/contents/tags.json``: ``{"<org>/<repo>:<tag>": {"arch", "signed",
  "deprecated"}}`` of every indexed tag, for API users (a search does not read it).

A search reads the index and the one shard of what is typed: what a query
downloads is about :data:`MAX_SHARD_BYTES` and the index, whatever the
registry's size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from . import contents
from .model import Namespace, Registry, Tag

INDEX_PATH = "api/contents/index.json"
SHARD_PATH = "api/contents/{shard}.json"
TAGS_PATH = "api/contents/tags.json"
PART_PATH = "api/contents/{shard}.{part}.json"
#: the most bytes of one shard file (about): a query downloads the index and one
MAX_SHARD_BYTES = 64 * 1024
#: the longest label value indexed
MAX_LABEL_VALUE = 200
_SHARD_CHARS = re.compile(r"[a-z0-9]")


def dumps(body: Any) -> bytes:
    """Compact, sorted, safe inside HTML, one line ending in a newline (as the
    other endpoints: ``endpoints.dumps``)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (text + "\n").encode()


def tag_body(ns: Namespace, tag: Tag, record: dict[str, Any]) -> dict[str, Any]:
    """``GET <org>/<repo>/manifests/<tag>/contents.json``."""
    return {**record, "name": ns.name, "tag": tag.name, "digest": tag.digest}


def contents_path(ns: Namespace, tag: Tag) -> str:
    return f"{ns.name}/manifests/{tag.name}/{contents.RECORD_FILE}"


def namespace_contents_files(ns: Namespace) -> Iterator[tuple[str, bytes]]:
    """The contents file of each tag of *ns* that has a record."""
    for tag in ns.tags:
        record = tag.contents()
        if record is not None:
            yield contents_path(ns, tag), dumps(tag_body(ns, tag, record))


def shard_of(name: str, length: int = 2) -> str:
    """The shard key of a (lower-cased) name at *length*: its first *length*
    characters, ``_`` for any that is not a letter or digit, padded with ``_``
    (``samtools`` -> ``sa``, ``r`` -> ``r_``; at 3, ``samtools`` -> ``sam``)."""
    key = "".join(c if _SHARD_CHARS.fullmatch(c) else "_" for c in name[:length])
    return key.ljust(length, "_")


def postings(record: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(kind, name, version) of every package and command of a record; kind is
    ``command`` or the package type (``deb``, ``apk``, ``rpm``, ``conda``,
    ``python``, or what an SBOM says)."""
    for name in contents.executables(record):
        yield "command", name, ""
    for package in contents.unique_packages(record):
        yield package.get("type", ""), package["name"], package.get("version", "")


def label_postings(tag: Tag) -> Iterator[tuple[str, str, str]]:
    """(``label``, key, value) of each label of the image (the manifest's ``sif:``
    block): a search for a label's key finds the tags carrying it, with its value."""
    block = tag.sif
    for key, value in block.labels if block is not None else ():
        if key:
            yield "label", key, value[:MAX_LABEL_VALUE]


def tag_facts(tag: Tag) -> dict[str, Any]:
    """What a search can narrow by, besides names: architecture, signed (the
    manifest records a signature), deprecated."""
    block = tag.sif
    return {
        "arch": tag.arch or "",
        "signed": bool(block is not None and block.signatures),
        "deprecated": tag.deprecated is not None,
    }


Posting = tuple[str, str, str, str]


def _posting_size(posting: Posting) -> int:
    """About the bytes one posting takes in a shard: ``[tag, kind, version]``, and
    the name as written when it is not the lower-cased name."""
    ref, kind, version, written = posting
    extra = len(written) + 3 if written != written.lower() else 0
    return len(kind) + len(version) + extra + 16


def _tag_size(ref: str) -> int:
    """About the bytes of a tag's entry in a shard's ``tags`` list."""
    return len(ref) + 40


def _entry_size(name: str, found: set[Posting]) -> int:
    """About the bytes *name* and its postings take in a shard, with the entry
    of each tag (counted once per posting: a bound, not the exact size)."""
    return len(name) + 8 + sum(_posting_size(p) + _tag_size(p[0]) for p in found)


def _fits(names: dict[str, set[Posting]], limit: int, length: int) -> bool:
    """True when *names* make one shard at *length*: small enough, one name, or
    names that one more character cannot tell apart."""
    if len(names) == 1 or length >= max(len(n) for n in names):
        return True
    return sum(_entry_size(n, found) for n, found in names.items()) <= limit


def plan_shards(
    names: dict[str, set[Posting]], limit: int = MAX_SHARD_BYTES, length: int = 2
) -> Iterator[tuple[str, list[dict[str, list[Posting]]] | None, dict[str, Any]]]:
    """(key, parts, listing) of each shard file, children first: names
    grouped by their first *length* characters (:func:`shard_of`); a group larger
    than *limit* is split again by one more character (its file is then a listing
    of its children, parts None) until it fits or holds one name (or names the key
    cannot tell apart: then :func:`shard_parts` cuts it into parts). The listing
    returned last (key ``""``) is that of *length*: ``{"shards": {key: names},
    "parts": {key: parts, when more than one}, "split": [keys listed further]}``;
    at most 37 keys per extra character, whatever the registry's size (a split
    with one child only is skipped: keys of a listing may be several characters
    longer than its own, and none is the prefix of another)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(shard_of(name, length), []).append(name)
    if length > 2 and len(groups) == 1 and not _fits(names, limit, length):
        # one child only (``lib`` -> ``liba``...): no listing of its own
        yield from plan_shards(names, limit, length + 1)
        return
    listing: dict[str, Any] = {"shards": {}, "parts": {}, "split": []}
    for key, group in sorted(groups.items()):
        if _fits({n: names[n] for n in group}, limit, length):
            parts = shard_parts(sorted(group), names, limit)
            listing["shards"][key] = len(group)
            if len(parts) > 1:
                listing["parts"][key] = len(parts)
            yield key, parts, {}
        else:
            below = list(plan_shards({n: names[n] for n in group}, limit, length + 1))
            yield from below[:-1]
            listing["split"].append(key)
            yield key, None, below[-1][2]
    yield "", None, listing


def shard_parts(
    group: list[str], names: dict[str, set[Posting]], limit: int = MAX_SHARD_BYTES
) -> list[dict[str, list[Posting]]]:
    """The names of a shard in parts of about *limit* bytes each, counting the
    entries of the tags each part names (one part unless a single name's postings
    are larger: a name in every image, such as ``bash``, is then spread over
    several parts, in tag order)."""
    parts: list[dict[str, list[Posting]]] = [{}]
    refs: set[str] = set()
    size = 0
    for name in group:
        for posting in sorted(names[name]):
            cost = _posting_size(posting) + (0 if posting[0] in refs else _tag_size(posting[0]))
            if size + cost > limit and size > 0:
                parts.append({})
                refs = set()
                size = 0
                cost = _posting_size(posting) + _tag_size(posting[0])
            if name not in parts[-1]:
                size += len(name) + 8
            parts[-1].setdefault(name, []).append(posting)
            refs.add(posting[0])
            size += cost
    return parts


def shard_body(part: dict[str, list[Posting]], facts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A shard file: ``tags``, each named tag once as ``[ref, arch, signed,
    deprecated]``, and ``names``: name -> ``[[tag's position in tags, kind,
    version], ...]``, with the name as written fourth when it is not the
    lower-cased name (``PyYAML``)."""
    refs = sorted({p[0] for found in part.values() for p in found})
    position = {ref: i for i, ref in enumerate(refs)}
    return {
        "tags": [
            [ref, facts[ref]["arch"], facts[ref]["signed"], facts[ref]["deprecated"]]
            for ref in refs
        ],
        "names": {
            name: [
                [position[ref], kind, version, *([written] if written != name else [])]
                for ref, kind, version, written in found
            ]
            for name, found in part.items()
        },
    }


def shard_files(
    postings: dict[str, set[Posting]],
    limit: int,
    shard_path: str,
    part_path: str,
    body: Callable[[dict[str, list[Posting]]], Any],
) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The index's part (``shards``, ``parts``, ``split``) and the shard and part
    files of :func:`plan_shards`' plan: a shard that fits is written as planned,
    a split one as its parts, each part's listing made by *body*."""
    files: list[tuple[str, bytes]] = []
    top: dict[str, Any] = {"shards": {}, "parts": {}, "split": []}
    for key, parts, listing in plan_shards(postings, limit):
        if not key:
            top = listing
        elif parts is None:
            files.append((shard_path.format(shard=key), dumps(listing)))
        else:
            for number, part in enumerate(parts):
                path = (
                    part_path.format(shard=key, part=number)
                    if number
                    else shard_path.format(shard=key)
                )
                files.append((path, dumps(body(part))))
    return top, files


def index_files(registry: Registry, limit: int = MAX_SHARD_BYTES) -> Iterator[tuple[str, bytes]]:
    """``api/contents/index.json`` (the shards: a few bytes per shard), the shards
    (each about *limit* bytes at most, with the facts of the tags it names), and
    ``api/contents/tags.json`` (the facts of every indexed tag, for API users);
    an index without shards when no tag has a record or labels (so a search
    can tell "nothing recorded" from "no index")."""
    tags: dict[str, dict[str, Any]] = {}
    names: dict[str, set[Posting]] = {}
    for ns in registry.namespaces:
        for tag in ns.tags:
            record = tag.contents()
            found = list(postings(record)) if record is not None else []
            found += label_postings(tag)
            if not found:
                continue
            ref = f"{ns.name}:{tag.name}"
            tags[ref] = tag_facts(tag)
            for kind, name, version in found:
                names.setdefault(name.lower(), set()).add((ref, kind, version, name))
    top, files = shard_files(
        names, limit, SHARD_PATH, PART_PATH, lambda part: shard_body(part, tags)
    )
    yield (
        INDEX_PATH,
        dumps(
            {
                "contentsVersion": contents.CONTENTS_VERSION,
                **top,
                "shardPath": SHARD_PATH,
                "partPath": PART_PATH,
                "tagsPath": TAGS_PATH,
                "tagCount": len(tags),
            }
        ),
    )
    yield TAGS_PATH, dumps({"tags": tags})
    yield from files


def tag_executables(tag: Tag) -> dict[str, str]:
    """Command name -> path in the image, of a tag's recorded contents (empty
    without a record): what a module's aliases can call (shpc's ``aliases``)."""
    record = tag.contents()
    return contents.executables(record) if record is not None else {}


def shard_paths(name: str, read: Callable[[str], dict[str, Any]]) -> list[str]:
    """The files a search for *name* reads, in order (as the theme's script does):
    the index, the listings of split shards on the way, and the first part of the
    shard holding *name*; *read* reads a published file (path -> JSON). Empty when
    no tag is indexed."""
    try:
        listing = read(INDEX_PATH)
    except FileNotFoundError:
        return []
    paths = [INDEX_PATH]
    key = name.lower()
    for length in range(2, len(key) + 2):
        shard = shard_of(key, length)
        path = SHARD_PATH.format(shard=shard)
        if shard in listing.get("shards", {}):
            return [*paths, path]
        if shard in listing.get("split", []):
            paths.append(path)
            listing = read(path)
    return paths
