"""Listings and the container role work with other themes: each builds with -W
(warnings are errors) and shows the tables and links."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import soup, tag_row, tag_view

INDEX = """\
# Test registry

```{registry}
:toctree:
```

```{toctree}
embed
```
"""

EMBED = """\
# Our images

```{registry}
:namespace: acme/*
:columns: image, size, digest, download
:sort: -name
:limit: 1
:caption: Images
```

Pull {container}`acme/centos:7`.
"""


@pytest.mark.parametrize(
    "theme", ["alabaster", "furo", "pydata_sphinx_theme", "sphinx_rtd_theme", "orgreg"]
)
def test_theme_builds_without_warnings(
    theme: str,
    registry_project: Callable[..., Path],
    make_app: Callable[..., object],
) -> None:
    srcdir = registry_project(index=INDEX, conf=f"html_theme = {theme!r}\n")
    (srcdir / "embed.md").write_text(EMBED)
    app = make_app("html", srcdir=srcdir, warningiserror=True)
    app.build()
    assert app.warning.getvalue() == ""  # -W: no warning at all
    assert app.statuscode == 0
    out = Path(app.outdir)
    page = soup(out / "embed.html")
    tables = page.select("div.orgreg table.orgreg-tags")
    assert len(tables) == 2
    assert [th.get_text(strip=True) for th in tables[0].select("thead th")] == [
        "Image",
        "Size",
        "Digest",
        "Download",
    ]
    assert tables[0].select_one("tbody td").get_text(strip=True) == "acme/busybox:latest"
    more = page.select_one("p.orgreg-more a")
    assert more["href"] == "acme/busybox/index.html#tags"
    role = [a for a in page.select("a.reference") if a.get_text() == "acme/centos:7"]
    assert role and role[0]["href"] == "acme/centos/index.html#tag-7"
    home = soup(out / "index.html")
    assert len(home.select("table.orgreg-namespaces tbody tr")) == 3
    namespace_page = soup(out / "acme/centos/index.html")
    assert tag_row(namespace_page, "7") is not None
    assert tag_view(namespace_page, "7") is not None
