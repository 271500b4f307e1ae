"""The published contents: one JSON file per tag and a registry-wide index.

- ``<org>/<repo>/manifests/<tag>/contents.json``: the tag's record (what
  ``orgreg manifest`` found in the image) with the namespace, tag and digest;
- ``api/contents/index.json``: the shards there are (and how many names each
  holds), where they are, and how many tags have a record: a few bytes per shard,
  whatever the registry's size;
- ``api/contents/<shard>.json``: an inverted index, each lower-cased package or
  command name -> ``["<org>/<repo>:<tag>", kind, version, name as written]`` for
  each tag that holds it, in the shard named by the name's first two characters
  (:func:`shard_of`);
- ``api/contents/tags.json``: ``{"<org>/<repo>:<tag>": {"arch", "signed",
  "deprecated"}}``, read only to narrow results by those facets.

A search reads the index and the one shard of what is typed: what a query
downloads grows with the names sharing its first two characters, not with the
registry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from . import contents
from .model import Namespace, Registry, Tag

INDEX_PATH = "api/contents/index.json"
SHARD_PATH = "api/contents/{shard}.json"
TAGS_PATH = "api/contents/tags.json"
_SHARD_CHARS = re.compile(r"[a-z0-9]")


def dumps(body: Any) -> bytes:
    """Compact, sorted, safe inside HTML (as the other endpoints)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


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


def shard_of(name: str) -> str:
    """The shard of a (lower-cased) name: its first two letters or digits, ``_``
    for any other character (``samtools`` -> ``sa``, ``r`` -> ``r_``)."""
    key = "".join(c if _SHARD_CHARS.fullmatch(c) else "_" for c in name[:2])
    return key.ljust(2, "_")


def postings(record: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(kind, name, version) of every package and command of a record; kind is
    ``command`` or the package type (``deb``, ``apk``, ``rpm``, ``conda``,
    ``python``, or what an SBOM says)."""
    for name in contents.executables(record):
        yield "command", name, ""
    for package in contents.unique_packages(record):
        yield package.get("type", ""), package["name"], package.get("version", "")


def tag_facts(tag: Tag) -> dict[str, Any]:
    """What a search can narrow by, besides names: architecture, signed (the
    manifest records a signature), deprecated."""
    block = tag.sif
    return {
        "arch": tag.arch or "",
        "signed": bool(block is not None and block.signatures),
        "deprecated": tag.deprecated is not None,
    }


def index_files(registry: Registry) -> Iterator[tuple[str, bytes]]:
    """``api/contents/index.json`` (the shards: a few bytes per shard whatever the
    registry's size), the shards, and ``api/contents/tags.json`` (the facts of
    each tag with a record, read only to narrow results); none when no tag has a
    record."""
    tags: dict[str, dict[str, Any]] = {}
    shards: dict[str, dict[str, set[tuple[str, str, str, str]]]] = {}
    for ns in registry.namespaces:
        for tag in ns.tags:
            record = tag.contents()
            if record is None:
                continue
            ref = f"{ns.name}:{tag.name}"
            tags[ref] = tag_facts(tag)
            for kind, name, version in postings(record):
                key = name.lower()
                shard = shards.setdefault(shard_of(key), {})
                shard.setdefault(key, set()).add((ref, kind, version, name))
    if not tags:
        return
    yield (
        INDEX_PATH,
        dumps(
            {
                "contentsVersion": contents.CONTENTS_VERSION,
                "shards": {key: len(names) for key, names in sorted(shards.items())},
                "shardPath": SHARD_PATH,
                "tagsPath": TAGS_PATH,
                "tagCount": len(tags),
            }
        ),
    )
    yield TAGS_PATH, dumps({"tags": tags})
    for key, names in sorted(shards.items()):
        body = {"names": {n: sorted(list(p) for p in found) for n, found in names.items()}}
        yield SHARD_PATH.format(shard=key), dumps(body)


def tag_executables(tag: Tag) -> dict[str, str]:
    """Command name -> path in the image, of a tag's recorded contents (empty
    without a record): what a module's aliases can call (shpc's ``aliases``)."""
    record = tag.contents()
    return contents.executables(record) if record is not None else {}
