"""Bulk downloads (issue 14): ``SHA256SUMS``, ``urls.txt`` and ``downloads.curl``
of a namespace and of the whole registry, used as an HPC site would: the built
site and the image files served on 127.0.0.1, fetched with curl and wget,
checked with ``sha256sum -c``."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from conftest import collection, manifest, require_system_tool, soup

IMAGES = {name: (name * 7000).encode() for name in ("alpha", "beta", "gamma")}
ORAS_DIGEST = "sha256:" + "ab" * 32


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(IMAGES[name]).hexdigest()


def bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sha256sum_accepts_what_the_lists_download(
    served, registry_project, build, tmp_path: Path
) -> None:
    require_system_tool("curl", "apt-get install curl")
    wget = require_system_tool("wget", "apt-get install wget")
    www, base = served
    (www / "files").mkdir()
    for name, data in IMAGES.items():
        (www / "files" / f"{name}.sif").write_bytes(data)
    files = {
        "acme/busybox/README.md": collection("Busybox"),
        "acme/busybox/manifests/latest/README.md": manifest(
            digest("alpha"), 600_000, url=f"{base}/files/alpha.sif"
        ),
        "acme/busybox/manifests/1.36/README.md": manifest(
            digest("beta"), 600_000, url=f"{base}/files/beta.sif"
        ),
        # the same repository name in another organization, and an oras:// tag
        "hpc/busybox/README.md": collection("HPC busybox"),
        "hpc/busybox/manifests/latest/README.md": manifest(
            digest("gamma"), 600_000, url=f"{base}/files/gamma.sif"
        ),
        "hpc/busybox/manifests/oras/README.md": manifest(
            ORAS_DIGEST, 600_000, url="oras://ghcr.io/hpc/busybox:oras"
        ),
    }
    app = build(registry_project(files, conf=f'html_baseurl = "{base}/site/"\n'))
    out = Path(app.outdir)
    shutil.copytree(out, www / "site")
    hexes = {name: digest(name).removeprefix("sha256:") for name in IMAGES}
    assert (out / "acme/busybox/SHA256SUMS").read_text() == (
        f"{hexes['beta']}  busybox_1.36.sif\n{hexes['alpha']}  busybox_latest.sif\n"
    )
    assert (out / "hpc/busybox/SHA256SUMS").read_text() == (
        f"{hexes['gamma']}  busybox_latest.sif\n{'ab' * 32}  busybox_oras.sif\n"
    )
    assert (out / "api/urls.txt").read_text() == "".join(
        f"{base}/files/{name}.sif\n" for name in ("beta", "alpha", "gamma")
    )

    # one namespace: download what the list names, check with the published sums
    here = tmp_path / "one"
    here.mkdir()
    done = bash(
        f"curl -fsS {base}/site/acme/busybox/downloads.curl | curl -fsS -K - && "
        f"curl -fsS {base}/site/acme/busybox/SHA256SUMS | sha256sum -c",
        here,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "busybox_1.36.sif: OK\nbusybox_latest.sif: OK\n"

    # the whole registry: names under <org>/, the oras:// image pulled elsewhere
    everything = tmp_path / "all"
    everything.mkdir()
    done = bash(
        f"curl -fsS {base}/site/api/downloads.curl | curl -fsS --create-dirs -K - && "
        f"curl -fsS {base}/site/api/SHA256SUMS | sha256sum -c --ignore-missing",
        everything,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == [
        "acme/busybox_1.36.sif: OK",
        "acme/busybox_latest.sif: OK",
        "hpc/busybox_latest.sif: OK",
    ]
    # a damaged file is caught
    (everything / "acme/busybox_1.36.sif").write_bytes(b"damaged")
    done = bash(f"curl -fsS {base}/site/api/SHA256SUMS | sha256sum -c --ignore-missing", everything)
    assert done.returncode == 1 and "acme/busybox_1.36.sif: FAILED" in done.stdout

    # wget -i fetches every plain URL of the registry
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    done = subprocess.run(
        [wget, "-q", "-i", f"{base}/site/api/urls.txt"],
        cwd=mirror,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in mirror.iterdir()) == [  # wget keeps the list it read too
        "alpha.sif",
        "beta.sif",
        "gamma.sif",
        "urls.txt",
    ]

    # the page shows the check beside the download command
    page = soup(out / "acme/busybox/index.html")
    lines = page.select_one(".orgreg-usage-download pre").get_text().splitlines()
    assert lines == [
        f"curl -L -o busybox_latest.sif {base}/files/alpha.sif",
        f"curl -sSL {base}/site/acme/busybox/SHA256SUMS | sha256sum -c --ignore-missing",
    ]
