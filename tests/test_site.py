"""`make html` turns a manifest tree into pages and the JSON API (issue 2)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    EXAMPLE_SOURCE,
    REPO,
    VIEW_FACTS,
    VIEW_PULLS,
    good_tree,
    manifest,
    read_json,
    row_tag,
    sha256,
    soup,
    tag_row,
    tag_view,
    warnings_of,
    write_tree,
)

SPHINX_BUILD = [sys.executable, "-m", "sphinx"]


def files_under(folder: Path) -> dict[str, float]:
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()
    }


# ------------------------------------------------------------ the example registry


def test_example_registry_builds_without_warnings(tmp_path: Path) -> None:
    """The repository's own site: `sphinx-build -W`, as `make html SPHINXOPTS=-W`."""
    before = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
    ).stdout
    out = tmp_path / "html"
    result = subprocess.run(
        [
            *SPHINX_BUILD,
            "-W",
            "-q",
            "-c",
            str(REPO),
            str(EXAMPLE_SOURCE),
            str(out),
            "-d",
            str(tmp_path / "doctrees"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "GITHUB_REPOSITORY": ""},
    )
    assert result.returncode == 0, result.stderr
    assert (out / "index.html").is_file()
    assert (out / "acme" / "busybox" / "index.html").is_file()
    assert (out / ".nojekyll").is_file()
    catalog = read_json(out / "api" / "catalog.json")
    assert len(catalog["namespaces"]) >= 4
    digests = {t["digest"].split(":")[0] for ns in catalog["namespaces"] for t in ns["tags"]}
    assert {"sha256", "md5"} <= digests
    after = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
    ).stdout
    assert after == before, "building wrote into the repository"


# ------------------------------------------------------------ JSON API


def test_json_bodies_equal_the_original(registry_project, build) -> None:
    digest = "sha256:1ada0d30fb443baa5011c0b8ceb1387f1adfc7abfaadef93938d7839e0cf0867"
    url = "https://storage.example.org/acme/busybox/1ada0d30fb44.sif"
    srcdir = registry_project(
        {
            "acme/busybox/README.md": "---\nlayout: collection\ndescription: x\n---\n",
            "acme/busybox/tags/README.md": "---\nlayout: tags\n---\n",
            "acme/busybox/manifests/latest/README.md": manifest(digest, 756, url),
            "acme/busybox/manifests/1.36/README.md": manifest(digest, 756, url),
        }
    )
    app = build(srcdir)
    out = Path(app.outdir)
    expected_manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.singularity.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.singularity.container.image.v1+json",
            "size": 756,
            "digest": digest,
        },
        "layers": [
            {
                "mediaType": "application/vnd.singularity.image.squashfs",
                "size": 756,
                "digest": digest,
                "urls": [url],
            }
        ],
    }
    for tag in ("latest", "1.36"):
        folder = out / "acme" / "busybox" / "manifests" / tag
        assert read_json(folder / "index.json") == expected_manifest
        # the original served JSON from index.html; keep it byte for byte
        assert (folder / "index.html").read_bytes() == (folder / "index.json").read_bytes()
    tags = read_json(out / "acme" / "busybox" / "tags" / "index.html")
    assert tags == {"name": "acme/busybox", "tags": ["1.36", "latest"]}
    assert read_json(out / "acme" / "busybox" / "tags" / "index.json") == tags
    assert warnings_of(app) == ""


def test_catalog(registry_project, build) -> None:
    app = build(registry_project())
    catalog = read_json(Path(app.outdir) / "api" / "catalog.json")
    assert catalog["catalogVersion"] == 1
    names = [ns["name"] for ns in catalog["namespaces"]]
    assert names == ["acme/busybox", "acme/centos", "lab/pancakes"]
    busybox = catalog["namespaces"][0]
    assert busybox["description"] == "Busybox example"
    assert busybox["path"] == "acme/busybox/"
    latest = busybox["tags"][1]
    assert latest["name"] == "latest"
    assert latest["digest"] == sha256("busybox-latest")
    assert latest["size"] == 788480
    assert latest["urls"] == [f"https://storage.example.org/{sha256('busybox-latest')[-12:]}.sif"]
    assert latest["extra"] == {"created": "2024-05-02T10:31:00Z"}
    schema = read_json(Path(app.outdir) / "api" / "schemas" / "manifest.schema.json")
    assert schema["required"] == ["size", "digest", "layers"]


# ------------------------------------------------------------ pages


def test_home_page_lists_every_namespace(registry_project, build) -> None:
    app = build(registry_project())
    out = Path(app.outdir)
    page = soup(out / "index.html")
    assert "Landing text of the test registry." in page.get_text()
    rows = page.select("table.orgreg-namespaces tbody tr.orgreg-namespace-row")
    assert len(rows) == 3
    first = [td.get_text(" ", strip=True) for td in rows[0].find_all("td")]
    # the description cell also shows the newest tag names (test_theme.py)
    assert [first[0], first[1].split(" latest")[0], first[2]] == [
        "acme/busybox",
        "Busybox example",
        "2",
    ]
    for row in rows:
        href = row.find("a")["href"]
        assert not href.startswith("/")
        assert (out / href).is_file()


def test_namespace_page(registry_project, build) -> None:
    app = build(registry_project())
    out = Path(app.outdir)
    page = soup(out / "acme" / "busybox" / "index.html")
    assert page.title.get_text().startswith("acme/busybox")
    assert page.find("h1").get_text().strip("¶ ") == "acme/busybox"
    assert page.select_one(".orgreg-description").get_text() == "Busybox example"
    readme = page.select_one(".orgreg-readme")
    assert readme.find("h3").get_text() == "About"
    assert readme.find("em").get_text() == "tiny"
    usage = page.select_one(".orgreg-usage").get_text()
    assert "curl -s https://<your-registry-site>/acme/busybox/tags/" in usage
    assert "/acme/busybox/manifests/latest/" in usage
    assert "html_baseurl" in page.select_one(".orgreg-hint").get_text()

    rows = page.select("table.orgreg-tags tbody tr")
    assert [row_tag(r) for r in rows] == ["1.36", "latest"]
    headers = [th.get_text(strip=True) for th in page.select("table.orgreg-tags thead th")]
    # no Image column on the namespace's own page: its title and the tag say it
    assert headers == ["Tag", "Size", "Digest", "Created", "Download", "Recipe"]
    cells = rows[1].find_all("td")
    assert cells[0].get_text(strip=True) == "latest"
    assert cells[0].find("a")["href"] == "#tag-latest"  # the tag's view
    assert cells[1].get_text(strip=True) == "770.0 KiB"
    digest = cells[2].find("abbr")
    assert digest.get_text() == sha256("busybox-latest")[:19]
    # the ISO date (it sorts as text; issue 28: bytes), the view the time of day
    assert cells[3].get_text(strip=True) == "2024-05-02"
    assert cells[4].find("a")["href"].startswith("https://storage.example.org/")
    recipe = cells[5].find("a")["href"]
    assert recipe == "manifests/latest/Singularity"
    # the view: exact size, whole digest, time of day, manifest, each client's commands
    view = tag_view(page, "latest")
    facts = {
        dt.get_text(): dt.find_next_sibling("dd").get_text(" ", strip=True)
        for dt in view.select_one(VIEW_FACTS).find_all("dt")
    }
    assert facts == {
        "Size": "770.0 KiB (788480 bytes)",
        "Digest": sha256("busybox-latest"),
        "Created": "2 May 2024, 10:31 UTC",
        "Recipe": "Singularity",
        "Manifest": "JSON",
    }
    assert view.select_one(VIEW_FACTS).select_one("a[href='manifests/latest/']") is not None
    # every client's command, each naming its client, one block each
    pulls = [pre.get_text() for pre in view.select(VIEW_PULLS)]
    assert [line.split()[0] for line in pulls] == ["curl", "singularity", "apptainer", "sregistry"]
    assert pulls[1] == "singularity pull shub://<your-registry-site>/acme/busybox:latest"
    assert pulls[2] == "apptainer pull shub://<your-registry-site>/acme/busybox:latest"
    assert pulls[3] == "sregistry pull --name busybox_latest.sif acme/busybox:latest"
    # what every view would repeat is the page's, once, shown under the open view:
    # sregistry's environment (not in any view) and the checksum line
    [environment] = page.select("div.orgreg-tag-views > div.orgreg-tag-env pre")
    assert environment.get_text().splitlines() == [
        "export SREGISTRY_CLIENT=registry",
        "export SREGISTRY_REGISTRY_BASE=https://<your-registry-site>",
    ]
    assert "SREGISTRY_" not in page.select_one("div.orgreg-tag-views").get_text().replace(
        environment.get_text(), ""
    )
    # the checksum line the commands end with, once for every view
    [check] = page.select("div.orgreg-tag-views > div.orgreg-tag-check pre")
    assert check.get_text().endswith("acme/busybox/SHA256SUMS | sha256sum -c --ignore-missing")
    assert (out / "acme" / "busybox" / recipe).read_text().startswith("Bootstrap: docker")
    # legacy sizes written by `du -k` are KiB
    centos = soup(out / "acme" / "centos" / "index.html")
    assert "73.6 MiB" in centos.select_one("table.orgreg-tags").get_text()
    # generated pages have no source to copy
    assert not (out / "_sources" / "acme").exists()


def test_site_url_from_config_and_environment(registry_project, build, monkeypatch) -> None:
    app = build(registry_project(conf='html_baseurl = "https://reg.example.org/sub"\n'))
    usage = soup(Path(app.outdir) / "acme" / "busybox" / "index.html").select_one(".orgreg-usage")
    assert "curl -s https://reg.example.org/sub/acme/busybox/tags/" in usage.get_text()

    monkeypatch.setenv("GITHUB_REPOSITORY", "Acme/registry")
    app = build(registry_project(name="gh"))
    page = soup(Path(app.outdir) / "acme" / "busybox" / "index.html")
    assert "https://acme.github.io/registry/acme/busybox/tags/" in page.get_text()
    assert page.select_one(".orgreg-hint") is None


def test_description_is_shown_verbatim(registry_project, build) -> None:
    files = good_tree()
    files["acme/busybox/README.md"] = (
        '---\nlayout: collection\ndescription: "It\'s a \'quoted\' -- \\"thing\\"..."\n---\n'
    )
    app = build(registry_project(files))
    out = Path(app.outdir)
    text = "It's a 'quoted' -- \"thing\"..."
    page = soup(out / "acme/busybox/index.html")
    assert page.select_one(".orgreg-description").get_text() == text
    assert text in soup(out / "index.html").select_one("table.orgreg-namespaces").get_text()


def test_search_finds_a_tag_and_a_namespace(registry_project, build) -> None:
    """With a theme whose search is Sphinx's alone (the orgreg theme finds the
    namespaces from the names index: test_home_pages.py)."""
    files = good_tree()
    files["lab/pancakes/manifests/waffles/README.md"] = manifest(sha256("waffles"), 600000)
    app = build(registry_project(files, conf='html_theme = "alabaster"\n'))
    text = (Path(app.outdir) / "searchindex.js").read_text()
    index = json.loads(re.search(r"Search\.setIndex\((.*)\)\s*$", text, re.S).group(1))
    doc = index["docnames"].index("lab/pancakes/index")

    def docs_for(term: str) -> list[int]:
        hits = index["terms"].get(term, [])
        return [hits] if isinstance(hits, int) else hits

    assert doc in docs_for("waffl")  # the tag name (stemmed by the English indexer)
    assert index["titles"][doc] == "lab/pancakes"
    assert index["titleterms"]["pancak"] == doc  # the namespace name


def test_doc_role_links_to_a_namespace_page(registry_project, build) -> None:
    srcdir = registry_project()
    (srcdir / "about.rst").write_text(
        "About\n=====\n\nSee :doc:`/acme/busybox/index`.\n\n.. toctree::\n\n   acme/centos/index\n"
    )
    index = (srcdir / "index.md").read_text() + "\n```{toctree}\nabout\n```\n"
    (srcdir / "index.md").write_text(index)
    app = build(srcdir)
    link = soup(Path(app.outdir) / "about.html").select_one("a.reference.internal")
    assert link["href"] == "acme/busybox/index.html"
    assert link.get_text() == "acme/busybox"
    assert "WARNING" not in warnings_of(app)


def test_dirhtml_builder(registry_project, build) -> None:
    app = build(registry_project(), "dirhtml")
    out = Path(app.outdir)
    home = soup(out / "index.html")
    rows = home.select("table.orgreg-namespaces tbody tr.orgreg-namespace-row")
    hrefs = [row.find("a")["href"] for row in rows]
    assert hrefs == ["acme/busybox/", "acme/centos/", "lab/pancakes/"]
    page = soup(out / "acme" / "busybox" / "index.html")
    recipe = tag_row(page, "latest").find_all("td")[-1].find("a")["href"]
    assert recipe == "manifests/latest/Singularity"
    assert (out / "acme/busybox/manifests/latest/index.json").is_file()
    assert (out / "acme/busybox/tags/index.html").is_file()


def test_urls_are_relative(registry_project, build) -> None:
    """The site works under a sub-path (GitHub project pages, /en/latest/)."""
    app = build(registry_project())
    out = Path(app.outdir)
    for page in [out / "index.html", out / "acme/busybox/index.html", out / "search.html"]:
        html = soup(page)
        for tag, attr in (("a", "href"), ("link", "href"), ("script", "src"), ("img", "src")):
            for node in html.find_all(tag):
                value = node.get(attr) or ""
                assert not value.startswith("/"), f"{page.name}: {tag} {value}"


def test_orgreg_root_relative_and_absolute(registry_project, build, tmp_path) -> None:
    tree = tmp_path / "tree"
    write_tree(tree, good_tree())
    app = build(registry_project({}, conf=f"orgreg_root = {str(tree)!r}\n", name="abs"))
    assert (Path(app.outdir) / "acme/busybox/index.html").is_file()

    srcdir = registry_project({}, conf="orgreg_root = 'registry'\n", name="rel")
    write_tree(srcdir / "registry", good_tree())
    app = build(srcdir)
    assert (Path(app.outdir) / "acme/busybox/index.html").is_file()
    assert (Path(app.outdir) / "acme/busybox/tags/index.json").is_file()
    assert warnings_of(app) == ""


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ("orgreg_root = 'missing'\n", "does not exist"),
        ("orgreg_namespace_pages = 'yes'\n", "orgreg_namespace_pages must be bool"),
        ("orgreg_max_tags = 0\n", "orgreg_max_tags must be a positive number"),
        ("orgreg_site_url = 'reg.example.org'\n", "must start with http"),
    ],
)
def test_configuration_is_validated(registry_project, make_app, conf, message) -> None:
    from sphinx.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        make_app("html", srcdir=registry_project(conf=conf))


# ------------------------------------------------------------ rebuilds


def test_no_op_rebuild_reads_nothing_and_writes_nothing(registry_project, build) -> None:
    srcdir = registry_project()
    app = build(srcdir)
    out = Path(app.outdir)
    before = files_under(out)
    app2 = build(srcdir)
    assert "0 added, 0 changed, 0 removed" in app2.status.getvalue()
    after = files_under(out)
    # Sphinx itself rewrites its own genindex.html and search.html every build,
    # and so the theme's 404.html, an extra page as they are (issue 25)
    json_and_pages = {
        k
        for k in before
        if k.endswith((".json", ".html")) and k not in ("genindex.html", "search.html", "404.html")
    }
    assert len(json_and_pages) > 20
    assert {k: after[k] for k in json_and_pages} == {k: before[k] for k in json_and_pages}


def test_added_tag_and_removed_namespace(registry_project, build) -> None:
    srcdir = registry_project()
    app = build(srcdir)
    out = Path(app.outdir)
    assert (out / "lab/pancakes/index.html").is_file()
    assert (out / "lab/pancakes/manifests/pancakes/index.json").is_file()

    shutil.rmtree(srcdir / "lab")
    shutil.rmtree(srcdir / "acme/busybox/manifests/1.36")
    write_tree(srcdir, {"acme/centos/manifests/8/README.md": manifest(sha256("c8"), 80000)})
    app = build(srcdir)
    assert not (out / "lab").exists()
    assert not (out / "acme/busybox/manifests/1.36").exists()
    assert (out / "acme/busybox/manifests/latest/index.json").is_file()
    assert read_json(out / "acme/centos/tags/index.json")["tags"] == ["7", "8"]
    centos = soup(out / "acme/centos/index.html")
    assert tag_row(centos, "8") is not None and tag_view(centos, "8") is not None
    home = soup(out / "index.html")
    assert [r.find("a").get_text() for r in home.select("table.orgreg-namespaces tbody tr")] == [
        "acme/busybox",
        "acme/centos",
    ]
    assert "lab/pancakes" not in json.dumps(read_json(out / "api/catalog.json"))


def test_build_never_writes_into_the_source_folder(registry_project, build) -> None:
    srcdir = registry_project(conf="")
    # keep the build folder outside the source folder, as `make html` does
    before = files_under(srcdir)
    build(srcdir, builddir=srcdir.parent / "build")
    assert files_under(srcdir) == before


def test_output_names_no_path_of_the_build_machine(registry_project, build) -> None:
    """Generated pages live in the doctree folder; their paths must not leak."""
    srcdir = registry_project()
    app = build(srcdir)
    for path in Path(app.outdir).rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".json", ".txt"):
            assert str(srcdir.parent) not in path.read_text(errors="replace"), path


def test_namespace_pages_are_in_the_navigation(registry_project, build) -> None:
    """The home page's listing holds a hidden toctree of the namespace pages."""
    app = build(registry_project())
    assert app.env.toctree_includes["index"] == [
        "acme/busybox/index",
        "acme/centos/index",
        "lab/pancakes/index",
    ]
    # so Sphinx knows each page's parent: no "document isn't included" warning
    assert "isn't included in any toctree" not in warnings_of(app)
    page = soup(Path(app.outdir) / "acme/centos/index.html")
    assert page.select_one("nav.orgreg-pager a[rel=prev]")["href"] == "../busybox/index.html"


def test_hand_written_namespace_page_wins(registry_project, build) -> None:
    """A page the admin wrote at <org>/<repo>/index replaces the generated one
    (when the admin trusts pages inside the tree: issue 8)."""
    srcdir = registry_project(conf="orgreg_tree_pages = True\n")
    (srcdir / "acme/centos/index.md").write_text("# CentOS, by hand\n\nOur own words.\n")
    app = build(srcdir)
    page = soup(Path(app.outdir) / "acme/centos/index.html")
    assert "Our own words." in page.get_text()
    # it is the admin's own document: its source is published like any other
    assert (Path(app.outdir) / "_sources/acme/centos/index.md.txt").is_file()
    assert (Path(app.outdir) / "acme/centos/tags/index.json").is_file()


def test_hand_written_docs_deep_in_the_source_folder_are_read(registry_project, build) -> None:
    """Only organization folders are kept from Sphinx, not every deep folder."""
    srcdir = registry_project()
    (srcdir / "guide/howto").mkdir(parents=True)
    (srcdir / "guide/howto/deep.md").write_text("# Deep page\n\nHand-written.\n")
    index = (srcdir / "index.md").read_text() + "\n```{toctree}\nguide/howto/deep\n```\n"
    (srcdir / "index.md").write_text(index)
    # a contributed page inside a namespace folder is never read
    (srcdir / "acme/busybox/evil.md").write_text("# Evil\n")
    app = build(srcdir)
    assert (Path(app.outdir) / "guide/howto/deep.html").is_file()
    assert not (Path(app.outdir) / "acme/busybox/evil.html").exists()
    assert warnings_of(app) == ""


def test_namespace_pages_without_a_toctree_listing_build_with_W(registry_project, build) -> None:
    """A home page without `:toctree:` leaves the generated pages orphans, quietly."""
    srcdir = registry_project(index="# Registry\n\n```{registry}\n:limit: 1\n```\n")
    app = build(srcdir, warningiserror=True)
    assert (Path(app.outdir) / "lab/pancakes/index.html").is_file()
    assert warnings_of(app) == ""


def test_removed_namespace_disappears_from_html_and_dirhtml(registry_project, build) -> None:
    """`make html` and `make dirhtml` share one doctree folder; each output
    folder still loses the outputs of a namespace removed from the tree."""
    srcdir = registry_project()
    html = Path(build(srcdir, "html").outdir)
    shutil.rmtree(srcdir / "lab")
    dirhtml = Path(build(srcdir, "dirhtml").outdir)
    assert html != dirhtml and not (dirhtml / "lab").exists()
    build(srcdir, "html")
    assert not (html / "lab").exists()
    assert (html / "acme/busybox/index.html").is_file()


def test_html_and_dirhtml_both_show_an_edit_read_by_the_other(registry_project, build) -> None:
    """`make html` and `make dirhtml` share one doctree folder: a page read again
    for one output folder (a namespace's edited README, the home listing showing
    it) is written again into the other one, which did not read it."""
    srcdir = registry_project()
    html = Path(build(srcdir, "html").outdir)
    build(srcdir, "dirhtml")
    readme = srcdir / "acme/busybox/README.md"
    readme.write_text(readme.read_text().replace("Busybox example", "Pocket toolbox"))
    dirhtml = Path(build(srcdir, "dirhtml").outdir)
    assert "Pocket toolbox" in soup(dirhtml / "acme/busybox/index.html").get_text()
    page_before = (html / "acme/centos/index.html").stat().st_mtime_ns
    app = build(srcdir, "html")
    assert "Pocket toolbox" in soup(html / "acme/busybox/index.html").get_text()
    home = soup(html / "index.html").select_one("table.orgreg-namespaces")
    assert home is not None and "Pocket toolbox" in home.get_text()
    # pages no build read again are not written again
    assert (html / "acme/centos/index.html").stat().st_mtime_ns == page_before
    assert warnings_of(app) == ""


def test_removed_namespace_page_disappears_with_pretty_links(registry_project, build) -> None:
    """``html_link_suffix = ""`` (links without ``.html``) still writes pages to
    ``.html`` files: a removed namespace's page file is removed, not left
    behind to be served."""
    srcdir = registry_project(conf='html_link_suffix = ""\n')
    out = Path(build(srcdir).outdir)
    assert (out / "lab/pancakes/index.html").is_file()
    link = soup(out / "index.html").select_one("table.orgreg-namespaces a.reference.internal")
    assert link is not None and link["href"] == "acme/busybox/index"
    shutil.rmtree(srcdir / "lab")
    build(srcdir)
    assert not (out / "lab").exists()
    assert (out / "acme/busybox/index.html").is_file()
