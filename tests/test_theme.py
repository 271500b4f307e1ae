"""The orgreg theme's HTML: theme-only and extension builds, theme options, the
home listing and namespace page markup, and navigation that does not grow."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    VIEW_FACTS,
    collection,
    manifest,
    row_tag,
    sha256,
    soup,
    tag_view,
    warnings_of,
)

from orgreg_sphinx import theme

THEME_ONLY_CONF = """\
project = "Plain docs"
html_theme = "orgreg"
"""


def theme_only_project(tmp_path: Path, conf: str = "") -> Path:
    """A Sphinx project with no extension at all, only ``html_theme = "orgreg"``."""
    src = tmp_path / "plain"
    src.mkdir()
    (src / "conf.py").write_text(THEME_ONLY_CONF + textwrap.dedent(conf))
    (src / "index.rst").write_text(
        "Plain docs\n==========\n\nHello.\n\n.. code-block:: console\n\n   $ echo hi\n\n"
        ".. toctree::\n\n   other\n"
    )
    (src / "other.rst").write_text("Other\n=====\n\nA page.\n")
    return src


def test_theme_alone_without_the_extension(tmp_path: Path, build: Callable) -> None:
    app = build(theme_only_project(tmp_path))
    assert "orgreg_sphinx" not in app.extensions  # found through the entry point only
    assert "orgreg_sphinx.theme" in app.extensions
    assert warnings_of(app) == ""
    page = soup(app.outdir / "index.html")
    assert page.select_one("header.orgreg-header a.orgreg-brand").get_text(strip=True)
    hrefs = [link["href"] for link in page.select("link[rel=stylesheet]")]
    assert any("_static/orgreg.css" in h for h in hrefs)
    assert any("_static/orgreg.js" in s["src"] for s in page.select("script[src]"))
    assert page.select_one("main#orgreg-main div.body") is not None
    assert page.select_one(".orgreg-nav a").get_text() == "Home"
    assert page.select_one("div.sphinxsidebar") is None
    for asset in ("orgreg.css", "orgreg.js", "orgreg-logo.svg", "basic.css"):
        assert (app.outdir / "_static" / asset).is_file()
    # the shipped logo and its colours, with no theme option set
    assert page.select_one("img.orgreg-logo")["src"] == "_static/orgreg-logo.svg"
    # the default colours are the stylesheet's: no style element in every page
    assert page.select_one("head style") is None
    assert "--orgreg-accent-light: #2563eb;" in (app.outdir / "_static/orgreg.css").read_text()
    # the script that runs before the first paint is a file of its own, not inline
    assert [s["src"] for s in page.select("head script[src]")][-1] == "_static/orgreg-early.js"
    assert not [s for s in page.select("script") if s.string and s.string.strip()]
    assert (app.outdir / "_static" / "orgreg-early.js").is_file()
    # one viewport line (docutils' own is dropped)
    assert len(page.select("meta[name=viewport]")) == 1


def test_theme_options(tmp_path: Path, build: Callable) -> None:
    src = theme_only_project(
        tmp_path,
        conf="""
        html_static_path = ["_static"]
        html_theme_options = {
            "logo": "brand.svg",
            "accent_color": "#c2185b",
            "accent_color_dark": "rgb(255, 128, 171)",
            "github_url": "https://github.com/acme",
            "footer_links": {"Support": "https://help.example.org/", "Status": "/status/",
                             "API": "api/catalog.json"},
        }
    """,
    )
    (src / "sub").mkdir()
    (src / "sub" / "deep.rst").write_text(":orphan:\n\nDeep\n====\n\nA page below.\n")
    (src / "_static").mkdir()
    (src / "_static" / "brand.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    app = build(src)
    assert warnings_of(app) == ""
    page = soup(app.outdir / "other.html")
    assert page.select_one("img.orgreg-logo")["src"] == "_static/brand.svg"
    style = page.select_one("head style").string
    assert "--orgreg-accent-light: #c2185b" in style
    assert "--orgreg-accent-dark: rgb(255, 128, 171)" in style
    assert page.select_one("a.orgreg-github")["href"] == "https://github.com/acme"
    footer = [(a.get_text(), a["href"]) for a in page.select(".orgreg-footer-links a")]
    assert footer == [
        ("Support", "https://help.example.org/"),
        ("Status", "/status/"),
        ("API", "api/catalog.json"),
        ("GitHub", "https://github.com/acme"),
    ]
    # relative links and the logo stay relative to the site's root on deeper pages
    deep = soup(app.outdir / "sub" / "deep.html")
    assert deep.select_one("img.orgreg-logo")["src"] == "../_static/brand.svg"
    assert deep.select(".orgreg-footer-links a")[2]["href"] == "../api/catalog.json"


def test_bad_theme_options_warn_and_fall_back(tmp_path: Path, build: Callable) -> None:
    src = theme_only_project(
        tmp_path,
        conf="""
        html_theme_options = {
            "accent_color": "red;} body {display:none",
            "footer_links": "Docs=https://docs.example.org/, Evil=javascript:alert(1)",
            "github_url": "javascript:alert(1)",
        }
    """,
    )
    app = build(src)
    warnings = warnings_of(app)
    assert "accent_color" in warnings and "is not a CSS colour" in warnings
    assert "javascript:alert(1)" in warnings
    assert warnings.count("footer_links") == 1  # once per build, not once per page
    page = soup(app.outdir / "index.html")
    assert page.select_one("head style") is None  # the defaults: the stylesheet's own
    footer = [(a.get_text(), a["href"]) for a in page.select(".orgreg-footer-links a")]
    assert footer == [("Docs", "https://docs.example.org/")]
    assert page.select_one("a.orgreg-github") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("A=https://a.example/", [("A", "https://a.example/")]),
        ({"A": "/a/", "B": "mailto:x@example.org"}, [("A", "/a/"), ("B", "mailto:x@example.org")]),
        ([("A", "a.html"), {"label": "B", "url": "#b"}], [("A", "a.html"), ("B", "#b")]),
        ([("A", "data:text/html,x")], []),
    ],
)
def test_footer_links_forms(value: object, expected: list) -> None:
    assert theme.footer_links(value) == expected


def test_extension_and_theme_home_listing(registry_project: Callable, build: Callable) -> None:
    app = build(registry_project())
    assert warnings_of(app) == ""
    home = soup(app.outdir / "index.html")
    assert home.select_one("p.orgreg-summary").get_text() == (
        "3 containers · 2 organizations · 4 tags · last update 2024-05-02"
    )
    table = home.select_one("table.orgreg-namespaces")
    # plain rows in the HTML (other themes and builders get a plain table); the
    # theme's script adds the organization headings
    assert len(table.select("tbody tr")) == len(table.select("tr.orgreg-namespace-row")) == 3
    assert table["class"][:2] == ["orgreg-namespaces", "orgreg-col-namespace"]
    # every namespace row carries its tag names (shown, and indexed for the filter)
    busybox = table.select("tr.orgreg-namespace-row")[0]
    assert [c.get_text() for c in busybox.select(".orgreg-tag-names code")] == ["latest", "1.36"]
    assert busybox.select_one(".orgreg-tag-index") is None  # all of its tags are shown


def test_namespace_page_markup(registry_project: Callable, build: Callable) -> None:
    app = build(
        registry_project(),
        confoverrides={
            "html_theme_options": {"github_url": "https://github.com/acme"},
            "orgreg_repository_url": "https://github.com/acme/registry",
        },
    )
    page = soup(app.outdir / "acme" / "busybox" / "index.html")
    assert page.select_one(".orgreg-nav a").get_text() == "Containers"
    crumbs = [li.get_text(strip=True) for li in page.select("nav.orgreg-breadcrumb li")]
    assert crumbs == ["Containers", "acme", "busybox"]
    assert page.select_one("nav.orgreg-breadcrumb li[aria-current=page]").get_text() == "busybox"
    assert page.select_one("p.orgreg-stats").get_text() == (
        "2 tags · updated 2024-05-02 · latest: 770.0 KiB"
    )
    usage = page.select_one("div.orgreg-usage")
    tabs = usage.select(":scope > div.orgreg-usage-tab")
    assert len(tabs) >= 2
    for tab in tabs:  # plain blocks without JavaScript: a label and a command each
        assert tab.select_one("p.rubric").get_text()
        assert tab.select_one("pre.orgreg-command")
    assert {row_tag(row) for row in page.select("table.orgreg-tags tbody tr")} == {
        "latest",
        "1.36",
    }
    # neighbours, not a list of every namespace
    assert [a.get_text(" ", strip=True) for a in page.select("nav.orgreg-pager a")] == [
        "Previous Test registry",
        "Next acme/centos",
    ]
    assert page.select_one(".orgreg-footer a")["href"].startswith(
        "https://github.com/acme/registry/tree/main/"
    )


def namespace_tree(count: int) -> dict[str, str]:
    files = {}
    for i in range(count):
        name = "acme/probe" if i == 0 else f"org{i % 7}/c{i:04d}"
        files[f"{name}/README.md"] = collection(f"Container {name}")
        files[f"{name}/manifests/latest/README.md"] = manifest(sha256(name))
    return files


def test_namespace_page_does_not_grow_with_the_registry(
    registry_project: Callable, build: Callable, tmp_path: Path
) -> None:
    """No toctree of every namespace on each page (scripts/page_size.py measures 20
    against 2000 namespaces; this keeps the suite quick with 5 against 80)."""
    sizes = {}
    for count in (5, 80):
        app = build(registry_project(namespace_tree(count), name=f"src{count}"))
        page = app.outdir / "acme" / "probe" / "index.html"
        sizes[count] = page.stat().st_size
        links = [a["href"] for a in soup(page).select("a[href]")]
        assert len(links) < 30, links  # no list of all namespaces
    assert abs(sizes[80] - sizes[5]) / sizes[5] < 0.05, sizes


def test_many_tags_show_the_newest_and_index_the_rest(
    registry_project: Callable, build: Callable
) -> None:
    files = {
        f"acme/many/manifests/v{i}/README.md": manifest(
            sha256(f"many{i}"), extra=f'created: "2024-01-0{i + 1}T00:00:00Z"\n'
        )
        for i in range(7)
    }
    app = build(registry_project(files))
    row = soup(app.outdir / "index.html").select_one("tr.orgreg-namespace-row")
    assert [c.get_text() for c in row.select(".orgreg-tag-names code")] == ["v6", "v5", "v4", "v3"]
    assert row.select_one(".orgreg-more-tags").get_text() == "+3 more"
    assert row.select_one(".orgreg-tag-index").get_text() == "v2 v1 v0"
    # other builders get the shown names only
    xml_app = build(registry_project(files, name="xml"), "xml")
    xml = (xml_app.outdir / "index.xml").read_text()
    assert ">v6<" in xml and "+3 more" in xml and "v2" not in xml


def test_size_cells_show_the_size_the_view_the_bytes(
    registry_project: Callable, build: Callable
) -> None:
    """A namespace page's one-line row shows the readable figure alone (the
    theme's script sorts by it, issue 28: no data-bytes in every row); the exact
    figure is the tag's view's."""
    app = build(registry_project())
    sizes = {}
    for path in ("acme/busybox", "acme/centos"):
        page = soup(app.outdir / path / "index.html")
        table = page.select_one("table.orgreg-tags")
        column = [th.get_text(strip=True) for th in table.select("thead th")].index("Size")
        for row in table.select("tbody tr"):
            cell = row.select("td")[column]
            assert cell.select("abbr") == []
            exact = tag_view(page, row_tag(row)).select_one(VIEW_FACTS).select_one("dd").get_text()
            sizes[row_tag(row)] = (cell.get_text(), exact)
    assert sizes == {
        "latest": ("770.0 KiB", "770.0 KiB (788480 bytes)"),
        "1.36": ("768.0 KiB", "768.0 KiB (786432 bytes)"),
        "7": ("73.6 MiB", "73.6 MiB (75412 KiB)"),  # a legacy size in KiB
    }


def test_footer_links_warn_once_per_build(tmp_path: Path, make_app: Callable) -> None:
    """A bad footer link warns once per build (not once per page), and again when the
    same Sphinx application builds a second time."""
    src = theme_only_project(
        tmp_path,
        conf="""
        html_theme_options = {"footer_links": "Docs=https://docs.example.org/, Evil=javascript:x"}
    """,
    )
    app = make_app("html", srcdir=src)
    try:
        app.build()
        assert warnings_of(app).count("footer_links") == 1
        app.build(force_all=True)
        assert warnings_of(app).count("footer_links") == 2
    finally:
        app.cleanup()
    footer = [
        (a.get_text(), a["href"])
        for a in soup(app.outdir / "other.html").select(".orgreg-footer-links a")
    ]
    assert footer == [("Docs", "https://docs.example.org/")]


def test_a_theme_inheriting_from_orgreg_gets_its_header_and_footer(
    tmp_path: Path, build: Callable
) -> None:
    """A site's own theme with ``inherit = "orgreg"``: the orgreg values (GitHub link,
    footer links, accent colour) reach its pages too."""
    src = theme_only_project(
        tmp_path,
        conf="""
        html_theme = "house"
        html_theme_path = ["_themes"]
        html_theme_options = {"github_url": "https://github.com/acme",
                              "footer_links": "Help=https://help.example.org/",
                              "accent_color": "#c2185b"}
    """,
    )
    house = src / "_themes" / "house"
    house.mkdir(parents=True)
    (house / "theme.toml").write_text('[theme]\ninherit = "orgreg"\n')
    app = build(src)
    assert warnings_of(app) == ""
    page = soup(app.outdir / "index.html")
    assert page.select_one("a.orgreg-github")["href"] == "https://github.com/acme"
    footer = [(a.get_text(), a["href"]) for a in page.select(".orgreg-footer-links a")]
    assert footer == [("Help", "https://help.example.org/"), ("GitHub", "https://github.com/acme")]
    assert "--orgreg-accent-light: #c2185b" in page.select_one("head style").string
