"""A registry in the original Jekyll format builds unchanged (issue 2).

tests/data/original/ holds manifests as the original registry's CI wrote them:
sizes in KiB (`du -k`) and in bytes, sha256 and legacy md5 digests, storage URLs
with query strings, a namespace without collection or tags README, and a stray
`manifests/README.md` that is not a tag.
"""

from __future__ import annotations

from pathlib import Path

from conftest import read_json, size_cell, soup, warnings_of

ORIGINAL = Path(__file__).parent / "data" / "original"
BUSYBOX_DIGEST = "sha256:1ada0d30fb443baa5011c0b8ceb1387f1adfc7abfaadef93938d7839e0cf0867"
BUSYBOX_URL = (
    "https://www.googleapis.com/download/storage/v1/b/sregistry-singularity-static-registry/"
    "o/singularityhub%2Fbusybox-latest@31250aff0ac5972820b943077318d4c1.simg"
    "?generation=1549493969596530&alt=media"
)


def test_original_tree_builds_unchanged(registry_project, build) -> None:
    app = build(registry_project({}, conf=f"orgreg_root = {str(ORIGINAL)!r}\n"))
    assert warnings_of(app) == ""
    out = Path(app.outdir)
    assert read_json(out / "singularityhub/busybox/manifests/latest/index.html") == {
        "schemaVersion": 2,
        "mediaType": "application/vnd.singularity.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.singularity.container.image.v1+json",
            "size": 756,
            "digest": BUSYBOX_DIGEST,
        },
        "layers": [
            {
                "mediaType": "application/vnd.singularity.image.squashfs",
                "size": 756,
                "digest": BUSYBOX_DIGEST,
                "urls": [BUSYBOX_URL],
            }
        ],
    }
    for name in ("busybox", "centos", "nginx", "ubuntu"):
        tags = read_json(out / f"singularityhub/{name}/tags/index.html")
        assert tags == {"name": f"singularityhub/{name}", "tags": ["latest"]}
    nginx = read_json(out / "singularityhub/nginx/manifests/latest/index.json")
    assert nginx["config"] == {
        "mediaType": "application/vnd.singularity.container.image.v1+json",
        "size": 42819584,
        "digest": "md5:WGQgL3Ok6o6uD2ZRdClzDQ==",
    }
    # the stray manifests/README.md is not a tag and is not published
    assert not (out / "singularityhub/nginx/manifests/index.html").exists()
    home = soup(out / "index.html")
    rows = home.select("table.orgreg-namespaces tbody tr")
    assert [r.find("a").get_text() for r in rows] == [
        "singularityhub/busybox",
        "singularityhub/centos",
        "singularityhub/nginx",
        "singularityhub/ubuntu",
    ]
    page = soup(out / "singularityhub/busybox/index.html")
    link = page.select_one(".orgreg-readme a")["href"]
    assert link == "https://www.github.com/singularityhub/busybox"
    size_cells = {
        name: size_cell(soup(out / f"singularityhub/{name}/index.html"), "latest")
        for name in ("busybox", "nginx")
    }
    assert size_cells == {"busybox": "756.0 KiB", "nginx": "40.8 MiB"}
