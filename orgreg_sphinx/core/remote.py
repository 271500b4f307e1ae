"""Listings of a deployed registry: read its JSON API at build time.

``api/catalog.json`` holds the whole registry. A registry published before the
catalog existed answers 404 there; then the ``tags/`` and ``manifests/<tag>/``
endpoints of the namespaces named are read instead. What was read is parsed into
the same model objects as the local tree (so the same node builders render it)
and kept in the doctree folder: when the registry cannot be reached (offline,
slow, broken), the last good copy is shown, with a warning; never a crash.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import requests
import urllib3.exceptions

from . import http, names
from .endpoints import CATALOG_PATH
from .files import write_if_changed
from .model import Layer, Namespace, Tag
from .names import namespace_name_problem, tag_problem

CACHE_FOLDER = "orgreg-remote"
CHUNK = 64 * 1024
#: a 429 or 5xx answer is asked again once, after 0.2 s; a timeout or a refused
#: connection is not retried: the build shows the cached copy rather than wait
RETRY = http.retry_policy(1, 0.2, reads=False, connects=False, retry_after=False)


class RemoteError(Exception):
    """A registry file could not be read; the message says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 10.0
    max_bytes: int = 64 * 1024 * 1024
    fetch: bool = True


@dataclass
class RemoteRegistry:
    """What a listing of a deployed registry shows, and where it came from."""

    url: str
    namespaces: tuple[Namespace, ...] = ()
    #: "catalog", "endpoints", "cache" or "" (nothing to show)
    source: str = ""
    #: warnings to show the author (unreachable, malformed data, cache used)
    warnings: list[str] = field(default_factory=list)
    #: the catalog-shaped JSON the namespaces were read from (what is cached)
    data: dict[str, Any] | None = None

    def namespace(self, name: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.name == name or ns.name.lower() == name.lower():
                return ns
        return None


def base_url(url: str) -> str:
    """The registry's root URL ending in '/'; ValueError unless http(s)."""
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http:// or https:// URL of a registry")
    if url.endswith(CATALOG_PATH):
        url = url[: -len(CATALOG_PATH)]
    return url if url.endswith("/") else url + "/"


# ---------------------------------------------------------------- HTTP


def fetch_bytes(url: str, settings: FetchSettings) -> bytes:
    """GET *url* within the time and size limits, or raise :class:`RemoteError`."""
    deadline = time.monotonic() + settings.timeout
    headers = {"Accept": "application/json, */*;q=0.5"}
    try:
        with (
            http.session("registry directive", RETRY) as session,
            session.get(url, headers=headers, timeout=settings.timeout, stream=True) as response,
        ):
            if not response.ok:
                raise RemoteError(
                    f"HTTP {response.status_code} {response.reason}", status=response.status_code
                )
            chunks: list[bytes] = []
            total = 0
            while True:
                if time.monotonic() > deadline:
                    raise RemoteError(f"no complete answer within {settings.timeout:g} s")
                # whatever has come (a byte at a time from a slow server), decompressed
                chunk = response.raw.read1(CHUNK, decode_content=True)
                if not chunk:
                    break
                total += len(chunk)
                if total > settings.max_bytes:
                    raise RemoteError(f"answer larger than {settings.max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as err:
        # reset connections, bad URLs, broken HTTP
        if http.is_timeout(err):
            raise RemoteError(f"no answer within {settings.timeout:g} s") from None
        if http.is_connect_error(err):
            raise RemoteError(f"cannot connect: {http.reason(err)}") from None
        raise RemoteError(f"cannot read: {http.reason(err)}") from None


def fetch_json(url: str, settings: FetchSettings) -> Any:
    body = fetch_bytes(url, settings)
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RemoteError(f"is not valid JSON ({err})") from None


# ---------------------------------------------------------------- parsing


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _layers(tag: dict[str, Any]) -> tuple[Layer, ...]:
    layers = []
    items = tag.get("layers")
    if isinstance(items, list):
        for item in items:
            if not isinstance(item, dict):
                continue
            urls = item.get("urls") or ([item["url"]] if "url" in item else [])
            for url in urls if isinstance(urls, list) else []:
                if isinstance(url, str) and _is_layer_url(url):
                    layers.append(
                        Layer(
                            size=item["size"] if _is_int(item.get("size")) else tag["size"],
                            digest=str(item.get("digest") or tag["digest"]),
                            url=url,
                            media_type=str(item.get("mediaType") or Layer.media_type),
                        )
                    )
        return tuple(layers)
    urls = tag.get("urls")
    for url in urls if isinstance(urls, list) else []:
        if isinstance(url, str) and _is_layer_url(url):
            layers.append(Layer(size=tag["size"], digest=tag["digest"], url=url))
    return tuple(layers)


def _is_layer_url(url: str) -> bool:
    """An http(s) URL, or a valid ``oras://`` reference of an OCI registry."""
    return url.startswith(("https://", "http://")) or names.oras_reference(url) is not None


def parse_catalog(data: Any, where: str) -> tuple[list[Namespace], list[str]]:
    """Namespaces of a catalog body; entries that do not fit are left out with a
    problem each. RemoteError when the body is not a catalog at all."""
    if not isinstance(data, dict) or not isinstance(data.get("namespaces"), list):
        raise RemoteError("is not a registry catalog (no 'namespaces' list)")
    version = data.get("catalogVersion", 1)
    if not _is_int(version) or version > 1:
        raise RemoteError(f"has catalogVersion {version!r}, which this version cannot read")
    problems: list[str] = []
    namespaces: list[Namespace] = []
    for index, entry in enumerate(data["namespaces"]):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or namespace_name_problem(name) is not None:
            problems.append(f"{where}: namespaces[{index}] has no valid 'name'; left out")
            continue
        tags: list[Tag] = []
        raw_tags = entry.get("tags")
        for t_index, tag in enumerate(raw_tags if isinstance(raw_tags, list) else []):
            ok = (
                isinstance(tag, dict)
                and isinstance(tag.get("name"), str)
                and tag_problem(tag["name"]) is None
                and _is_int(tag.get("size"))
                and isinstance(tag.get("digest"), str)
            )
            if not ok:
                problems.append(f"{where}: {name} tags[{t_index}] is not a valid tag; left out")
                continue
            extra = tag.get("extra")
            reason = tag.get("deprecated")
            tags.append(
                Tag(
                    name=tag["name"],
                    size=tag["size"],
                    digest=tag["digest"],
                    layers=_layers(tag),
                    extra=dict(extra) if isinstance(extra, dict) else {},
                    deprecated=reason if isinstance(reason, str) and reason.strip() else None,
                )
            )
        tags.sort(key=lambda t: t.name)
        description = entry.get("description")
        org, _, repo = name.partition("/")
        namespaces.append(
            Namespace(
                org=org,
                repo=repo,
                path=Path(PurePosixPath(name)),
                description=description.strip() if isinstance(description, str) else "",
                tags=tuple(tags),
            )
        )
    return namespaces, problems


def _manifest_tag(name: str, body: Any) -> dict[str, Any]:
    """A catalog tag entry from a ``manifests/<tag>/`` body; RemoteError if unusable."""
    config = body.get("config") if isinstance(body, dict) else None
    if not isinstance(config, dict) or not _is_int(config.get("size")):
        raise RemoteError("is not a registry manifest (no config.size)")
    if not isinstance(config.get("digest"), str):
        raise RemoteError("is not a registry manifest (no config.digest)")
    layers = body.get("layers")
    return {
        "name": name,
        "size": config["size"],
        "digest": config["digest"],
        "layers": layers if isinstance(layers, list) else [],
        "extra": {},
    }


def fetch_endpoints(
    base: str, names: Sequence[str], settings: FetchSettings
) -> tuple[dict[str, Any], list[str]]:
    """A catalog-shaped body built from the ``tags/`` and ``manifests/<tag>/``
    endpoints of *names*; problems for namespaces or tags that cannot be read."""
    problems: list[str] = []
    entries = []
    reached = False
    for name in names:
        url = f"{base}{name}/tags/"
        try:
            body = fetch_json(url, settings)
        except RemoteError as err:
            problems.append(f"{url}: {err}")
            if err.status is None:
                break  # the host itself fails: do not wait for every namespace
            reached = True
            continue
        reached = True
        tag_names = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(tag_names, list):
            problems.append(f"{url}: is not a tags list (no 'tags')")
            continue
        tags = []
        for tag in tag_names:
            if not (isinstance(tag, str) and tag_problem(tag) is None):
                problems.append(f"{url}: {tag!r} is not a valid tag name; left out")
                continue
            manifest_url = f"{base}{name}/manifests/{urllib.parse.quote(tag)}/"
            try:
                tags.append(_manifest_tag(tag, fetch_json(manifest_url, settings)))
            except RemoteError as err:
                problems.append(f"{manifest_url}: {err}")
        entries.append({"name": name, "description": "", "path": f"{name}/", "tags": tags})
    if not reached:
        raise RemoteError("; ".join(problems) or "nothing to read")
    return {"catalogVersion": 1, "namespaces": entries}, problems


# ---------------------------------------------------------------- cache


def cache_file(cache_dir: Path, base: str, names: Sequence[str] = ()) -> Path:
    """Where the last good copy of a catalog (or of some namespaces) is kept."""
    key = json.dumps([base, sorted(names)])
    return cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"


def _write_cache(path: Path, base: str, data: dict[str, Any]) -> None:
    text = json.dumps({"url": base, "data": data}, sort_keys=True, indent=1)
    write_if_changed(path, text.encode())


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    data = stored.get("data") if isinstance(stored, dict) else None
    return data if isinstance(data, dict) else None


def _cached_at(path: Path) -> str:
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


# ---------------------------------------------------------------- loading


def load(
    url: str,
    names: Sequence[str],
    cache_dir: Path,
    settings: FetchSettings,
) -> RemoteRegistry:
    """Read the registry at *url* (catalog, else the endpoints of *names*),
    falling back to the cached copy. Never raises for network or data errors."""
    base = base_url(url)
    result = RemoteRegistry(base)
    catalog_cache = cache_file(cache_dir, base)
    literal = [n for n in names if not any(ch in n for ch in "*?[")]
    endpoints_cache = cache_file(cache_dir, base, literal)
    reason = "fetching is switched off (orgreg_remote_fetch = False)"
    if settings.fetch:
        catalog_url = base + CATALOG_PATH
        try:
            data = _once(catalog_url, settings)
            namespaces, problems = parse_catalog(data, catalog_url)
        except RemoteError as err:
            reason = f"{catalog_url} {err}"
            if err.status == 404:
                if literal:
                    return _from_endpoints(
                        result, base, literal, names, endpoints_cache, settings, catalog_cache
                    )
                reason += (
                    "; a registry without a catalog can only be read for namespaces "
                    "named in :namespace: (without wildcards)"
                )
        else:
            _write_cache(catalog_cache, base, data)
            result.namespaces, result.source, result.data = tuple(namespaces), "catalog", data
            result.warnings.extend(problems)
            return result
    return _from_cache(result, reason, [catalog_cache, endpoints_cache])


def _from_endpoints(
    result: RemoteRegistry,
    base: str,
    literal: list[str],
    names: Sequence[str],
    cache: Path,
    settings: FetchSettings,
    catalog_cache: Path,
) -> RemoteRegistry:
    if len(literal) != len(names):
        result.warnings.append(
            f"{base}{CATALOG_PATH} does not exist: wildcard namespaces cannot be listed "
            "from the tags/ endpoints and are left out"
        )
    try:
        key = (base, tuple(literal))
        if key not in _ENDPOINTS:
            try:
                _ENDPOINTS[key] = fetch_endpoints(base, literal, settings)
            except RemoteError as err:
                _ENDPOINTS[key] = err
        found = _ENDPOINTS[key]
        if isinstance(found, RemoteError):
            raise found
        data, problems = found
        namespaces, more = parse_catalog(data, base)
    except RemoteError as err:
        return _from_cache(result, f"{base}: {err}", [cache, catalog_cache])
    _write_cache(cache, base, data)
    result.namespaces, result.source, result.data = tuple(namespaces), "endpoints", data
    result.warnings.extend(problems + more)
    return result


def _from_cache(result: RemoteRegistry, reason: str, candidates: list[Path]) -> RemoteRegistry:
    for path in candidates:
        data = _read_cache(path)
        if data is None:
            continue
        try:
            namespaces, _ = parse_catalog(data, str(path))
        except RemoteError:
            continue
        result.namespaces, result.source, result.data = tuple(namespaces), "cache", data
        result.warnings.append(
            f"cannot read the registry at {result.url}: {reason}; showing the copy "
            f"cached on {_cached_at(path)}"
        )
        return result
    result.warnings.append(
        f"cannot read the registry at {result.url}: {reason}; no cached copy to show"
    )
    return result


# ---------------------------------------------------------------- per build

#: what each (url, names) read gave in this build; emptied at builder-inited
_READ: dict[tuple[str, tuple[str, ...]], RemoteRegistry] = {}
#: each catalog URL's body (or why it could not be read), read once per build
_CATALOGS: dict[str, Any] = {}
#: the endpoints of some namespaces of a registry without catalog, read once per build
_ENDPOINTS: dict[tuple[str, tuple[str, ...]], Any] = {}
#: warnings already shown in this build
_REPORTED: set[str] = set()


def _once(url: str, settings: FetchSettings) -> Any:
    """:func:`fetch_json`, at most once per build for each URL (a slow or broken
    registry costs one timeout, however many listings show it)."""
    if url not in _CATALOGS:
        try:
            _CATALOGS[url] = fetch_json(url, settings)
        except RemoteError as err:
            _CATALOGS[url] = err
    found = _CATALOGS[url]
    if isinstance(found, RemoteError):
        raise found
    return found


def forget(*_: Any) -> None:
    """Start a build afresh: read every remote registry again once."""
    for memo in (_READ, _CATALOGS, _ENDPOINTS, _REPORTED):
        memo.clear()


def registry_for(
    url: str,
    names: Sequence[str],
    cache_dir: Path,
    settings: FetchSettings,
    report: Callable[[str], None],
) -> RemoteRegistry:
    """:func:`load`, once per build for each URL and namespace list; *report*
    gets the warnings the first time."""
    key = (base_url(url), tuple(names))
    found = _READ.get(key)
    if found is None:
        found = load(url, names, cache_dir, settings)
        _READ[key] = found
        for message in found.warnings:
            if message not in _REPORTED:
                _REPORTED.add(message)
                report(message)
    return found
