"""The `registry` directive and `container` role on the local tree: every option,
reST and MyST, text and LaTeX builders, incremental rebuilds."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import good_tree, manifest, sha256, soup, tag_row, tag_view, warnings_of
from docutils import nodes

#: a namespace with enough tags to sort, filter and cut
TOOLS = {
    "acme/tools/README.md": "---\nlayout: collection\ndescription: Tools\n---\n",
    "acme/tools/manifests/v1.9/README.md": manifest(
        sha256("v1.9"), 1_000_000, extra='created: "2024-01-10T00:00:00Z"\n'
    ),
    "acme/tools/manifests/v1.10/README.md": manifest(
        sha256("v1.10"), 3_000_000, extra='created: "2024-03-10T00:00:00Z"\n'
    ),
    "acme/tools/manifests/v2.0/README.md": manifest(
        sha256("v2.0"), 2_000_000, extra='created: "2024-06-10T00:00:00Z"\n'
    ),
    "acme/tools/manifests/dev/README.md": manifest(sha256("dev"), 4_000_000),
}


def tree() -> dict[str, str]:
    return {**good_tree(), **TOOLS}


def page(srcdir: Path, name: str, text: str) -> None:
    (srcdir / name).write_text(textwrap.dedent(text), encoding="utf-8")


def toc(*names: str) -> str:
    entries = "\n".join(names)
    return f"# Test registry\n\n```{{registry}}\n:toctree:\n```\n\n```{{toctree}}\n{entries}\n```\n"


def md(options: str, argument: str = "") -> str:
    """A MyST page holding one registry directive with *options*."""
    return f"# Embed\n\n```{{registry}} {argument}\n{textwrap.dedent(options).strip()}\n```\n"


def own_warnings(app: object) -> list[str]:
    """Warnings of a build, less those of building several apps in one process."""
    return [line for line in warnings_of(app).splitlines() if "is already registered" not in line]


def tables(html: Path) -> list:
    return soup(html).select("div.orgreg table")


def header(table) -> list[str]:
    return [th.get_text(strip=True) for th in table.select("thead th")]


def column(table, index: int) -> list[str]:
    return [tr.select("td")[index].get_text(strip=True) for tr in table.select("tbody tr")]


@pytest.fixture
def site(registry_project: Callable[..., Path], build: Callable[..., object]):
    """Build a project with an extra page ``embed.md`` holding *text*."""

    def run(text: str, builder: str = "html", files: dict | None = None, **kw):
        srcdir = registry_project(tree() if files is None else files, index=toc("embed"))
        page(srcdir, "embed.md", text)
        app = build(srcdir, builder, **kw)
        return app, Path(app.outdir)

    return run


# ---------------------------------------------------------------- reST and MyST


def test_rest_and_myst_give_the_same_doctree(
    registry_project: Callable[..., Path], build: Callable[..., object]
) -> None:
    options = """\
        :namespace: acme/*
        :columns: tag, size, created
        :tags: v* latest
        :sort: -created
        :limit: 2
        :caption: Our images
    """
    srcdir = registry_project(tree(), index=toc("rest", "fence", "colon", "yaml"))
    rst_options = textwrap.indent(textwrap.dedent(options), "   ")
    page(srcdir, "rest.rst", f"Embed\n=====\n\n.. registry::\n{rst_options}")
    page(srcdir, "fence.md", md(options))
    page(srcdir, "colon.md", md(options).replace("```", ":::"))
    yaml_options = "\n".join(
        line.strip().replace(":", "", 1).replace(":", ": ", 1).replace(":  ", ": ")
        for line in textwrap.dedent(options).strip().splitlines()
    )
    page(srcdir, "yaml.md", f"# Embed\n\n```{{registry}}\n---\n{yaml_options}\n---\n```\n")
    app = build(srcdir)
    assert warnings_of(app) == ""

    def listing(docname: str) -> str:
        doctree = app.env.get_doctree(docname)
        found = [n for n in doctree.findall(nodes.container) if "orgreg" in n["classes"]]
        assert len(found) == 1
        return re.sub(r' refdoc="[^"]*"', "", found[0].pformat())

    rest = listing("rest")
    assert "Our images: acme/tools" in rest and "v2.0" in rest
    assert listing("fence") == rest
    assert listing("colon") == rest
    assert listing("yaml") == rest


# ---------------------------------------------------------------- options


def test_namespace_shows_its_tag_table(site) -> None:
    app, out = site(md(":namespace: acme/busybox"))
    assert warnings_of(app) == ""
    [table] = tables(out / "embed.html")
    assert header(table) == ["Image", "Tag", "Size", "Digest", "Created", "Download", "Recipe"]
    assert column(table, 1) == ["1.36", "latest"]
    assert column(table, 0) == ["acme/busybox:1.36", "acme/busybox:latest"]


def test_namespace_glob_gives_a_table_per_namespace(site) -> None:
    app, out = site(md(":namespace: acme/*"))
    page_soup = soup(out / "embed.html")
    rubrics = [p.get_text() for p in page_soup.select("div.orgreg p.rubric")]
    assert rubrics == ["acme/busybox", "acme/centos", "acme/tools"]
    assert len(page_soup.select("div.orgreg table")) == 3
    assert warnings_of(app) == ""


def test_several_namespaces_in_the_order_given(site) -> None:
    _, out = site(md(":namespace: lab/pancakes, acme/centos"))
    first_cells = [column(t, 0)[0] for t in tables(out / "embed.html")]
    assert first_cells == ["lab/pancakes:pancakes", "acme/centos:7"]


def test_unknown_namespace_warns(site) -> None:
    app, out = site(md(":namespace: nobody/*"))
    assert "no namespace matches 'nobody/*'" in warnings_of(app)
    assert "embed.md" in warnings_of(app)
    assert tables(out / "embed.html") == []


def test_columns_choose_and_order(site) -> None:
    app, out = site(md(":namespace: acme/centos\n:columns: digest, tag created"))
    [table] = tables(out / "embed.html")
    # chosen columns are kept even when empty (no tag of acme/centos has a time stamp)
    assert header(table) == ["Digest", "Tag", "Created"]
    assert column(table, 1) == ["7"]
    assert warnings_of(app) == ""


def test_unknown_column_warns_and_is_left_out(site) -> None:
    app, out = site(md(":namespace: acme/centos\n:columns: tag, colour"))
    assert "unknown column(s) 'colour'" in warnings_of(app)
    assert header(tables(out / "embed.html")[0]) == ["Tag"]


def test_tags_filter_globs(site) -> None:
    _, out = site(md(":namespace: acme/tools\n:tags: v1.*, dev"))
    assert column(tables(out / "embed.html")[0], 1) == ["dev", "v1.9", "v1.10"]


def test_tags_filter_matching_nothing_says_so(site) -> None:
    app, out = site(md(":namespace: acme/tools\n:tags: nightly-*,rc-*"))
    assert tables(out / "embed.html") == []
    text = soup(out / "embed.html").select_one("div.orgreg p.orgreg-empty").get_text()
    assert text == "acme/tools has no tags matching nightly-*, rc-*."
    assert warnings_of(app) == ""


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["dev", "v1.9", "v1.10", "v2.0"]),
        ("-name", ["v2.0", "v1.10", "v1.9", "dev"]),
        ("created", ["v1.9", "v1.10", "v2.0", "dev"]),
        ("-created", ["v2.0", "v1.10", "v1.9", "dev"]),
        ("size", ["v1.9", "v2.0", "v1.10", "dev"]),
        ("-size", ["dev", "v1.10", "v2.0", "v1.9"]),
    ],
)
def test_sort_orders(site, sort: str, expected: list[str]) -> None:
    app, out = site(md(f":namespace: acme/tools\n:sort: {sort}"))
    assert column(tables(out / "embed.html")[0], 1) == expected
    assert warnings_of(app) == ""


def test_unknown_sort_warns_and_keeps_name_order(site) -> None:
    app, out = site(md(":namespace: acme/tools\n:sort: colour"))
    assert "unknown sort order 'colour'" in warnings_of(app)
    assert column(tables(out / "embed.html")[0], 1) == ["dev", "v1.9", "v1.10", "v2.0"]


def test_limit_links_to_the_rest_on_the_namespace_page(site) -> None:
    app, out = site(md(":namespace: acme/tools\n:sort: -created\n:limit: 2"))
    assert column(tables(out / "embed.html")[0], 1) == ["v2.0", "v1.10"]
    more = soup(out / "embed.html").select_one("p.orgreg-more")
    assert more.get_text() == "… and 2 more tags."
    assert more.a["href"] == "acme/tools/index.html#tags"
    # the link target exists
    assert soup(out / "acme/tools/index.html").select_one("section#tags") is not None
    assert warnings_of(app) == ""


def test_limit_not_reached_has_no_more_link(site) -> None:
    _, out = site(md(":namespace: acme/centos\n:limit: 5"))
    assert soup(out / "embed.html").select("p.orgreg-more") == []


def test_limit_must_be_positive(site) -> None:
    app, _ = site(md(":namespace: acme/centos\n:limit: 0"))
    warnings = warnings_of(app)
    assert "limit" in warnings and "must be positive" in warnings


def test_caption(site) -> None:
    _, out = site(md(":namespace: acme/centos\n:caption: Legacy images"))
    caption = tables(out / "embed.html")[0].caption
    assert caption is not None and "Legacy images" in caption.get_text()


def test_name_and_class(site) -> None:
    _, out = site(md(":namespace: acme/centos\n:name: centos-images\n:class: compact"))
    box = soup(out / "embed.html").select_one("div.orgreg")
    assert "compact" in box["class"]
    assert box["id"] == "centos-images"


def test_namespace_list_options(site) -> None:
    app, out = site(md(":columns: namespace, tags\n:sort: -tags\n:limit: 2\n:caption: All"))
    [table] = tables(out / "embed.html")
    assert header(table) == ["Namespace", "Tags"]
    assert column(table, 0) == ["acme/tools", "acme/busybox"]
    assert column(table, 1) == ["4", "2"]
    assert table.select_one("tbody a")["href"] == "acme/tools/index.html"
    assert "All" in table.caption.get_text()
    assert soup(out / "embed.html").select_one("p.orgreg-more").get_text() == (
        "… and 2 more namespaces."
    )
    assert warnings_of(app) == ""


def test_tags_without_namespace_warns(site) -> None:
    app, out = site(md(":tags: v*"))
    assert ":tags: filters tag tables; add :namespace:" in warnings_of(app)
    assert len(tables(out / "embed.html")[0].select("tbody tr")) == 4


def test_namespace_list_sorted_by_update(site) -> None:
    _, out = site(md(":sort: -updated"))
    assert column(tables(out / "embed.html")[0], 0)[:2] == ["acme/tools", "acme/busybox"]


def test_home_listing_and_namespace_pages_unchanged(site) -> None:
    app, out = site(md(":namespace: acme/centos"))
    home = soup(out / "index.html")
    names = [a.get_text() for a in home.select("table.orgreg-namespaces tbody a")]
    assert names == ["acme/busybox", "acme/centos", "acme/tools", "lab/pancakes"]
    centos = soup(out / "acme/centos/index.html")
    assert centos.select_one("h1").get_text().startswith("acme/centos")
    # the tag's row links to its view, a section of the page holding the old anchor
    assert tag_row(centos, "7") is not None and tag_view(centos, "7") is not None
    # an embedded table's tag names link to the views on the namespace pages
    embedded = soup(out / "embed.html").select("table.orgreg-tags strong")
    embedded = [strong.find_parent("a") for strong in embedded]
    assert [a["href"] for a in embedded] == ["acme/centos/index.html#tag-7"]
    assert warnings_of(app) == ""


# ---------------------------------------------------------------- role


def test_container_role_links_to_the_tag_row(site) -> None:
    text = """\
        # Embed

        Pull {container}`acme/centos:7`, {container}`the newest <acme/busybox:latest>`
        or see {container}`acme/tools`.
        """
    app, out = site(text)
    assert warnings_of(app) == ""
    links = soup(out / "embed.html").select("a.reference")
    found = {a.get_text(): a["href"] for a in links if "orgreg-container" in a.code["class"]}
    assert found == {
        "acme/centos:7": "acme/centos/index.html#tag-7",
        "the newest": "acme/busybox/index.html#tag-latest",
        "acme/tools": "acme/tools/index.html",
    }
    # the anchors are the tags' views on the namespace pages
    assert tag_view(soup(out / "acme/busybox/index.html"), "latest") is not None


def test_container_role_warns_for_unknown_names(site) -> None:
    app, out = site("# Embed\n\n{container}`nobody/x:1` and {container}`acme/centos:8`\n")
    warnings = warnings_of(app)
    assert "embed.md:3: WARNING: container: unknown namespace 'nobody/x'" in warnings
    assert "container: unknown tag '8': the namespace 'acme/centos' has no such tag" in warnings
    para = soup(out / "embed.html").select_one("section p")
    assert para.select("a") == []
    assert [c.get_text() for c in para.select("code")] == ["nobody/x:1", "acme/centos:8"]


def test_container_role_in_rest(registry_project, build) -> None:
    srcdir = registry_project(tree(), index=toc("rest"))
    page(srcdir, "rest.rst", "Embed\n=====\n\nSee :container:`acme/tools:v2.0`.\n")
    app = build(srcdir)
    assert warnings_of(app) == ""
    link = soup(Path(app.outdir) / "rest.html").select_one("a.reference")
    assert link["href"] == "acme/tools/index.html#tag-v2.0"


# ---------------------------------------------------------------- other builders


def test_text_builder_gets_a_plain_table(site) -> None:
    text = md(":namespace: acme/tools\n:columns: tag, size\n:limit: 3\n:caption: Tools")
    text += "\nSee {container}`acme/tools:dev`.\n"
    app, out = site(text, "text")
    assert warnings_of(app) == ""
    body = (out / "embed.txt").read_text()
    assert re.search(r"\|\s*Tag\s*\|\s*Size\s*\|", body)
    assert re.search(r"\|\s*\*\*v1\.9\*\*\s*\|\s*976\.6 KiB\s*\|", body)
    assert "… and 1 more tag." in body
    assert 'See "acme/tools:dev".' in body


def test_latex_builder_gets_a_table(site) -> None:
    text = md(":namespace: acme/*\n:columns: image, tag, digest\n:limit: 1\n:caption: Images")
    text += "\nSee {container}`acme/tools:dev`.\n"
    app, out = site(text, "latex")
    assert warnings_of(app) == ""
    [tex] = out.glob("*.tex")
    body = tex.read_text()
    assert body.count(r"\begin{tabulary}") + body.count(r"\begin{longtable}") >= 3
    assert r"Images: acme/centos" in body
    assert "acme/tools:dev" in body


# ---------------------------------------------------------------- incremental builds


def test_incremental_rebuild_picks_up_a_new_tag(
    registry_project: Callable[..., Path], make_app: Callable[..., object]
) -> None:
    srcdir = registry_project(tree(), index=toc("embed", "other", "role"))
    page(srcdir, "embed.md", md(":namespace: acme/tools\n:sort: -name"))
    page(srcdir, "other.md", md(":namespace: acme/centos"))
    page(srcdir, "role.md", "# Role\n\n{container}`acme/tools:v3.0`\n")

    def build() -> tuple[object, list[str]]:
        app = make_app("html", srcdir=srcdir)
        read: list[str] = []
        app.connect("env-before-read-docs", lambda app, env, docs: read.extend(sorted(docs)))
        app.build()
        return app, read

    app, read = build()
    assert "embed" in read and "other" in read
    assert "unknown tag 'v3.0'" in warnings_of(app)
    out = Path(app.outdir)
    assert column(tables(out / "embed.html")[0], 1)[0] == "v2.0"

    _, read = build()  # nothing changed: nothing read again
    assert read == []

    (srcdir / "acme/tools/manifests/v3.0").mkdir()
    (srcdir / "acme/tools/manifests/v3.0/README.md").write_text(manifest(sha256("v3.0")))
    app, read = build()
    assert "embed" in read and "role" in read and "acme/tools/index" in read
    assert "other" not in read and "acme/centos/index" not in read
    assert own_warnings(app) == []
    assert column(tables(out / "embed.html")[0], 1)[0] == "v3.0"
    link = soup(out / "role.html").select_one("a.reference")
    assert link["href"] == "acme/tools/index.html#tag-v3.0"

    # a tag outside the filtered, limited view changes nothing shown
    page(srcdir, "embed.md", md(":namespace: acme/tools\n:tags: v*\n:limit: 1\n:sort: -name"))
    build()
    (srcdir / "acme/tools/manifests/dev/README.md").write_text(manifest(sha256("dev2")))
    _, read = build()
    assert "embed" not in read and "acme/tools/index" in read


def test_parallel_build_tracks_every_page(
    registry_project: Callable[..., Path], make_app: Callable[..., object]
) -> None:
    names = [f"page{i}" for i in range(8)]
    srcdir = registry_project(tree(), index=toc(*names))
    for i, name in enumerate(names):
        namespace = "acme/tools" if i % 2 else "acme/centos"
        page(srcdir, f"{name}.md", md(f":namespace: {namespace}\n:sort: -name"))
    app = make_app("html", srcdir=srcdir, parallel=2)
    app.build()
    assert own_warnings(app) == []
    out = Path(app.outdir)
    assert column(tables(out / "page1.html")[0], 1)[0] == "v2.0"
    (srcdir / "acme/tools/manifests/v9/README.md").parent.mkdir()
    (srcdir / "acme/tools/manifests/v9/README.md").write_text(manifest(sha256("v9")))
    app = make_app("html", srcdir=srcdir, parallel=2)
    read: list[str] = []
    app.connect("env-before-read-docs", lambda app, env, docs: read.extend(sorted(docs)))
    app.build()
    # the home page shows the tag count: it changed too
    assert set(read) == {"page1", "page3", "page5", "page7", "acme/tools/index", "index"}
    assert column(tables(out / "page7.html")[0], 1)[0] == "v9"
