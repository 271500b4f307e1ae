"""From registry to cluster (issue 27): what shpc reads, read by the real shpc.

The site publishes ``library.json`` (what shpc's remote registry reads),
``<org>/<repo>/container.yaml`` (checked here with shpc's own ``containerConfig``
schema, read by shpc's own YAML reader) and the filesystem registry as a tar.gz.
End to end: an image pushed to Debian's ``docker-registry`` with ``oras://``,
its manifest written by ``orgreg manifest`` (which records the OCI manifest
digest shpc pulls by), the site built and served over https as
``https://acme.github.io/registry/`` (a CONNECT proxy on 127.0.0.1 and a test CA,
given to shpc by ``HTTPS_PROXY`` and ``REQUESTS_CA_BUNDLE``, which requests
honours: shpc itself is not patched), then the namespace page's own "Cluster
module" lines run in bash: the real ``shpc`` installs the module and Debian's
Lmod loads it. The one stand-in is ``singularity pull`` (Apptainer is not in
Debian): a script that fetches the image over the OCI distribution API by the
digest shpc asks for and checks both digests.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import select
import shlex
import socket
import socketserver
import ssl
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import jsonschema
import pytest
import requests
import yaml
from clitools import orgreg
from conftest import (
    _FileServer,
    _QuietFiles,
    collection,
    manifest,
    require_system_tool,
    sha256,
    soup,
    write_tree,
)

from orgreg_sphinx.core import names, shpc
from orgreg_sphinx.core.model import load_registry

shpc_schemas = pytest.importorskip("shpc.main.schemas")
shpc_utils = pytest.importorskip("shpc.utils")

LMOD_INIT = Path("/usr/share/lmod/lmod/init/bash")
SHPC = Path(sys.executable).with_name("shpc")


def oras_manifest(
    host: str, name: str, tag: str, seed: str, *, pinned: bool = False, extra: str = ""
) -> str:
    """A manifest of an image kept at ``oras://<host>/<name>:<tag>`` with a
    recorded OCI manifest digest (or one pinned in the URL); *extra*: more
    front matter lines."""
    sif = sha256(f"sif {seed}")
    oci = sha256(f"oci {seed}")
    url = f"oras://{host}/{name}:{tag}" + (f"@{oci}" if pinned else "")
    recorded = "" if pinned else f'  oci_manifest_digest: "{oci}"\n'
    return (
        "---\nlayout: manifests/singularity\n"
        f"size: 600000\ndigest: {sif}\nlayers:\n"
        f'- size: 600000\n  digest: "{sif}"\n  url: "{url}"\n{recorded}'
        f'created: "2024-05-0{len(seed) % 9 + 1}T10:00:00Z"\n{extra}---\n'
    )


#: tag names YAML would read as numbers or booleans if they were not quoted
AWKWARD_TAGS = ("1.21", "1e3", "0x1F", "on", "1_000", "007")


def mixed_tree() -> dict[str, str]:
    """acme/tools: oras:// tags (awkward names, a pinned one, one without the OCI
    digest, one in another repository, one plain URL); hpc/plain: plain URLs only."""
    files = {
        "acme/tools/README.md": (
            "---\nlayout: collection\ndescription: 'Tools \"for\" the lab: ünïcode # \\\\ {1e3}'\n"
            "shpc:\n  maintainer: '@lab-admins'\n  aliases:\n"
            "    samtools: /usr/local/bin/samtools\n    bcftools: /usr/local/bin/bcftools\n"
            "---\nThe lab's tools.\n"
        ),
        "acme/tools/manifests/pinned/README.md": oras_manifest(
            "ghcr.io", "acme/tools", "pinned", "pinned", pinned=True
        ),
        "acme/tools/manifests/nodigest/README.md": manifest(
            sha256("nodigest"), 600000, url="oras://ghcr.io/acme/tools:nodigest"
        ),
        "acme/tools/manifests/elsewhere/README.md": oras_manifest(
            "quay.io", "acme/tools", "elsewhere", "elsewhere"
        ),
        "acme/tools/manifests/download/README.md": manifest(sha256("download"), 600000),
        "hpc/plain/README.md": collection("Plain downloads"),
        "hpc/plain/manifests/1.0/README.md": manifest(sha256("plain"), 600000),
    }
    for name in AWKWARD_TAGS:
        files[f"acme/tools/manifests/{name}/README.md"] = oras_manifest(
            "ghcr.io", "acme/tools", name, name
        )
    return files


def test_container_yaml_is_valid_for_shpc_and_keeps_tag_names_strings(tmp_path: Path) -> None:
    write_tree(tmp_path, mixed_tree())
    registry = load_registry(tmp_path)
    assert registry.errors == []
    site = "https://acme.github.io/registry/"
    published = dict(shpc.files(registry, site))
    assert sorted(published) == [
        "acme/tools/container.yaml",
        "api/shpc-registry.tar.gz",
        "api/shpc-registry.tar.gz.sha256",
        "library.json",
    ]
    # shpc reads container.yaml with its own (YAML 1.2) reader: every tag name a string
    (tmp_path / "container.yaml").write_bytes(published["acme/tools/container.yaml"])
    config = shpc_utils.read_yaml(str(tmp_path / "container.yaml"))
    jsonschema.validate(config, shpc_schemas.containerConfig)
    config = json.loads(json.dumps(config))
    expected_tags = {name: sha256(f"oci {name}") for name in AWKWARD_TAGS}
    expected_tags["pinned"] = sha256("oci pinned")
    assert config == {
        "description": 'Tools "for" the lab: ünïcode # \\\\ {1e3}',
        "maintainer": "@lab-admins",
        "url": "https://acme.github.io/registry/acme/tools/",
        # the newest tag (by its created time)
        "latest": {"pinned": sha256("oci pinned")},
        "tags": expected_tags,
        "oras": "ghcr.io/acme/tools",
        "aliases": {"bcftools": "/usr/local/bin/bcftools", "samtools": "/usr/local/bin/samtools"},
    }
    # PyYAML (YAML 1.1) reads the same
    assert yaml.safe_load(published["acme/tools/container.yaml"]) == config

    library = json.loads(published["library.json"])
    assert list(library) == ["ghcr.io/acme/tools"]
    entry = library["ghcr.io/acme/tools"]
    assert entry["config"] == config
    assert entry["config_url"] == "https://acme.github.io/registry/acme/tools/container.yaml"
    assert (entry["name"], entry["tags"], entry["latest"], entry["aliases"]) == (
        "ghcr.io/acme/tools",
        config["tags"],
        config["latest"],
        config["aliases"],
    )
    jsonschema.validate(entry["config"], shpc_schemas.containerConfig)

    # every tag shpc cannot pull is named, with the reason
    modules = {m.namespace.name: m for m in shpc.modules(registry, site)}
    left = {item.tag: item.reason for item in modules["acme/tools"].left_out}
    assert left == {
        "download": shpc.NOT_ORAS,
        "nodigest": shpc.NO_OCI_DIGEST,
        "elsewhere": "is kept in quay.io/acme/tools, not in ghcr.io/acme/tools: shpc pulls "
        "every tag of a module from one repository",
    }
    plain = modules["hpc/plain"]
    assert (plain.name, plain.problem) == ("", "no tag shpc can pull")
    messages = shpc.build_messages(list(modules.values()))
    assert messages[0].startswith(
        "acme/tools: left out of module ghcr.io/acme/tools: download has a plain download URL"
    )
    assert messages[1] == (
        "1 namespace(s) have only plain download URLs, which shpc cannot pull, and no shpc "
        "module: hpc/plain"
    )

    # the archive: a filesystem registry of the same container.yaml, checked by its line
    packed = published["api/shpc-registry.tar.gz"]
    with tarfile.open(fileobj=io.BytesIO(packed)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["shpc-registry/ghcr.io/acme/tools/container.yaml"].isfile()
        held = tar.extractfile("shpc-registry/ghcr.io/acme/tools/container.yaml")
        assert held is not None and held.read() == published["acme/tools/container.yaml"]
    assert published["api/shpc-registry.tar.gz.sha256"].decode() == (
        f"{hashlib.sha256(packed).hexdigest()}  shpc-registry.tar.gz\n"
    )
    # the same tree gives the same bytes
    assert dict(shpc.files(load_registry(tmp_path), site)) == published
    # latest is never a deprecated tag while another exists (the page's rule)
    pinned = tmp_path / "acme/tools/manifests/pinned/README.md"
    layout = "layout: manifests/singularity\n"
    pinned.write_text(pinned.read_text().replace(layout, layout + "deprecated: use 1_000\n"))
    [module] = [m for m in shpc.modules(load_registry(tmp_path), site) if m.name]
    assert module.config["latest"] == {"1_000": sha256("oci 1_000")}
    assert "pinned" in module.config["tags"]  # deprecated tags can still be installed


def test_no_module_says_once_the_reason_every_tag_is_left_out_for(tmp_path: Path) -> None:
    """A namespace of plain downloads: the reason said of every tag, not each
    tag named; tags left out for different reasons are each named."""
    write_tree(
        tmp_path,
        {
            "hpc/plain/README.md": collection("Plain downloads"),
            "hpc/plain/manifests/1.0/README.md": manifest(sha256("a"), 600000),
            "hpc/plain/manifests/2.0/README.md": manifest(sha256("b"), 600000),
            "hpc/mixed/README.md": collection("Mixed"),
            "hpc/mixed/manifests/1.0/README.md": manifest(sha256("c"), 600000),
            "hpc/mixed/manifests/2.0/README.md": manifest(
                sha256("d"), 600000, url="oras://ghcr.io/hpc/mixed:2.0"
            ),
        },
    )
    registry = load_registry(tmp_path)
    site = "https://hpc.github.io/registry/"
    by_name = {ns.name: ns for ns in registry.namespaces}
    plain = shpc.usage(shpc.namespace_module(by_name["hpc/plain"], site), site)
    assert plain == (f"No cluster module (shpc): every tag {shpc.NOT_ORAS}.", (), "")
    mixed = shpc.usage(shpc.namespace_module(by_name["hpc/mixed"], site), site)
    assert mixed == (
        "No cluster module (shpc): no tag shpc can pull.",
        (),
        f"1.0 {shpc.NOT_ORAS}; 2.0 {shpc.NO_OCI_DIGEST}",
    )


def test_no_namespace_can_take_the_place_of_shpc_files() -> None:
    for path in (shpc.LIBRARY_PATH, shpc.ARCHIVE_PATH, shpc.ARCHIVE_SUMS_PATH):
        # library.json: an organization folder of that name; api/...: a namespace
        org, _, repo = path.partition("/")
        problem = names.namespace_problem(org, repo or "x")
        assert problem is not None and problem.code == "reserved", path


def test_aliases_refuse_what_would_break_a_wrapper_script(tmp_path: Path) -> None:
    """Aliases become file names and shell lines on the cluster: only plain names
    and absolute paths of plain characters are kept; an image label gives them
    when the maintainers list none."""
    label = "'samtools=/usr/bin/samtools /opt/conda/bin/python3 evil=/bin/sh;rm'"
    files = {
        "acme/tools/manifests/1.0/README.md": oras_manifest(
            "ghcr.io",
            "acme/tools",
            "1.0",
            "a",
            extra=f"sif:\n  labels:\n    org.orgreg.shpc.aliases: {label}\n",
        )
    }
    write_tree(tmp_path, files)
    registry = load_registry(tmp_path)
    assert registry.errors == []
    [module] = shpc.modules(registry, "")
    assert module.config["aliases"] == {
        "python3": "/opt/conda/bin/python3",
        "samtools": "/usr/bin/samtools",
    }
    assert [item.reason for item in module.left_out] == [
        "alias 'evil': '/bin/sh;rm' is not an absolute path of plain characters"
    ]
    # no site address: config_url is the file's path in the site
    library = json.loads(dict(shpc.files(registry, ""))["library.json"])
    assert library["ghcr.io/acme/tools"]["config_url"] == "acme/tools/container.yaml"


def test_aliases_from_the_contents_record_are_the_software_added_to_the_os(
    tmp_path: Path,
) -> None:
    """Without a maintainers' list or label, the executables ``orgreg manifest``
    recorded (issue 26) in the folders of added software become the aliases: an
    alias of the OS's own ``ls`` or ``python3`` would hide the cluster's."""
    record = {
        "contentsVersion": 1,
        "packages": [],
        "executables": [
            {"path": "/usr/local/bin/samtools"},
            {"path": "/usr/bin/samtools"},  # the first PATH folder wins, as in a shell
            {"path": "/opt/conda/bin/bcftools"},
            {"path": "/usr/bin/ls"},
            {"path": "/bin/sh"},
            {"path": "/usr/local/bin/bad name"},
        ],
    }
    files = {
        "acme/tools/manifests/1.0/README.md": oras_manifest("ghcr.io", "acme/tools", "1.0", "a"),
        "acme/tools/manifests/1.0/contents.json": json.dumps(record),
    }
    write_tree(tmp_path, files)
    registry = load_registry(tmp_path)
    assert registry.errors == []
    [module] = shpc.modules(registry, "")
    assert module.config["aliases"] == {
        "bcftools": "/opt/conda/bin/bcftools",
        "samtools": "/usr/local/bin/samtools",
    }
    assert [item.reason for item in module.left_out] == [
        "alias 'bad name': '/usr/local/bin/bad name' is not an absolute path of plain characters"
    ]
    # the maintainers' list wins over what the image holds
    (tmp_path / "acme/tools/README.md").write_text(
        "---\nlayout: collection\nshpc:\n  aliases:\n    sam: /usr/local/bin/samtools\n---\n"
    )
    [module] = shpc.modules(load_registry(tmp_path), "")
    assert module.config["aliases"] == {"sam": "/usr/local/bin/samtools"}


def test_bad_shpc_front_matter_and_digest_are_errors_naming_the_file(tmp_path: Path) -> None:
    files = {
        "acme/tools/README.md": "---\nlayout: collection\nshpc:\n  aliases: [samtools]\n---\n",
        "acme/tools/manifests/1.0/README.md": manifest(
            sha256("x"), 600000, url="https://storage.example.org/x.sif"
        ).replace("  url:", f'  oci_manifest_digest: "{sha256("y")}"\n  url:'),
        "acme/tools/manifests/2.0/README.md": oras_manifest(
            "ghcr.io", "acme/tools", "2.0", "b", pinned=True
        ).replace("  url:", f'  oci_manifest_digest: "{sha256("other")}"\n  url:'),
    }
    write_tree(tmp_path, files)
    registry = load_registry(tmp_path)
    found = {(p.path.relative_to(tmp_path).as_posix(), p.line): p.message for p in registry.errors}
    assert found == {
        ("acme/tools/README.md", 4): "has shpc.aliases = list, which is not a mapping",
        ("acme/tools/manifests/1.0/README.md", 8): "has an invalid layers[0].oci_manifest_digest: "
        "it is the digest of an OCI manifest, which only an oras:// url has",
        ("acme/tools/manifests/2.0/README.md", 8): "has an invalid layers[0].oci_manifest_digest: "
        f"{sha256('other')} differs from the digest the url is pinned to ({sha256('oci b')})",
    }


# ---------------------------------------------------------------- the site, built


def usage_tab(page, key: str):
    tab = page.select_one(f".orgreg-usage-{key}")
    assert tab is not None, f"no {key} tab"
    return tab


def test_site_publishes_shpc_files_and_a_cluster_module_tab(registry_project, build) -> None:
    conf = 'html_baseurl = "https://acme.github.io/registry/"\n'
    app = build(registry_project(mixed_tree(), conf=conf))
    out = Path(app.outdir)
    library = json.loads((out / "library.json").read_text())
    assert list(library) == ["ghcr.io/acme/tools"]
    published = (out / "acme/tools/container.yaml").read_bytes()
    assert library["ghcr.io/acme/tools"]["config"] == yaml.safe_load(published)
    assert not (out / "hpc/plain/container.yaml").exists()
    sums = (out / "api/shpc-registry.tar.gz.sha256").read_text()
    digest = hashlib.sha256((out / "api/shpc-registry.tar.gz").read_bytes()).hexdigest()
    assert sums == f"{digest}  shpc-registry.tar.gz\n"

    page = soup(out / "acme/tools/index.html")
    tab = usage_tab(page, "cluster")
    assert tab.select_one(".rubric, p.rubric").get_text() == "Cluster module"
    assert tab.select_one("pre").get_text().splitlines() == [
        "shpc config add registry https://github.com/acme/registry",
        "shpc install ghcr.io/acme/tools:pinned",
        "module use $(shpc config get module_base)",
        "module load ghcr.io/acme/tools/pinned",
    ]
    note = tab.select_one(".orgreg-usage-note").get_text(" ", strip=True)
    assert note.startswith("Not in the module: download has a plain download URL")
    assert "nodigest has no OCI manifest digest" in note and "elsewhere is kept in quay.io" in note

    # no module: no tab (each tab holds commands), a note under the tabs says why
    plain = soup(out / "hpc/plain/index.html")
    assert not plain.select(".orgreg-usage-cluster")
    assert plain.select_one("#usage .orgreg-usage-note").get_text() == (
        f"No cluster module (shpc): no tag shpc can pull. 1.0 {shpc.NOT_ORAS}"
    )
    # the admin is told at build time, without a warning (plain URLs are normal)
    status = app._status.getvalue()
    assert "[orgreg] shpc: acme/tools: left out of module ghcr.io/acme/tools: download" in status
    assert "shpc cannot pull, and no shpc module: hpc/plain" in status
    assert "shpc" not in app._warning.getvalue()


def test_a_site_elsewhere_gets_the_archive_lines_and_no_shpc_files_when_off(
    registry_project, build
) -> None:
    conf = 'html_baseurl = "https://containers.example.org/"\n'
    app = build(registry_project(mixed_tree(), conf=conf))
    lines = usage_tab(soup(Path(app.outdir) / "acme/tools/index.html"), "cluster")
    assert lines.select_one("pre").get_text().splitlines() == [
        "curl -fsSLO https://containers.example.org/api/shpc-registry.tar.gz "
        "-O https://containers.example.org/api/shpc-registry.tar.gz.sha256",
        "sha256sum -c shpc-registry.tar.gz.sha256",
        "tar -xzf shpc-registry.tar.gz",
        'shpc config add registry "$PWD/shpc-registry"',
        "shpc install ghcr.io/acme/tools:pinned",
        "module use $(shpc config get module_base)",
        "module load ghcr.io/acme/tools/pinned",
    ]
    app = build(registry_project(mixed_tree(), conf=conf + "orgreg_shpc = False\n", name="off"))
    out = Path(app.outdir)
    assert not (out / "library.json").exists() and not (out / "api/shpc-registry.tar.gz").exists()
    assert not soup(out / "acme/tools/index.html").select(".orgreg-usage-cluster")


# ---------------------------------------------------------------- the real shpc and Lmod

from test_oras import distribution, push, sif, write_manifest  # noqa: E402, F401


class _Tunnels(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def https_site(folder: Path, host: str, ca_file: Path) -> Iterator[tuple[str, list[str]]]:
    """*folder* served over https as *host* (a certificate of a test CA written to
    *ca_file*) behind an HTTP CONNECT proxy on 127.0.0.1: yields the proxy's URL
    (every tunnel it opens leads to the site) and the list of hosts it is asked for."""
    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(context)
    site = _FileServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(folder)))
    site.socket = context.wrap_socket(site.socket, server_side=True)
    site_port = site.server_address[1]

    class Tunnel(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request = self.rfile.readline().decode("latin-1").split()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            if len(request) < 2 or request[0] != "CONNECT":
                self.wfile.write(b"HTTP/1.1 405 Only CONNECT\r\n\r\n")
                return
            asked.append(request[1])
            with socket.create_connection(("127.0.0.1", site_port)) as upstream:
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                ends = [self.connection, upstream]
                while True:
                    ready, _, _ = select.select(ends, [], [], 30)
                    if not ready:
                        return
                    for end in ready:
                        data = end.recv(65536)
                        if not data:
                            return
                        (upstream if end is self.connection else self.connection).sendall(data)

    asked: list[str] = []
    proxy = _Tunnels(("127.0.0.1", 0), Tunnel)
    servers = (site, proxy)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}", asked
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def cluster(tmp_path: Path, name: str, **env: str) -> dict[str, str]:
    """A cluster account: its own HOME with shpc's user settings (no default
    registry; modules and containers under HOME), the stand-in ``singularity``
    and shpc on PATH, and *env*."""
    require_system_tool(str(LMOD_INIT), "apt-get install lmod")
    home = tmp_path / name
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True)
    standin = bin_dir / "singularity"
    standin.write_text(
        f"#!/bin/sh\nexec {shlex.quote(sys.executable)} "
        f'{shlex.quote(str(Path(__file__).with_name("singularity_standin.py")))} "$@"\n'
    )
    standin.chmod(0o755)
    account = {
        "HOME": str(home),
        "PATH": f"{bin_dir}:{SHPC.parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        **env,
    }
    setup = [
        "config inituser",
        "config remove registry https://github.com/singularityhub/shpc-registry",
        *(f"config set {key} {home}/{key}" for key in ("module_base", "container_base")),
        f"config set wrapper_base {home}/module_base",
        f"config set views_base {home}/views",
    ]
    for line in setup:
        done = subprocess.run(
            [str(SHPC), *line.split()], env=account, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return account


def run_page_lines(lines: list[str], after: str, account: dict[str, str], cwd: Path):
    """The page's command lines in bash with Lmod's ``module`` (its init script),
    then *after*; fails on the first failing line."""
    script = "\n".join([f". {LMOD_INIT}", "set -e", *lines, after])
    return subprocess.run(
        ["bash", "-c", script], env=account, cwd=cwd, capture_output=True, text=True, check=False
    )


def oci_manifest_digest(host: str, name: str, tag: str) -> str:
    """What the registry's manifest of *tag* hashes to (what shpc must pull by)."""
    answer = requests.get(
        f"http://{host}/v2/{name}/manifests/{tag}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        timeout=10,
    )
    answer.raise_for_status()
    return "sha256:" + hashlib.sha256(answer.content).hexdigest()


def test_orgreg_manifest_records_the_oci_manifest_digest_and_check_compares_it(
    distribution: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    image = sif("two-groups.sif")
    push(distribution, "acme/box:1.0", image)
    push(distribution, "acme/box:other", sif("one-group.sif"))
    root = tmp_path / "tree"
    root.mkdir()
    write_manifest(root, image, f"oras://{distribution}/acme/box:1.0", "1.0", "acme/box")
    text = (root / "acme/box/manifests/1.0/README.md").read_text()
    digest = oci_manifest_digest(distribution, "acme/box", "1.0")
    assert f"  oci_manifest_digest: {digest}\n" in text

    def write(url: str, *more: str):
        return orgreg(
            "manifest", image, "--namespace", "acme/box", "--url", url, "--tag", "t",
            "--root", root, "--created", "none", *more,
        )  # fmt: skip

    # the registry holds another image there: nothing is written
    other = write(f"oras://{distribution}/acme/box:other")
    assert other.code == 2 and "not this image" in other.err and "push it there first" in other.err
    assert not (root / "acme/box/manifests/t").exists()
    # a registry that cannot be reached: written without the digest, and told why
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    unreachable = write(f"oras://127.0.0.1:{free.getsockname()[1]}/acme/box:1.0")
    free.close()
    assert unreachable.code == 0, unreachable.err
    assert "shpc cannot install this tag" in unreachable.err
    assert "oci_manifest_digest" not in (root / "acme/box/manifests/t/README.md").read_text()
    # given by hand: recorded as given, without asking; a wrong one is caught by the check
    given = write(f"oras://{distribution}/acme/box:1.0", "--oci-manifest-digest", sha256("x"))
    assert given.code == 0, given.err
    result = orgreg("check", root, "--online", "--timeout", "2", "--retries", "0")
    assert result.code == 1
    assert (
        f"acme/box/manifests/t/README.md:8: error: has a layer at "
        f"oras://{distribution}/acme/box:1.0 that resolves to the OCI manifest {digest}, "
        f"but the manifest records oci_manifest_digest {sha256('x')} (what shpc pulls by) "
        "[online-digest]"
    ) in result.out
    assert "manifests/1.0/" not in result.out  # the recorded digest is right


ALIASES = (
    "shpc:\n  aliases:\n    siftool: /usr/local/bin/siftool\n    hello: /opt/hello/bin/hello\n"
)


@pytest.fixture
def oras_site(distribution: str, registry_project, build, tmp_path: Path):  # noqa: F811
    """A registry of an oras:// image pushed to docker-registry (its manifest
    written by ``orgreg manifest``) and a plain-URL tag, built; returns a function
    building it for a site URL."""
    image = sif("one-group.sif")
    push(distribution, "acme/tools:2.0", image)
    tree = tmp_path / "tree"
    tree.mkdir()
    write_manifest(tree, image, f"oras://{distribution}/acme/tools:2.0", "2.0", "acme/tools")
    files = {str(p.relative_to(tree)): p.read_text() for p in tree.rglob("*") if p.is_file()}
    files["acme/tools/README.md"] = (
        f"---\nlayout: collection\ndescription: Tools\n{ALIASES}---\nTools of the lab.\n"
    )
    files["acme/tools/manifests/0.9/README.md"] = manifest(sha256("old"), 600000)
    recorded = yaml.safe_load(files["acme/tools/manifests/2.0/README.md"].split("---\n")[1])
    # orgreg manifest recorded the digest of the OCI manifest, read from the registry
    assert recorded["layers"][0]["oci_manifest_digest"] == oci_manifest_digest(
        distribution, "acme/tools", "2.0"
    )

    def make(site: str, name: str) -> Path:
        conf = f'html_baseurl = "{site}"\n'
        return Path(build(registry_project(files, conf=conf, name=name)).outdir)

    return make


def test_shpc_installs_from_the_served_site_and_lmod_loads_it(
    oras_site,
    distribution: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    out = oras_site("https://acme.github.io/registry/", "pages")
    www = tmp_path / "www"
    www.mkdir()
    (www / "registry").symlink_to(out, target_is_directory=True)
    ca_file = tmp_path / "ca.pem"
    with https_site(www, "acme.github.io", ca_file) as (proxy, asked):
        account = cluster(tmp_path, "remote", HTTPS_PROXY=proxy, REQUESTS_CA_BUNDLE=str(ca_file))
        port = distribution.rsplit(":", 1)[1]
        module = f"127.0.0.1/{port}/acme/tools"
        lines = usage_tab(soup(out / "acme/tools/index.html"), "cluster").select_one("pre")
        lines = lines.get_text().splitlines()
        assert lines == [
            "shpc config add registry https://github.com/acme/registry",
            f"shpc install {module}:2.0",
            "module use $(shpc config get module_base)",
            f"module load {module}/2.0",
        ]
        done = run_page_lines(
            lines,
            f"module -t list 2>&1; module show {module}/2.0 2>&1; type -P siftool hello",
            account,
            tmp_path,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        # shpc asked the site as GitHub Pages (through the proxy) for library.json
        assert asked and set(asked) == {"acme.github.io:443"}
        home = Path(account["HOME"])
        # module -t list: shpc writes <module>/<tag>/module.lua, which Lmod loads
        assert f"{module}/2.0/module" in done.stdout.splitlines()
        shown = done.stdout  # module show: the aliases, pinned to the pulled image
        assert f'prepend_path("PATH","{home}/module_base/{module}/2.0/bin")' in shown
        assert "<container> /opt/hello/bin/hello" in shown
        assert "<container> /usr/local/bin/siftool" in shown
        wrappers = done.stdout.split()[-2:]
        assert wrappers == [
            f"{home}/module_base/{module}/2.0/bin/siftool",
            f"{home}/module_base/{module}/2.0/bin/hello",
        ]
        # the image shpc keeps is the one pushed (the stand-in checked both digests)
        [kept] = (home / "container_base" / module / "2.0").glob("*.sif")
        assert kept.read_bytes() == sif("one-group.sif").read_bytes()
        # the plain-URL tag is not in the module: shpc refuses it, naming the tags it has
        refused = subprocess.run(
            [str(SHPC), "install", f"{module}:0.9"],
            env=account,
            capture_output=True,
            text=True,
            check=False,
        )
        assert refused.returncode != 0
        assert (refused.stdout + refused.stderr).endswith(
            f"{module}:0.9 is not a known identifier. Valid tags are:\n2.0\n"
        )


def test_shpc_installs_from_the_archive_as_a_filesystem_registry(
    oras_site,
    distribution: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A site shpc cannot read remotely: the page's archive lines, run as they
    are (download, ``sha256sum -c``, unpack, add as a folder), then install and load."""
    www = tmp_path / "plain"
    www.mkdir()
    server = _FileServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        site = f"http://127.0.0.1:{server.server_address[1]}/"
        out = oras_site(site, "elsewhere")
        for item in out.iterdir():
            (www / item.name).symlink_to(item)
        account = cluster(tmp_path, "airgapped")
        port = distribution.rsplit(":", 1)[1]
        module = f"127.0.0.1/{port}/acme/tools"
        lines = usage_tab(soup(out / "acme/tools/index.html"), "cluster").select_one("pre")
        lines = lines.get_text().splitlines()
        assert lines[1:4] == [
            "sha256sum -c shpc-registry.tar.gz.sha256",
            "tar -xzf shpc-registry.tar.gz",
            'shpc config add registry "$PWD/shpc-registry"',
        ]
        work = tmp_path / "cluster-files"
        work.mkdir()
        done = run_page_lines(lines, f"module show {module}/2.0 2>&1", account, work)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "shpc-registry.tar.gz: OK" in done.stdout
        assert (work / "shpc-registry" / module / "container.yaml").is_file()
        assert "siftool" in done.stdout and "hello" in done.stdout
        home = Path(account["HOME"])
        assert (home / "module_base" / module / "2.0" / "module.lua").is_file()

        # air-gapped: no pull at all; the image, fetched elsewhere, given to shpc install
        offline = cluster(tmp_path, "offline", STANDIN_OFFLINE="1")
        image = tmp_path / "tools_2.0.sif"
        image.write_bytes(sif("one-group.sif").read_bytes())
        install = [line for line in lines if line.startswith("shpc install ")]
        lines = [*lines[: lines.index(install[0])], f"{install[0]} {image}", *lines[-2:]]
        done = run_page_lines(lines, "type -P siftool", offline, work)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines()[-1] == (
            f"{tmp_path}/offline/module_base/{module}/2.0/bin/siftool"
        )
        # and without the image the pull is tried, and fails
        failed = run_page_lines(install, "", offline, work)
        assert failed.returncode != 0 and "no network here" in failed.stdout + failed.stderr
    finally:
        server.shutdown()
        server.server_close()
