"""Images kept in OCI registries (issue 14), with a real registry on 127.0.0.1.

Debian's ``docker-registry`` (the CNCF distribution server) holds SIF files
pushed as Apptainer pushes them (the SIF layer and config media types) by the
ORAS Python SDK; ``orgreg manifest --url oras://`` writes their manifests,
``orgreg check --online`` reads the registry, the built site shows the
``oras://`` pull commands and the ORAS client pulls the blob named there.
A token-checking front of the real server plays GHCR's anonymous token
exchange; a hostile registry answers with what no client should trust.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import oras.provider
import pytest
import requests
from clitools import orgreg
from conftest import collection, require_system_tool, soup, tag_row

SIF_DIR = Path("/usr/share/gocode/src/github.com/sylabs/sif/test/images")
SIF_LAYER = "application/vnd.sylabs.sif.layer.v1.sif"
SIF_CONFIG = "application/vnd.sylabs.sif.config.v1+json"
FAST = ("--timeout", "2", "--retries", "0", "--format", "json")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sif(name: str) -> Path:
    """A real SIF file of Debian's golang-github-sylabs-sif-dev."""
    path = SIF_DIR / name
    if not path.exists():
        require_system_tool(str(path), "apt-get install golang-github-sylabs-sif-dev")
    return path


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The CNCF distribution server on 127.0.0.1 (plain HTTP); yields host:port."""
    binary = require_system_tool("/usr/bin/docker-registry", "apt-get install docker-registry")
    folder = tmp_path_factory.mktemp("distribution")
    port = free_port()
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {folder / 'data'}}}, "
        "delete: {enabled: true}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    proc = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    host = f"127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"http://{host}/v2/", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("docker-registry did not start: " + proc.stderr.read(4096).decode())
        yield host
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def push(host: str, name: str, image: Path) -> None:
    """Push *image* to ``<host>/<name>`` as ``apptainer push oras://`` does."""
    client = oras.provider.Registry(hostname=host, insecure=True)
    client.push(
        target=f"{host}/{name}",
        files=[f"{image}:{SIF_LAYER}"],
        manifest_config=f":{SIF_CONFIG}",
        disable_path_validation=True,
    )


def problems(result) -> dict[str, list[tuple[str, str, str]]]:
    """Online problems by tag folder: (severity, code, message)."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for p in result.json()["problems"]:
        if p["code"].startswith("online"):
            found.setdefault(p["file"].split("/")[-2], []).append(
                (p["severity"], p["code"], p["message"])
            )
    return found


def write_manifest(
    root: Path, image: Path, url: str, tag: str, namespace: str = "acme/busybox"
) -> None:
    result = orgreg(
        "manifest",
        image,
        "--namespace",
        namespace,
        "--url",
        url,
        "--tag",
        tag,
        "--root",
        root,
        "--created",
        "2024-05-02T10:31:00Z",
    )
    assert result.code == 0, result.err
    assert "KiB" not in result.err  # oras:// sizes are bytes, whatever they are


def test_push_manifest_check_delete_and_mismatch(distribution: str, tmp_path: Path) -> None:
    image = sif("two-groups.sif")  # an image of every version of the package
    push(distribution, "acme/busybox:1.36", image)
    push(distribution, "acme/busybox:other", sif("one-group.sif"))
    root = tmp_path / "tree"
    root.mkdir()
    url = f"oras://{distribution}/acme/busybox:1.36"
    write_manifest(root, image, url, "1.36")
    # the manifest holds the SIF's digest and size in bytes, and the oras:// URL
    text = (root / "acme/busybox/manifests/1.36/README.md").read_text()
    assert f"url: {url}\n" in text and f"size: {image.stat().st_size}\n" in text

    result = orgreg("check", root, "--online", *FAST)
    assert result.code == 0, result.out + result.err
    assert result.json()["online"]["ok"] == 1
    verified = orgreg("check", root, "--verify-digest", *FAST)
    assert verified.code == 0, verified.out
    assert verified.json()["online"]["downloaded_bytes"] == image.stat().st_size

    # a manifest naming a tag that holds another SIF: the digest differs (written by
    # hand: orgreg manifest refuses to, issue 27)
    wrong = root / "acme/busybox/manifests/wrong/README.md"
    wrong.parent.mkdir()
    wrong.write_text(
        "".join(
            line.replace(":1.36", ":other")
            for line in text.splitlines(keepends=True)
            if "oci_manifest_digest" not in line
        )
    )
    other = sha256_of(sif("one-group.sif"))
    result = orgreg("check", root, "--online", *FAST)
    assert result.code == 1
    at = f"has a layer at oras://{distribution}/acme/busybox:other that holds a SIF layer of "
    assert problems(result) == {
        "wrong": [
            (
                "error",
                "online-digest",
                f"{at}digest {other}, but the manifest says {sha256_of(image)}",
            ),
            (
                "error",
                "online-size",
                f"{at}{sif('one-group.sif').stat().st_size} bytes, "
                f"but the manifest says {image.stat().st_size}",
            ),
        ]
    }

    # the tag deleted from the registry: the check fails naming that manifest
    client = oras.provider.Registry(hostname=distribution, insecure=True)
    client.delete_tag(f"{distribution}/acme/busybox", "1.36")
    result = orgreg("check", root, "--online", "--timeout", "2", "--retries", "0", cwd=tmp_path)
    assert result.code == 1
    assert (
        f"tree/acme/busybox/manifests/1.36/README.md:8: error: has a layer at {url} that "
        f"is not in the registry: {distribution} has no '1.36' in acme/busybox "
        "[online-missing]"
    ) in result.out.splitlines()


def test_site_shows_oras_pull_commands_and_the_pulled_blob_matches(
    distribution: str, registry_project, build, tmp_path: Path
) -> None:
    image = sif("two-groups.sif")
    push(distribution, "acme/tools:2.0", image)
    tree = tmp_path / "tree"
    tree.mkdir()
    write_manifest(tree, image, f"oras://{distribution}/acme/tools:2.0", "2.0", "acme/tools")
    files = {str(p.relative_to(tree)): p.read_text() for p in tree.rglob("*") if p.is_file()}
    files["acme/tools/README.md"] = collection("Tools")
    app = build(registry_project(files, conf='html_baseurl = "https://reg.example.org/"\n'))
    out = Path(app.outdir)
    page = soup(out / "acme/tools/index.html")
    tabs = {
        next(
            c for c in tab["class"] if c.startswith("orgreg-usage-") and c != "orgreg-usage-tab"
        ).removeprefix("orgreg-usage-"): tab
        for tab in page.select(".orgreg-usage-tab")
    }
    assert list(tabs) == ["apptainer", "singularity", "oras-other", "cluster", "curl"]
    apptainer = tabs["apptainer"].select_one("pre").get_text().splitlines()
    assert apptainer == [
        f"apptainer pull tools_2.0.sif oras://{distribution}/acme/tools:2.0",
        "curl -sSL https://reg.example.org/acme/tools/SHA256SUMS | sha256sum -c --ignore-missing",
    ]
    assert (
        tabs["singularity"]
        .select_one("pre")
        .get_text()
        .startswith(f"singularity pull tools_2.0.sif oras://{distribution}/acme/tools:2.0")
    )
    why = tabs["oras-other"].get_text(" ", strip=True)
    assert "shub:// cannot serve it" in why and "sregistry" in why and "curl cannot" in why
    # the tag table shows the reference to pull, not a link a browser cannot follow
    row = tag_row(page, "2.0")
    assert row is not None
    assert row.select_one("code.orgreg-oras").get_text() == (
        f"oras://{distribution}/acme/tools:2.0"
    )
    assert not page.select("a[href^='oras:']")
    # no Singularity Hub answer names an image those clients cannot download
    assert not (out / "api/container/acme/tools:2.0").exists()
    catalog = json.loads((out / "api/catalog.json").read_text())
    assert catalog["namespaces"][0]["tags"][0]["urls"] == [f"oras://{distribution}/acme/tools:2.0"]
    sums = (out / "acme/tools/SHA256SUMS").read_text()
    assert sums == f"{sha256_of(image).removeprefix('sha256:')}  tools_2.0.sif\n"
    assert (out / "acme/tools/urls.txt").read_text() == ""  # no plain download URL

    # the reference on the page, pulled by an ORAS client, is the manifest's SIF
    reference = shlex.split(apptainer[0])[-1].removeprefix("oras://")
    client = oras.provider.Registry(hostname=distribution, insecure=True)
    pulled = client.pull(target=reference, outdir=str(tmp_path / "pulled"))
    assert len(pulled) == 1
    assert sha256_of(Path(pulled[0])) == sha256_of(image)
    # and sha256sum -c accepts it under the name the pull command saves
    Path(pulled[0]).rename(tmp_path / "pulled" / "tools_2.0.sif")
    (tmp_path / "pulled" / "SHA256SUMS").write_text(sums)
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"],
        cwd=tmp_path / "pulled",
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0 and check.stdout == "tools_2.0.sif: OK\n"


# ---------------------------------------------------------------- token exchange


class TokenFront(ThreadingHTTPServer):
    """GHCR's anonymous token exchange in front of the real registry: without a
    token, 401 with a Bearer challenge; ``/token`` gives one (403 for
    ``private/*``, whose manifests also answer 403)."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), TokenHandler)
        self.upstream = upstream
        self.token_queries: list[str] = []

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class TokenHandler(BaseHTTPRequestHandler):
    server: TokenFront

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if self.path.startswith("/token?"):
            self.server.token_queries.append(self.path)
            private = "repository%3Aprivate%2F" in self.path
            body = b'{"errors":[]}' if private else b'{"token":"anonymous-pull"}'
            self.send_response(403 if private else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.headers.get("Authorization") != "Bearer anonymous-pull":
            name = self.path.split("/")[2:4]
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                (
                    f'Bearer realm="http://{self.server.host}/token",service="{self.server.host}",'
                    f'scope="repository:{"/".join(name)}:pull"'
                ),
            )
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        answer = requests.request(
            self.command,
            f"http://{self.server.upstream}{self.path}",
            headers={"Accept": self.headers.get("Accept", "*/*")},
            timeout=10,
        )
        self.send_response(answer.status_code)
        for key in ("Content-Type", "Content-Length", "Docker-Content-Digest"):
            if key in answer.headers:
                self.send_header(key, answer.headers[key])
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(answer.content)


@pytest.fixture
def token_front(distribution: str) -> Iterator[TokenFront]:
    server = TokenFront(distribution)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_anonymous_token_exchange_and_private_package(
    distribution: str, token_front: TokenFront, tmp_path: Path
) -> None:
    image = sif("empty-launch-script.sif")  # an image of every version of the package
    push(distribution, "acme/signed:1", image)
    push(distribution, "private/thing:1", image)
    root = tmp_path / "tree"
    root.mkdir()
    write_manifest(root, image, f"oras://{token_front.host}/acme/signed:1", "1", "acme/signed")
    write_manifest(root, image, f"oras://{token_front.host}/private/thing:1", "1", "private/thing")
    result = orgreg("check", root, "--verify-digest", *FAST)
    assert result.code == 1
    assert problems(result) == {
        "1": [
            (
                "error",
                "online-private",
                f"has a layer at oras://{token_front.host}/private/thing:1 that gives no anonymous "
                "pull token (403): the package must be public so that anyone can pull it",
            )
        ]
    }
    assert result.json()["online"]["ok"] == 1
    assert result.json()["online"]["downloaded_bytes"] == image.stat().st_size
    # the token was asked for the scope the challenge named
    assert any("scope=repository%3Aacme%2Fsigned%3Apull" in q for q in token_front.token_queries)


# ---------------------------------------------------------------- hostile registry


HUGE = 64 * 1024 * 1024


class Hostile(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.release = threading.Event()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class HostileHandler(BaseHTTPRequestHandler):
    server: Hostile
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def send(self, status: int, body: bytes, kind: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = self.path.split("/")
        case = parts[3] if len(parts) > 3 else ""
        oci = "application/vnd.oci.image.manifest.v1+json"
        if self.path.startswith("/token"):  # never answers within the client's timeout
            self.server.release.wait(30)
            self.send(200, b'{"token":"late"}', "application/json")
        elif case == "huge":  # an endless manifest without a length
            self.send_response(200)
            self.send_header("Content-Type", oci)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(HUGE // len(chunk)):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass
            self.close_connection = True
        elif case == "loop":
            self.send(302, b"", "text/plain", Location=self.path)
        elif case == "html":
            self.send(200, b"<html>login</html>", "text/html")
        elif case == "slowtoken":
            self.send(
                401,
                b"",
                "application/json",
                WWW_Authenticate=(f'Bearer realm="http://{self.server.host}/token",service="x"'),
            )
        elif case == "layers":
            body = json.dumps({"schemaVersion": 2, "layers": [{}] * 100_000}).encode()
            self.send(200, body, oci)
        else:
            self.send(404, b"{}", "application/json")


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server = Hostile()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_hostile_registry_answers_end_in_clear_errors(hostile: Hostile, tmp_path: Path) -> None:
    image = sif("one-group.sif")
    root = tmp_path / "tree"
    root.mkdir()
    cases = ("huge", "loop", "html", "slowtoken", "layers")
    for case in cases:
        write_manifest(root, image, f"oras://{hostile.host}/acme/{case}:1", "1", f"acme/{case}")
    started = time.monotonic()
    result = orgreg("check", root, "--online", *FAST)
    elapsed = time.monotonic() - started
    assert result.code == 1
    found = {
        p["file"].split("/")[-4]: (p["code"], p["message"])
        for p in result.json()["problems"]
        if p["code"].startswith("online")
    }
    prefix = "has a layer at oras://{}/acme/{}:1 that "
    assert found == {
        "huge": (
            "online-oras",
            prefix.format(hostile.host, "huge")
            + "answers with a manifest over the limit of 4194304 bytes",
        ),
        "loop": (
            "online-redirect",
            prefix.format(hostile.host, "loop") + "redirects more than 5 times",
        ),
        "html": (
            "online-oras",
            prefix.format(hostile.host, "html")
            + "answers with a text/html document, not an image manifest "
            "(application/vnd.oci.image.manifest.v1+json)",
        ),
        "slowtoken": (
            "online-timeout",
            prefix.format(hostile.host, "slowtoken") + "did not answer within 2 s",
        ),
        "layers": (
            "online-oras",
            prefix.format(hostile.host, "layers")
            + "has a manifest of 100000 layers (at most 64 are read; Apptainer "
            "pushes one)",
        ),
    }
    assert elapsed < 20, elapsed


def test_plain_http_only_on_loopback(tmp_path: Path) -> None:
    """A registry elsewhere is asked over https: an http-only server on a
    non-loopback name is never spoken to in plain text."""
    from orgreg_sphinx.cli import oras as oras_check
    from orgreg_sphinx.cli.online import Checker, Settings
    from orgreg_sphinx.core import names

    checker = Checker(Settings())
    for host, base in (
        ("ghcr.io", "https://ghcr.io"),
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("localhost:5000", "http://localhost:5000"),
        ("[::1]:5000", "http://[::1]:5000"),
        ("127.example.org", "https://127.example.org"),
    ):
        ref = names.oras_reference(f"oras://{host}/a/b:1")
        assert ref is not None
        assert oras_check.OciRegistry(checker, ref).base == base


# ---------------------------------------------------------------- the model


def test_schema_and_names_agree_on_oras_references() -> None:
    from orgreg_sphinx.core import names
    from orgreg_sphinx.core.model import schema

    pattern = schema("manifest")["$defs"]["url"]["pattern"]
    assert pattern == "^(?:https?://[^\\s/?#]+[^\\s]*|" + names.ORAS_PATTERN[1:-1] + ")$"
    good = [
        "oras://ghcr.io/acme/busybox:1.36",
        "oras://127.0.0.1:5000/a/b/c:latest",
        "oras://[::1]:5000/a:b",
        f"oras://ghcr.io/a/b@sha256:{'0' * 64}",
        f"oras://ghcr.io/a/b:t@sha256:{'0' * 64}",
        "oras://registry.example.org/a__b-c.d:x",
    ]
    bad = [
        "oras://ghcr.io/Acme/busybox:1",
        "oras://ghcr.io/acme/busybox",
        "oras://ghcr.io/a:-x",
        "oras://-ghcr.io/a:1",
        "oras://ghcr.io/a:1@md5:abc",
        "oras://ghcr.io/a:1 ; rm -rf /",
        "oras:///a:1",
        "oras://ghcr.io/" + "a" * 256 + ":1",
    ]
    assert [names.oras_problem(u) for u in good] == [None] * len(good)
    assert all(names.oras_problem(u) for u in bad)


def test_bad_oras_urls_are_left_out_naming_file_and_line(tmp_path: Path) -> None:
    from conftest import manifest, write_tree

    from orgreg_sphinx.core.model import load_registry

    digest = "sha256:" + "1" * 64
    write = {
        "acme/x/manifests/good/README.md": manifest(digest, 40960, url="oras://ghcr.io/acme/x:1"),
        "acme/x/manifests/upper/README.md": manifest(digest, 40960, url="oras://ghcr.io/Acme/x:1"),
        "acme/x/manifests/long/README.md": manifest(
            digest, 40960, url="oras://ghcr.io/" + "a" * 256 + ":1"
        ),
    }
    write_tree(tmp_path, write)
    registry = load_registry(tmp_path)
    ns = registry.namespace("acme/x")
    assert ns is not None and [t.name for t in ns.tags] == ["good"]
    good = ns.tags[0]
    assert good.is_oras and not good.size_is_kib and good.size_bytes == 40960
    found = {p.path.parent.name: (p.line, p.message) for p in registry.problems}
    assert found["upper"][0] == 8 and "has an invalid layers[0].url" in found["upper"][1]
    long_url = "oras://ghcr.io/" + "a" * 256 + ":1"
    assert found["long"] == (
        8,
        f"has an invalid layers[0].url: '{long_url}' is not "
        "an ORAS reference: expected oras://<host>[:<port>]/<name>:<tag> "
        "or oras://<host>/<name>@sha256:<64 hex>, the name in lower case",
    )


def test_catalogs_of_deployed_registries_keep_oras_layers() -> None:
    from orgreg_sphinx.core.remote import parse_catalog

    digest = "sha256:" + "2" * 64
    tag = {"name": "1", "size": 40960, "digest": digest}
    catalog = {
        "catalogVersion": 1,
        "namespaces": [
            {
                "name": "acme/x",
                "tags": [
                    tag | {"urls": ["oras://ghcr.io/acme/x:1"]},
                    tag | {"name": "2", "urls": ["oras://ghcr.io/Acme/x:1", "javascript:alert(1)"]},
                ],
            }
        ],
    }
    namespaces, _ = parse_catalog(catalog, "https://reg.example.org/")
    by_name = {t.name: t for t in namespaces[0].tags}
    assert by_name["1"].urls == ["oras://ghcr.io/acme/x:1"] and by_name["1"].is_oras
    assert by_name.get("2") is None or by_name["2"].urls == []
