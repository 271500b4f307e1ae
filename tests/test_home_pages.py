"""The home page of a large registry (issue 28): the listing of the whole registry
is paged into static pages, every namespace is reachable from the home page's
links without JavaScript, the names index finds any namespace per query from a
bounded download, and Sphinx's search index does not grow with the namespaces.
Sizes are measured by ``make bench`` and bench figures, never asserted here."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urljoin

import pytest
from conftest import collection, manifest, sha256, soup, warnings_of, write_tree
from sphinx.errors import ConfigError

from orgreg_sphinx.core import namesindex
from orgreg_sphinx.core.model import load_registry

#: rows of a listing page in these tests: 30 namespaces make 4 pages per order
PAGE = 8
COUNT = 30
ORGS = ("acme", "bio-core", "hpc-lab")
WORDS = ("samtools", "blast", "gromacs", "octave", "kafka", "redis")


def repo(i: int) -> str:
    return f"{WORDS[i % len(WORDS)]}-{i:03d}"


def many(count: int = COUNT) -> dict[str, str]:
    """*count* namespaces in three organizations, each updated on another day."""
    files: dict[str, str] = {}
    for i in range(count):
        name = f"{ORGS[i % len(ORGS)]}/{repo(i)}"
        word = WORDS[i % len(WORDS)]
        files[f"{name}/README.md"] = collection(f"The {word} tool, build {i}")
        created = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00Z"
        files[f"{name}/manifests/latest/README.md"] = manifest(
            sha256(name), extra=f'created: "{created}"\n'
        )
    return files


def page_conf(size: int = PAGE) -> str:
    return f"orgreg_listing_page_size = {size}\n"


def rows_of(path: Path) -> list[str]:
    page = soup(path)
    return [
        row.select_one("td").get_text().strip()
        for row in page.select("table.orgreg-namespaces tr.orgreg-namespace-row")
    ]


def site_links(out: Path, page: Path) -> list[Path]:
    """The pages of the site *page* links to (relative links only, no anchors)."""
    found = []
    base = page.relative_to(out).as_posix()
    for link in soup(page).select("a[href]"):
        href = link["href"].split("#")[0]
        if not href or "://" in href:
            continue
        target = urljoin(base, href)
        path = out / target
        if target.endswith("/"):
            path = path / "index.html"
        found.append(path)
    return found


def test_a_large_listing_is_paged_into_static_pages(registry_project, build) -> None:
    app = build(registry_project(many(), conf=page_conf()))
    out = Path(app.outdir)
    assert warnings_of(app) == ""
    names = sorted(f"{ORGS[i % len(ORGS)]}/{repo(i)}" for i in range(COUNT))
    # the home page: the first page of the listing, and its pager
    assert rows_of(out / "index.html") == names[:PAGE]
    home = soup(out / "index.html")
    pager = home.select_one(".orgreg-listing-pager")
    assert "Page 1 of 4" in pager.get_text() and "30 containers" in pager.get_text()
    assert pager.select_one("a.orgreg-listing-next")["href"] == "_containers/name-2.html"
    assert pager.select_one("a.orgreg-listing-sort")["href"] == "_containers/updated-1.html"
    # the listing's own pages: by name and most recently updated first
    pages = sorted(p.name for p in (out / "_containers").iterdir())
    assert pages == [f"{order}-{n}.html" for order in ("name", "updated") for n in range(1, 5)]
    by_name = [row for n in range(1, 5) for row in rows_of(out / f"_containers/name-{n}.html")]
    assert by_name == names
    by_update = [row for n in range(1, 5) for row in rows_of(out / f"_containers/updated-{n}.html")]
    assert sorted(by_update) == names and by_update != names
    last = soup(out / "_containers/name-4.html")
    assert last.select_one("a.orgreg-listing-prev")["href"] == "name-3.html"
    assert last.select_one("a.orgreg-listing-next") is None
    assert last.select_one("h1").get_text().startswith("Containers, page 4 of 4")
    # rows link to the namespace pages, relative to the page
    link = soup(out / "_containers/name-2.html").select_one("table.orgreg-namespaces a")
    assert link["href"] == f"../{names[PAGE]}/index.html"
    # the names index is published; a small registry's listing is one page
    assert (out / namesindex.INDEX_PATH).is_file()


def test_every_namespace_is_reachable_from_the_home_page(registry_project, build) -> None:
    """Following the home page's links, without JavaScript, reaches every
    namespace page (through the listing's pages)."""
    app = build(registry_project(many(), conf=page_conf()))
    out = Path(app.outdir)
    seen: set[Path] = set()
    queue = [out / "index.html"]
    reached: set[str] = set()
    while queue:
        page = queue.pop()
        if page in seen or not page.is_file():
            continue
        seen.add(page)
        for target in site_links(out, page):
            rel = target.relative_to(out).as_posix() if target.is_relative_to(out) else ""
            if rel.startswith("_containers/"):
                queue.append(target)
            elif rel.endswith("/index.html") and rel.count("/") == 2:
                reached.add(rel.removesuffix("/index.html"))
    names = {f"{ORGS[i % len(ORGS)]}/{repo(i)}" for i in range(COUNT)}
    assert names <= reached


def test_a_registry_that_fits_one_page_has_no_listing_pages(registry_project, build) -> None:
    app = build(registry_project(many(6), conf=page_conf()))
    out = Path(app.outdir)
    assert len(rows_of(out / "index.html")) == 6
    assert soup(out / "index.html").select_one(".orgreg-listing-pager") is None
    assert not (out / "_containers").exists()


def test_rebuilds_write_only_changed_listing_pages(registry_project, build) -> None:
    srcdir = registry_project(many(), conf=page_conf())
    out = Path(build(srcdir).outdir)
    pages = sorted((out / "_containers").iterdir())
    before = {p.name: p.stat().st_mtime_ns for p in pages}
    # nothing changed: no listing page written
    build(srcdir)
    assert {p.name: p.stat().st_mtime_ns for p in pages} == before
    # the last namespace by name gets a newer tag: its page by name, and the
    # pages by update whose rows move, are written; the others are not
    last = sorted(f"{ORGS[i % len(ORGS)]}/{repo(i)}" for i in range(COUNT))[-1]
    write_tree(
        srcdir,
        {
            f"{last}/manifests/2.0/README.md": manifest(
                sha256("newer"), extra='created: "2025-06-01T00:00:00Z"\n'
            )
        },
    )
    build(srcdir)
    after = {p.name: p.stat().st_mtime_ns for p in sorted((out / "_containers").iterdir())}
    changed = {name for name in after if after[name] != before.get(name)}
    assert "name-4.html" in changed and "updated-1.html" in changed
    assert not {"name-1.html", "name-2.html", "name-3.html"} & changed
    # fewer namespaces: the pages no longer in a series are removed
    for i in range(12, COUNT):
        name = f"{ORGS[i % len(ORGS)]}/{repo(i)}"
        for path in sorted((srcdir / name).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        (srcdir / name).rmdir()
    build(srcdir)
    assert sorted(p.name for p in (out / "_containers").iterdir()) == [
        "name-1.html",
        "name-2.html",
        "updated-1.html",
        "updated-2.html",
    ]


def test_the_page_size_must_be_positive(registry_project, build) -> None:
    with pytest.raises(ConfigError, match="orgreg_listing_page_size"):
        build(registry_project(many(3), conf=page_conf(0)))


# ---------------------------------------------------------------- the names index


def test_the_names_index_finds_a_namespace_by_a_word_of_its_name_or_description(
    tmp_path: Path,
) -> None:
    write_tree(tmp_path, many())
    files = dict(namesindex.index_files(load_registry(tmp_path)))

    def read(path: str) -> dict:
        if path not in files:
            raise FileNotFoundError(path)
        return json.loads(files[path])

    found, paths = namesindex.lookup("gromacs-002", read)
    assert found == ["hpc-lab/gromacs-002"]
    assert paths == [namesindex.INDEX_PATH, "api/namespaces/gr.json"]
    assert namesindex.lookup("bio-core octave", read)[0] == sorted(
        f"bio-core/{repo(i)}" for i in range(COUNT) if i % 3 == 1 and i % 6 == 3
    )
    assert namesindex.lookup("build 17", read)[0] == [f"hpc-lab/{repo(17)}"]  # description
    assert namesindex.lookup("nothing", read) == ([], [namesindex.INDEX_PATH])
    shard = read("api/namespaces/gr.json")
    assert ["hpc-lab/gromacs-002", "The gromacs tool, build 2", 1, "2024-03-03"] in shard[
        "namespaces"
    ]


def test_a_query_downloads_a_bounded_part_of_the_names_index(tmp_path: Path) -> None:
    """However many namespaces, a query reads the index and one shard of about
    the shard limit; a word in every description is not indexed."""
    files_of = {}
    for count in (60, 600):
        tree = tmp_path / str(count)
        write_tree(tree, {k: v for k, v in many(count).items()})
        files_of[count] = dict(namesindex.index_files(load_registry(tree), limit=4096))
    for count, files in files_of.items():

        def read(path: str, files: dict = files) -> dict:
            return json.loads(files[path])

        shards = [body for path, body in files.items() if path != namesindex.INDEX_PATH]
        assert max(map(len, shards)) < 2 * 4096, count
        found, paths = namesindex.lookup("samtools", read)
        if count == 60:
            assert len(found) == count // len(WORDS)
        else:  # in parts: the first part's namespaces, the rest a click away
            assert "sa" in read(namesindex.INDEX_PATH)["parts"]
            assert 0 < len(found) < count // len(WORDS)
        assert all("/samtools-" in name for name in found)
        assert sum(len(files[p]) for p in paths if p != namesindex.INDEX_PATH) < 2 * 4096 * 2
        assert "tool" not in json.loads(files[paths[-1]]).get("words", {})  # in every description
    assert len(files_of[600]) > len(files_of[60])


# ---------------------------------------------------------------- Sphinx's search index


def search_docnames(out: Path) -> list[str]:
    text = (out / "searchindex.js").read_text()
    body = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    return list(body["docnames"])


def test_sphinx_search_index_leaves_the_namespace_pages_out(registry_project, build) -> None:
    """With the orgreg theme (whose search page reads the names index), the
    namespace pages are not in ``searchindex.js``: it does not grow with them."""
    small = build(registry_project(many(4), conf=page_conf(2), name="small"))
    large = build(registry_project(many(COUNT), conf=page_conf(2), name="large"))
    assert search_docnames(Path(small.outdir)) == search_docnames(Path(large.outdir)) == ["index"]
    small_size = os.path.getsize(Path(small.outdir) / "searchindex.js")
    large_size = os.path.getsize(Path(large.outdir) / "searchindex.js")
    # the home page's first rows differ (other words), nothing else
    assert abs(large_size - small_size) < 300
    # the search page has the containers' section reading the names index
    search = soup(Path(large.outdir) / "search.html")
    section = search.select_one("#orgreg-ns-found")
    assert section is not None and section["data-page"] == "ORGREG-NS/index.html"
