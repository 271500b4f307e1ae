"""What the site publishes per tag, and in what form (issue 28): each tag costs
its manifest at ``manifests/<tag>/`` (``index.html``, the original's URL; its
``index.json`` copy unless switched off) and its Singularity Hub answer, each
compact JSON. Sizes are measured by ``make bench``, never asserted."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from conftest import good_tree, write_tree

from orgreg_sphinx.core import contentsapi
from orgreg_sphinx.core.endpoints import endpoint_files
from orgreg_sphinx.core.model import load_registry


def per_tag(files: dict[str, bytes], registry) -> dict[str, set[str]]:
    """The published paths naming each tag, with the tag's names replaced."""
    found: dict[str, set[str]] = defaultdict(set)
    for ns in registry.namespaces:
        for tag in ns.tags:
            key = f"{ns.name}:{tag.name}"
            for path in files:
                if path.startswith(f"{ns.name}/manifests/{tag.name}/"):
                    found[key].add(path.replace(f"{ns.name}/manifests/{tag.name}/", "M/"))
                elif path == f"api/container/{ns.name}:{tag.name}":
                    found[key].add("shub")
    return found


def test_the_files_of_each_tag(tmp_path: Path) -> None:
    write_tree(tmp_path, good_tree())
    registry = load_registry(tmp_path)
    files = endpoint_files(registry)
    tags = per_tag(files, registry)
    assert len(tags) >= 4
    for key, paths in tags.items():
        recipe = {"M/Singularity"} if key == "acme/busybox:latest" else set()
        assert paths == {"M/index.html", "M/index.json", "shub"} | recipe, key
    # without the JSON copies: the same answers at the same URLs, one file less per tag
    lean = endpoint_files(registry, json_copies=False)
    copies = {p for p in files if p.endswith("/index.json") and p != contentsapi.INDEX_PATH}
    assert set(files) - set(lean) == copies
    assert set(lean) <= set(files)
    assert all(lean[p] == files[p] for p in lean)
    for key, paths in per_tag(lean, registry).items():
        assert "M/index.html" in paths and "shub" in paths and "M/index.json" not in paths, key


def test_endpoints_are_compact_json(tmp_path: Path) -> None:
    write_tree(tmp_path, good_tree())
    files = endpoint_files(load_registry(tmp_path), oci=True)
    bodies = {p: b for p, b in files.items() if p.endswith((".html", ".json")) or ":" in p}
    assert len(bodies) > 10
    for path, body in bodies.items():
        text = body.decode()
        assert text.endswith("\n") and text.count("\n") == 1, path  # one line
        assert json.loads(text) is not None
        assert '": ' not in text and '", ' not in text and "{ " not in text, path  # no padding
    manifest = files["acme/busybox/manifests/latest/index.html"].decode()
    assert manifest.startswith('{"schemaVersion":2,"mediaType":')
