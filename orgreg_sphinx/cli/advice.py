"""Warnings for contributors that only ``orgreg check`` gives.

The site build accepts all of these; they point at entries that some clients
or readers get wrong. Every rule here returns warnings, never errors: what is
an error is decided by the model (:func:`orgreg_sphinx.core.model.load_registry`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..core import names
from ..core.model import Namespace, Problem, Registry, Tag, is_namespace_folder

#: source files that would be published at the same address as a namespace page
PAGE_SUFFIXES = (".md", ".rst", ".ipynb", ".txt")


def advise(registry: Registry) -> list[Problem]:
    """All CLI-only warnings for *registry*, in tree order."""
    found: list[Problem] = []
    found.extend(_hidden_namespaces(registry.root))
    for ns in registry.namespaces:
        found.extend(_namespace_advice(registry.root, ns))
        for tag in ns.tags:
            found.extend(_tag_advice(tag))
    return found


def _warn(path: Path, message: str, code: str, line: int | None = None) -> Problem:
    return Problem(path, message, line, severity="warning", code=code)


def _hidden_namespaces(root: Path) -> Iterator[Problem]:
    """Namespaces in folders the model skips (``_static/x``): never published."""
    try:
        orgs = [
            p
            for p in root.iterdir()
            if p.is_dir() and names.is_site_folder(p.name) and not names.is_hidden(p.name)
        ]
    except OSError:
        return
    for org in sorted(orgs):
        if org.name == "_build":
            continue
        try:
            repos = sorted(p for p in org.iterdir() if p.is_dir())
        except OSError:
            continue
        for repo in repos:
            if is_namespace_folder(repo):
                yield _warn(
                    repo,
                    f"looks like a namespace but is not published: folders whose names "
                    f"start with '_' ('{org.name}') belong to the site itself",
                    "reserved",
                )


def _namespace_advice(root: Path, ns: Namespace) -> Iterator[Problem]:
    if ns.name != names.folded(ns.name):
        yield _warn(
            ns.path,
            f"namespace '{ns.name}' has upper-case letters: clients that lower-case "
            f"names (sregistry) ask for '{names.folded(ns.name)}' and may not find it",
            "uppercase",
        )
    site_use = names.site_folder_use(ns.org)
    if site_use:
        yield _warn(
            ns.path,
            f"namespace '{ns.name}' is inside '{ns.org}/', which the site uses for {site_use}",
            "reserved",
        )
    for page in _pages_at(root, ns):
        yield _warn(
            page,
            f"is a page of the site published at the same address as namespace "
            f"'{ns.name}' ({ns.name}/); one of them will overwrite the other",
            "reserved",
        )


def _pages_at(root: Path, ns: Namespace) -> Iterator[Path]:
    """Source documents whose output is ``<org>/<repo>/index.html``."""
    for suffix in PAGE_SUFFIXES:
        for candidate in (root / ns.org / f"{ns.repo}{suffix}", ns.path / f"index{suffix}"):
            if candidate.is_file():
                yield candidate


def _tag_advice(tag: Tag) -> Iterator[Problem]:
    path = tag.path or Path(tag.name)
    if tag.name != names.folded(tag.name):
        yield _warn(
            path,
            f"tag '{tag.name}' has upper-case letters: clients that lower-case names "
            f"may ask for '{names.folded(tag.name)}' and not find it",
            "uppercase",
        )
    kib_layers = [i for i, layer in enumerate(tag.layers) if tag.layer_size_is_kib(layer)]
    if tag.size_is_kib or kib_layers:
        key: tuple[str | int, ...] = ("size",) if tag.size_is_kib else ("layers", kib_layers[0])
        shown = tag.size if tag.size_is_kib else tag.layers[kib_layers[0]].size
        yield _warn(
            path,
            f"has size {shown}, which looks like KiB (written by 'du -k'), not bytes: "
            f"it is read as {shown * 1024} bytes. New manifests hold the size in bytes "
            "('orgreg manifest' writes them)",
            "kib-size",
            tag.line(*key, "size") if key[0] == "layers" else tag.line(*key),
        )
    for index, layer in enumerate(tag.layers):
        if layer.url.lower().startswith("http://"):
            yield _warn(
                path,
                f"has a layer URL without TLS ({layer.url}): clients download it unprotected; "
                "use https://",
                "insecure-url",
                tag.line("layers", index, "url"),
            )
