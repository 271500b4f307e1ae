"""The static JSON API: bodies built from the model, as files of the site.

Pure functions: :func:`endpoint_files` maps every output path to its bytes, the
same tree always giving the same bytes.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from .model import Namespace, Registry, Tag

MANIFEST_MEDIA_TYPE = "application/vnd.singularity.distribution.manifest.v2+json"
CONFIG_MEDIA_TYPE = "application/vnd.singularity.container.image.v1+json"
CATALOG_VERSION = 1


def dumps(body: Any) -> bytes:
    """Deterministic JSON, safe to serve as HTML too (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(body, indent=2, ensure_ascii=False)
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
        "namespaces": [
            {
                "name": ns.name,
                "description": ns.description,
                "path": f"{ns.name}/",
                "tags": [
                    {
                        "name": tag.name,
                        "size": tag.size,
                        "digest": tag.digest,
                        "urls": tag.urls,
                        "extra": _sorted(tag.extra),
                    }
                    for tag in ns.tags
                ],
            }
            for ns in sorted(registry.namespaces, key=lambda n: n.name)
        ],
    }


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def namespace_files(ns: Namespace) -> dict[str, bytes]:
    """The endpoint files of one namespace, by output path."""
    files: dict[str, bytes] = {}
    body = dumps(tags_body(ns))
    files[f"{ns.name}/tags/index.html"] = body
    files[f"{ns.name}/tags/index.json"] = body
    for tag in ns.tags:
        body = dumps(manifest_body(tag))
        base = f"{ns.name}/manifests/{tag.name}"
        files[f"{base}/index.html"] = body
        files[f"{base}/index.json"] = body
        if tag.recipe_file is not None:
            with contextlib.suppress(OSError):
                files[f"{base}/Singularity"] = tag.recipe_file.read_bytes()
    return files


def endpoint_files(registry: Registry, *, catalog: bool = True) -> dict[str, bytes]:
    """Every JSON endpoint (and recipe copy) of the registry, by output path."""
    files: dict[str, bytes] = {}
    for ns in registry.namespaces:
        files.update(namespace_files(ns))
    if catalog:
        files["api/catalog.json"] = dumps(catalog_body(registry))
    return files
