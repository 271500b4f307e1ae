"""The namespaces' names index: find any namespace by a word of its name or
description, downloading a bounded part of the index whatever the registry's size.

- ``api/namespaces/index.json``: the shards there are (as ``api/contents/``:
  :func:`.contentsapi.plan_shards`), where they are, and how many namespaces are
  indexed;
- ``api/namespaces/<shard>.json``: ``namespaces``, each namespace one shard names as
  ``[name, description, tags, updated]``, and ``words``: each lower-cased word ->
  the positions in ``namespaces`` of the namespaces it is a word of. A shard holds
  the words beginning with its key (:func:`.contentsapi.shard_of`), about
  :data:`MAX_SHARD_BYTES` at most; a word in very many namespaces (``image``) is
  cut into parts ``<shard>.<n>.json``.

The words of a namespace (:func:`words_of`) are those of its name (``bio``,
``core``, ``samtools`` for ``bio-core/samtools``) and of its description (but
words of most descriptions). A query is split into words the same way; every
word must begin a word of the namespace. The home
page's filter and the search page read the index and the one shard of the longest
word typed: about :data:`MAX_SHARD_BYTES` and the index per query, whatever the
registry's size. Sphinx's own search index leaves the namespace pages out (it
grows with every page: 3 MB at 10,000 namespaces).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from .contentsapi import Posting, dumps, shard_files, shard_of
from .model import Namespace, Registry
from .selection import updated

INDEX_PATH = "api/namespaces/index.json"
SHARD_PATH = "api/namespaces/{shard}.json"
PART_PATH = "api/namespaces/{shard}.{part}.json"
#: the most bytes of one shard file (about)
MAX_SHARD_BYTES = 64 * 1024
#: the longest description kept in a shard (the namespace page has all of it)
MAX_DESCRIPTION = 160
#: the version of the index's shape
NAMES_VERSION = 1
#: a description word in more than one namespace of this many (and more than
#: COMMON_WORDS_MIN) finds none: :func:`common_limit`
COMMON_WORDS_SHARE = 20
COMMON_WORDS_MIN = 50
#: what separates words: anything but letters and digits (as the theme's script:
#: ``/[^\p{L}\p{N}]+/u``)
_SEPARATOR = re.compile(r"[\W_]+")


def split_words(text: str) -> list[str]:
    """The lower-cased words of *text* (letters and digits), in order, once each."""
    return list(dict.fromkeys(w for w in _SEPARATOR.split(text.lower()) if w))


def name_words(ns: Namespace) -> list[str]:
    """What finds *ns* by its name: the words of its lower-cased name
    (``bio-core/samtools`` -> ``bio``, ``core``, ``samtools``; a query is split
    into words the same way, so ``bio-core/sam`` finds it too)."""
    return [w for w in split_words(ns.name) if len(w) > 1]


def description_words(ns: Namespace) -> list[str]:
    """The words of *ns*'s description that may find it (not one character)."""
    return [w for w in split_words(ns.description) if len(w) > 1]


def common_limit(count: int) -> int:
    """In how many of *count* namespaces' descriptions a word may be and still
    find them: a word of most descriptions (``image``, ``built``) finds too many
    to show and would cost a row in the index for each."""
    return max(COMMON_WORDS_MIN, count // COMMON_WORDS_SHARE)


def words_of(ns: Namespace, common: frozenset[str] = frozenset()) -> list[str]:
    """What finds *ns*: :func:`name_words`, and the words of its description
    (:func:`description_words`) that are not *common*."""
    found = name_words(ns)
    return list(dict.fromkeys([*found, *(w for w in description_words(ns) if w not in common)]))


def row_of(ns: Namespace) -> list[str | int]:
    """What a shard says of a namespace: ``[name, description, tags, updated]``."""
    description = ns.description
    if len(description) > MAX_DESCRIPTION:
        description = description[: MAX_DESCRIPTION - 1].rstrip() + "…"
    return [ns.name, description, len(ns.tags), updated(ns)[:10]]


def shard_body(
    part: dict[str, list[Posting]], rows: dict[str, list[str | int]]
) -> dict[str, object]:
    """A shard file: the namespaces it names (each once) and its words."""
    names = sorted({p[0] for found in part.values() for p in found})
    position = {name: i for i, name in enumerate(names)}
    return {
        "namespaces": [rows[name] for name in names],
        "words": {
            word: sorted({position[p[0]] for p in found}) for word, found in sorted(part.items())
        },
    }


def index_files(registry: Registry, limit: int = MAX_SHARD_BYTES) -> Iterator[tuple[str, bytes]]:
    """``api/namespaces/index.json`` and its shards (each about *limit* bytes at
    most, with the rows of the namespaces it names)."""
    rows: dict[str, list[str | int]] = {}
    words: dict[str, set[Posting]] = {}
    frequency: dict[str, int] = {}
    for ns in registry.namespaces:
        for word in set(description_words(ns)) - set(name_words(ns)):
            frequency[word] = frequency.get(word, 0) + 1
    limit_count = common_limit(len(registry.namespaces))
    common = frozenset(w for w, n in frequency.items() if n > limit_count)
    for ns in registry.namespaces:
        row = rows[ns.name] = row_of(ns)
        # the row's size counts as the "version" of a posting (plan_shards' sizes)
        weight = "x" * (len(str(row[1])) + len(ns.name))
        for word in words_of(ns, common):
            words.setdefault(word, set()).add((ns.name, "", weight, word))
    top, files = shard_files(
        words, limit, SHARD_PATH, PART_PATH, lambda part: shard_body(part, rows)
    )
    yield (
        INDEX_PATH,
        dumps(
            {
                "namesVersion": NAMES_VERSION,
                **top,
                "shardPath": SHARD_PATH,
                "partPath": PART_PATH,
                "namespaceCount": len(rows),
            }
        ),
    )
    yield from files


def lookup(query: str, read: Callable[[str], dict[str, object]]) -> tuple[list[str], list[str]]:
    """The namespaces a query finds, as the theme's script finds them, and the
    files it read: every word of *query* begins a word of the namespace. The
    longest word picks the shard (its first part); when no indexed word begins
    with it (a word of most descriptions is not indexed), the next longest.
    *read* reads a published file (path -> JSON)."""
    terms = split_words(query)
    read_paths: list[str] = []
    for term in sorted(terms, key=len, reverse=True):
        paths = shard_paths(term, read)
        read_paths += [p for p in paths if p not in read_paths]
        if not paths or paths[-1] == INDEX_PATH:
            continue
        body = read(paths[-1])
        rows = body.get("namespaces", [])
        words = body.get("words", {})
        assert isinstance(rows, list) and isinstance(words, dict)
        hits = {i for word, positions in words.items() if word.startswith(term) for i in positions}
        if not hits:
            continue
        found = [rows[i] for i in sorted(hits)]
        kept = [
            str(row[0])
            for row in found
            if all(any(w.startswith(t) for w in words_of_row(row)) for t in terms)
        ]
        return sorted(kept), read_paths
    return [], read_paths


def words_of_row(row: list[str | int]) -> list[str]:
    """The words of a shard's row (its name and description), as :func:`words_of`."""
    return [*split_words(str(row[0])), *split_words(str(row[1]))]


def shard_paths(word: str, read: Callable[[str], dict[str, object]]) -> list[str]:
    """The files a search for *word* reads (the index, split listings, the shard)."""
    try:
        listing = read(INDEX_PATH)
    except FileNotFoundError:
        return []
    paths = [INDEX_PATH]
    for length in range(2, len(word) + 2):
        shard = shard_of(word, length)
        path = SHARD_PATH.format(shard=shard)
        if shard in listing.get("shards", {}):  # type: ignore[operator]
            return [*paths, path]
        if shard in listing.get("split", []):  # type: ignore[operator]
            paths.append(path)
            listing = read(path)
    return paths
