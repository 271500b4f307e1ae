"""The namespace page shows each tag's architecture from its ``sif:`` block (issue 13)."""

from __future__ import annotations

from pathlib import Path

from conftest import collection, manifest, row_tag, sha256, soup, warnings_of

TAGS = "---\nlayout: tags\n---\n"


def sif_manifest(name: str, arch: str) -> str:
    return manifest(
        sha256(name), 900000, extra=f"sif:\n  arch: {arch}\n  partitions: [{{fstype: squashfs}}]\n"
    )


def tree() -> dict[str, str | bytes]:
    return {
        "lab/multi/README.md": collection("Several architectures"),
        "lab/multi/tags/README.md": TAGS,
        "lab/multi/manifests/1.0-amd64/README.md": sif_manifest("a", "amd64"),
        "lab/multi/manifests/1.0-arm64/README.md": sif_manifest("b", "arm64"),
        "lab/multi/manifests/old/README.md": manifest(sha256("old"), 900000),
        # not an architecture name: not shown (and not markup)
        "lab/multi/manifests/odd/README.md": sif_manifest("c", '"<b>x86</b>"'),
        "lab/plain/README.md": collection("No SIF block"),
        "lab/plain/tags/README.md": TAGS,
        "lab/plain/manifests/latest/README.md": manifest(sha256("plain"), 900000),
        "lab/one/README.md": collection("One architecture"),
        "lab/one/tags/README.md": TAGS,
        "lab/one/manifests/latest/README.md": sif_manifest("d", "amd64"),
    }


def arch_by_tag(page: Path) -> dict[str, str]:
    html = soup(page)
    table = html.select_one("table.orgreg-tags")
    assert table is not None
    heads = [th.get_text(strip=True) for th in table.select("thead th")]
    assert "Arch" in heads
    column = heads.index("Arch")
    out = {}
    for row in table.select("tbody tr"):
        cells = row.find_all("td")
        out[row_tag(row)] = cells[column].get_text(strip=True)
    return out


def test_arch_column_and_label(registry_project, build) -> None:
    app = build(registry_project(tree()))
    assert "lab/" not in warnings_of(app)
    out = Path(app.outdir)
    assert arch_by_tag(out / "lab/multi/index.html") == {
        "1.0-amd64": "amd64",
        "1.0-arm64": "arm64",
        "odd": "",
        "old": "",
    }
    page = soup(out / "lab/multi/index.html")
    table = page.select_one("table.orgreg-tags")
    assert table is not None and table.find("b") is None
    stats = page.select_one(".orgreg-stats")
    assert stats is not None and "architectures: amd64, arm64" in stats.get_text()
    # one architecture: the column, no label
    assert arch_by_tag(out / "lab/one/index.html") == {"latest": "amd64"}
    stats = soup(out / "lab/one/index.html").select_one(".orgreg-stats")
    assert stats is not None and "architectures" not in stats.get_text()
    # no sif: block anywhere: no column
    plain = soup(out / "lab/plain/index.html").select_one("table.orgreg-tags")
    assert plain is not None
    assert "Arch" not in [th.get_text(strip=True) for th in plain.select("thead th")]
