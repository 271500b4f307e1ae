"""What listings write into HTML for themes and scripts: the order they were built
in, a class per column on every cell (the default namespace columns: on the
header cells, the body's told by position), a scrolling box, and a stylesheet that any
theme loads (BeautifulSoup on built pages)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import soup, warnings_of

EMBED = """\
# Listings

```{registry}
:columns: namespace, tags, updated
:sort: -updated
:limit: 2
```

```{registry}
:namespace: acme/busybox
:columns: image, size, created
:sort: size
```

```{registry}
:sort: colour
```

```{registry}
:namespace: acme/centos
```
"""


def test_listings_carry_their_order_columns_and_box(
    registry_project: Callable[..., Path], build: Callable[..., object]
) -> None:
    srcdir = registry_project(conf='html_theme = "furo"\n')
    (srcdir / "embed.md").write_text("---\norphan: true\n---\n" + EMBED)
    app = build(srcdir)
    assert "unknown sort order 'colour'" in warnings_of(app)
    out = Path(app.outdir)  # type: ignore[attr-defined]
    page = soup(out / "embed.html")
    tables = page.select("table.orgreg-namespaces, table.orgreg-tags")
    assert len(tables) == 4
    # every listing sits in its own scrolling box (furo adds a wrapper of its own
    # inside), in the directive's container
    boxes = [t.find_parent("div", class_="orgreg-scroll") for t in tables]
    assert all(box is not None and "orgreg" in box.parent["class"] for box in boxes)
    recent, sized, fallback, plain = tables
    # the order it was built in: -updated, size; none for the default or a bad :sort:
    assert recent["class"][-4:-2] == ["orgreg-sorted-updated", "orgreg-sorted-reverse"]
    assert "orgreg-sorted-size" in sized["class"]
    assert "orgreg-sorted-reverse" not in sized["class"]
    for table in (fallback, plain):
        assert not [c for c in table["class"] if c.startswith("orgreg-sorted-")]
    # each header and cell names its column
    assert [th["class"] for th in recent.select("thead th")] == [
        ["head", "orgreg-cell-namespace"],
        ["head", "orgreg-cell-tags"],
        ["head", "orgreg-cell-updated"],
    ]
    for row in recent.select("tbody tr"):
        assert [td["class"] for td in row.select("td")] == [
            ["orgreg-cell-namespace"],
            ["orgreg-cell-tags"],
            ["orgreg-cell-updated"],
        ]
    assert "orgreg-columns-default" not in recent["class"]
    for row in sized.select("tbody tr"):
        assert [td["class"] for td in row.select("td")] == [
            ["orgreg-cell-image"],
            ["orgreg-cell-size"],
            ["orgreg-cell-created"],
        ]
    # the default namespace columns: the header cells name them, the body's
    # cells are told by position (the table says its columns are the default)
    assert "orgreg-columns-default" in fallback["class"]
    assert [th["class"] for th in fallback.select("thead th")] == [
        ["head", f"orgreg-cell-{key}"] for key in ("namespace", "description", "tags", "updated")
    ]
    rows = fallback.select("tbody tr")
    assert rows and all(len(row.select("td")) == 4 for row in rows)
    assert not [td for row in rows for td in row.select("td") if td.get("class")]
    assert rows[0].select("td")[0].get_text(strip=True).count("/") == 1  # a namespace's name
    # the namespace page's own tag table too
    namespace_page = soup(out / "acme" / "busybox" / "index.html")
    assert namespace_page.select_one("div.orgreg-scroll table.orgreg-tags") is not None
    # the listings' stylesheet is shipped and linked in a theme other than orgreg
    css = out / "_static" / "orgreg-listings.css"
    assert "white-space: nowrap" in css.read_text()
    links = [link["href"] for link in page.select("link[rel=stylesheet]")]
    assert any(href.startswith("_static/orgreg-listings.css") for href in links)


def test_text_builder_still_gets_plain_tables(
    registry_project: Callable[..., Path], build: Callable[..., object]
) -> None:
    srcdir = registry_project()
    (srcdir / "embed.md").write_text("---\norphan: true\n---\n" + EMBED)
    app = build(srcdir, "text")
    text = (Path(app.outdir) / "embed.txt").read_text()  # type: ignore[attr-defined]
    assert "Updated" in text and "acme/busybox:latest" in text
    assert not (Path(app.outdir) / "_static").exists()  # type: ignore[attr-defined]
