"""What makes generated pages cheap to build (issue 17), pinned without timing
anything: what the search index holds, which read transforms a generated page
skips, and that the usage examples share one Pygments formatter yet come out
exactly as Sphinx highlights a ``console`` block. Timings: ``make bench``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import collection, good_tree, manifest, row_tag, sha256, soup, warnings_of
from docutils import nodes
from sphinx.highlighting import PygmentsBridge

from orgreg_sphinx.sphinxext import deferred, pages

#: a conf.py hook recording, per document, the transforms queued on its doctree
#: (run or still to run) when ``doctree-read`` fires
RECORD_TRANSFORMS = """
def setup(app):
    seen = app.orgreg_test_transforms = {}

    def record(app, doctree):
        queued = [*doctree.transformer.applied, *doctree.transformer.transforms]
        seen[app.env.docname] = {f"{c.__module__}.{c.__qualname__}" for _, c, _, _ in queued}

    app.connect("doctree-read", record)
"""


def search_index(out: Path) -> dict[str, Any]:
    text = (out / "searchindex.js").read_text()
    found = re.search(r"Search\.setIndex\((.*)\)\s*$", text, re.S)
    assert found is not None
    index: dict[str, Any] = json.loads(found.group(1))
    return index


def docs_for(index: dict[str, Any], term: str, key: str = "terms") -> list[int]:
    hits = index[key].get(term, [])
    return [hits] if isinstance(hits, int) else list(hits)


def test_search_index_holds_names_descriptions_readmes_and_tags(registry_project, build) -> None:
    """In a theme whose search page is Sphinx's alone, the namespace pages are
    in Sphinx's search index, with what people search for. (The orgreg theme
    finds them from the names index instead: test_home_pages.py.)"""
    files = good_tree()
    files["acme/busybox/README.md"] = collection(
        "Pocket toolbox for tests", "# About\n\nShips **sprocket** utilities.\n"
    )
    files["acme/busybox/manifests/waffles/README.md"] = manifest(
        sha256("waffles"), 600000, url="https://downloads.zeppelin.example/waffles.sif"
    )
    app = build(registry_project(files, conf='html_theme = "alabaster"\n'))
    out = Path(app.outdir)
    index = search_index(out)
    doc = index["docnames"].index("acme/busybox/index")

    # what people search: the name (a title), the description, the README, tag names
    assert doc in docs_for(index, "busybox", "titleterms")
    assert doc in docs_for(index, "pocket")  # description
    assert doc in docs_for(index, "toolbox")
    assert doc in docs_for(index, "sprocket")  # README text
    assert doc in docs_for(index, "waffl")  # tag name (stemmed)

    # what nobody searches: digests, sizes, dates, commands, URLs, the stats line
    page = soup(out / "acme/busybox/index.html")
    assert page.select_one("div.orgreg-usage") is not None  # still shown on the page
    digest_hex = sha256("waffles").split(":")[1]
    unwanted = [
        digest_hex[:12],
        digest_hex,
        "zeppelin",
        "curl",
        "apptainer",
        "singularity",
        "sregistry",
        "pull",
        "kib",
        "sif",
        "contain",
    ]
    terms = {**index["terms"], **index["titleterms"]}
    for word in unwanted:
        assert doc not in docs_for({"t": terms}, word, "t"), word
    assert not any(re.fullmatch(r"[0-9a-f]{12,}", term) for term in terms)
    shown = page.get_text()
    assert digest_hex[:12] in shown and "curl" in shown  # left out of the index, not the page
    # the page's one-line rows: bare cells (the header names the column), no
    # wrapper for the search index, no paragraph
    heads = [th.get_text() for th in page.select("table.orgreg-tags thead th")]
    assert all(th.attrs == {"class": ["head"]} for th in page.select("table.orgreg-tags th"))
    cell = page.select_one("table.orgreg-tags tbody tr").find_all("td")[heads.index("Digest")]
    assert cell.attrs == {}
    assert [child.name for child in cell.children if child.name] == ["abbr"]
    assert "no-search" not in str(page.select_one("table.orgreg-tags"))
    # the views are left out of the index (they repeat digests, URLs, commands)
    assert "no-search" in page.select_one("div.orgreg-tag-views")["class"]


def test_search_index_of_listings_holds_names_and_descriptions(registry_project, build) -> None:
    """The home page's namespace listing: names, descriptions and tag names are
    searchable; the summary line above it is not. (Sphinx never indexes numbers.)"""
    files = good_tree()
    files["acme/busybox/README.md"] = collection("Pocket toolbox for tests")
    app = build(registry_project(files))
    index = search_index(Path(app.outdir))
    home = index["docnames"].index("index")
    assert home in docs_for(index, "pocket")
    assert home in docs_for(index, "pancak")  # a namespace (and tag) name
    page = soup(Path(app.outdir) / "index.html")
    assert "2 organizations" in page.select_one(".orgreg-summary").get_text()
    assert home not in docs_for(index, "organ")  # "3 containers · 2 organizations · ..."
    assert home not in docs_for(index, "contain")


def test_generated_pages_skip_the_transforms_that_cannot_apply(registry_project, build) -> None:
    srcdir = registry_project(conf=RECORD_TRANSFORMS)
    (srcdir / "about.md").write_text('# About\n\nA "quoted" page.\n')
    app = build(srcdir)
    seen = app.orgreg_test_transforms
    generated = seen["acme/busybox/index"]
    hand_written = seen["about"]
    skipped = {
        "sphinx.transforms.SphinxSmartQuotes",
        "sphinx.transforms.references.SphinxDanglingReferences",
        "sphinx.transforms.ApplySourceWorkaround",
        "docutils.transforms.references.Substitutions",
        "docutils.transforms.references.Footnotes",
        "sphinx.transforms.i18n.Locale",
    }
    assert skipped <= hand_written  # Sphinx queues them for every document...
    assert not skipped & generated  # ...a generated page runs none of them
    assert not pages.SKIPPED_TRANSFORMS & generated
    # what a generated page needs still runs: doctree-read (this very hook runs in
    # it), the domains' process_doc (before it), system messages filtered (after it)
    assert {
        "sphinx.transforms.references.SphinxDomains",
        "sphinx.transforms.FilterSystemMessages",
    } <= generated
    # and the page is whole: title, description verbatim, usage, tags
    page = soup(Path(app.outdir) / "acme/busybox/index.html")
    assert page.select_one("h1").get_text().startswith("acme/busybox")
    assert page.select_one(".orgreg-description").get_text() == "Busybox example"
    assert page.select_one("table.orgreg-tags") is not None


def test_every_known_skipped_transform_exists_in_this_sphinx() -> None:
    """A name in SKIPPED_TRANSFORMS that no longer names a class would silently
    skip nothing: each must import (a Sphinx or docutils rename shows here)."""
    import importlib

    missing = []
    for name in sorted(pages.SKIPPED_TRANSFORMS):
        module, _, qualname = name.rpartition(".")
        try:
            getattr(importlib.import_module(module), qualname)
        except (ImportError, AttributeError):
            missing.append(name)
    assert missing == []


def test_usage_blocks_are_plain_commands(registry_project, build) -> None:
    """Each usage block is its commands as they are, in a bare ``<pre>`` (issue
    28: the console lexer marks command lines without prompts as output, so
    highlighting added only spans); a page without a highlighted block links no
    Pygments stylesheet."""
    app = build(registry_project())
    page = soup(Path(app.outdir) / "acme/busybox/index.html")
    blocks = page.select("div.orgreg-usage-tab > pre.orgreg-command")
    assert len(blocks) >= 3
    assert not page.select("div.orgreg-usage span, div.orgreg-usage div.highlight")
    assert blocks[0].get_text().startswith("curl -L -o busybox_latest.sif ")
    sheets = [link["href"] for link in page.select("link[rel=stylesheet]")]
    assert not any("pygments" in href for href in sheets), sheets
    assert any("basic.css" in href for href in sheets), sheets


def test_usage_blocks_cost_no_formatter(
    registry_project, build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sphinx makes a Pygments formatter per code block; the usage examples of
    every page, plain commands, make none."""
    files = good_tree()
    for i in range(8):
        files[f"org/repo-{i}/manifests/latest/README.md"] = manifest(sha256(f"repo-{i}"))
    made: list[dict[str, Any]] = []
    original = PygmentsBridge.get_formatter

    def counting(self: PygmentsBridge, **kwargs: Any) -> Any:
        made.append(dict(kwargs))
        return original(self, **kwargs)

    monkeypatch.setattr(PygmentsBridge, "get_formatter", counting)
    app = build(registry_project(files))
    out = Path(app.outdir)
    blocks = sum(
        len(soup(path).select("div.orgreg-usage pre.orgreg-command"))
        for path in out.glob("*/*/index.html")
    )
    assert blocks >= 40  # 11 namespaces, 4-5 usage blocks each
    for_blocks = [kwargs for kwargs in made if "linenos" in kwargs]
    assert for_blocks == [], made


def test_usage_blocks_in_text_output(registry_project, build) -> None:
    """Other builders write the command blocks as the literal blocks they are."""
    app = build(registry_project(), "text")
    text = (Path(app.outdir) / "acme/busybox/index.txt").read_text()
    assert "curl -s https://<your-registry-site>/acme/busybox/tags/" in text
    assert "sha256:" in text and "768.0 KiB" in text  # cells left out of the index


# ------------------------------------------------ parts built when pages are written


def test_tables_and_usage_are_built_when_pages_are_written(registry_project, build) -> None:
    """A generated page's doctree, as read and pickled, holds its title, description
    and README but only stand-ins for its usage blocks and tag table (and the home
    page one for its namespace table); the written pages hold them all, links
    resolved and html-only parts kept."""
    files = good_tree()
    for index in range(6):  # more tags than the home listing names: a hidden filter index
        files[f"acme/busybox/manifests/v{index}/README.md"] = manifest(sha256(f"v{index}"))
    app = build(registry_project(files))
    assert warnings_of(app) == ""
    page = app.env.get_doctree("acme/busybox/index")
    assert [n["part"] for n in page.findall(deferred.deferred)] == ["usage", "tags", "views"]
    assert not list(page.findall(nodes.table))
    assert not [b for b in page.findall(nodes.literal_block) if " pull " in b.astext()]
    assert "Busybox example" in page.astext() and "tiny" in page.astext()  # read as before
    home = app.env.get_doctree("index")
    [listed] = list(home.findall(deferred.deferred))
    assert listed["part"] == "namespaces"
    assert listed["namespaces"] == ["acme/busybox", "acme/centos", "lab/pancakes"]
    assert not list(home.findall(nodes.table))

    out = Path(app.outdir)
    html = soup(out / "acme/busybox/index.html")
    rows = html.select("table.orgreg-tags tbody tr")
    assert {row_tag(r) for r in rows} == {"latest", "1.36", *(f"v{i}" for i in range(6))}
    assert html.select("#usage .orgreg-usage-tab pre")  # the usage blocks, highlighted
    index = soup(out / "index.html")
    link = index.select_one("table.orgreg-namespaces a.reference.internal")
    assert link is not None and link["href"] == "acme/busybox/index.html"  # resolved
    assert link.get_text() == "acme/busybox"
    # the html-only hidden tag names are kept, nothing of the "not html" side shows
    assert index.select_one(".orgreg-tag-index") is not None
    assert "<only" not in (out / "index.html").read_text()


def test_a_captioned_listing_is_read_as_before(registry_project, build) -> None:
    """A caption makes a table numbered (an enumerable node): it is built when read."""
    srcdir = registry_project()
    (srcdir / "about.md").write_text(
        "---\norphan: true\n---\n# About\n\n```{registry}\n:caption: Our images\n```\n"
    )
    app = build(srcdir)
    assert warnings_of(app) == ""
    doctree = app.env.get_doctree("about")
    assert not list(doctree.findall(deferred.deferred))
    [table] = list(doctree.findall(nodes.table))
    assert table["ids"] and table[0].astext() == "Our images"


def test_other_builders_see_the_parts_in_their_post_transforms(registry_project, build) -> None:
    """linkcheck collects a page's links in a post-transform: it finds each tag's
    download URL (all ignored here: no network)."""
    files = good_tree()
    files["acme/busybox/manifests/1.36/README.md"] = manifest(
        sha256("busybox-1.36"), url="https://downloads.zeppelin.example/busybox-1.36.sif"
    )
    srcdir = registry_project(files, conf='linkcheck_ignore = [".*"]\n')
    app = build(srcdir, "linkcheck")
    lines = (Path(app.outdir) / "output.json").read_text().splitlines()
    found = [json.loads(line) for line in lines]
    # filename: the page's stub (its source for Sphinx)
    on_page = {e["uri"] for e in found if e["filename"].startswith("acme/busybox/index")}
    assert "https://downloads.zeppelin.example/busybox-1.36.sif" in on_page
    assert all(e["status"] == "ignored" for e in found)


def test_the_home_listing_leaves_no_reference_names_behind(registry_project, build) -> None:
    """The stand-in's arguments are not docutils attributes of the table put in
    its place: the XML output names no target after the listed namespaces (as
    when the table was built when read)."""
    import xml.etree.ElementTree as ET

    app = build(registry_project(), "xml")
    root = ET.parse(Path(app.outdir) / "index.xml").getroot()
    [table] = [t for t in root.iter("table") if "orgreg-namespaces" in t.get("classes", "")]
    assert "acme/busybox" in "".join(table.itertext())
    named = [(e.tag, e.get("names")) for e in root.iter() if e.get("names")]
    assert not [n for n in named if "acme/busybox" in (n[1] or "")], named


def test_a_namespace_page_stays_within_a_per_tag_budget(registry_project, build) -> None:
    """Issue 28 (the site <= 4 KB per tag, endpoints included): a namespace page
    of 20 tags, each with its view, weighs well under 2 KB per tag, frame
    included (about 1.3 KB when this was written; generous, not a measurement:
    the benchmark measures), and holds nothing a view would repeat: sregistry's
    environment once, no search scripts (the page is out of the search index)
    and no Pygments stylesheets (no highlighted block)."""
    files = good_tree()
    tags = [f"{major}.{minor}" for major in range(1, 5) for minor in range(5)]
    for tag in tags:
        digest = sha256(f"many-{tag}")
        files[f"lab/many/manifests/{tag}/README.md"] = manifest(
            digest, url=f"https://storage.example.org/lab/many/{digest[-12:]}.sif"
        )
    app = build(registry_project(files))
    path = Path(app.outdir) / "lab/many/index.html"
    page = soup(path)
    views = page.select("div.orgreg-tag-views > section")
    assert [v["id"] for v in views] == [f"tag-{t}" for t in tags]
    assert path.stat().st_size / len(tags) < 2000
    html = path.read_text()
    assert html.count("export SREGISTRY_CLIENT=registry") == 2  # the usage tab, the page's line
    assert all("SREGISTRY_" not in v.get_text() for v in views)
    scripts = [s["src"] for s in page.select("script[src]")]
    assert not any(n in s for s in scripts for n in ("doctools", "sphinx_highlight")), scripts
    assert not any("pygments" in link["href"] for link in page.select("link[rel=stylesheet]"))
