"""One "created" per tag (issue 25): the SIF's own creation time when the image
records one, else the manifest's; shown as people read dates, the exact ISO
value in a ``<time datetime>``; tags sort by that same time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import VIEW_FACTS, collection, manifest, row_tag, sha256, soup, tag_view

from orgreg_sphinx.core import times

TAGS = "---\nlayout: tags\n---\n"


def tree() -> dict[str, str | bytes]:
    return {
        "lab/tools/README.md": collection("Tools"),
        "lab/tools/tags/README.md": TAGS,
        # orgreg manifest ran in 2025; the image was built in 2023
        "lab/tools/manifests/built/README.md": manifest(
            sha256("built"),
            900000,
            extra='created: "2025-01-20T08:00:00Z"\n'
            'sif:\n  arch: amd64\n  created: "2023-11-05T17:45:12Z"\n',
        ),
        "lab/tools/manifests/plain/README.md": manifest(
            sha256("plain"), 900000, extra='created: "2024-05-02T10:31:00Z"\n'
        ),
        "lab/tools/manifests/dated/README.md": manifest(
            sha256("dated"), 900000, extra="created: 2024-03-11\n"
        ),
        "lab/tools/manifests/free/README.md": manifest(
            sha256("free"), 900000, extra='created: "last Tuesday"\n'
        ),
    }


def test_the_table_shows_one_created_the_images_own(
    registry_project: Callable[..., Path], build: Callable[..., Any]
) -> None:
    out = Path(build(registry_project(tree())).outdir)
    page = soup(out / "lab/tools/index.html")
    table = page.select_one("table.orgreg-tags")
    heads = [th.get_text(strip=True) for th in table.select("thead th")]
    assert heads.count("Created") == 1
    column = heads.index("Created")
    cells = {row_tag(row): row.find_all("td")[column] for row in table.select("tbody tr")}
    # a one-line row shows the ISO date (it sorts as text; issue 28: no <time>
    # markup in every row), the SIF's, not the orgreg manifest's
    assert cells["built"].get_text(strip=True) == "2023-11-05"
    assert cells["plain"].get_text(strip=True) == "2024-05-02"
    assert cells["dated"].get_text(strip=True) == "2024-03-11"
    assert not table.select("tbody time")
    assert cells["free"].get_text(strip=True) == "last Tuesday"  # shown as written
    # the view says it once (the image's own time is the tag's), with the time of day
    details = tag_view(page, "built")
    assert details is not None
    facts = details.select_one(VIEW_FACTS)
    created = facts.find("dt", string="Created").find_next_sibling("dd")
    assert created.get_text() == "5 November 2023, 17:45 UTC"
    assert details.get_text().count("5 November 2023") == 1
    assert "2023-11-05T17:45:12Z" not in details.get_text()  # no raw ISO string shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2024-05-02T10:31:00Z", ("2 May 2024", "2 May 2024, 10:31 UTC", "2024-05-02T10:31:00Z")),
        (
            "2024-05-02T12:31:00+02:00",
            ("2 May 2024", "2 May 2024, 10:31 UTC", "2024-05-02T10:31:00Z"),
        ),
        ("2024-05-02", ("2 May 2024", "2 May 2024", "2024-05-02")),
        ("yesterday", None),
        ("", None),
    ],
)
def test_the_rule_for_showing_a_time(value: str, shown: tuple[str, str, str] | None) -> None:
    got = times.shown(value)
    assert (None if got is None else (got.date, got.full, got.iso)) == shown


def test_home_tag_names_start_with_the_tag_usage_shows(
    registry_project: Callable[..., Path], build: Callable[..., Any]
) -> None:
    """Issue 25: the home page listed tags in manifest order while Usage picked
    the newest. Same time (orgreg manifest ran once for all): highest version first."""
    same = 'created: "2025-01-20T08:00:00Z"\n'
    files: dict[str, str | bytes] = {
        "lab/tools/README.md": collection("Tools"),
        "lab/tools/tags/README.md": TAGS,
        "lab/tools/manifests/1.9/README.md": manifest(sha256("a"), 900000, extra=same),
        "lab/tools/manifests/1.10/README.md": manifest(sha256("b"), 900000, extra=same),
        "lab/tools/manifests/2.0/README.md": manifest(sha256("c"), 900000, extra=same),
        "lab/tools/manifests/0.1/README.md": manifest(
            sha256("d"), 900000, extra='created: "2025-03-01T08:00:00Z"\n'
        ),
    }
    out = Path(build(registry_project(files)).outdir)
    chips = [c.get_text() for c in soup(out / "index.html").select(".orgreg-tag-names code")]
    assert chips == ["0.1", "2.0", "1.10", "1.9"]  # newest, then highest version
    page = soup(out / "lab/tools/index.html")
    usage = page.select_one(".orgreg-usage-download pre")
    assert usage is not None and "tools_0.1.sif" in usage.get_text()
