"""The static JSON API: bodies built from the model, as files of the site.

Pure functions: :func:`endpoint_files` maps every output path to its bytes, the
same tree always giving the same bytes; :func:`iter_endpoint_files` gives the
same files one at a time, so a large registry's are never all in memory at once.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from . import contentsapi, spliced
from .files import Batch, Recall, stamp
from .model import Namespace, Registry, Tag

MANIFEST_MEDIA_TYPE = "application/vnd.singularity.distribution.manifest.v2+json"
CONFIG_MEDIA_TYPE = "application/vnd.singularity.container.image.v1+json"
CATALOG_VERSION = 1
CATALOG_PATH = "api/catalog.json"
#: what ``GET v2/`` answers: an empty object, as a registry's version check does
OCI_VERSION_BODY: dict[str, Any] = {}
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")


def dumps(body: Any) -> bytes:
    """Deterministic JSON, safe to serve as HTML too (``<``, ``>``, ``&`` escaped),
    compact: no indentation or spaces between items, one line ending in a newline
    (a tag's manifest: some 515 bytes instead of 615; a browser shows an
    ``index.html`` on one line either way)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (text + "\n").encode("utf-8")


def tags_body(ns: Namespace) -> dict[str, Any]:
    """``GET <org>/<repo>/tags/``, as the original served it."""
    return {"name": ns.name, "tags": [tag.name for tag in ns.tags]}


def manifest_body(tag: Tag) -> dict[str, Any]:
    """``GET <org>/<repo>/manifests/<tag>/``, as the original served it."""
    return {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "size": tag.size, "digest": tag.digest},
        "layers": [
            {
                "mediaType": layer.media_type,
                "size": layer.size,
                "digest": layer.digest,
                "urls": [layer.url],
            }
            for layer in tag.layers
        ],
    }


def catalog_body(registry: Registry) -> dict[str, Any]:
    """``GET api/catalog.json``: the whole registry in one file."""
    return {
        "catalogVersion": CATALOG_VERSION,
        "namespaces": [catalog_namespace(ns) for ns in _by_name(registry)],
    }


def catalog_namespace(ns: Namespace) -> dict[str, Any]:
    """One namespace in the catalog."""
    return {
        "name": ns.name,
        "description": ns.description,
        "path": f"{ns.name}/",
        "tags": [catalog_tag(tag) for tag in ns.tags],
    }


def catalog_file(registry: Registry, recall: Recall | None = None) -> bytes:
    """The bytes of ``api/catalog.json`` (``dumps(catalog_body(registry))``),
    each namespace's entry copied from the former file while unchanged."""
    empty = dumps({"catalogVersion": CATALOG_VERSION, "namespaces": []})
    head, _, tail = empty.partition(b"[]")
    return spliced.splice(
        CATALOG_PATH,
        head + b"[",
        (
            spliced.Part(ns.name, ns.stamp(), functools.partial(_entry_bytes, ns))
            for ns in _by_name(registry)
        ),
        b"]" + tail,
        recall,
        separator=b",",
    )


def _entry_bytes(ns: Namespace) -> bytes:
    return dumps(catalog_namespace(ns))[:-1]  # without the newline


def _by_name(registry: Registry) -> list[Namespace]:
    return sorted(registry.namespaces, key=lambda n: n.name)


def catalog_tag(tag: Tag) -> dict[str, Any]:
    """One tag in the catalog; ``deprecated`` (the reason) and ``history`` (former
    images, newest first, from git; at most ``history.MAX_FORMER``, with
    ``history_more`` counting older ones) only when the tag has them."""
    body: dict[str, Any] = {
        "name": tag.name,
        "size": tag.size,
        "digest": tag.digest,
        "urls": tag.urls,
        "extra": _sorted(tag.extra),
    }
    if tag.deprecated:
        body["deprecated"] = tag.deprecated
    if tag.history is not None and tag.history.former:
        body["history"] = [former.as_dict() for former in tag.history.former]
        if tag.history.more:  # older ones: in the git history of the manifest file
            body["history_more"] = tag.history.more
    if tag.contents_file is not None:  # what the image holds, relative to the namespace
        body["contents"] = f"manifests/{tag.name}/contents.json"
    return body


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def namespace_files(ns: Namespace, *, json_copies: bool = True) -> dict[str, bytes]:
    """The endpoint files of one namespace, by output path: ``tags/`` and
    ``manifests/<tag>/`` answer from ``index.html`` (as the original did); with
    *json_copies*, the same bytes also as ``index.json`` (served as JSON, but
    each costs a file, at least 1 KB of the Pages artifact, per tag)."""
    files: dict[str, bytes] = {}
    names = ("index.html", "index.json") if json_copies else ("index.html",)
    body = dumps(tags_body(ns))
    for name in names:
        files[f"{ns.name}/tags/{name}"] = body
    for tag in ns.tags:
        body = dumps(manifest_body(tag))
        base = f"{ns.name}/manifests/{tag.name}"
        for name in names:
            files[f"{base}/{name}"] = body
        if tag.recipe_file is not None:
            with contextlib.suppress(OSError):
                files[f"{base}/Singularity"] = tag.recipe_file.read_bytes()
    return files


def shub_commit(digest: str) -> str:
    """A stable, non-empty, file-name-safe id of an image for Singularity's cache.

    The hex of the digest (``sha256:<hex>`` gives ``<hex>``; ``md5:<base64>``
    gives the md5 in hex); any other digest, the sha256 of its text.
    """
    algo, _, value = digest.partition(":")
    if value and _HEX_RE.fullmatch(value):
        return value.lower()
    if algo == "md5":
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 16:
            return raw.hex()
    return hashlib.sha256(digest.encode("utf-8")).hexdigest()


def shub_body(ns: Namespace, tag: Tag) -> dict[str, Any] | None:
    """``GET api/container/<org>/<repo>:<tag>``, the Singularity Hub answer that
    ``singularity pull shub://`` and ``sregistry pull`` read; None without a layer
    or for an image kept in an OCI registry (these clients need a plain URL)."""
    if not has_shub_answer(tag):
        return None
    return {
        "image": tag.layers[0].url,
        "name": ns.repo,
        "collection": ns.org,
        "tag": tag.name,
        "version": tag.digest,
        "commit": shub_commit(tag.digest),
    }


def has_shub_answer(tag: Tag) -> bool:
    """True when Singularity Hub clients can be answered for *tag* (:func:`shub_body`)."""
    return bool(tag.layers) and not tag.is_oras


def shub_path(org: str, repo: str, tag: str) -> str:
    return f"api/container/{org}/{repo}:{tag}"


def shub_files(registry: Registry) -> dict[str, bytes]:
    """The Singularity Hub endpoints of every tag (:func:`iter_shub_files`)."""
    return dict(iter_shub_files(registry))


def iter_shub_files(registry: Registry) -> Iterator[tuple[str, bytes]]:
    """The Singularity Hub endpoints of every tag, plus the lower-cased path
    (``sregistry`` lower-cases what it asks for) where the name has capitals.

    An exact path always wins over a lower-cased one; when two names lower-case
    to the same path, the first in sorted order gets it.
    """
    for ns in sorted(registry.namespaces, key=lambda n: n.name):
        yield from namespace_endpoint_files(ns, original=False, catalog=False)
    yield from lowered_shub_files(registry)


def lowered_shub_files(registry: Registry) -> Iterator[tuple[str, bytes]]:
    """The lower-cased Singularity Hub paths of names with capitals, where no
    exact path is the same (:func:`iter_shub_files`)."""
    lowered: dict[str, tuple[Namespace, Tag]] = {}  # only names with capitals: few
    for ns in _by_name(registry):
        capitals = ns.org != ns.org.lower() or ns.repo != ns.repo.lower()
        for tag in ns.tags:
            if (capitals or tag.name != tag.name.lower()) and has_shub_answer(tag):
                lower = shub_path(ns.org.lower(), ns.repo.lower(), tag.name.lower())
                lowered.setdefault(lower, (ns, tag))
    if not lowered:
        return
    exact = {
        shub_path(ns.org, ns.repo, tag.name)
        for ns in registry.namespaces
        for tag in ns.tags
        if has_shub_answer(tag)
    }
    for path, (ns, tag) in lowered.items():
        body = shub_body(ns, tag)
        if path not in exact and body is not None:
            yield path, dumps(body)


def oci_repository(ns: Namespace) -> str:
    """The repository name OCI clients use: Docker references are lower case."""
    return ns.name.lower()


def oci_files(registry: Registry) -> dict[str, bytes]:
    """The OCI-distribution-style layout (:func:`iter_oci_files`)."""
    return dict(iter_oci_files(registry))


def iter_oci_files(registry: Registry) -> Iterator[tuple[str, bytes]]:
    """An OCI-distribution-style read-only layout, for a site at a domain root:
    ``v2/`` (answers 200), ``v2/<org>/<repo>/tags/list`` and
    ``v2/<org>/<repo>/manifests/<tag>`` (the manifest, layers with their URLs).

    Repository paths are lower case (Docker references must be); a namespace
    whose name is already lower case wins over one that only lower-cases to it.
    """
    body = dumps(OCI_VERSION_BODY)
    yield "v2/index.html", body
    yield "v2/index.json", body
    owners: dict[str, Namespace] = {}
    for ns in sorted(registry.namespaces, key=lambda n: (n.name != n.name.lower(), n.name)):
        owners.setdefault(oci_repository(ns), ns)
    for repository, ns in sorted(owners.items()):
        yield (
            f"v2/{repository}/tags/list",
            dumps({"name": repository, "tags": [tag.name for tag in ns.tags]}),
        )
        for tag in ns.tags:
            yield f"v2/{repository}/manifests/{tag.name}", dumps(manifest_body(tag))


def sha256_hex(digest: str) -> str | None:
    """The hex of a ``sha256:<hex>`` digest; None for other algorithms."""
    algo, _, value = digest.partition(":")
    return value if algo == "sha256" and len(value) == 64 and _HEX_RE.fullmatch(value) else None


def download_name(ns: Namespace, tag: Tag) -> str:
    """The file name a tag's image is saved under: ``<repo>_<tag>.sif``, as the
    page's download and pull commands save it."""
    return f"{ns.repo}_{tag.name}.sif"


def clashing_download_names(registry: Registry) -> set[str]:
    """The registry-wide image names (``<org>/<repo>_<tag>.sif``) that more than
    one tag of the registry has (``acme/tools:v1_gpu`` and ``acme/tools_v1:gpu``):
    in the registry-wide lists, each of those tags is ``<org>/<repo>/<tag>.sif``
    instead (:func:`checksum_lines`), which no other tag can have (names hold
    no ``/``), so no download overwrites another. Usually none."""
    seen: set[str] = set()
    clashing: set[str] = set()
    for ns in registry.namespaces:
        for tag in ns.tags:
            name = f"{ns.org}/{download_name(ns, tag)}"
            if name in seen:
                clashing.add(name)
            seen.add(name)
    return clashing


def checksum_lines(ns: Namespace, clashing: set[str] | None = None) -> tuple[list[str], list[str]]:
    """``sha256sum`` lines (``<hex>  <repo>_<tag>.sif``; with *clashing*, the
    registry-wide name: ``<org>/<repo>_<tag>.sif``, or ``<org>/<repo>/<tag>.sif``
    for a name in *clashing*) of the tags of *ns* whose image digest is sha256,
    and a curl config that downloads the tags with a plain URL under those names."""
    sums: list[str] = []
    curl: list[str] = []
    for tag in ns.tags:
        hexdigest = sha256_hex(tag.layers[0].digest) if tag.layers else None
        if hexdigest is None:
            continue
        name = download_name(ns, tag)
        if clashing is not None:
            name = f"{ns.org}/{name}"
            if name in clashing:
                name = f"{ns.name}/{tag.name}.sif"
        sums.append(f"{hexdigest}  {name}")
        if not tag.is_oras:
            curl.append(
                f'url = "{_curl_quote(tag.layers[0].url)}"\noutput = "{_curl_quote(name)}"\n'
            )
    return sums, curl


def _curl_quote(text: str) -> str:
    """*text* inside a double-quoted value of a curl config file."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def iter_checksum_files(registry: Registry) -> Iterator[tuple[str, bytes]]:
    """Bulk downloads: ``<org>/<repo>/SHA256SUMS`` and ``api/SHA256SUMS`` (what
    ``sha256sum -c`` reads: every tag whose image has a sha256 digest, named as
    the page's download and pull commands save it; ``<org>/`` before the name in
    the registry-wide file), beside ``urls.txt`` (the plain download URLs, for
    ``wget -i``) and ``downloads.curl`` (``curl -K``: the same URLs saved under the
    names ``SHA256SUMS`` checks)."""
    for ns in sorted(registry.namespaces, key=lambda n: n.name):
        yield from namespace_checksum_files(ns)
    yield from registry_checksum_files(registry)


def _plain_urls(ns: Namespace) -> list[str]:
    return [t.layers[0].url for t in ns.tags if t.layers and not t.is_oras]


def namespace_checksum_files(ns: Namespace) -> Iterator[tuple[str, bytes]]:
    """One namespace's ``SHA256SUMS``, ``urls.txt`` and ``downloads.curl``."""
    sums, curl = checksum_lines(ns)
    yield f"{ns.name}/SHA256SUMS", "".join(f"{line}\n" for line in sums).encode()
    yield f"{ns.name}/urls.txt", "".join(f"{url}\n" for url in _plain_urls(ns)).encode()
    yield f"{ns.name}/downloads.curl", "".join(curl).encode()


def registry_checksum_files(
    registry: Registry, recall: Recall | None = None
) -> Iterator[tuple[str, bytes]]:
    """The registry-wide ``api/SHA256SUMS``, ``api/urls.txt`` and
    ``api/downloads.curl``, each namespace's lines copied from the former files
    while unchanged."""
    clashing = clashing_download_names(registry)
    namespaces = _by_name(registry)

    @functools.cache
    def lines(n: int) -> tuple[bytes, bytes, bytes]:  # of the n-th namespace: the 3 files'
        ns = namespaces[n]
        sums, curl = checksum_lines(ns, clashing)
        return (
            "".join(f"{line}\n" for line in sums).encode(),
            "".join(f"{url}\n" for url in _plain_urls(ns)).encode(),
            "".join(curl).encode(),
        )

    def part_stamp(ns: Namespace) -> str:
        if not clashing:
            return ns.stamp()
        # a name another tag also has is spelt otherwise (checksum_lines)
        names = sorted(n for t in ns.tags if (n := f"{ns.org}/{download_name(ns, t)}") in clashing)
        return stamp([ns.stamp(), names]) if names else ns.stamp()

    stamps = [part_stamp(ns) for ns in namespaces]
    for i, rel in enumerate(("api/SHA256SUMS", "api/urls.txt", "api/downloads.curl")):
        parts = (
            spliced.Part(ns.name, stamps[n], functools.partial(_nth, lines, n, i))
            for n, ns in enumerate(namespaces)
        )
        yield rel, spliced.splice(rel, b"", parts, b"", recall)


def _nth(made: Callable[[int], tuple[bytes, ...]], n: int, i: int) -> bytes:
    return made(n)[i]


def endpoint_files(
    registry: Registry,
    *,
    catalog: bool = True,
    original: bool = True,
    shub: bool = True,
    oci: bool = False,
    json_copies: bool = True,
) -> dict[str, bytes]:
    """Every published file of the registry, by output path (:func:`iter_endpoint_files`)."""
    return dict(
        iter_endpoint_files(
            registry,
            catalog=catalog,
            original=original,
            shub=shub,
            oci=oci,
            json_copies=json_copies,
        )
    )


def iter_endpoint_files(
    registry: Registry,
    *,
    catalog: bool = True,
    original: bool = True,
    shub: bool = True,
    oci: bool = False,
    json_copies: bool = True,
) -> Iterator[tuple[str, bytes]]:
    """Every published file of the registry as (output path, bytes), each path
    once, made as they are asked for (10,000 namespaces' files are some 120 MiB).

    *original*: the ``tags/`` and ``manifests/<tag>/`` endpoints (and recipe
    copies; with *json_copies*, their ``index.json`` copies); *catalog*:
    ``api/catalog.json`` and the bulk-download files (``SHA256SUMS``,
    ``urls.txt``, ``downloads.curl``); *shub*: ``api/container/...``; *oci*: the
    ``v2/`` layout.
    """
    for batch in endpoint_batches(
        registry,
        "",
        catalog=catalog,
        original=original,
        shub=shub,
        oci=oci,
        json_copies=json_copies,
    ):
        yield from batch.make()


def endpoint_batches(
    registry: Registry,
    stamp: str,
    *,
    catalog: bool = True,
    original: bool = True,
    shub: bool = True,
    oci: bool = False,
    json_copies: bool = True,
) -> list[Batch]:
    """The files of :func:`iter_endpoint_files` as :class:`~.files.Batch` es: one
    per namespace (its ``tags/``, ``manifests/``, recipe copies, bulk-download
    files and Singularity Hub answers), keyed by its name and stamped with
    *stamp* (what else the files depend on: switches, code), the namespace's
    data and the status of its recipe files; then one unkeyed batch of the files
    made from the whole registry (the catalog, the registry-wide bulk downloads,
    lower-cased Singularity Hub paths, the ``v2/`` layout), stamped *stamp*."""
    batches = [
        Batch(
            f"namespace:{ns.name}",
            _namespace_stamp(ns, stamp),
            functools.partial(
                namespace_endpoint_files,
                ns,
                original=original,
                catalog=catalog,
                shub=shub,
                json_copies=json_copies,
            ),
        )
        for ns in registry.namespaces
    ]
    batches.append(
        Batch(
            "",
            stamp,
            functools.partial(
                registry_endpoint_files, registry, catalog=catalog, shub=shub, oci=oci
            ),
            recalls=True,
        )
    )
    return batches


def _namespace_stamp(ns: Namespace, base: str) -> str:
    """The change stamp of what a namespace's endpoint files are made from."""
    recipes: list[Any] = []
    for tag in ns.tags:
        if tag.recipe_file is not None:
            try:
                info = os.stat(tag.recipe_file)
            except OSError:
                recipes.append(None)
                continue
            # not the change time or inode: a fresh checkout whose unchanged files got
            # their times back (orgreg keep-times) has new ones
            recipes.append((info.st_mtime_ns, info.st_size))
    return stamp([base, ns.name, ns.stamp(), recipes])


def namespace_endpoint_files(
    ns: Namespace,
    *,
    original: bool = True,
    catalog: bool = True,
    shub: bool = True,
    json_copies: bool = True,
) -> Iterator[tuple[str, bytes]]:
    """The published files of one namespace (see :func:`endpoint_batches`)."""
    if original:
        yield from namespace_files(ns, json_copies=json_copies).items()
    if catalog:
        yield from namespace_checksum_files(ns)
        yield from contentsapi.namespace_contents_files(ns)
    if shub:
        for tag in ns.tags:
            body = shub_body(ns, tag)
            if body is not None:
                yield shub_path(ns.org, ns.repo, tag.name), dumps(body)


def registry_endpoint_files(
    registry: Registry,
    recall: Recall | None = None,
    *,
    catalog: bool = True,
    shub: bool = True,
    oci: bool = False,
) -> Iterator[tuple[str, bytes]]:
    """The published files made from the whole registry (see :func:`endpoint_batches`);
    with a *recall*, the catalog and bulk-download lists from the former files'
    unchanged parts (:mod:`.spliced`)."""
    if catalog:
        yield CATALOG_PATH, catalog_file(registry, recall)
        yield from registry_checksum_files(registry, recall)
        yield from contentsapi.index_files(registry)
    if shub:
        yield from lowered_shub_files(registry)
    if oci:
        yield from iter_oci_files(registry)
