"""Containers as Sphinx objects: the ``orgreg`` domain lists every namespace and tag
in ``objects.inv``, and another project links to a deployed registry's containers
through plain ``sphinx.ext.intersphinx`` and the ``container`` role."""

from __future__ import annotations

import io
import posixpath
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import collection, good_tree, manifest, no_proxy, sha256, soup, warnings_of
from sphinx.util.inventory import InventoryFile

from orgreg_sphinx.cli.serve import serving

NAMESPACES = {"acme/busybox", "acme/centos", "lab/pancakes"}
TAGS = {"acme/busybox:latest", "acme/busybox:1.36", "acme/centos:7", "lab/pancakes:pancakes"}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to 127.0.0.1 must not go through a proxy of the machine."""
    no_proxy(monkeypatch)


def inventory(outdir: Path) -> dict[str, dict[str, str]]:
    """objects.inv of a built site: {object type: {name: URI}}, orgreg types only."""
    data = (outdir / "objects.inv").read_bytes()
    found = InventoryFile.load(io.BytesIO(data), "", posixpath.join)
    return {
        objtype: {name: _uri(item) for name, item in items.items()}
        for objtype, items in found.items()
        if objtype.startswith("orgreg:")
    }


def _uri(item: Any) -> str:
    return item.uri if hasattr(item, "uri") else item[2]  # a tuple before Sphinx 8.2


@pytest.fixture
def registry_site(registry_project: Callable[..., Path], build: Callable[..., Any]) -> Path:
    """The good tree built as a registry site; returns its output folder."""
    app = build(registry_project())
    assert warnings_of(app) == ""
    return Path(app.outdir)


@pytest.fixture
def served(registry_site: Path) -> Iterator[str]:
    """The registry site on a real HTTP server on 127.0.0.1; yields its base URL."""
    with serving(registry_site) as base:
        yield base


def test_objects_inv_lists_every_namespace_and_tag(registry_site: Path) -> None:
    found = inventory(registry_site)
    assert set(found) == {"orgreg:namespace", "orgreg:tag"}
    assert found["orgreg:namespace"] == {name: f"{name}/index.html" for name in NAMESPACES}
    assert found["orgreg:tag"] == {
        name: f"{name.split(':')[0]}/index.html#tag-{name.split(':')[1]}" for name in TAGS
    }
    # each anchor is the tag's view on the page (issue 25), which its row links to
    for uri in found["orgreg:tag"].values():
        page, _, anchor = uri.partition("#")
        view = soup(registry_site / page).find(id=anchor)
        assert view is not None and view.name == "section", uri
        assert "orgreg-tag-views" in view.parent["class"], uri
        assert soup(registry_site / page).find("a", href=f"#{anchor}") is not None, uri


def test_objects_inv_follows_the_tree(
    registry_project: Callable[..., Path], make_app: Callable[..., Any]
) -> None:
    """Incremental builds keep the inventory right: an added tag and a removed
    namespace show there (the domain's data are per document)."""
    srcdir = registry_project()
    make_app("html", srcdir=srcdir).build()
    (srcdir / "acme/centos/manifests/8").mkdir()
    (srcdir / "acme/centos/manifests/8/README.md").write_text(manifest(sha256("c8")))
    for path in sorted((srcdir / "lab").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    app = make_app("html", srcdir=srcdir)
    app.build()
    found = inventory(Path(app.outdir))
    assert set(found["orgreg:namespace"]) == NAMESPACES - {"lab/pancakes"}
    assert set(found["orgreg:tag"]) == TAGS - {"lab/pancakes:pancakes"} | {"acme/centos:8"}


REST = """\
Rest
====

Pull :container:`acme/busybox:latest` or see :container:`acme/busybox`,
:orgreg:container:`the CentOS <acme/centos:7>` and :container:`nobody/x`.
"""
MYST = """\
# Myst

Pull {container}`lab/pancakes:pancakes` or see {container}`the pancakes <lab/pancakes>`
and {container}`acme/centos:8`.
"""


def consumer_project(root: Path, base: str) -> Path:
    """A project with no manifest tree whose only link to the registry is
    intersphinx_mapping."""
    srcdir = root / "consumer"
    srcdir.mkdir()
    (srcdir / "conf.py").write_text(
        textwrap.dedent(f"""\
        extensions = ["myst_parser", "orgreg_sphinx", "sphinx.ext.intersphinx"]
        source_suffix = {{".rst": "restructuredtext", ".md": "markdown"}}
        intersphinx_mapping = {{"reg": ({base!r}, None)}}
        project = "Consumer"
        """)
    )
    (srcdir / "index.md").write_text("# Consumer\n\n```{toctree}\nrest\nmyst\n```\n")
    (srcdir / "rest.rst").write_text(REST)
    (srcdir / "myst.md").write_text(MYST)
    return srcdir


def links(page: Path) -> dict[str, str]:
    return {a.get_text(): a["href"] for a in soup(page).select("section p a")}


def test_another_project_links_to_a_deployed_registry(
    served: str, tmp_path: Path, build: Callable[..., Any]
) -> None:
    app = build(consumer_project(tmp_path, served))
    out = Path(app.outdir)
    assert links(out / "rest.html") == {
        "acme/busybox:latest": f"{served}acme/busybox/index.html#tag-latest",
        "acme/busybox": f"{served}acme/busybox/index.html",
        "the CentOS": f"{served}acme/centos/index.html#tag-7",
    }
    assert links(out / "myst.html") == {
        "lab/pancakes:pancakes": f"{served}lab/pancakes/index.html#tag-pancakes",
        "the pancakes": f"{served}lab/pancakes/index.html",
    }
    # unknown here and there: a warning where the role is (MyST: its paragraph), plain text
    warnings = warnings_of(app)
    assert "rest.rst:4: WARNING: container: unknown namespace 'nobody/x'" in warnings
    # the namespace is in the other registry's inventory: the tag is what is unknown
    assert (
        "myst.md:3: WARNING: container: unknown tag '8': "
        "the namespace 'acme/centos' has no such tag" in warnings
    )
    assert "unknown namespace 'acme/centos'" not in warnings
    assert warnings.count("WARNING") == 2, warnings
    rest = soup(out / "rest.html").select_one("section p")
    assert rest.select("code")[-1].get_text() == "nobody/x"
    assert rest.select("code")[-1].find_parent("a") is None
    # no objects of its own
    assert inventory(out) == {}


def test_any_role_finds_a_local_container(
    registry_project: Callable[..., Path], build: Callable[..., Any]
) -> None:
    index = "# Home\n\n```{registry}\n:toctree:\n```\n\nSee {any}`acme/centos:7`.\n"
    app = build(registry_project(index=index))
    assert warnings_of(app) == ""
    page = soup(Path(app.outdir) / "index.html")
    [link] = [a for a in page.select("a.reference") if a.get_text() == "acme/centos:7"]
    assert link["href"] == "acme/centos/index.html#tag-7"


def wide_tree(count: int = 14) -> dict[str, str]:
    """The good tree plus *count* namespaces: enough documents for ``-j 2`` to
    really read in parallel."""
    files: dict[str, str] = dict(good_tree())
    for i in range(count):
        name = f"org{i % 3}/repo-{i:02d}"
        files[f"{name}/README.md"] = collection(f"Repository {i}")
        for tag in ("latest", f"1.{i}"):
            files[f"{name}/manifests/{tag}/README.md"] = manifest(sha256(f"{name}:{tag}"))
    return files


def test_parallel_build_gives_the_same_objects(
    registry_project: Callable[..., Path], build: Callable[..., Any]
) -> None:
    serial = build(registry_project(wide_tree(), name="serial"))
    parallel = build(registry_project(wide_tree(), name="parallel"), parallel=2)
    expected = inventory(Path(serial.outdir))
    assert len(expected["orgreg:namespace"]) == 17
    assert len(expected["orgreg:tag"]) == 4 + 2 * 14
    assert inventory(Path(parallel.outdir)) == expected


def test_a_page_embedding_a_namespace_page_does_not_claim_its_objects(
    registry_project: Callable[..., Path], make_app: Callable[..., Any]
) -> None:
    """Another page rendering ``:page:`` of a namespace shows it, but the
    namespace's objects stay at its own page, whatever the reading order; and
    rereading that other page alone keeps them in the inventory."""
    srcdir = registry_project(index="# Registry\n\n```{toctree}\nzzz-copy\n```\n")
    copy = srcdir / "zzz-copy.md"
    copy.write_text("# Copy\n\n```{registry}\n:namespace: acme/busybox\n:page:\n```\n")
    app = make_app("html", srcdir=srcdir)
    app.build()
    found = inventory(Path(app.outdir))
    assert found["orgreg:namespace"]["acme/busybox"] == "acme/busybox/index.html"
    assert found["orgreg:tag"]["acme/busybox:latest"] == "acme/busybox/index.html#tag-latest"

    copy.write_text(copy.read_text() + "\nEdited.\n")  # only this page is read again
    app = make_app("html", srcdir=srcdir)
    app.build()
    again = inventory(Path(app.outdir))
    assert again == found


def test_a_build_leaves_the_garbage_collector_as_it_found_it(
    registry_project: Callable[..., Path], make_app: Callable[..., Any]
) -> None:
    import gc

    assert gc.get_freeze_count() == 0
    app = make_app("html", srcdir=registry_project())
    app.build()
    assert gc.get_freeze_count() == 0
