"""End to end: real clients pull from a built registry served on 127.0.0.1.

``sregistry`` (PyPI, client ``registry``) reads ``api/container/<org>/<repo>:<tag>``
and downloads the image from a second local server; ``skopeo`` (Debian) reads
the OCI-style ``v2/`` layout. The site is served the way GitHub Pages serves it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import VIEW_PULLS, collection, manifest, require_system_tool, soup
from test_serve import start_cli

from orgreg_sphinx.cli import serve

CLIENT_TIMEOUT = 300  # seconds; a safety net against a hung client, not a measurement


def executable(name: str, hint: str) -> str:
    """The client's path: next to this Python (a venv's scripts), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: {hint}")
    return found


@pytest.fixture
def image_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A second server holding image files: (its folder, its base URL)."""
    folder = tmp_path / "storage"
    folder.mkdir()
    server = serve.make_server(folder, "127.0.0.1", 0)
    serve.start_in_thread(server)
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def add_image(files: dict[str, str], storage: tuple[Path, str], name: str, tag: str) -> str:
    """A real random image file in storage and its manifest; returns the digest."""
    folder, base = storage
    data = os.urandom(600_000)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    filename = f"{name.replace('/', '-')}-{tag}.sif"
    (folder / filename).write_bytes(data)
    files[f"{name}/README.md"] = collection(f"{name} for the client test")
    files[f"{name}/manifests/{tag}/README.md"] = manifest(digest, len(data), base + filename)
    return digest


#: loopback requests never go through a proxy the CI may configure
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def get_json(url: str) -> object:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        return json.loads(response.read())


def test_sregistry_pulls_from_the_static_registry(
    registry_project, build, image_server, tmp_path: Path
) -> None:
    sregistry = executable("sregistry", 'pip install "sregistry[registry-basic]"')
    files: dict[str, str] = {}
    add_image(files, image_server, "acme/busybox", "latest")
    add_image(files, image_server, "Lab/BigTool", "Stable")
    app = build(registry_project(files))
    process, site = start_cli(Path(app.outdir), "--quiet")
    work = tmp_path / "client"
    work.mkdir()
    env = {
        **os.environ,
        **NO_PROXY,
        "HOME": str(work),
        "SREGISTRY_CLIENT": "registry",
        "SREGISTRY_REGISTRY_BASE": site.rstrip("/"),
        "SREGISTRY_DATABASE": str(work),
        "SREGISTRY_STORAGE": str(work / "storage"),
        "SREGISTRY_CLIENT_SECRETS": str(work / "sregistry-secrets.json"),
        "SREGISTRY_TMPDIR": str(work),
    }
    try:
        # sregistry lower-cases the name it asks for: Lab/BigTool:Stable is served there too
        for name, tag in (("acme/busybox", "latest"), ("Lab/BigTool", "Stable")):
            target = work / f"{name.replace('/', '_')}.sif"
            result = subprocess.run(
                [sregistry, "pull", "--name", str(target), f"{name}:{tag}"],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=CLIENT_TIMEOUT,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert target.is_file(), result.stdout + result.stderr
            served = get_json(f"{site}{name}/manifests/{tag}/index.json")
            digest = served["config"]["digest"]  # type: ignore[index]
            assert "sha256:" + hashlib.sha256(target.read_bytes()).hexdigest() == digest
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_skopeo_reads_the_oci_layout(registry_project, build, image_server, tmp_path) -> None:
    skopeo = require_system_tool("skopeo", "apt-get install skopeo")
    files: dict[str, str] = {}
    add_image(files, image_server, "acme/busybox", "latest")
    add_image(files, image_server, "acme/busybox", "1.36")
    add_image(files, image_server, "Lab/BigTool", "Stable")
    app = build(registry_project(files, conf="orgreg_oci_layout = True\n"))
    out = Path(app.outdir)
    server = serve.make_server(out, "127.0.0.1", 0)
    serve.start_in_thread(server)
    host = f"127.0.0.1:{server.server_address[1]}"
    env = {**os.environ, **NO_PROXY, "HOME": str(tmp_path)}

    def run(*args: str) -> str:
        result = subprocess.run(
            [skopeo, *args], env=env, capture_output=True, text=True, timeout=CLIENT_TIMEOUT
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    try:
        listed = json.loads(run("list-tags", "--tls-verify=false", f"docker://{host}/acme/busybox"))
        assert listed["Tags"] == ["1.36", "latest"]
        raw = run("inspect", "--raw", "--tls-verify=false", f"docker://{host}/acme/busybox:latest")
        expected = json.loads((out / "acme/busybox/manifests/latest/index.json").read_text())
        assert json.loads(raw) == expected
        assert expected["layers"][0]["urls"][0].startswith("http://127.0.0.1:")
        # Docker references are lower case: Lab/BigTool is at lab/bigtool
        listed = json.loads(run("list-tags", "--tls-verify=false", f"docker://{host}/lab/bigtool"))
        assert listed["Tags"] == ["Stable"]
        raw = run("inspect", "--raw", "--tls-verify=false", f"docker://{host}/lab/bigtool:Stable")
        assert json.loads(raw)["config"]["digest"].startswith("sha256:")
    finally:
        server.shutdown()
        server.server_close()


def test_the_pages_sregistry_lines_then_its_checksum_line(
    registry_project, build, image_server, tmp_path: Path
) -> None:
    """Issue 25: sregistry saved ``acme-busybox:latest.sif``, and the page's
    ``sha256sum -c`` line then found no file. The page's own lines, as a user
    pastes them (the site's address swapped for the served one), in one shell."""
    sregistry = executable("sregistry", 'pip install "sregistry[registry-basic]"')
    files: dict[str, str] = {}
    add_image(files, image_server, "acme/busybox", "latest")
    site_url = "https://acme.github.io/registry/"
    app = build(registry_project(files, conf=f"html_baseurl = {site_url!r}\n"))
    out = Path(app.outdir)
    page = soup(out / "acme/busybox/index.html")
    tab = page.select_one(".orgreg-usage-sregistry pre")
    assert tab is not None
    lines = tab.get_text().strip().splitlines()
    assert lines[-2:] == [
        "sregistry pull --name busybox_latest.sif acme/busybox:latest",
        f"curl -sSL {site_url}acme/busybox/SHA256SUMS | sha256sum -c --ignore-missing",
    ]
    process, served = start_cli(out, "--quiet")
    work = tmp_path / "client"
    work.mkdir()
    script = "set -e\n" + "\n".join(lines).replace(site_url.rstrip("/"), served.rstrip("/"))
    env = {
        **os.environ,
        **NO_PROXY,
        "HOME": str(work),
        "SREGISTRY_CLIENT_SECRETS": str(work / "sregistry-secrets.json"),
        "PATH": f"{Path(sregistry).parent}:{os.environ['PATH']}",
    }
    try:
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "busybox_latest.sif: OK" in done.stdout
    assert (work / "busybox_latest.sif").is_file()


def test_a_tag_views_commands_then_the_checksum_line(
    registry_project, build, image_server, tmp_path: Path
) -> None:
    """Issue 25's page per tag: a tag that is not the one the usage tabs show,
    its view's download and sregistry commands as a user pastes them (the site's
    address swapped for the served one; sregistry's after the environment lines
    the view shows once), each followed by the checksum line the view shows, in
    one shell: both files are checked OK."""
    sregistry = executable("sregistry", 'pip install "sregistry[registry-basic]"')
    files: dict[str, str] = {}
    add_image(files, image_server, "acme/busybox", "latest")
    add_image(files, image_server, "acme/busybox", "1.0")
    site_url = "https://acme.github.io/registry/"
    app = build(registry_project(files, conf=f"html_baseurl = {site_url!r}\n"))
    out = Path(app.outdir)
    page = soup(out / "acme/busybox/index.html")
    view = page.find("section", id="tag-1.0")
    # each command names its client; sregistry's environment is the page's, once
    blocks = {pre.get_text().split()[0]: pre.get_text() for pre in view.select(VIEW_PULLS)}
    blocks = {"Download": blocks["curl"], "sregistry": blocks["sregistry"]}
    environment = page.select_one("div.orgreg-tag-env pre").get_text()
    assert environment.splitlines()[0] == "export SREGISTRY_CLIENT=registry"
    check = page.select_one("div.orgreg-tag-check pre").get_text()
    assert check == f"curl -sSL {site_url}acme/busybox/SHA256SUMS | sha256sum -c --ignore-missing"
    assert blocks["sregistry"].splitlines()[-1] == (
        "sregistry pull --name busybox_1.0.sif acme/busybox:1.0"
    )
    assert blocks["Download"].startswith("curl -L -o busybox_1.0.sif ")
    process, served = start_cli(out, "--quiet")
    try:
        for client in ("Download", "sregistry"):
            work = tmp_path / client
            work.mkdir()
            first = environment.splitlines() if client == "sregistry" else []
            lines = [*first, *blocks[client].splitlines(), check]
            script = "set -e\n" + "\n".join(lines).replace(site_url.rstrip("/"), served.rstrip("/"))
            env = {
                **os.environ,
                **NO_PROXY,
                "HOME": str(work),
                "SREGISTRY_CLIENT_SECRETS": str(work / "sregistry-secrets.json"),
                "PATH": f"{Path(sregistry).parent}:{os.environ['PATH']}",
            }
            done = subprocess.run(
                ["bash", "-c", script],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=CLIENT_TIMEOUT,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert "busybox_1.0.sif: OK" in done.stdout, client
            assert (work / "busybox_1.0.sif").is_file()
    finally:
        process.terminate()
        process.wait(timeout=30)
